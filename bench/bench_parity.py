"""Do the two stores rank alike? `python bench/bench_parity.py [--docs N] [--es-url URL]`.

Builds the same generated corpus (bench/bench_indexer.py make_docs, the same vectors) in a SqliteStore and
in an ElasticStore (a node from --es-url or TRENDCART_TEST_ES_URL; its indices are deleted afterwards),
runs the bench queries in keyword, semantic and hybrid mode through indexer.search.search on both, and
prints the mean top-10 overlap (|A ∩ B| / 10) per mode, with the queries that differ most. Vectors: the
real model embeds up to --distinct texts, reused with a little noise (as bench_indexer.build_store does),
so a big corpus builds in minutes; each batch goes to both stores at once (two threads: Elasticsearch mostly
waits on its node). Default 5,000 documents (about two minutes on a loaded 2-core machine); `--docs 100000`
for the figure in docs/BENCHMARKS.md ("Keyword side and parity"): ~10 minutes to build both at load 10-13.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from bench.bench_indexer import QUERIES, make_docs  # noqa: E402

MODES = ("keyword", "semantic", "hybrid")
K = 10  # a result page: the overlap the issue asks about
BATCH = 2000  # documents per upsert on both stores
NOISE = 0.02  # the spread of reused vectors around their embedded original (as bench_indexer.build_store)
ES_URL_ENV = "TRENDCART_TEST_ES_URL"


def build(stores: list, n: int, distinct: int, embedder, seed: int = 7) -> tuple[float, list[float]]:
    """The same documents and vectors into every store; returns seconds in all and per store."""
    import numpy as np

    from indexer.embedder import document_text
    from indexer.ingest import validate

    rng = np.random.default_rng(seed)
    first = [validate(d) for d in make_docs(min(distinct, n), seed=0, start=0)]
    base = np.asarray(embedder.embed_documents([document_text(d) for d in first]), dtype=np.float32)
    for store in stores:
        store.set_model(embedder.model_name, base.shape[1])
    start = time.perf_counter()
    per_store = [0.0] * len(stores)
    pool = ThreadPoolExecutor(max_workers=len(stores), thread_name_prefix="parity-fill")
    for offset in range(0, n, BATCH):
        docs = [validate(d) for d in make_docs(min(BATCH, n - offset), seed=offset, start=offset)]
        if offset == 0:
            docs[: len(first)] = first  # the embedded originals themselves
        vectors = base[[(offset + i) % base.shape[0] for i in range(len(docs))]]
        noise = rng.normal(0, NOISE, vectors.shape).astype(np.float32)
        vectors = vectors + np.where(np.arange(len(docs))[:, None] + offset < base.shape[0], 0, noise)
        hashes = [f"parity{offset + i}" for i in range(len(docs))]

        def write(k: int, docs=docs, vectors=vectors, hashes=hashes) -> None:
            began = time.perf_counter()
            stores[k].upsert(docs, list(vectors), hashes)
            per_store[k] += time.perf_counter() - began

        # both stores at once: Elasticsearch mostly waits on its node, so SQLite's writes fill that time
        list(pool.map(write, range(len(stores))))
    pool.shutdown()
    return time.perf_counter() - start, per_store


def overlap(a: list[str], b: list[str]) -> float | None:
    """|A ∩ B| / K, or None when neither store answers (nothing to compare)."""
    if not a and not b:
        return None
    return len(set(a[:K]) & set(b[:K])) / K


def compare(sqlite_store, es_store, embedder, queries: list[str]) -> dict:
    from indexer.search import search

    per_mode: dict[str, list[dict]] = {mode: [] for mode in MODES}
    for query in queries:
        for mode in MODES:
            a = [h.id for h in search(sqlite_store, query, mode, limit=K, embedder=embedder)]
            b = [h.id for h in search(es_store, query, mode, limit=K, embedder=embedder)]
            value = overlap(a, b)
            if value is not None:
                per_mode[mode].append({"query": query, "overlap": value, "sqlite": len(a), "es": len(b)})
    summary = {}
    for mode, rows in per_mode.items():
        mean = sum(r["overlap"] for r in rows) / len(rows) if rows else None
        worst = sorted(rows, key=lambda r: r["overlap"])[:3]
        summary[mode] = {"mean_overlap": round(mean, 3) if mean is not None else None, "worst": worst}
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=5000, help="corpus size (default 5000)")
    parser.add_argument("--distinct", type=int, default=1000, help="texts really embedded (default 1000)")
    parser.add_argument(
        "--es-url", default=os.environ.get(ES_URL_ENV), help=f"Elasticsearch node ({ES_URL_ENV})"
    )
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON")
    args = parser.parse_args()
    if not args.es_url:
        parser.error(f"an Elasticsearch node is needed: --es-url or {ES_URL_ENV}")

    from indexer.elastic import ElasticConfig, ElasticStore
    from indexer.embedder import Embedder
    from indexer.sqlite_store import SqliteStore

    embedder = Embedder(batch_size=32)
    with tempfile.TemporaryDirectory(prefix="bench-parity-") as tmp:
        sqlite_store = SqliteStore(Path(tmp) / "parity.db")
        config = ElasticConfig.from_env(
            args.es_url, environ={}, index_prefix=f"bench-parity-{uuid.uuid4().hex[:8]}", outbox_dir=Path(tmp)
        )
        es_store = ElasticStore(config)
        try:
            seconds, per_store = build([sqlite_store, es_store], args.docs, args.distinct, embedder)
            print(
                f"built both stores in {seconds:.0f} s (sqlite {per_store[0]:.0f} s, "
                f"elasticsearch {per_store[1]:.0f} s)",
                file=sys.stderr,
            )
            start = time.perf_counter()
            summary = compare(sqlite_store, es_store, embedder, QUERIES)
            print(f"compared in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        finally:
            es_store.destroy()
            es_store.close()
            sqlite_store.close()
    result = {
        "docs": args.docs,
        "queries": len(QUERIES),
        "build_s": round(seconds, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "modes": summary,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    print(f"{args.docs} documents, {len(QUERIES)} queries, load {result['load_average_1m']}")
    for mode, row in summary.items():
        worst = ", ".join(f"{w['query']!r} {w['overlap']:.1f}" for w in row["worst"])
        print(f"  {mode:8s} top-{K} overlap {row['mean_overlap']}   lowest: {worst}")


if __name__ == "__main__":
    main()
