"""The bounded keyword side of SqliteStore: scoring a candidate tier gives exactly the unbounded top-k."""

from __future__ import annotations

import random
import sqlite3

import pytest

from indexer import fts_bounded
from indexer.fts_bounded import Planner, bounded_top, phrase_ceiling
from indexer.sqlite_store import SqliteStore
from indexer.store import SearchFilters
from indexer.textsearch import BM25_WEIGHTS, TEXT_FIELDS, fts_phrases
from tests.store_contract import make_doc

WORDS = (
    "wireless earbuds noise cancelling lipstick matte cheap budget review unboxing air fryer recipes "
    "running shoes yoga mat power bank fast charging robot vacuum hair dryer coffee grinder"
).split()
ZH = "口红 平价 推荐 耳机 蓝牙 降噪 零食 礼包 露营 帐篷 学生 必备 好物".split()
QUERIES = [
    "wireless earbuds",
    "cheap lipstick review",
    "air fryer recipes",
    "power bank fast charging",
    "robot vacuum hair",
    "平价口红推荐",
    "蓝牙耳机 降噪",
    "学生 必备 好物",
    "yoga mat coffee grinder running",
]
N_DOCS = 1500


def corpus(n: int, seed: int = 3) -> list[dict]:
    """Documents of a small vocabulary, so that every query word is in many of them (ties included)."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        zh = i % 3 == 0
        pick = (
            (lambda k: "".join(rng.choices(ZH, k=k))) if zh else (lambda k: " ".join(rng.choices(WORDS, k=k)))
        )
        docs.append(
            make_doc(
                f"b{i}",
                platform=("douyin", "tiktok", "youtube")[i % 3],
                title=pick(rng.randint(2, 6)),
                description=pick(rng.randint(0, 20)),
                hashtags=rng.choices(ZH if zh else WORDS, k=rng.randint(0, 2)),
            )
        )
    return docs


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("bounded") / "store.db"
    store = SqliteStore(path)
    store.upsert(corpus(N_DOCS))
    yield store
    store.close()


@pytest.fixture
def always_plan(monkeypatch):
    """Plan every query of the small store (the threshold keeps small stores unbounded)."""
    monkeypatch.setattr(fts_bounded, "DIRECT_ROWS", 0)


def reference(path, query: str, limit: int, platform: str | None = None) -> list[tuple[str, float]]:
    """The unbounded query, straight from SQLite: every match scored, best first, ties by rowid."""
    weights = ", ".join(str(BM25_WEIGHTS[f]) for f in TEXT_FIELDS)
    where = "AND d.platform = :platform" if platform else ""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            f"SELECT d.id, bm25(documents_fts, {weights}) AS s FROM documents_fts "
            f"JOIN documents d ON d.pk = documents_fts.rowid WHERE documents_fts MATCH :match {where} "
            "ORDER BY s, d.pk LIMIT :limit",
            {"match": " OR ".join(fts_phrases(query)), "limit": limit, "platform": platform},
        ).fetchall()
    return [(doc_id, -score) for doc_id, score in rows]


@pytest.mark.parametrize("limit", [1, 10, 100])
@pytest.mark.parametrize("query", QUERIES)
def test_bounded_keyword_search_equals_scoring_every_match(store, always_plan, query, limit) -> None:
    hits = store.search(query, mode="keyword", limit=limit)
    expected = reference(store.path, query, limit)
    assert [h.id for h in hits] == [doc_id for doc_id, _ in expected]
    assert [h.score for h in hits] == pytest.approx([score for _, score in expected])


@pytest.mark.parametrize("query", QUERIES)
def test_bounded_keyword_search_with_a_filter_equals_scoring_every_match(store, always_plan, query) -> None:
    hits = store.search(query, mode="keyword", limit=20, filters=SearchFilters(platform="youtube"))
    own = [h.id for h in hits if h.explain["keyword_rank"] is not None]  # not what only its translation found
    assert own == [doc_id for doc_id, _ in reference(store.path, query, 20, "youtube")]


def test_the_tiers_score_far_fewer_rows_than_every_match(store, always_plan) -> None:
    """The point of the bound: for a two-word query the first tier holds the rows with both words."""
    phrases = fts_phrases("wireless earbuds")
    counts = [store._phrase_rows(p) for p in phrases]
    planner = Planner(phrases, counts, store._fts_rows_bound())
    threshold = planner.first_threshold(fts_bounded.FIRST_TIER_ROWS_PER_RESULT * 10)
    assert threshold is not None
    tier = planner.tier(threshold)
    assert tier is not None and tier.expression == '("wireless" AND "earbuds")'
    tier_rows = store._phrase_rows(tier.expression)
    all_rows = store._phrase_rows(" OR ".join(phrases))
    assert 10 <= tier_rows < all_rows / 3


def test_a_phrase_adds_less_than_its_ceiling_to_any_row(store) -> None:
    """The bound the tiers rest on: a row matching one phrase of the query scores below that phrase's ceiling."""
    total = store._fts_rows_bound()
    for phrase in ('"earbuds"', '"口红"', '"fryer"'):
        ceiling = phrase_ceiling(store._phrase_rows(phrase), total)
        best = store._query(
            "SELECT bm25(documents_fts, 4.0, 1.0, 2.0, 3.0, 1.5) AS s FROM documents_fts "
            "WHERE documents_fts MATCH ? ORDER BY s LIMIT 1",
            (phrase,),
        )[0][0]
        assert 0 < -best < ceiling


def test_bounded_top_falls_back_to_every_match_when_no_tier_is_narrow() -> None:
    """A single phrase (or a tier too wide) scores every match: the answer is run(None, limit)."""
    calls: list[str | None] = []

    def run(expression, limit):
        calls.append(expression)
        return [("a", -2.0)]

    assert bounded_top(['"x"'], lambda p: 10_000, 20_000, run, 10) == [("a", -2.0)]
    assert calls == [None]


def newest_reference(path, query: str, limit: int, cap: int) -> list[str]:
    """The top-k of the `cap` newest matches (highest rowids), straight from SQLite."""
    weights = ", ".join(str(BM25_WEIGHTS[f]) for f in TEXT_FIELDS)
    match = " OR ".join(fts_phrases(query))
    with sqlite3.connect(path) as conn:
        newest = [
            r[0]
            for r in conn.execute(
                "SELECT rowid FROM documents_fts WHERE documents_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
                (match, cap),
            )
        ]
        rows = conn.execute(
            f"SELECT d.id, bm25(documents_fts, {weights}) AS s FROM documents_fts "
            "JOIN documents d ON d.pk = documents_fts.rowid WHERE documents_fts MATCH ? AND d.pk >= ? "
            "ORDER BY s, d.pk LIMIT ?",
            (match, min(newest), limit),
        ).fetchall()
    return [doc_id for doc_id, _ in rows]


@pytest.mark.parametrize("query", ["lipstick", "口红"])
def test_a_query_over_the_scoring_cap_ranks_its_newest_matches(store, monkeypatch, query) -> None:
    """One common phrase (or tiers as wide as every match) with more matches than MAX_SCORED_ROWS: only
    the newest MAX_SCORED_ROWS are scored, and the answer is their exact top-k."""
    matches = store._phrase_rows(" OR ".join(fts_phrases(query)))
    cap = matches // 3
    assert cap >= 20
    monkeypatch.setattr(fts_bounded, "DIRECT_ROWS", 0)
    monkeypatch.setattr(fts_bounded, "MAX_SCORED_ROWS", cap)
    hits = store.search(query, mode="keyword", limit=10)
    assert [h.id for h in hits] == newest_reference(store.path, query, 10, cap)
    monkeypatch.setattr(fts_bounded, "MAX_SCORED_ROWS", matches)  # at the cap: every match, exactly
    assert [h.id for h in store.search(query, mode="keyword", limit=10)] == [
        doc_id for doc_id, _ in reference(store.path, query, 10)
    ]


def test_a_filter_that_keeps_too_few_of_the_newest_matches_scores_every_match(store, monkeypatch) -> None:
    """Nothing is lost to the cap: a filtered query whose newest matches hold fewer than `limit` allowed rows
    is scored over every match."""
    monkeypatch.setattr(fts_bounded, "MAX_SCORED_ROWS", 30)
    hits = store.search("lipstick", mode="keyword", limit=40, filters=SearchFilters(platform="youtube"))
    expected = reference(store.path, "lipstick", 40, "youtube")
    assert len(expected) == 40 and [h.id for h in hits] == [doc_id for doc_id, _ in expected]
