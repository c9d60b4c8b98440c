"""Several searches in one call (indexer.batch_search): exactly the hits each search gives alone."""

from __future__ import annotations

import random
import tempfile
import uuid
from pathlib import Path

import numpy as np
import pytest

from indexer import fts_bounded, fts_shared, sqlite_batch, sqlite_store
from indexer.ann import AnnIndex
from indexer.batch_search import BatchSearching, SearchRequest, search_many
from indexer.fts_shared import PhraseTable
from indexer.sqlite_store import SqliteStore
from indexer.store import SearchFilters
from indexer.textsearch import fts_phrases
from tests.store_contract import make_doc
from tests.test_keyword_bounded import QUERIES, corpus

DIM = 16
N_DOCS = 1200
# Queries that share phrases (watches over one store do), Chinese ones with their translation searched too.
BATCH_QUERIES = [
    *QUERIES,
    "lipstick",
    "cheap lipstick",
    "口红",
    "平价口红推荐 review",
    "wireless earbuds",  # the same query twice: one keyword run, the same hits
    "the",  # only stop words: searched as they are
    "???",  # nothing searchable: no hits
]


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(10, DIM))
    x = centers[rng.integers(0, len(centers), n)] + rng.normal(scale=0.4, size=(n, DIM))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = SqliteStore(tmp_path_factory.mktemp("batch") / "store.db")
    store.set_model("m", DIM)
    docs = corpus(N_DOCS, seed=5)
    store.upsert(docs, list(_vectors(len(docs))), [f"h{i}" for i in range(len(docs))])
    yield store
    store.close()


@pytest.fixture
def shared(monkeypatch):
    """Rank every batch's unfiltered keyword queries from a PhraseTable, however many rows they match."""
    monkeypatch.setattr(fts_shared, "SHARED_ROWS_PER_QUERY", 10**9)


def _requests(modes=("hybrid", "keyword", "semantic"), limits=(5, 40), filters=None) -> list[SearchRequest]:
    vectors = _vectors(len(BATCH_QUERIES), seed=9)
    return [
        SearchRequest(query, vectors[i], mode, filters, limit, min_similarity=-1.0 if i % 3 == 0 else None)
        for i, query in enumerate(BATCH_QUERIES)
        for mode in modes
        for limit in limits
    ]


def _one_by_one(store, requests: list[SearchRequest]) -> list[list[tuple]]:
    return [
        _plain(
            store.search(
                r.query_text,
                r.query_vector,
                r.mode,
                r.filters,
                r.limit,
                min_similarity=r.min_similarity,
                floor_vector=r.floor_vector,
            )
        )
        for r in requests
    ]


def _plain(hits) -> list[tuple]:
    return [(h.id, h.score, h.doc, h.explain) for h in hits]


def _assert_same(store, requests: list[SearchRequest]) -> None:
    expected = _one_by_one(store, requests)
    got = [_plain(hits) for hits in search_many(store, requests)]
    assert got == expected
    assert sum(len(hits) for hits in expected) > len(requests), "the batch must find something"


def test_the_sqlite_store_searches_in_batches(store) -> None:
    assert isinstance(store, BatchSearching)


def test_a_batch_gives_each_search_its_own_hits(store, shared, monkeypatch) -> None:
    ranked = []
    top = PhraseTable.top
    monkeypatch.setattr(PhraseTable, "top", lambda self, *a: ranked.append(a) or top(self, *a))
    _assert_same(store, _requests())
    assert len(ranked) > len(BATCH_QUERIES), "the keyword queries are ranked from the shared phrases"


def test_a_batch_keeps_vector_only_hits_by_each_requests_floor_vector(store, shared) -> None:
    """Hybrid requests that rank by one vector and keep vector-only hits by another (Store.search
    floor_vector, as indexer.search asks them): the batch keeps the same hits as each search alone."""
    ranked, floors = _vectors(len(BATCH_QUERIES), seed=11), _vectors(len(BATCH_QUERIES), seed=12)
    requests = [
        SearchRequest(query, ranked[i], "hybrid", None, limit, min_similarity=0.1, floor_vector=floors[i])
        for i, query in enumerate(BATCH_QUERIES)
        for limit in (5, 40)
    ]
    _assert_same(store, requests)
    kept = [h for hits in search_many(store, requests) for h in hits if h.explain["floor_score"] is not None]
    assert kept and all(h.explain["floor_score"] >= 0.1 for h in kept)


def test_a_helper_process_reads_the_phrases_while_the_caller_works(store, shared, monkeypatch) -> None:
    monkeypatch.setattr(sqlite_batch, "HELPER_MIN_ROWS", 0)  # the helper for any batch
    monkeypatch.setattr(sqlite_batch.os, "cpu_count", lambda: 2)
    read = []
    helper_rows = sqlite_batch.PhraseRead._helper_rows
    monkeypatch.setattr(
        sqlite_batch.PhraseRead, "_helper_rows", lambda self: read.append(helper_rows(self)) or read[-1]
    )
    requests = _requests()
    expected = _one_by_one(store, requests)
    calls = []
    got = search_many(store, requests, meanwhile=lambda: calls.append(1))
    assert [_plain(hits) for hits in got] == expected
    assert calls == [1] and len(read) == 1 and read[0] is not None  # the helper's rows were used
    assert not list(Path(tempfile.gettempdir()).glob("trendcart-fts-*"))  # its file is gone


def test_a_helper_that_fails_leaves_the_reading_to_the_store(store, shared, monkeypatch) -> None:
    monkeypatch.setattr(sqlite_batch, "HELPER_MIN_ROWS", 0)
    monkeypatch.setattr(sqlite_batch.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(sqlite_batch.sys, "executable", "false")  # exits 1 at once
    _assert_same(store, _requests(modes=("keyword", "hybrid")))
    monkeypatch.setattr(sqlite_batch.sys, "executable", str(Path(tempfile.gettempdir()) / "no-such-python"))
    _assert_same(store, _requests(modes=("keyword",)))


def test_the_helper_reads_what_the_store_reads(store) -> None:
    phrases = sorted({p for q in BATCH_QUERIES for p in fts_phrases(q)})
    reading = sqlite_batch.PhraseRead(store, phrases)
    reading.start()
    helper = reading._helper_rows()
    assert helper is not None and list(helper) == phrases
    for phrase in phrases:
        rowids, bm25 = sqlite_batch._phrase_terms(store, phrase)
        assert helper[phrase][0].tolist() == rowids.tolist() and helper[phrase][1].tolist() == bm25.tolist()
    assert sum(len(r) for r, _ in helper.values()) > 100


def test_a_batch_without_the_shared_phrases_gives_the_same_hits(store, monkeypatch) -> None:
    monkeypatch.setattr(fts_shared, "SHARED_ROWS_PER_QUERY", 0)  # every keyword query by itself
    _assert_same(store, _requests())


def test_planned_tiers_and_the_newest_rows_cap_are_taken_as_alone(store, shared, monkeypatch) -> None:
    monkeypatch.setattr(fts_bounded, "DIRECT_ROWS", 0)  # plan every query: tiers, probes, second passes
    _assert_same(store, _requests(modes=("keyword",), limits=(3, 25)))
    monkeypatch.setattr(fts_bounded, "MAX_SCORED_ROWS", 150)  # queries over the cap rank their newest rows
    _assert_same(store, _requests(modes=("keyword", "hybrid"), limits=(3, 25)))


def test_filtered_requests_in_a_batch_give_their_own_hits(store, shared) -> None:
    requests = _requests(filters=SearchFilters(platform="tiktok")) + _requests(modes=("hybrid",))
    _assert_same(store, requests)


def test_a_batch_through_the_ann_index_gives_each_search_its_own_hits(tmp_path, monkeypatch, shared) -> None:
    monkeypatch.setenv("TRENDCART_ANN", "on")
    store = SqliteStore(tmp_path / "ann.db")
    store.set_model("m", DIM)
    docs = corpus(600, seed=7)
    store.upsert(docs, list(_vectors(len(docs), seed=3)), [f"h{i}" for i in range(len(docs))])
    store.search("", _vectors(1)[0], mode="semantic")  # builds the index
    store.upsert([make_doc("late", title="cheap lipstick review")], [_vectors(1, seed=4)[0]], ["late"])
    _assert_same(store, _requests(modes=("hybrid", "semantic")))
    assert isinstance(store._ann, AnnIndex) and store._ann.pending  # a changed document beside the index
    store.close()


def test_the_index_answers_a_batch_of_queries_as_one_at_a_time(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TRENDCART_ANN", "on")
    store = SqliteStore(tmp_path / "ann.db")
    store.set_model("m", DIM)
    store.upsert([make_doc(f"v{i}") for i in range(500)], list(_vectors(500)), [f"h{i}" for i in range(500)])
    store.search("", _vectors(1)[0], mode="semantic")  # builds the index
    index = store._ann
    assert isinstance(index, AnnIndex)
    queries = list(_vectors(37, seed=11))  # more than one faiss call of BATCH_QUERIES
    assert index.candidates_many(queries, 20) == [index.candidates(q, 20) for q in queries]
    store.close()


def test_phrase_table_ranks_as_sqlite_ranks_alone(store) -> None:
    texts = ["cheap lipstick review", "平价口红推荐", "yoga mat coffee grinder running", "口红"]
    phrases = {p for text in texts for p in fts_phrases(text)}
    table = PhraseTable(phrases, lambda p: sqlite_batch._phrase_terms(store, p))
    total = store._fts_rows_bound()
    for text in texts:
        found = fts_phrases(text)
        for limit in (1, 7, 60):
            assert table.top(found, total, limit) == store._keyword_ranked(found, limit)
        scored = store._fts_run(found)(None, 10_000)  # every match, bm25 to the last bit
        assert table.run(found, None, 10_000) == scored and scored


def test_a_table_that_disagrees_with_sqlite_is_not_used(store, shared, monkeypatch) -> None:
    used = []
    monkeypatch.setattr(PhraseTable, "agrees", lambda self, *a: used.append(self) or False)
    _assert_same(store, _requests(modes=("keyword",)))
    assert used, "the batch checks the table before it ranks from it"


def test_get_many_of_most_of_the_store_reads_the_same_documents(store, monkeypatch) -> None:
    ids = [f"{p}:video:b{i}" for i, p in enumerate(("douyin", "tiktok", "youtube") * (N_DOCS // 3))]
    ids = random.Random(2).sample(ids, N_DOCS - 100) + ["douyin:video:missing"]
    by_id = store.get_many(ids)
    monkeypatch.setattr(sqlite_store, "SCAN_MIN_IDS", 10)  # the table scan
    assert store.get_many(ids) == by_id and len(by_id) == N_DOCS - 100


@pytest.mark.elasticsearch
def test_a_store_without_batches_answers_one_search_after_another(es_url, tmp_path, store) -> None:
    from indexer.elastic import ElasticConfig, ElasticStore

    config = ElasticConfig.from_env(
        es_url, environ={}, index_prefix=f"tcb-{uuid.uuid4().hex[:12]}", outbox_dir=tmp_path / "outbox"
    )
    elastic = ElasticStore(config)
    try:
        elastic.set_model("m", DIM)
        docs = corpus(200, seed=5)
        elastic.upsert(docs, list(_vectors(len(docs))), [f"h{i}" for i in range(len(docs))])
        assert not isinstance(elastic, BatchSearching)
        requests = _requests(modes=("hybrid", "keyword"), limits=(5,))
        expected = _one_by_one(elastic, requests)
        calls = []
        got = search_many(elastic, requests, meanwhile=lambda: calls.append(1))
        assert [_plain(hits) for hits in got] == expected
        assert any(expected) and calls == [1]
    finally:
        try:
            elastic.destroy()
        finally:
            elastic.close()
