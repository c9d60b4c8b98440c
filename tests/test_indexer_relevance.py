"""Relevance on a small labelled zh/en corpus (tests/fixtures/relevance/): expected documents rank in the
top results, and hybrid search beats keyword-only search on paraphrase queries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.ingest import ingest_jsonl
from indexer.search import search
from indexer.sqlite_store import SqliteStore

pytestmark = pytest.mark.model
FIXTURES = Path(__file__).parent / "fixtures" / "relevance"
LABELS = json.loads((FIXTURES / "queries.json").read_text(encoding="utf-8"))
TOP = LABELS["top"]


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory, embedder):
    store = SqliteStore(tmp_path_factory.mktemp("relevance") / "corpus.db")
    report = ingest_jsonl(FIXTURES / "corpus.jsonl", store, embedder)
    assert report.skipped_invalid == 0 and report.added >= 40
    yield store
    store.close()


def recall(store, embedder, query, expected, mode):
    ids = [hit.id for hit in search(store, query, mode, limit=TOP, embedder=embedder)]
    return sum(doc_id in ids for doc_id in expected) / len(expected)


def test_the_labelled_set_is_big_enough():
    queries = LABELS["queries"]
    corpus = (FIXTURES / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(corpus) >= 40 and len(queries) >= 15
    assert any(q.get("paraphrase") for q in queries)
    languages = {json.loads(line)["language"] for line in corpus}
    assert {"zh", "en"} <= languages


@pytest.mark.parametrize("case", LABELS["queries"], ids=[q["query"] for q in LABELS["queries"]])
def test_expected_documents_rank_in_the_top_hybrid_results(corpus_store, embedder, case):
    assert recall(corpus_store, embedder, case["query"], case["expected"], "hybrid") == 1.0


@pytest.mark.parametrize(
    "case",
    [q for q in LABELS["queries"] if not q.get("paraphrase")],
    ids=[q["query"] for q in LABELS["queries"] if not q.get("paraphrase")],
)
def test_keyword_search_alone_finds_literal_queries(corpus_store, embedder, case):
    assert recall(corpus_store, embedder, case["query"], case["expected"], "keyword") > 0


def test_hybrid_beats_keyword_on_paraphrases(corpus_store, embedder):
    paraphrases = [q for q in LABELS["queries"] if q.get("paraphrase")]
    keyword = sum(recall(corpus_store, embedder, q["query"], q["expected"], "keyword") for q in paraphrases)
    hybrid = sum(recall(corpus_store, embedder, q["query"], q["expected"], "hybrid") for q in paraphrases)
    assert hybrid > keyword
    assert hybrid >= 0.8 * len(paraphrases)


def test_hybrid_ranks_an_english_query_by_its_move_and_keeps_filler_out_by_its_own_vector(
    corpus_store, embedder
):
    """ "warm winter coat": hybrid ranks by the query moved towards 保暖/冬天/外套 (weight 0.4), and a hit that
    matched no keyword is kept by its cosine with the query's own vector, the one semantic search uses and
    the floor is calibrated on: the English puffer video (own cosine just above the floor, its moved one
    below it) stays."""
    query = "warm winter coat"
    hybrid = search(corpus_store, query, "hybrid", limit=10, embedder=embedder)
    semantic = search(corpus_store, query, "semantic", limit=1000, embedder=embedder, min_similarity=-1)
    own = {hit.id: hit.explain["vector_score"] for hit in semantic}
    alone = [hit for hit in hybrid if hit.explain["reason"].startswith("similar")]
    assert alone  # vector-only hits, each kept by its own cosine
    for hit in alone:
        assert hit.explain["floor_score"] == pytest.approx(own[hit.id], abs=1e-5)
        assert hit.explain["floor_score"] >= hit.explain["floor"]
    moved = [hit for hit in hybrid if hit.explain["vector_score"] is not None]
    assert any(abs(hit.explain["vector_score"] - own[hit.id]) > 1e-3 for hit in moved)  # ranked by the move
    puffer = next(hit for hit in hybrid if hit.id == "tiktok:video:down2")  # the query's expected document
    assert puffer.explain["vector_score"] < puffer.explain["floor"] <= puffer.explain["floor_score"]
