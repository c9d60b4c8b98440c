"""The bounded keyword side against scoring every match, same store, same run: `python bench/bench_keyword.py`.

Builds a keyword-only SqliteStore of --docs generated documents (bench/bench_indexer.py make_docs; or
reuses --store PATH, built once with --keep), then runs every bench query through SqliteStore's keyword
side at depth 10 (a keyword result page) and 100 (hybrid's candidate depth), alternating the bounded
search (indexer/fts_bounded.py) with the unbounded reference (every match scored) so that a burst of
foreign load lands on both, and prints p50/p95 wall and CPU milliseconds of each, their ratio, whether
every answer was identical, and which queries were capped (more than MAX_SCORED_ROWS matches that no tier
bounds: the top-k of their newest matches) with their overlap with the unbounded answer. Default 100,000 documents; `--docs 1000000` for the 1M figure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_indexer import QUERIES, make_docs, percentile  # noqa: E402

BATCH = 5000
PASSES = 5  # every query this many times per depth and side
DEPTHS = (10, 100)


def build(path: Path, n: int) -> float:
    from indexer.ingest import validate
    from indexer.sqlite_store import SqliteStore

    start = time.perf_counter()
    store = SqliteStore(path)
    for offset in range(0, n, BATCH):
        store.upsert([validate(d) for d in make_docs(min(BATCH, n - offset), seed=offset, start=offset)])
    store.close()
    return time.perf_counter() - start


def measure(path: Path) -> dict:
    from indexer import fts_bounded
    from indexer.sqlite_store import SqliteStore

    store = SqliteStore(path)
    planned, cap = fts_bounded.MAX_PLANNED_PHRASES, fts_bounded.MAX_SCORED_ROWS

    def keyword(query: str, depth: int, bounded: bool) -> tuple[list, float, float]:
        # Unbounded: no plan (0 phrases planned) and no cap: every match of every query scored.
        fts_bounded.MAX_PLANNED_PHRASES = planned if bounded else 0
        fts_bounded.MAX_SCORED_ROWS = cap if bounded else 1 << 62
        try:
            wall, cpu = time.perf_counter(), time.process_time()
            rows = store._keyword(query, "1", {}, depth)
            return rows, (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000
        finally:
            fts_bounded.MAX_PLANNED_PHRASES, fts_bounded.MAX_SCORED_ROWS = planned, cap

    out: dict = {"docs": store.count(), "load_average_1m_start": round(os.getloadavg()[0], 2)}
    identical, differing, overlap = True, set(), []
    for depth in DEPTHS:
        times: dict[str, dict[str, list[float]]] = {
            s: {"wall": [], "cpu": []} for s in ("unbounded", "bounded")
        }
        for _ in range(PASSES):
            for query in QUERIES:
                ref, wall, cpu = keyword(query, depth, bounded=False)
                times["unbounded"]["wall"].append(wall)
                times["unbounded"]["cpu"].append(cpu)
                got, wall, cpu = keyword(query, depth, bounded=True)
                times["bounded"]["wall"].append(wall)
                times["bounded"]["cpu"].append(cpu)
                identical &= got == ref
                if got != ref:  # a query over MAX_SCORED_ROWS matches: the top-k of its newest matches
                    differing.add(query)
                    overlap.append(len({d for d, _ in got} & {d for d, _ in ref}) / max(len(ref), 1))
        row = {}
        for side, t in times.items():
            row[side] = {
                f"{kind}_{pct}": round(percentile(t[kind], pct), 1)
                for kind in ("wall", "cpu")
                for pct in (50, 95)
            }
        row["p95_cpu_ratio"] = round(row["unbounded"]["cpu_95"] / max(row["bounded"]["cpu_95"], 1e-3), 2)
        row["p50_cpu_ratio"] = round(row["unbounded"]["cpu_50"] / max(row["bounded"]["cpu_50"], 1e-3), 2)
        out[f"depth_{depth}"] = row
    out["identical"] = identical
    out["capped_queries"] = sorted(differing)  # answers not identical to scoring every match
    out["capped_overlap_with_unbounded"] = round(sum(overlap) / len(overlap), 3) if overlap else None
    out["max_scored_rows"] = cap
    out["load_average_1m_end"] = round(os.getloadavg()[0], 2)
    store.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=100_000, help="documents to generate (default 100000)")
    parser.add_argument("--store", help="an existing keyword-only store to measure (skips the build)")
    parser.add_argument("--keep", help="build the store at this path and keep it (for a later --store)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-keyword-") as tmp:
        path = Path(args.store or args.keep or Path(tmp) / "keyword.db")
        build_s = None if args.store else round(build(path, args.docs), 1)
        result = {"build_s": build_s, **measure(path)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
