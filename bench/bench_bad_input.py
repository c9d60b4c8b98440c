"""Good lines lost to bad ones in `index` (target 0): JSONL files with hostile lines at random positions.

    python bench/bench_bad_input.py [--files 20] [--lines 5000] [--bad 0.05] [--batch 100] [--seed 10]

Each file holds `--lines` good items and a share `--bad` of hostile lines drawn from a catalogue (counts
past 2^63 and 1e308, followers 10**30, year 1 and 9999 with offsets, NaN and Infinity prices, objects where
strings are expected, featured_in of objects, 200,000-character titles, lone surrogates, broken JSON,
binary), inserted at seeded random positions. Each file is indexed keyword-only into a fresh SQLite store
with `--batch` documents per batch. Counted: good lines not stored, bad lines stored, bad lines reported
without their line number, and stored documents that do not print as strict JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as `python bench/bench_bad_input.py`: the packages live beside bench/

from indexer.ingest import ingest_jsonl  # noqa: E402 - after the path set-up above
from indexer.sqlite_store import SqliteStore  # noqa: E402

OBSERVED = "2026-11-25T10:00:00Z"


def good(i: int) -> dict:
    return {
        "id": f"web:video:g{i}",
        "kind": "video",
        "platform": "web",
        "title": f"耳机 earbuds {i}",
        "observed_at": OBSERVED,
        "published_at": "2026-11-20T08:00:00Z",
        "metrics": {"views": i, "likes": i // 10},
        "creator": {"id": "web:creator:c", "name": "Ann", "followers": 1200},
        "products": [{"id": "web:product:p", "title": "p", "price": 59.9, "sales": i}],
    }


def bad_lines(i: int) -> list[str]:
    """One line of each hostile kind (the id `b<i>` marks it; a stored `b` id is a bad line that got in)."""
    base = {**good(i), "id": f"web:video:b{i}"}
    variants = [
        {"metrics": {"views": 2**63}},
        {"metrics": {"likes": 1e308}},
        {"creator": {"name": "x", "followers": 10**30}},
        {"published_at": "0001-01-01T00:00:00+01:00"},
        {"published_at": "9999-12-31T23:59:59-01:00"},
        {"products": [{"title": "p", "price": float("nan")}]},
        {"price": float("inf")},
        {"creator": {"name": {"first": "x"}}},
        {"kind": "product", "id": f"web:product:b{i}", "featured_in": [{"id": "web:video:1"}]},
        {"title": "x" * 200_000},
        {"title": "lone \udcff surrogate"},
        {"duration_s": 10**9},
        {"hashtags": [["nested"]]},
        {"live": {"status": "live", "started_at": "0001-01-01T00:00:00+01:00"}},
    ]
    lines = [json.dumps({**base, **v}, ensure_ascii=False) for v in variants]
    lines += ["{broken json", "\x00\x01binary\xff", "[1, 2, 3]", "null", "{" * 50_000]
    return lines


def run_file(folder: Path, rng: random.Random, n_lines: int, bad_share: float, batch: int) -> dict:
    lines = [json.dumps(good(i), ensure_ascii=False) for i in range(n_lines)]
    catalogue = bad_lines(0)
    n_bad = max(1, int(n_lines * bad_share))
    inserted = []
    for k in range(n_bad):
        line = rng.choice(bad_lines(k))
        inserted.append(line)
        lines.insert(rng.randrange(len(lines) + 1), line)
    path = folder / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    bad_numbers = {n for n, line in enumerate(lines, start=1) if line in set(inserted)}
    db = folder / "store.db"
    store = SqliteStore(db)
    started = time.perf_counter()
    report = ingest_jsonl(path, store, None, batch_size=batch)
    seconds = time.perf_counter() - started
    store.close()
    conn = sqlite3.connect(db)
    ids = {row[0] for row in conn.execute("SELECT id FROM documents")}
    docs = [row[0] for row in conn.execute("SELECT doc FROM documents")]
    conn.close()
    not_strict = sum(1 for d in docs if not _strict_json(d))
    for p in folder.iterdir():
        p.unlink()
    return {
        "lines": len(lines),
        "bad": n_bad,
        "kinds": len(catalogue),
        "good_lost": sum(1 for i in range(n_lines) if f"web:video:g{i}" not in ids),
        "bad_stored": sum(1 for doc_id in ids if ":b" in doc_id),
        "bad_reported": report.skipped_invalid,
        "bad_without_line": len(bad_numbers - {line for line, _ in report.errors}),
        "docs_not_strict_json": not_strict,
        "seconds": round(seconds, 2),
    }


def _strict_json(text: str) -> bool:
    """Whether a stored document prints as strict JSON (no NaN or Infinity, which `search --json` would emit)."""
    try:
        json.dumps(json.loads(text), allow_nan=False)
    except ValueError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--bad", type=float, default=0.05)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.files):
            runs.append(run_file(Path(tmp), rng, args.lines, args.bad, args.batch))
    total = {
        key: sum(r[key] for r in runs)
        for key in (
            "lines",
            "bad",
            "good_lost",
            "bad_stored",
            "bad_reported",
            "bad_without_line",
            "docs_not_strict_json",
        )
    }
    total["seconds"] = round(sum(r["seconds"] for r in runs), 1)
    print(
        json.dumps(
            {"machine": platform.machine(), "python": platform.python_version(), **vars(args), **total}
        )
    )


if __name__ == "__main__":
    main()
