"""Speed of the language guess (crawler.normalize.guess_language) on short titles, against the plain script rule.

    python bench/bench_language.py [--repeat 300]

Titles in nine languages (German, French, Spanish, Italian, Portuguese, Dutch, English, Chinese, Japanese),
repeated; the detector is built and warmed first (its models load once per process, lazily per language).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from crawler.normalize import guess_language  # noqa: E402

TITLES = (
    "Guten Abend! Heute spielen wir zusammen",
    "Mein neues Auto: der große Test",
    "Le meilleur gâteau au chocolat du monde",
    "Cómo hacer pan casero en 10 minutos",
    "Best wireless earbuds of 2026 reviewed",
    "Recensione completa della nuova Fiat",
    "Unboxing do novo celular, vale a pena?",
    "De beste fietsroutes van Nederland",
    "拜年祭快板电音现场版",
    "今日のおすすめ商品です",
)


def plain(text: str) -> str | None:
    """Today's rule before lingua: script counts only (Latin -> en)."""
    han = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    kana = sum(1 for ch in text if "\u3040" <= ch <= "\u30ff")
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    if kana >= 2 and kana * 4 >= han:
        return "ja"
    if han >= 2:
        return "zh"
    return "en" if latin >= 3 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    titles = list(TITLES) * args.repeat
    start = time.perf_counter()
    for title in TITLES:  # build the detector and load each language's models
        guess_language(title)
    warm = time.perf_counter() - start
    for name, guess in (("plain script rule", plain), ("guess_language (lingua)", guess_language)):
        start = time.perf_counter()
        answers = [guess(t) for t in titles]
        rate = len(titles) / (time.perf_counter() - start)
        print(f"{name}: {rate:,.0f} titles/s; answers {answers[: len(TITLES)]}")
    print(f"first calls (detector build + model loads): {warm:.2f} s")


if __name__ == "__main__":
    main()
