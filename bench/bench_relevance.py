"""Relevance and speed of each offline model on the labelled set: `python bench/bench_relevance.py`.

Indexes tests/fixtures/relevance/set/corpus.jsonl into a temporary SqliteStore with each installed model
(one child process per model, so load time and RSS are its own), runs every query of judgements.json in
keyword, semantic and hybrid mode through indexer.search.search (with each model's calibrated similarity
floor and fusion weight from indexer.models, and without a floor), and prints nDCG@10, MRR@10 and
Recall@10 per mode and query type, the hits of no-relevant queries, the vector scores of relevant and
irrelevant vector-only hits, a sweep of similarity floors and of fusion methods (weighted RRF, score
fusion as indexer.store.score_fuse does it) and depths, and speed: load time
(import to first query vector), fresh ingest docs/s against raw encode of the same texts, query
embedding p50, peak RSS. Options: --models NAME[,NAME] (default: every installed offline model),
--json (raw results), --save PATH (raw results too), --report PATH (the report of saved results)."""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SET = ROOT / "tests" / "fixtures" / "relevance" / "set"
K = 10  # the cut-off of every metric: a result page
RELEVANT = 2  # grade from which a hit counts as relevant for MRR and Recall (nDCG uses every grade)
MODES = ("keyword", "semantic", "hybrid")
# Speed runs per model, ingest and raw encode interleaved: the best of each is reported (the run least
# slowed by the rest of the machine's load), and the median of each pair's ratio (a pair ran under about
# the same load, so its ratio drifts less than either figure).
SPEED_REPEATS = 5
# Fusion settings swept offline on the same rankings (rank lists of this depth from each side).
SWEEP_DEPTH = 100
SWEEP_K = (1, 5, 10, 30, 60)
SWEEP_WEIGHTS = ((1.0, 1.0), (1.0, 0.5), (0.5, 1.0), (0.25, 1.0), (0.1, 1.0), (1.0, 2.0), (2.0, 1.0))
# Score fusion (indexer.store.score_fuse): cosine + w x BM25 / best BM25.
SWEEP_KEYWORD_WEIGHTS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
SWEEP_DEPTHS = (10, 20, 50, 100)
# The query's translation (indexer.crosslingual) in score fusion: + w x its BM25 / its best BM25; a hit that
# only the translation found is kept at a cosine >= the expansion floor (none, or these quantiles of the
# model's cosines, or the model's floor).
SWEEP_EXPANSION_WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)
SWEEP_EXPANSION_FLOOR_QUANTILES = (0.02, 0.05, 0.1, 0.2, 0.3)
# Floors tried: quantiles of all vector scores the model gave (top SWEEP_DEPTH of every query).
SWEEP_FLOOR_QUANTILES = (0.5, 0.7, 0.8, 0.85, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98)
# The settings a run is made with: the model's calibrated floor, and no floor at all.
FLOORS = {"floor": None, "no floor": -1.0}
# The target for queries with no relevant document: at most this many hits on average.
MAX_NO_RELEVANT_HITS = 2.0


# ------------------------------------------------------------------------------------------- metrics


def ndcg(ranked: list[str], grades: dict[str, int], k: int = K) -> float:
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    if idcg == 0:
        return 0.0
    dcg = sum((2 ** grades.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    return dcg / idcg


def mrr(ranked: list[str], grades: dict[str, int], k: int = K) -> float:
    for i, d in enumerate(ranked[:k]):
        if grades.get(d, 0) >= RELEVANT:
            return 1.0 / (i + 1)
    return 0.0


def recall(ranked: list[str], grades: dict[str, int], k: int = K) -> float:
    wanted = {d for d, g in grades.items() if g >= RELEVANT}
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


def summarise(rows: list[dict]) -> dict[str, float]:
    judged = [r for r in rows if r["grades"]]
    out = {
        name: statistics.fmean(fn(r["ranked"], r["grades"]) for r in judged) if judged else float("nan")
        for name, fn in (("ndcg", ndcg), ("mrr", mrr), ("recall", recall))
    }
    empty = [r for r in rows if not r["grades"]]
    out["hits_no_relevant"] = statistics.fmean(len(r["ranked"]) for r in empty) if empty else float("nan")
    return out


def fuse(keyword: list[str], vector: list[str], k: int, wk: float, wv: float, depth: int) -> list[str]:
    scores: dict[str, float] = {}
    for weight, ranked in ((wk, keyword[:depth]), (wv, vector[:depth])):
        for rank, doc_id in enumerate(ranked, 1):
            scores[doc_id] = scores.get(doc_id, 0.0) + weight / (k + rank)
    return [d for d, _ in sorted(scores.items(), key=lambda item: (-item[1], item[0]))]


# ------------------------------------------------------------------------------------ one model (child)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def side(hits, name: str) -> list[tuple[str, float]]:
    """One side's own top SWEEP_DEPTH `(id, score)` from hits' explain (`keyword` or `expansion`)."""
    ranked = sorted((h.explain[f"{name}_rank"], h.id, h.explain[f"{name}_score"]) for h in hits
                    if h.explain.get(f"{name}_rank") is not None)  # fmt: skip
    return [(doc_id, score) for _, doc_id, score in ranked][:SWEEP_DEPTH]


def dictionary_cost() -> dict:
    """The expansion dictionary, in a fresh process (`--dictionary`): building its index (parse CC-CEDICT
    and jieba's counts, what the first use on a machine does) with the growth of peak RSS it causes;
    opening the built index (best of 5) with tracemalloc's peak; one expansion on an open index."""
    import tracemalloc

    from indexer import crosslingual

    files = crosslingual.sources()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ[crosslingual.CACHE_DIR_ENV] = tmp
        before = rss_mb()
        started = time.perf_counter()
        crosslingual.load_dictionary(files)
        build_s = time.perf_counter() - started
        build_rss = rss_mb() - before
        opens = []
        for _ in range(5):
            tracemalloc.start()
            started = time.perf_counter()
            index = crosslingual.load_dictionary(files)
            index.expand("robot vacuum cleaner 扫地机器人")
            opens.append(time.perf_counter() - started)
            open_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        started = time.perf_counter()
        for _ in range(100):
            index.expand("river snail rice noodles 螺蛳粉 无线耳机")
        expand_ms = (time.perf_counter() - started) * 10
    return {
        "build_s": build_s,
        "build_rss_mb": build_rss,
        "open_s": min(opens),
        "open_peak_mb": open_peak / 2**20,
        "expand_ms": expand_ms,
        "load": os.getloadavg()[0],
    }


def run_model(name: str) -> dict:
    from indexer import crosslingual, models
    from indexer.embedder import Embedder, document_text
    from indexer.ingest import ingest_jsonl
    from indexer.search import search
    from indexer.sqlite_store import SqliteStore

    queries = json.loads((SET / "judgements.json").read_text(encoding="utf-8"))["queries"]
    docs = [json.loads(line) for line in (SET / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = [document_text(doc) for doc in docs]

    embedder = Embedder(name)
    started = time.perf_counter()
    embedder.embed_query("口红")  # load: import, model, engine (lazy in engine modules), first vector
    load_s = time.perf_counter() - started
    embedder.embed_documents(texts[:8])  # first batch warm-up, outside both timings

    with tempfile.TemporaryDirectory() as tmp:
        ingest_s, encode_s = [], []
        for attempt in range(SPEED_REPEATS):
            store = SqliteStore(Path(tmp) / f"set{attempt}.db")
            started = time.perf_counter()
            report = ingest_jsonl(SET / "corpus.jsonl", store, embedder)
            ingest_s.append(time.perf_counter() - started)
            assert report.skipped_invalid == 0 and report.added == len(docs), report
            started = time.perf_counter()
            embedder.embed_documents(texts)
            encode_s.append(time.perf_counter() - started)
            if attempt < SPEED_REPEATS - 1:
                store.close()

        query_ms = []
        for query in queries:
            started = time.perf_counter()
            embedder.embed_query(query["query"])
            query_ms.append((time.perf_counter() - started) * 1000)

        runs: dict[str, dict[str, list[dict]]] = {label: {mode: [] for mode in MODES} for label in FLOORS}
        deep: list[dict] = []
        for query in queries:
            grades = query["judgements"]
            for label, floor in FLOORS.items():
                for mode in MODES:
                    hits = search(
                        store, query["query"], mode, limit=K, embedder=embedder, min_similarity=floor
                    )
                    runs[label][mode].append(
                        {
                            "id": query["id"],
                            "type": query["type"],
                            "grades": grades,
                            "ranked": [hit.id for hit in hits],
                            "explain": [
                                {
                                    "id": hit.id,
                                    "keyword_rank": hit.explain.get("keyword_rank"),
                                    "vector_score": hit.explain.get("vector_score"),
                                }
                                for hit in hits
                            ],
                        }
                    )
            # Every keyword hit (the limit is above the set's size), so that each side's own ranking can
            # be read back from the explain: the query's BM25 and its translation's (indexer.crosslingual).
            keyword = search(store, query["query"], "keyword", limit=10 * len(docs), embedder=embedder)
            semantic = search(
                store, query["query"], "semantic", limit=SWEEP_DEPTH, embedder=embedder, min_similarity=-1
            )
            deep.append(
                {
                    "type": query["type"],
                    "grades": grades,
                    "keyword": side(keyword, "keyword"),
                    "expanded": side(keyword, "expansion"),
                    "vector": [(hit.id, hit.explain.get("vector_score")) for hit in semantic],
                    "expansion": crosslingual.expand(query["query"]).to_json(),
                    "coverage": crosslingual.expand(query["query"]).coverage,
                }
            )
        store.close()
    settings = models.search_settings(embedder.model_name)
    return {
        "model": embedder.model_name,
        "dim": embedder.dim,
        "floor": settings.vector_floor,
        "keyword_weight": settings.keyword_weight,
        "expansion_weight": settings.expansion_weight,
        "expansion_floor": settings.expansion_floor,
        "expansion_rank_weight": settings.expansion_rank_weight,
        "expansion_rank_k": settings.expansion_rank_k,
        "docs": len(docs),
        "load_s": load_s,
        "ingest_docs_s": len(docs) / min(ingest_s),
        "encode_docs_s": len(docs) / min(encode_s),
        "pair_ratio_median": statistics.median(e / i for e, i in zip(encode_s, ingest_s, strict=True)),
        "load": os.getloadavg()[0],
        "query_p50_ms": statistics.median(query_ms[1:]),
        "rss_mb": rss_mb(),
        "runs": runs,
        "deep": deep,
    }


# --------------------------------------------------------------------------------------------- report


def table(headers: list[str], rows: list[list]) -> str:
    def cell(value) -> str:
        if isinstance(value, float):
            return "—" if math.isnan(value) else f"{value:.3f}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def quantiles(values: list[float]) -> str:
    if not values:
        return "—"
    values = sorted(values)
    pick = [values[min(len(values) - 1, int(q * len(values)))] for q in (0.1, 0.5, 0.9)]
    return f"{pick[0]:.3f} / {pick[1]:.3f} / {pick[2]:.3f} (n={len(values)})"


def refused(deep: list[dict], floor: float, fuse_ids) -> list[dict]:
    """Hybrid rankings re-fused offline from the deep lists: vector candidates under `floor` that matched no
    keyword are dropped (as indexer.store.fused_hits does); `fuse_ids(keyword, vector)` ranks the rest."""
    rows = []
    for row in deep:
        keyword = row["keyword"]
        if "cosine" not in row:
            row["cosine"] = {d: s for d, s in row["vector"]}
            row["matched"] = {d for d, _ in keyword}
        cosine, matched = row["cosine"], row["matched"]
        ranked = [d for d in fuse_ids(keyword, row["vector"]) if d in matched or cosine.get(d, -1.0) >= floor]
        rows.append({"type": row["type"], "grades": row["grades"], "ranked": ranked[:K]})
    return rows


def rrf_method(k: int, wk: float, wv: float, depth: int):
    def fuse_ids(keyword, vector):
        return fuse([d for d, _ in keyword], [d for d, _ in vector], k, wk, wv, depth)

    return fuse_ids


def score_method(weight: float, depth: int):
    from indexer.store import score_fuse

    def fuse_ids(keyword, vector):
        return [d for d, _ in score_fuse(keyword[:depth], vector[:depth], weight)]

    return fuse_ids


def untranslated(result: dict) -> dict[str, list[dict]]:
    """Keyword and hybrid search as they were without the query's translation (offline, from the deep
    lists: the query's own BM25 ranking; fused_hits with expansion weight 0), with the model's floor."""
    from indexer.models import SearchSettings

    deep = result["deep"]
    keyword = [
        {"type": r["type"], "grades": r["grades"], "ranked": [d for d, _ in r["keyword"][:K]]} for r in deep
    ]
    settings = SearchSettings(result["floor"], result["keyword_weight"], 0.0, None)
    return {"keyword": keyword, "hybrid": code_fused(deep, settings)}


def stub_docs(ids: list[str]) -> dict[str, dict]:
    return {doc_id: {"id": doc_id} for doc_id in ids}


def code_fused(deep: list[dict], settings, depth: int = SWEEP_DEPTH) -> list[dict]:
    """Hybrid rankings re-fused offline by the code itself (indexer.store.fused_hits: score fusion, floors,
    the translation's weight and floor) from the deep lists."""
    from indexer.crosslingual import Expansion
    from indexer.store import SearchMode, fused_hits

    rows = []
    for row in deep:
        sources = tuple((source, tuple(words)) for source, words in row.get("expansion", {}).items())
        expansion = Expansion(terms=(), sources=sources, coverage=row.get("coverage", 0.0))
        hits = fused_hits(SearchMode.hybrid, row["keyword"][:depth], row["vector"][:depth], K, stub_docs,
                          settings, row.get("expanded", [])[:depth], expansion)  # fmt: skip
        rows.append({"type": row["type"], "grades": row["grades"], "ranked": [h.id for h in hits]})
    return rows


def expansion_floors(deep: list[dict], floor: float | None, chosen: float | None) -> list[float | None]:
    """Floors tried for hits that only the translation found: none, low quantiles of the model's cosines,
    the model's own floor and the registry's choice."""
    scores = sorted(s for row in deep for _, s in row["vector"] if s is not None)
    low = {round(scores[int(q * (len(scores) - 1))], 3) for q in SWEEP_EXPANSION_FLOOR_QUANTILES}
    found = low | {f for f in (floor, chosen) if f is not None}
    return [None, *sorted(f for f in found if floor is None or f <= floor)]


def expansion_sweep(result: dict) -> tuple[list[tuple[str, tuple, dict]], list]:
    """Score fusion with the translation (indexer.crosslingual) at the model's floor, depth
    HYBRID_CANDIDATES: every keyword weight x expansion weight x expansion floor; the best that keeps the
    no-relevant queries at <= MAX_NO_RELEVANT_HITS, the registry's setting, and the grid at its keyword
    weight (rows: expansion weight, columns: expansion floor)."""
    from indexer.models import SearchSettings

    deep, floor = result["deep"], result["floor"]
    xfloors = expansion_floors(deep, floor, result.get("expansion_floor"))
    measured = {}
    for wk in SWEEP_KEYWORD_WEIGHTS:
        for wx in SWEEP_EXPANSION_WEIGHTS:
            for xf in xfloors if wx > 0 else [None]:
                settings = SearchSettings(floor, wk, wx, xf)
                measured[(wk, wx, xf)] = summarise(code_fused(deep, settings))
    out = []
    plain = {k: v for k, v in measured.items() if k[1] == 0}
    if plain:
        key = max(plain, key=lambda k: plain[k]["ndcg"])
        out.append(("best without translation", key, plain[key]))
    kept = {k: v for k, v in measured.items() if v["hits_no_relevant"] <= MAX_NO_RELEVANT_HITS}
    if kept:
        key = max(kept, key=lambda k: (kept[k]["ndcg"], -kept[k]["hits_no_relevant"]))
        out.append((f"best, hits <= {MAX_NO_RELEVANT_HITS:g}", key, kept[key]))
    chosen = SearchSettings(floor, result["keyword_weight"], result.get("expansion_weight", 0.0),
                            result.get("expansion_floor"),
                            expansion_rank_weight=result.get("expansion_rank_weight", 0.0),
                            expansion_rank_k=result.get("expansion_rank_k", 30))  # fmt: skip
    out.append(("chosen (indexer.models)", (chosen.keyword_weight, chosen.expansion_weight,
                chosen.expansion_floor), summarise(code_fused(deep, chosen))))  # fmt: skip
    grid = []
    for wx in SWEEP_EXPANSION_WEIGHTS:
        if wx == 0:
            continue
        cells = [measured.get((result["keyword_weight"], wx, xf)) for xf in xfloors]
        grid.append((wx, [(xf, c) for xf, c in zip(xfloors, cells, strict=True) if c is not None]))
    return out, grid


def floors_of(deep: list[dict], chosen: float | None = None) -> list[float]:
    """Quantiles of the model's cosines, and the registry's floor."""
    scores = sorted(s for row in deep for _, s in row["vector"] if s is not None)
    floors = {round(scores[int(q * (len(scores) - 1))], 3) for q in SWEEP_FLOOR_QUANTILES}
    return sorted(floors | ({chosen} if chosen is not None else set()))


def floor_sweep(deep: list[dict], chosen: float | None) -> list[tuple[float, dict]]:
    """Semantic search with each floor: what it costs (nDCG@10) and what it removes (no-relevant hits)."""
    out = []
    for floor in floors_of(deep, chosen):
        rows = [
            {
                "type": r["type"],
                "grades": r["grades"],
                "ranked": [d for d, s in r["vector"] if s >= floor][:K],
            }
            for r in deep
        ]
        out.append((floor, summarise(rows)))
    return out


def sweep(result: dict) -> list[tuple[str, tuple, dict]]:
    """RRF 1:1 k 60 without floor (phase 1), the best of each method without a floor, and the best of each
    method that keeps no-relevant queries at <= MAX_NO_RELEVANT_HITS hits, over the floors swept; then
    the registry's setting (the model's floor and keyword weight, depth HYBRID_CANDIDATES)."""
    from indexer.store import HYBRID_CANDIDATES

    deep = result["deep"]
    methods = [
        (("RRF", k, f"{wk:g}:{wv:g}", depth), rrf_method(k, wk, wv, depth))
        for k in SWEEP_K
        for wk, wv in SWEEP_WEIGHTS
        for depth in SWEEP_DEPTHS
    ] + [
        (("score", "—", f"{w:g}", depth), score_method(w, depth))
        for w in SWEEP_KEYWORD_WEIGHTS
        for depth in SWEEP_DEPTHS
    ]
    out = [("RRF k 60, 1:1 (phase 1)", (-1.0, "RRF", 60, "1:1", 100),
            summarise(refused(deep, -1.0, rrf_method(60, 1.0, 1.0, 100))))]  # fmt: skip
    floors = [-1.0, *floors_of(deep, result["floor"])]
    measured = {
        (floor, *setting): summarise(refused(deep, floor, fuse_ids))
        for floor in floors
        for setting, fuse_ids in methods
    }
    for method in ("RRF", "score"):
        mine = {key: s for key, s in measured.items() if key[1] == method}
        plain = max(((key, s) for key, s in mine.items() if key[0] < 0), key=lambda item: item[1]["ndcg"])
        out.append((f"best {method}, no floor", *plain))
        kept = [(key, s) for key, s in mine.items() if s["hits_no_relevant"] <= MAX_NO_RELEVANT_HITS]
        if kept:
            out.append(
                (f"best {method}, hits <= {MAX_NO_RELEVANT_HITS:g}", *max(kept, key=lambda i: i[1]["ndcg"]))
            )
    floor = result["floor"] if result["floor"] is not None else -1.0
    chosen = score_method(result["keyword_weight"], HYBRID_CANDIDATES)
    out.append(("chosen (indexer.models)", (floor, "score", "—", f"{result['keyword_weight']:g}",
                HYBRID_CANDIDATES), summarise(refused(deep, floor, chosen))))  # fmt: skip
    return out


def report(results: list[dict]) -> str:
    types = sorted({r["type"] for r in results[0]["runs"]["floor"]["keyword"]}, key=TYPE_ORDER.index)
    out = []
    rows = []
    for result in results:
        floor = "none" if result["floor"] is None else f"{result['floor']:g}"
        before = untranslated(result)
        for mode in MODES:
            s = summarise(result["runs"]["floor"][mode])
            plain = summarise(result["runs"]["no floor"][mode])
            rows.append([result["model"], mode, floor if mode != "keyword" else "—", s["ndcg"], s["mrr"],
                         s["recall"], s["hits_no_relevant"], plain["ndcg"], plain["hits_no_relevant"]])  # fmt: skip
        for mode, ranked in before.items():
            s = summarise(ranked)
            rows.append([result["model"], f"{mode}, no translation", floor if mode != "keyword" else "—",
                         s["ndcg"], s["mrr"], s["recall"], s["hits_no_relevant"], "", ""])  # fmt: skip
    out.append(
        "Overall (judged queries; hits = average hits of the no-relevant queries, limit 10; with the model's"
        " floor, and without one):\n"
    )
    out.append(
        table(
            [
                "model",
                "mode",
                "floor",
                "nDCG@10",
                "MRR@10",
                "Recall@10",
                "hits (no-rel.)",
                "nDCG@10 no floor",
                "hits no floor",
            ],
            rows,
        )  # fmt: skip
    )
    rows = []
    for result in results:
        runs = {
            **result["runs"]["floor"],
            **{f"{m}, no translation": r for m, r in untranslated(result).items()},
        }
        for mode, run in runs.items():
            row = [result["model"], mode]
            for qtype in types:
                if qtype == "no_relevant":
                    continue
                s = summarise([r for r in run if r["type"] == qtype])
                row.append(f"{s['ndcg']:.2f} / {s['recall']:.2f}")
            rows.append(row)
    out.append("\nnDCG@10 / Recall@10 per query type (with the model's floor):\n")
    out.append(table(["model", "mode"] + [t for t in types if t != "no_relevant"], rows))

    rows = []
    for result in results:
        relevant, irrelevant, only_rel, only_irr = [], [], [], []
        for run in result["runs"]["no floor"]["semantic"]:
            for hit in run["explain"]:
                (relevant if run["grades"].get(hit["id"], 0) >= 1 else irrelevant).append(hit["vector_score"])
        for run in result["runs"]["no floor"]["hybrid"]:
            for hit in run["explain"]:
                if hit["keyword_rank"] is None and hit["vector_score"] is not None:
                    target = only_rel if run["grades"].get(hit["id"], 0) >= 1 else only_irr
                    target.append(hit["vector_score"])
        rows.append(
            [
                result["model"],
                quantiles(relevant),
                quantiles(irrelevant),
                quantiles(only_rel),
                quantiles(only_irr),
            ]
        )
    out.append(
        "\nVector scores without a floor, p10 / p50 / p90 (semantic top 10; hybrid hits found by the vector"
        " side only):\n"
    )
    out.append(
        table(
            [
                "model",
                "semantic relevant",
                "semantic irrelevant",
                "vector-only relevant",
                "vector-only irrelevant",
            ],
            rows,
        )
    )
    rows = []
    for result in results:
        for floor, s in floor_sweep(result["deep"], result["floor"]):
            mark = " (chosen)" if result["floor"] is not None and abs(floor - result["floor"]) < 5e-4 else ""
            rows.append(
                [result["model"], f"{floor:.3f}{mark}", s["ndcg"], s["recall"], s["hits_no_relevant"]]
            )
    out.append("\nSimilarity floor sweep (semantic search; floors at quantiles of the model's cosines):\n")
    out.append(table(["model", "floor", "nDCG@10", "Recall@10", "hits (no-rel.)"], rows))

    for result in results:
        table_rows, grid = expansion_sweep(result)
        out.append(
            f"\n{result['model']}: score fusion with the query's translation (indexer.crosslingual), re-ranked"
            " offline by indexer.store.fused_hits at the model's floor, depth 100: fused = cosine + wk x BM25 /"
            " best + wx x translation BM25 / its best; a hit only the translation found is kept at a cosine >="
            " the expansion floor (the chosen row adds the model's rank term, wr x coverage / (k + translation"
            " rank); the vector lists are semantic mode's, so a model whose hybrid moves a Chinese query's"
            " vector by another weight ranks otherwise live, in the tables above):\n"
        )
        rows = [[label, f"{wk:g}", f"{wx:g}", "none" if xf is None else f"{xf:.3f}", s["ndcg"], s["mrr"],
                 s["recall"], s["hits_no_relevant"]] for label, (wk, wx, xf), s in table_rows]  # fmt: skip
        out.append(table(["setting", "wk", "wx", "expansion floor", "nDCG@10", "MRR@10", "Recall@10",
                          "hits (no-rel.)"], rows))  # fmt: skip
        if grid:
            floors = [xf for xf, _ in grid[0][1]]
            out.append(
                f"\nnDCG@10 / hits (no-rel.) at wk {result['keyword_weight']:g} (rows wx, columns expansion floor):\n"
            )
            out.append(table(["wx", *("none" if f is None else f"{f:.3f}" for f in floors)],
                             [[f"{wx:g}", *(f"{c['ndcg']:.3f} / {c['hits_no_relevant']:.2f}" for _, c in cells)]
                              for wx, cells in grid]))  # fmt: skip

    out.append(
        "\nFusion sweep without the translation (offline over the same top-100 lists; RRF = sum of w / (k + rank); score ="
        " cosine + w x BM25 / best BM25; the floor drops vector-only candidates):\n"
    )
    rows = []
    for result in results:
        for label, (floor, method, k, weights, depth), s in sweep(result):
            rows.append(
                [result["model"], label, "none" if floor < 0 else f"{floor:.3f}", method, k, weights, depth,
                 s["ndcg"], s["mrr"], s["recall"], s["hits_no_relevant"]]
            )  # fmt: skip
    out.append(
        table(
            [
                "model",
                "setting",
                "floor",
                "method",
                "RRF k",
                "weights",
                "depth",
                "nDCG@10",
                "MRR@10",
                "Recall@10",
                "hits (no-rel.)",
            ],
            rows,
        )  # fmt: skip
    )

    rows = [
        [r["model"], r["dim"], f"{r['load_s']:.2f} s", f"{r['ingest_docs_s']:.0f}", f"{r['encode_docs_s']:.0f}",
         f"{r['ingest_docs_s'] / r['encode_docs_s']:.2f}", f"{r.get('pair_ratio_median', float('nan')):.2f}",
         f"{r['query_p50_ms']:.1f} ms", f"{r['rss_mb']:.0f} MB", f"{r.get('load', float('nan')):.1f}"]
        for r in results
    ]  # fmt: skip
    out.append(
        f"\nSpeed ({results[0]['docs']} documents, best of {SPEED_REPEATS}; ingest = ingest_jsonl into a fresh"
        " SqliteStore, encode = Embedder.embed_documents of the same texts, the two interleaved; pair ratio ="
        " median of each run's encode/ingest time; load avg = 1-minute load average at the end; peak RSS includes"
        " torch):\n"
    )
    out.append(
        table(
            [
                "model",
                "dim",
                "load",
                "ingest docs/s",
                "encode docs/s",
                "ingest/encode",
                "pair ratio",
                "query p50",
                "peak RSS",
                "load avg",
            ],
            rows,
        )
    )
    rows = [[f"{d['build_s']:.2f} s", f"{d['build_rss_mb']:.0f} MB", f"{d['open_s'] * 1000:.1f} ms",
             f"{d['open_peak_mb']:.2f} MB", f"{d['expand_ms']:.2f} ms", f"{d['load']:.1f}"]
            for r in results[:1] if (d := r.get("dictionary"))]  # fmt: skip
    if rows:
        out.append(
            "\nThe translation's dictionary (indexer.crosslingual, a fresh process; build = parse CC-CEDICT and"
            " jieba's counts into the cached SQLite index, once per machine, and the growth of peak RSS; open ="
            " open the built index and expand one query, best of 5, tracemalloc peak; expand = one query on an"
            " open index):\n"
        )
        out.append(table(["build", "build peak RSS", "open", "open memory", "expand", "load avg"], rows))
    return "\n".join(out)


TYPE_ORDER = ["zh_keyword", "zh_paraphrase", "en_to_zh", "zh_to_en", "brand_model", "no_relevant"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", help="comma-separated model names (default: every installed offline model)"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child mode: one model, JSON on stdout
    parser.add_argument("--dictionary", action="store_true", help=argparse.SUPPRESS)  # child: its cost
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON")
    parser.add_argument("--save", help="also write the raw results to this JSON file")
    parser.add_argument("--report", help="print the report of raw results saved earlier (no model runs)")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_model(args.one), ensure_ascii=False))
        return
    if args.dictionary:
        print(json.dumps(dictionary_cost()))
        return
    if args.report:
        print(report(json.loads(Path(args.report).read_text(encoding="utf-8"))))
        return
    from indexer import models

    names = args.models.split(",") if args.models else [spec.name for spec in models.available()]
    results = []
    for name in names:
        child = subprocess.run(
            [sys.executable, __file__, "--one", name], capture_output=True, text=True, check=False, cwd=ROOT
        )
        if child.returncode != 0:
            sys.exit(f"{name}: {child.stderr.strip().splitlines()[-1] if child.stderr.strip() else 'failed'}")
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    child = subprocess.run(
        [sys.executable, __file__, "--dictionary"], capture_output=True, text=True, check=True, cwd=ROOT
    )
    results[0]["dictionary"] = json.loads(child.stdout.strip().splitlines()[-1])
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return
    if args.save:
        Path(args.save).write_text(json.dumps(results, ensure_ascii=False), encoding="utf-8")
    load = os.getloadavg()
    print(
        f"# relevance set: {SET.relative_to(ROOT)}; {os.cpu_count()} CPUs, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n"
    )
    print(report(results))


if __name__ == "__main__":
    main()
