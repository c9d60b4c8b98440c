"""Speed of the language guess (crawler.normalize.guess_language) on short titles, against the plain script rule.

    python bench/bench_language.py [--repeat 300]

Titles in nine languages (German, French, Spanish, Italian, Portuguese, Dutch, English, Chinese, Japanese),
repeated; the detector is built and warmed first (its models load once per process, lazily per language).
lingua is timed without the memo of crawler.language (every title asked anew), then with it. Then the
first call's model load, in fresh child processes: its CPU for a short and a long text, and whether a
thread doing it lets the main thread run (lingua holds the GIL while loading).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import crawler.normalize  # noqa: E402
from crawler.language import latin_language  # noqa: E402
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


# Run in a fresh child: the CPU of the first detection (the model load) for a text of N characters.
FIRST_CALL = """
import sys, time
from crawler.language import latin_language
text = ("La nueva locurilla de fin de a\u00f1o: me he puesto un uniforme de trabajo " * 8)[: int(sys.argv[1])]
start = time.process_time()
latin_language(text)
print(f"{time.process_time() - start:.2f}")
"""
# Run in a fresh child: the models loaded by a thread while the main thread ticks every millisecond.
GIL_HOLD = """
import threading, time
from crawler.language import preload
done = []
thread = threading.Thread(target=lambda: (preload(), done.append(time.perf_counter())))
start = time.perf_counter()
thread.start()
longest, last = 0.0, time.perf_counter()
while not done:
    time.sleep(0.001)
    now = time.perf_counter()
    longest, last = max(longest, now - last), now
print(f"{done[0] - start:.2f} {max(longest, last - start):.2f}")
"""


def child(code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    titles = list(TITLES) * args.repeat
    start = time.perf_counter()
    for title in TITLES:  # build the detector and load each language's models
        guess_language(title)
    warm = time.perf_counter() - start
    for name, guess, lingua in (
        ("plain script rule", plain, latin_language),
        ("guess_language (lingua, no memo)", guess_language, latin_language.__wrapped__),
        ("guess_language (lingua, memo)", guess_language, latin_language),
    ):
        crawler.normalize.latin_language = lingua
        start = time.perf_counter()
        answers = [guess(t) for t in titles]
        rate = len(titles) / (time.perf_counter() - start)
        print(f"{name}: {rate:,.0f} titles/s; answers {answers[: len(TITLES)]}")
    crawler.normalize.latin_language = latin_language
    print(f"first calls (detector build + model loads): {warm:.2f} s")
    for length in (40, 200):
        print(
            f"first call in a fresh process, a {length}-character text: {child(FIRST_CALL, str(length))} CPU-s"
        )
    loaded, longest = child(GIL_HOLD).split()
    print(f"models loaded by a thread: {loaded} s; the main thread's longest wait for the GIL: {longest} s")


if __name__ == "__main__":
    main()
