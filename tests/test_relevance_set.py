"""The labelled relevance set (tests/fixtures/relevance/set/): its size and spread, its judgements, and that
it is the builder's output and valid input for `trendcart index`. bench/bench_relevance.py measures on it."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path

import pytest

from crawler.items import check_item
from indexer.ingest import ingest_jsonl
from indexer.search import search
from indexer.sqlite_store import SqliteStore

SET = Path(__file__).parent / "fixtures" / "relevance" / "set"
CORPUS = [json.loads(line) for line in (SET / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
JUDGEMENTS = json.loads((SET / "judgements.json").read_text(encoding="utf-8"))
QUERIES = JUDGEMENTS["queries"]


def _builder():
    spec = importlib.util.spec_from_file_location("build_set", SET / "build_set.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_files_are_the_builders_output():
    docs, judged = _builder().build()  # also asserts the paraphrase and no-relevant rules
    assert docs == CORPUS
    assert judged == QUERIES


def test_the_corpus_is_big_valid_and_spread_over_languages_platforms_kinds_and_categories():
    assert len(CORPUS) >= 200
    assert len({doc["id"] for doc in CORPUS}) == len(CORPUS)
    for doc in CORPUS:
        check_item(doc)
    languages = Counter(doc["language"] for doc in CORPUS)
    assert languages["zh"] >= 100 and languages["en"] >= 60
    assert len({doc["platform"] for doc in CORPUS}) >= 5
    assert {"video", "live", "product"} <= {doc["kind"] for doc in CORPUS}
    builder = _builder()
    categories = Counter(category for category, _rows in builder.CONCEPTS.values())
    assert set(categories) == {"beauty", "food", "electronics", "home", "apparel", "outdoor"}


def test_the_queries_cover_every_type_with_graded_judgements_of_real_documents():
    assert len(QUERIES) >= 60
    ids = {doc["id"] for doc in CORPUS}
    types = Counter(query["type"] for query in QUERIES)
    assert set(types) == set(JUDGEMENTS["types"])
    assert min(types.values()) >= 8
    for query in QUERIES:
        assert set(query["judgements"]) <= ids
        assert set(query["judgements"].values()) <= {1, 2, 3}
        assert (query["type"] == "no_relevant") == (not query["judgements"])
    grades = Counter(g for query in QUERIES for g in query["judgements"].values())
    assert grades[3] > grades[1] > 0 and grades[2] > 0


def test_the_corpus_indexes_and_keyword_search_finds_a_literal_query(tmp_path):
    store = SqliteStore(tmp_path / "set.db")
    try:
        report = ingest_jsonl(SET / "corpus.jsonl", store, None)
        assert report.skipped_invalid == 0 and report.added == len(CORPUS)
        query = next(q for q in QUERIES if q["query"] == "口红")
        top = [hit.id for hit in search(store, "口红", "keyword", limit=3)]
        assert all(query["judgements"].get(doc_id) == 3 for doc_id in top)
    finally:
        store.close()


@pytest.fixture(scope="module")
def keyword_store(tmp_path_factory):
    store = SqliteStore(tmp_path_factory.mktemp("set") / "set.db")
    ingest_jsonl(SET / "corpus.jsonl", store, None)
    yield store
    store.close()


@pytest.mark.parametrize(
    "query", [q for q in QUERIES if q["type"] == "zh_paraphrase"], ids=lambda q: q["query"]
)
def test_keyword_search_cannot_find_a_paraphrase_target_by_the_querys_own_words(keyword_store, query):
    """What makes them paraphrases: the grade-3 documents share no word with the query. Keyword search may
    still reach one through the query's translation (indexer.crosslingual: 唇膏 "lipstick" -> 口红), never by
    a word of the query itself."""
    hits = search(keyword_store, query["query"], "keyword", limit=10)
    own = [hit.id for hit in hits if hit.explain["keyword_rank"] is not None]
    assert not [doc_id for doc_id in own if query["judgements"].get(doc_id) == 3]
    for hit in hits:
        if hit.explain["keyword_rank"] is None:
            assert hit.explain["expansion_rank"] is not None and hit.explain["reason"].startswith(
                "translated"
            )
