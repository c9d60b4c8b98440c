"""The fast trend paths give the old answers on a real SQLite store: the bulk window read, a shared TrendCache,
restrict_to and the watches' prepared evaluation, each against the plain or the pre-cache engine."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import pytest

from bench.baseline_trends import TrendEngine as BaselineEngine
from indexer.sqlite_store import SqliteStore
from indexer.store import SearchMode
from indexer.trend_cache import TrendCache
from indexer.trends import TrendEngine
from indexer.watches import Evaluator, HitIndex, SavedWatch, related_rows

NOW = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
TIMES = [NOW - timedelta(hours=h) for h in (60, 36, 20, 12, 1)]
PLATFORMS = ("tiktok", "douyin", "youtube")
WORDS = ("lipstick", "blender", "snack", "口红", "零食", "headphones", "sneakers", "tea", "case", "lamp")
RANKINGS = [
    ("product", "views", None),
    ("product", "likes", "tiktok"),
    ("video", "views", None),
    ("video", "views", "douyin"),
    ("live", "views", None),
    ("live", "viewers", None),
    ("creator", "views", None),
    ("creator", "likes", None),
    ("hashtag", "views", None),
    ("hashtag", "views", "youtube"),
]
QUERIES = ("lipstick", "blender tea", "零食", "sneakers case", "lamp", "headphones")


def _doc(i: int, at: datetime, step: int, rng: random.Random) -> dict:
    platform = PLATFORMS[i % 3]
    kind = "live" if i % 17 == 0 else "video"
    words = [WORDS[(i * k) % len(WORDS)] for k in (1, 3, 7)]
    doc = {
        "id": f"{platform}:{kind}:{i}",
        "kind": kind,
        "platform": platform,
        "url": f"https://{platform}.example/{i}",
        "title": " ".join(words),
        "observed_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "creator": {"id": f"c{i % 13}", "name": f"Creator {i % 13}", "handle": f"@h{i % 13}"},
        "hashtags": [words[0], words[1].upper()],
        "products": [{"id": f"{platform}:product:p{i % 11}", "title": f"{words[2]} product {i % 11}"}]
        if i % 4
        else [],
        "metrics": {"views": 1000 * (i % 7 + 1) * (step + 1) + rng.randint(0, 900), "likes": 10 * step + i},
    }
    if i % 5 == 0:
        doc["published_at"] = (NOW - timedelta(hours=i % 40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    if kind == "live":
        doc["metrics"]["viewers"] = 100 + rng.randint(0, 500)
        doc["live"] = {"status": "live", "started_at": doc["observed_at"]}
    return doc


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """120 videos and lives on three platforms (creators, hashtags, linked products; some seen once, some
    published inside the window) and product documents with featured_in, observed at five times."""
    rng = random.Random(7)
    store = SqliteStore(tmp_path_factory.mktemp("speed") / "t.db")
    for step, at in enumerate(TIMES):
        ids = [i for i in range(120) if step >= i % 3]  # a third first seen at each of the first three
        store.upsert([_doc(i, at, step, rng) for i in ids])
        products = [
            {
                "id": f"tiktok:product:p{j}",
                "kind": "product",
                "platform": "tiktok",
                "title": f"Product {j}",
                "price": 9.5 + j,
                "metrics": {"sales": 100 * j + 10 * step},
                "featured_in": [f"tiktok:video:{3 * j}"],
                "observed_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            for j in range(1, 11, 2)
        ]
        store.upsert(products)
    yield store
    store.close()


def test_the_bulk_window_read_equals_window_stats_per_kind(store):
    windows = [(TIMES[1], NOW), (TIMES[0], TIMES[2]), (NOW - timedelta(hours=2), NOW)]
    for metric in ("views", "likes", "viewers", "sales"):
        for platform in (None, "tiktok"):
            bulk = store.window_stats_by_kind(metric, windows, platform=platform)
            for (start, end), found in zip(windows, bulk, strict=True):
                for kind in ("video", "live", "product"):
                    expected = store.window_stats(metric, start, end, kind=kind, platform=platform)
                    assert found.get(kind, {}) == expected


def _json(report) -> dict:
    return report.to_json()


def test_a_shared_cache_gives_every_ranking_of_the_old_engine(store):
    cached = TrendEngine(store, now=NOW, cache=TrendCache(store))
    for window in ("24h", "6h"):
        for by, metric, platform in RANKINGS:
            old = BaselineEngine(store, now=NOW).trending(
                by=by, metric=metric, window=window, limit=0, platform=platform
            )
            plain = TrendEngine(store, now=NOW).trending(
                by=by, metric=metric, window=window, limit=0, platform=platform
            )
            shared = cached.trending(by=by, metric=metric, window=window, limit=0, platform=platform)
            assert _json(plain) == _json(old), (by, metric, platform, window)
            assert _json(shared) == _json(old), (by, metric, platform, window)
            assert old.results or by == "live"  # the scenario ranks something


def test_canonical_products_rank_the_same_with_the_cache(store):
    members = ["tiktok:product:p1", "douyin:product:p1", "youtube:product:p4"]
    canonical = {
        m: {"id": "cp-one", "title": "One product", "members": members, "platforms": ["tiktok"]}
        for m in members
    }
    for metric in ("views", "sales"):
        old = BaselineEngine(store, now=NOW, canonical=canonical).trending(
            by="product", metric=metric, limit=0
        )
        new = TrendEngine(store, now=NOW, canonical=canonical, cache=TrendCache(store))
        assert _json(new.trending(by="product", metric=metric, limit=0)) == _json(old)
        restricted = new.trending(by="product", metric=metric, limit=0, restrict_to={"youtube:product:p4"})
        assert [r.key for r in restricted.results] == ["cp-one"]


def _hits(store, query):
    return store.search(query, None, SearchMode.keyword, None, 200)


def test_ranking_only_what_hits_name_keeps_the_rows_of_ranking_all_then_narrowing(store):
    engine = TrendEngine(store, now=NOW, cache=TrendCache(store))
    smaller = kept = 0
    for by, metric, platform in RANKINGS:
        full = engine.trending(by=by, metric=metric, limit=0, platform=platform)
        for query in QUERIES:
            hits = _hits(store, query)
            assert hits, query
            names = HitIndex(hits).names
            part = engine.trending(by=by, metric=metric, limit=0, platform=platform, restrict_to=names)
            assert len(part.results) <= len(full.results)
            expected = [r.to_json() for r in related_rows(full.results, hits, 20)]
            assert [r.to_json() for r in related_rows(part.results, hits, 20)] == expected, (by, query)
            assert part.considered == full.considered
            smaller += len(part.results) < len(full.results)
            kept += bool(expected)
    assert smaller > len(RANKINGS) and kept > len(RANKINGS)  # it restricts, and rows are still found


def test_a_prepared_evaluation_checks_every_watch_as_the_old_one(store):
    watches = [
        SavedWatch(name=f"w{i}", query=q, by=by, platform=platform, top=3)
        for i, (q, (by, _metric, platform)) in enumerate(
            (q, r) for q in QUERIES for r in RANKINGS if r[1] == "views"
        )
    ]
    old = Evaluator(store, NOW, None, engine=BaselineEngine(store, now=NOW))
    new = Evaluator(store, NOW, None)
    new.prepare(watches)
    some = 0
    for watch in watches:
        before = [r.to_json() for r in old.check(watch, {}).rows]
        assert [r.to_json() for r in new.check(watch, {}).rows] == before, watch
        some += bool(before)
    assert some > len(watches) // 2  # most watches have rows: the comparison compares something


class _CountingStore:
    """The store, counting the documents get_many is asked for (everything else passes through)."""

    def __init__(self, store) -> None:
        self.store, self.asked = store, []

    def get_many(self, ids):
        self.asked.extend(ids)
        return self.store.get_many(ids)

    def __getattr__(self, name):
        return getattr(self.store, name)


def test_a_prepared_evaluation_ranks_from_the_hits_documents_it_read(store):
    """The rankings' cache and the hits share their documents (the cache reads the active ones while the
    searches run, the hits take theirs from it, the others go into it): no document is asked of the store
    twice, and the rows stay those of the old engine."""
    watches = [
        SavedWatch(name=f"w{i}-{by}", query=q, by=by)
        for i, q in enumerate(QUERIES)
        for by in ("product", "hashtag", "creator", "video")
    ]
    hits = {q: _hits(store, q) for q in QUERIES}
    counting = _CountingStore(store)
    cache = TrendCache(counting)
    new = Evaluator(store, NOW, None, cache=cache)
    new.prepare(watches)
    assert all(cache.docs([h.id for h in hits[q]], dict) for q in QUERIES if hits[q])
    old = Evaluator(store, NOW, None, engine=BaselineEngine(store, now=NOW))
    for watch in watches:
        assert [r.to_json() for r in new.check(watch, {}).rows] == [
            r.to_json() for r in old.check(watch, {}).rows
        ], watch
    found = [h for q in QUERIES for h in new.hits(SavedWatch(name="q", query=q))]
    assert found and all(cache.held([h.id])[h.id] is h.doc for h in found)  # one document object each
    assert len(counting.asked) == len(set(counting.asked))  # the cache asked for each document once


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2, "b": [1.0000000000000002, -0.0, 5e-324, 18446744073709551615]}',
        '{"int": 18446744073709551615, "low": -9223372036854775808, "price": 1e9, "count": 1000000000000}',
        '{"nan": NaN, "inf": Infinity, "s": "\\ud800", "cjk": "口红 \\u53e3"}',
    ],
)
def test_documents_decode_as_the_standard_parser_decodes_them(text):
    from indexer.sqlite_store import _load_doc

    expected = {**json.loads(text), "first_seen": "f", "last_seen": "l"}
    assert repr(_load_doc(text, "f", "l")) == repr(expected)


@pytest.mark.elasticsearch
def test_the_elasticsearch_bulk_window_read_equals_window_stats_per_kind(es_url, tmp_path):
    """The same store written to an Elasticsearch node: its bulk read against its own per-kind reads."""
    import uuid

    from indexer.elastic import ElasticConfig, ElasticStore

    config = ElasticConfig.from_env(
        es_url, environ={}, index_prefix=f"tcspeed-{uuid.uuid4().hex[:12]}", outbox_dir=tmp_path / "outbox"
    )
    store = ElasticStore(config)
    try:
        rng = random.Random(7)
        for step, at in enumerate(TIMES):
            store.upsert([_doc(i, at, step, rng) for i in range(40) if step >= i % 3])
        windows = [(TIMES[1], NOW), (TIMES[0], TIMES[2])]
        compared = 0
        for metric, platform in (("views", None), ("likes", "tiktok"), ("viewers", None)):
            bulk = store.window_stats_by_kind(metric, windows, platform=platform)
            for (start, end), found in zip(windows, bulk, strict=True):
                for kind in ("video", "live"):
                    expected = store.window_stats(metric, start, end, kind=kind, platform=platform)
                    assert found.get(kind, {}) == expected
                    compared += len(expected)
        assert compared > 40  # stats were compared, not only empty dicts
        engine = TrendEngine(store, now=NOW, cache=TrendCache(store))
        for by, metric, platform in RANKINGS[:4] + RANKINGS[6:]:
            old = BaselineEngine(store, now=NOW).trending(by=by, metric=metric, limit=0, platform=platform)
            assert _json(engine.trending(by=by, metric=metric, limit=0, platform=platform)) == _json(old)
    finally:
        try:
            store.destroy()
        finally:
            store.close()
