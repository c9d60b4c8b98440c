"""Bench: ANN build parameters (expansion_add, connectivity, threads): CPU-s per vector and Recall@10 vs exact.

    .venv/bin/python bench/bench_ann_build.py                 # 100k clustered 512-d vectors
    .venv/bin/python bench/bench_ann_build.py --docs 20000 --configs 32:16:2,64:16:2

Same vectors as bench/bench_ann.py (clustered synthetic unit vectors), built in this process with the
store's dtype and search expansion; answers are the store's: OVERSAMPLE x k candidates from the graph,
rescored exactly. Every configuration runs in the same process against the same exact reference, so the
ratios hold under load. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench_ann import DIM, QUERIES, K, centers_for, clustered  # noqa: E402
from indexer.ann import DTYPE, EXPANSION_SEARCH, OVERSAMPLE  # noqa: E402

# expansion_add:connectivity:threads
DEFAULT_CONFIGS = "32:16:2,64:16:2,32:16:1"
# Search expansions whose Recall@10 is measured on each graph (the store's EXPANSION_SEARCH among them).
SEARCH_EXPANSIONS = (EXPANSION_SEARCH, 2 * EXPANSION_SEARCH, 4 * EXPANSION_SEARCH)


def build(
    matrix: np.ndarray, expansion_add: int, connectivity: int, threads: int
) -> tuple[object, float, float]:
    from usearch.index import Index

    index = Index(
        ndim=DIM,
        metric="ip",
        dtype=DTYPE,
        connectivity=connectivity,
        expansion_add=expansion_add,
        expansion_search=EXPANSION_SEARCH,
    )
    keys = np.arange(len(matrix), dtype=np.uint64)
    wall, cpu = time.perf_counter(), time.process_time()
    index.add(keys, matrix, threads=threads)
    return index, time.perf_counter() - wall, time.process_time() - cpu


def recall(index: object, matrix: np.ndarray, queries: np.ndarray, exact: list[set[int]]) -> float:
    hits = 0
    for q, truth in zip(queries, exact, strict=True):
        keys = index.search(q, K * OVERSAMPLE, threads=1).keys.astype(np.int64)  # type: ignore[attr-defined]
        scores = matrix[keys] @ q
        top = keys[np.argsort(-scores, kind="stable")[:K]]
        hits += len(truth & set(top.tolist()))
    return hits / (K * len(queries))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--configs", default=DEFAULT_CONFIGS, help="ea:conn:threads,...")
    args = parser.parse_args()
    centers = centers_for(args.docs)
    matrix = clustered(args.docs, centers, np.random.default_rng(1))
    queries = clustered(QUERIES, centers, np.random.default_rng(2))
    exact = [set(np.argsort(-(matrix @ q), kind="stable")[:K].tolist()) for q in queries]
    rows = []
    for config in args.configs.split(","):
        ea, conn, threads = (int(x) for x in config.split(":"))
        load = os.getloadavg()[0]
        index, wall, cpu = build(matrix, ea, conn, threads)
        recalls = {}
        for ef in SEARCH_EXPANSIONS:
            index.expansion_search = ef  # type: ignore[attr-defined]
            start = time.perf_counter()
            recalls[f"recall_at_10_ef{ef}"] = round(recall(index, matrix, queries, exact), 4)
            recalls[f"query_ms_ef{ef}"] = round((time.perf_counter() - start) * 1000 / len(queries), 2)
        rows.append(
            {
                "expansion_add": ea,
                "connectivity": conn,
                "threads": threads,
                "load_1min": round(load, 2),
                "wall_s": round(wall, 1),
                "cpu_s": round(cpu, 1),
                "cpu_ms_per_vector": round(cpu / args.docs * 1000, 3),
                **recalls,
                "memory_mib": round(index.memory_usage / 2**20, 1),  # type: ignore[attr-defined]
            }
        )
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        del index
    print(json.dumps({"docs": args.docs, "dim": DIM, "cpus": os.cpu_count(), "runs": rows}, indent=2))


if __name__ == "__main__":
    main()
