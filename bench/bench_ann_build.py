"""Bench: ANN build parameters (IVF cells per sqrt(n), threads): build wall/CPU and Recall@10 vs exact by nprobe.

    .venv/bin/python bench/bench_ann_build.py                 # 100k clustered 512-d vectors
    .venv/bin/python bench/bench_ann_build.py --docs 1000000 --configs 4:2

Same vectors as bench/bench_ann.py (clustered synthetic unit vectors), built in this process by the store's
own `indexer.ann.AnnIndex.build` (faiss IVF-SQ8, k-means on a sample); answers are the store's: OVERSAMPLE x k
candidates from the index, rescored exactly. Every configuration runs in the same process against the same
exact reference, so the ratios hold under load. Prints one JSON object.
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
from indexer import ann  # noqa: E402

# nlist_per_sqrt:threads
DEFAULT_CONFIGS = "4:2,2:2,4:1"
# nprobe values whose Recall@10 is measured on each index (the store's NPROBE among them).
NPROBES = (ann.NPROBE // 2, ann.NPROBE, 2 * ann.NPROBE)


def build(matrix: np.ndarray, per_sqrt: int, threads: int) -> tuple[ann.AnnIndex, float, float]:
    ann.NLIST_PER_SQRT = per_sqrt
    ann.PARALLEL_BUILD_MIN = 0 if threads > 1 else len(matrix) + 1
    pks = np.arange(len(matrix), dtype=np.int64)
    wall, cpu = time.perf_counter(), time.process_time()
    index = ann.AnnIndex.build(pks, matrix, 0, "bench", None)
    return index, time.perf_counter() - wall, time.process_time() - cpu


def recall(index: ann.AnnIndex, matrix: np.ndarray, queries: np.ndarray, exact: list[set[int]]) -> float:
    hits = 0
    for q, truth in zip(queries, exact, strict=True):
        keys = np.array(index.candidates(q, K)[0], dtype=np.int64)
        scores = matrix[keys] @ q
        top = keys[np.argsort(-scores, kind="stable")[:K]]
        hits += len(truth & set(top.tolist()))
    return hits / (K * len(queries))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--configs", default=DEFAULT_CONFIGS, help="nlist_per_sqrt:threads,...")
    args = parser.parse_args()
    centers = centers_for(args.docs)
    matrix = clustered(args.docs, centers, np.random.default_rng(1))
    queries = clustered(QUERIES, centers, np.random.default_rng(2))
    exact = [set(np.argsort(-np.einsum("ij,j->i", matrix, q), kind="stable")[:K].tolist()) for q in queries]
    rows = []
    for config in args.configs.split(","):
        per_sqrt, threads = (int(x) for x in config.split(":"))
        load = os.getloadavg()[0]
        index, wall, cpu = build(matrix, per_sqrt, threads)
        recalls = {}
        for nprobe in NPROBES:
            index._base.nprobe = nprobe
            start = time.perf_counter()
            recalls[f"recall_at_10_nprobe{nprobe}"] = round(recall(index, matrix, queries, exact), 4)
            recalls[f"query_ms_nprobe{nprobe}"] = round(
                (time.perf_counter() - start) * 1000 / len(queries), 2
            )
        rows.append(
            {
                "nlist_per_sqrt": per_sqrt,
                "nlist": int(index._base.nlist),
                "threads": threads,
                "load_1min": round(load, 2),
                "wall_s": round(wall, 1),
                "cpu_s": round(cpu, 1),
                "cpu_ms_per_vector": round(cpu / args.docs * 1000, 4),
                **recalls,
            }
        )
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        del index
    print(json.dumps({"docs": args.docs, "dim": DIM, "cpus": os.cpu_count(), "runs": rows}, indent=2))


if __name__ == "__main__":
    main()
