"""Bench: the SQLite store's ANN against its exact scan (recall, latency, build, reload after a write, RSS).

    .venv/bin/python bench/bench_ann.py                 # 50k documents, 512-d (the default model's size)
    .venv/bin/python bench/bench_ann.py --docs 1000000  # the issue #16 figure
    .venv/bin/python bench/bench_ann.py --docs 1000000 --dir /tmp/ann-1m --fill-only   # write the store once,
    .venv/bin/python bench/bench_ann.py --docs 1000000 --dir /tmp/ann-1m --lock /tmp/trendcart-bench.lock
                                                        # then measure (the lock held only while timing)

Vectors are clustered synthetic unit vectors (recall on uniform noise means nothing: every point is about
as far as every other). Each figure comes from a fresh child process, and the exact scan is measured in the
same run as the reference. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench_indexer import QUERIES as TEXT_QUERIES  # noqa: E402

DIM = 512  # use-multilingual-v3, the default model
QUERIES = 200
K = 10
BATCH = 5000
FILL_CHUNK = 50_000


def clustered(n: int, centers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors around `centers` (cosine ~0.6 to their centre, as same-topic titles are)."""
    x = centers[rng.integers(0, len(centers), n)] + rng.standard_normal((n, DIM), dtype=np.float32) * (
        1.2 / np.sqrt(DIM)
    )
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def centers_for(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    c = rng.standard_normal((max(n // 50, 100), DIM), dtype=np.float32)
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def fill(path: Path, n: int) -> dict:
    """A store of `n` documents with vectors: all but the last BATCH written in bulk (one transaction per
    FILL_CHUNK, the rows the store's own `prepare_document` makes for a title-only document), the last BATCH
    through `SqliteStore.upsert` (the ingest path), timed: documents+vectors written per second at size n."""
    import random
    import sqlite3

    from bench.bench_indexer import _words
    from indexer.documents import prepare_document
    from indexer.sqlite_store import SqliteStore
    from indexer.textsearch import TEXT_FIELDS, expand_cjk
    from tests.store_contract import make_doc

    start = time.perf_counter()
    store = SqliteStore(path)
    store.set_model("bench-512", DIM)
    store.close()
    template = prepare_document(make_doc("template", title="template"))
    doc = json.loads(template["doc"])
    rng, vrng, centers, words = random.Random(1), np.random.default_rng(1), centers_for(n), random.Random(3)
    bulk = max(0, n - BATCH)
    conn = sqlite3.connect(path)
    fts_sql = (
        f"INSERT INTO documents_fts (rowid, {', '.join(TEXT_FIELDS)}) VALUES (?{', ?' * len(TEXT_FIELDS)})"
    )
    for at in range(0, bulk, FILL_CHUNK):
        m = min(FILL_CHUNK, bulk - at)
        vectors = clustered(m, centers, vrng)
        docs, fts = [], []
        for i in range(at, at + m):
            title = _words(words, i % 2 == 0, rng.randint(3, 8))  # bench_indexer's titles: 3-8 words
            doc["id"], doc["title"] = f"douyin:video:b{i}", title
            docs.append((i + 1, doc["id"], template["observed_at"], json.dumps(doc, ensure_ascii=False)))
            fts.append((i + 1, expand_cjk(title), "", "", "", ""))
        with conn:
            conn.executemany(
                "INSERT INTO documents (pk, id, kind, platform, first_seen, last_seen, product_count, fts_hash, "
                "doc) VALUES (?, ?, 'video', 'douyin', ?3, ?3, 0, 'bench', ?4)",
                docs,
            )
            conn.executemany(fts_sql, fts)
            conn.executemany(
                "INSERT INTO vectors (doc_pk, text_hash, vector) VALUES (?, 'h', ?)",
                [(at + j + 1, vectors[j].tobytes()) for j in range(m)],
            )
    conn.close()
    fill_s = time.perf_counter() - start
    from bench.bench_indexer import make_docs
    from indexer.ingest import validate

    last = [validate(d) for d in make_docs(n - bulk, seed=n, start=bulk)]
    store = SqliteStore(path)
    load, begin = os.getloadavg()[0], time.perf_counter()
    store.upsert(last, list(clustered(len(last), centers, vrng)), ["h"] * len(last))
    ingest_s = time.perf_counter() - begin
    store.close()
    return {
        "fill_s": round(fill_s + ingest_s, 1),
        "ingest_docs_per_s": round(len(last) / ingest_s),
        "ingest_load_1min": round(load, 2),
    }


def child(path: str, mode: str, n: int, out: str) -> None:
    """One process: open, first search (load or build), timed searches, one foreign write, the search after.
    Mode `build`: TRENDCART_ANN=on, the first search only (it builds the index)."""
    build_only = mode == "build"
    os.environ["TRENDCART_ANN"] = "on" if build_only else mode
    from indexer.sqlite_store import SqliteStore
    from tests.store_contract import make_doc

    queries = clustered(QUERIES, centers_for(n), np.random.default_rng(2))
    store = SqliteStore(path)
    start, cpu = time.perf_counter(), time.process_time()
    store.search("", queries[0], mode="semantic", limit=K)
    first_s, first_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    if build_only:  # the build child: its first search builds and saves the index; nothing else is timed
        with open("/proc/self/status", encoding="ascii") as fh:
            hwm = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
        result = {
            "first_search_s": round(first_s, 2),
            "first_search_cpu_s": round(first_cpu_s, 2),
            "load_1min": round(os.getloadavg()[0], 2),
            "peak_rss_mib": round(hwm / 1024),
        }
        Path(out).write_text(json.dumps(result), encoding="utf-8")
        store.close()
        return
    timings, answers = [], []
    # CPU milliseconds beside wall: on a loaded machine wall time is mostly waiting for a core.
    cpu_ms: dict[str, list[float]] = {"semantic": [], "hybrid": [], "keyword": []}
    for q in queries:
        start, cpu = time.perf_counter(), time.process_time()
        hits = store.search("", q, mode="semantic", limit=K)
        timings.append((time.perf_counter() - start) * 1000)
        cpu_ms["semantic"].append((time.process_time() - cpu) * 1000)
        answers.append([h.id for h in hits])
    # The store's hybrid and keyword search (what indexer.search.search calls once the query is embedded):
    # bench_indexer's queries, each with one of the query vectors.
    sides: dict[str, list[float]] = {"hybrid": [], "keyword": []}
    for side in sides:
        for i, q in enumerate(queries):
            text = TEXT_QUERIES[i % len(TEXT_QUERIES)]
            start, cpu = time.perf_counter(), time.process_time()
            store.search(text, q if side == "hybrid" else None, mode=side, limit=K)
            sides[side].append((time.perf_counter() - start) * 1000)
            cpu_ms[side].append((time.process_time() - cpu) * 1000)
    # Another connection writes one vector; the next search applies it (the reload this process pays).
    writer = SqliteStore(path)
    writer.upsert([make_doc("bench-write")], [queries[0]], ["hw"])
    start, cpu = time.perf_counter(), time.process_time()
    found = store.search("", queries[0], mode="semantic", limit=K)[0].id
    after_write_ms = (time.perf_counter() - start) * 1000
    after_write_cpu_ms = (time.process_time() - cpu) * 1000
    writer.delete(["douyin:video:bench-write"])
    writer.close()
    base = float(np.percentile(timings, 50))
    with open("/proc/self/status", encoding="ascii") as fh:
        hwm = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    result = {
        "mode": mode,
        "first_search_s": round(first_s, 2),
        "first_search_cpu_s": round(first_cpu_s, 2),  # all threads: what a build costs on free cores
        "p50_ms": round(base, 2),
        "p95_ms": round(float(np.percentile(timings, 95)), 2),
        **{
            f"{side}_{pct}_ms": round(float(np.percentile(t, int(pct[1:]))), 2)
            for side, t in sides.items()
            for pct in ("p50", "p95")
        },
        **{
            f"{side}_cpu_{pct}_ms": round(float(np.percentile(t, int(pct[1:]))), 2)
            for side, t in cpu_ms.items()
            for pct in ("p50", "p95")
        },
        "search_after_write_cpu_ms": round(after_write_cpu_ms, 2),
        "load_1min": round(os.getloadavg()[0], 2),
        "search_after_write_ms": round(after_write_ms, 2),
        "reload_after_write_ms": round(max(0.0, after_write_ms - base), 2),
        "write_found": found == "douyin:video:bench-write",
        "peak_rss_mib": round(hwm / 1024),
        "answers": answers,
    }
    Path(out).write_text(json.dumps(result), encoding="utf-8")
    store.close()


def run_child(path: Path, mode: str, n: int, reuse: bool = False) -> dict:
    out = path.with_name(f"child-{mode}.json")
    if reuse and out.exists():
        return json.loads(out.read_text(encoding="utf-8"))
    subprocess.run(
        [sys.executable, __file__, "--child", str(path), "--mode", mode, "--docs", str(n), "--out", str(out)],
        check=True,
        cwd=REPO,
    )
    return json.loads(out.read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--child")
    parser.add_argument("--mode")
    parser.add_argument("--out")
    parser.add_argument("--dir", help="keep the store here (default: a temporary folder); reused if there")
    parser.add_argument("--fill-only", action="store_true", help="write the store into --dir and stop")
    parser.add_argument(
        "--reuse-exact", action="store_true", help="the exact child's result in --dir, if any"
    )
    parser.add_argument("--lock", help="hold this flock only while the opened ANN child is timed")
    parser.add_argument(
        "--report-only", action="store_true", help="the report of the children's results in --dir"
    )
    args = parser.parse_args()
    if args.child:
        child(args.child, args.mode, args.docs, args.out)
        return
    load = os.getloadavg()
    folder = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="bench-ann-"))
    path = folder / "ann.db"
    filled = fill(path, args.docs) if not path.exists() else {}
    if args.fill_only:
        print(json.dumps({"docs": args.docs, "load_before": [round(x, 2) for x in load], **filled}))
        return
    reuse = args.reuse_exact or args.report_only
    exact = run_child(path, "off", args.docs, reuse=reuse)
    built = run_child(path, "build", args.docs, reuse=args.report_only)  # builds and saves the index
    with open(args.lock or os.devnull, "a", encoding="ascii") as lock:
        if args.lock and not args.report_only:
            fcntl.flock(lock, fcntl.LOCK_EX)  # the timed part only (the lock flock(1) takes)
        opened = run_child(path, "on", args.docs, reuse=args.report_only)  # maps the saved file
    recall = float(
        np.mean([len(set(a) & set(e)) / K for a, e in zip(opened["answers"], exact["answers"], strict=True)])
    )
    index_files = [p for p in folder.iterdir() if ".ann-" in p.name]
    report = {
        "docs": args.docs,
        "dim": DIM,
        "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in load],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        **filled,
        "recall_at_10": round(recall, 4),
        "ann_build_s": built["first_search_s"],  # vectors read from the cache file, then the build
        "ann_build_cpu_s": built["first_search_cpu_s"],
        "ann_build_load_1min": built["load_1min"],
        "ann_build_peak_rss_mib": built["peak_rss_mib"],
        "exact_reused": bool(args.reuse_exact),
        "report_only": bool(args.report_only),
        "ann_open_s": opened["first_search_s"],
        "index_file_mib": round(sum(p.stat().st_size for p in index_files) / 2**20, 1),
    }
    for name, r in (("exact", exact), ("ann", opened)):
        for key in (
            "first_search_s",
            "p50_ms",
            "p95_ms",
            "hybrid_p50_ms",
            "hybrid_p95_ms",
            "keyword_p50_ms",
            "keyword_p95_ms",
            "semantic_cpu_p50_ms",
            "semantic_cpu_p95_ms",
            "hybrid_cpu_p50_ms",
            "hybrid_cpu_p95_ms",
            "keyword_cpu_p50_ms",
            "keyword_cpu_p95_ms",
            "search_after_write_cpu_ms",
            "load_1min",
            "reload_after_write_ms",
            "write_found",
            "peak_rss_mib",
        ):
            report[f"{name}_{key}"] = r.get(key)  # None: a reused result from before the key
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
