"""The Store contract as a mixin test suite: a backend's test module subclasses `StoreContract` and
provides a `store` fixture (a fresh, empty store per test). Tests use only the Store protocol and the
session `embedder` fixture (tests/plugins/model.py), so every backend runs them unchanged.

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            s = MyStore(...)
            yield s
            s.close()
"""

from __future__ import annotations

from typing import Any

import pytest

from crawler.items import Snapshot, from_json, split_id, to_json
from indexer.store import (
    Hit,
    InvalidDocument,
    ModelMismatch,
    QueryError,
    SearchFilters,
    Store,
    StoreError,
    StoreStats,
    WindowStat,
    search_settings,
)

T0 = "2026-11-20T08:00:00Z"
T1 = "2026-11-25T10:00:00Z"
T2 = "2026-11-26T10:00:00Z"
T3 = "2026-11-27T10:00:00Z"

# Queries that are FTS/Lucene syntax in disguise, or nothing at all: a store must treat them as text.
NASTY_QUERIES = [
    '"',
    '""',
    "'",
    '"unbalanced',
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "a AND OR b",
    "NEAR(a b, 3)",
    "lipstick*",
    "*",
    "**",
    "(",
    ")",
    "((口红)",
    "title:口红",
    "^start",
    "-minus",
    "+plus",
    "a:b:c",
    "{x}",
    "[y]",
    "\\",
    "💄💄",
    "🔥 口红 🔥",
    "   ",
    "",
    "\x00",
    '口红" OR 1=1 --',
    "%",
    "_",
    "$(rm -rf /)",
    "null",
    "\u200b",
    "ＬＩＰＳＴＩＣＫ",
    "collection:* OR views:>1",
    "a" * 5000,
]


def make_doc(
    native: str,
    platform: str = "douyin",
    kind: str = "video",
    *,
    title: str | None = "untitled",
    observed_at: str = T1,
    views: int | None = None,
    likes: int | None = None,
    **fields: Any,
) -> dict:
    """A document in the canonical JSON form (every key present)."""
    data = {
        "id": f"{platform}:{kind}:{native}",
        "kind": kind,
        "platform": platform,
        "title": title,
        "observed_at": observed_at,
        "metrics": {"views": views, "likes": likes, **fields.pop("metrics", {})},
        **fields,
    }
    return to_json(from_json(data))


def sample_documents() -> list[dict]:
    """Six documents covering every kind, several platforms, CJK and English text, prices and creators."""
    return [
        make_doc(
            "lip1",
            title="平价口红推荐 学生党必备",
            description="秋冬显白色号",
            hashtags=["好物推荐"],
            views=120_000,
            likes=3_400,
            published_at="2026-11-20T08:00:00Z",
            creator={"id": "douyin:creator:deer", "name": "美妆小鹿", "handle": "@xiaolu"},
            products=[
                {
                    "id": "douyin:product:p1",
                    "title": "哑光丝绒唇釉",
                    "price": 59.9,
                    "currency": "CNY",
                    "sales": 10_000,
                }
            ],
        ),
        make_doc(
            "snack1",
            platform="tiktok",
            title="办公室零食大礼包开箱",
            views=5_000,
            likes=40,
            published_at="2026-11-22T08:00:00Z",
            creator={"name": "吃货小王"},
        ),
        make_doc(
            "ear1",
            platform="youtube",
            title="Wireless earbuds under $50 that sound amazing",
            description="Noise cancelling true wireless earbuds compared",
            views=260_000,
            likes=9_000,
            published_at="2026-11-10T08:00:00Z",
            creator={"name": "AudioNerd", "handle": "@audionerd"},
            products=[{"title": "ANC earbuds", "price": 45.0, "price_max": 60.0, "currency": "USD"}],
        ),
        make_doc(
            "case1",
            title="iPhone 15 手机壳推荐 防摔透明款",
            views=64_000,
            published_at="2026-11-24T08:00:00Z",
            products=[{"title": "磁吸手机壳", "price": 39.0, "currency": "CNY"}],
        ),
        make_doc(
            "live1",
            kind="live",
            platform="kuaishou",
            title="扫地机器人直播专场",
            views=None,
            live={"status": "live", "started_at": T1, "ended_at": None},
            metrics={"viewers": 1_200, "peak_viewers": 3_000},
        ),
        make_doc(
            "p9",
            kind="product",
            platform="web",
            title="Ceramic pour-over coffee dripper",
            price=25.0,
            currency="USD",
            shop="Brew Daily",
            metrics={"sales": 800},
        ),
    ]


class StoreContract:
    """Every backend passes these. Override nothing; add backend-specific tests beside them."""

    @pytest.fixture
    def sample_docs(self) -> list[dict]:
        return sample_documents()

    # ------------------------------------------------------------------------------ documents

    def test_is_a_store(self, store: Store) -> None:
        assert isinstance(store, Store)

    def test_upsert_then_get_round_trips_the_json_form(self, store: Store, sample_docs: list[dict]) -> None:
        result = store.upsert(sample_docs)
        assert (result.added, result.updated) == (len(sample_docs), 0)
        got = store.get("douyin:video:lip1")
        assert got is not None
        for key in (
            "id",
            "kind",
            "platform",
            "title",
            "description",
            "hashtags",
            "creator",
            "products",
            "metrics",
        ):
            assert got[key] == sample_docs[0][key], key
        assert got["observed_at"] == T1
        assert got["first_seen"] == got["last_seen"] == T1
        assert store.get("douyin:video:missing") is None

    def test_get_many_skips_missing_ids(self, store: Store, sample_docs: list[dict]) -> None:
        store.upsert(sample_docs)
        got = store.get_many(["douyin:video:lip1", "web:product:p9", "douyin:video:nope"])
        assert set(got) == {"douyin:video:lip1", "web:product:p9"}
        assert got["web:product:p9"]["price"] == 25.0
        assert store.get_many([]) == {}

    def test_reupsert_updates_instead_of_duplicating(self, store: Store) -> None:
        store.upsert([make_doc("v1", title="first", views=10, observed_at=T1)])
        result = store.upsert([make_doc("v1", title="second", views=25, observed_at=T2)])
        assert (result.added, result.updated) == (0, 1)
        assert store.count() == 1
        doc = store.get("douyin:video:v1")
        assert doc["title"] == "second"
        assert doc["metrics"]["views"] == 25
        assert (doc["first_seen"], doc["last_seen"]) == (T1, T2)

    def test_late_older_observation_keeps_latest_metrics_and_moves_first_seen(self, store: Store) -> None:
        store.upsert([make_doc("v1", title="newest", views=500, observed_at=T2)])
        store.upsert([make_doc("v1", title="older", views=100, observed_at=T1)])
        doc = store.get("douyin:video:v1")
        assert doc["title"] == "newest" and doc["metrics"]["views"] == 500
        assert (doc["first_seen"], doc["last_seen"]) == (T1, T2)
        assert [s.metrics["views"] for s in store.snapshots("douyin:video:v1", "views")] == [100, 500]

    def test_every_observation_goes_to_snapshots_once(self, store: Store) -> None:
        for when, views in ((T1, 10), (T2, 20), (T3, 35)):
            store.upsert([make_doc("v1", views=views, likes=views // 10, observed_at=when)])
        store.upsert([make_doc("v1", views=35, likes=3, observed_at=T3)])  # same observation again
        snaps = store.snapshots("douyin:video:v1")
        assert [s.observed_at for s in snaps] == [T1, T2, T3]
        assert snaps[-1].metrics == {"views": 35, "likes": 3}
        assert all(isinstance(s, Snapshot) for s in snaps)

    def test_unknown_metrics_are_not_snapshotted_as_zero(self, store: Store) -> None:
        store.upsert([make_doc("v1", views=None, likes=7)])
        assert store.snapshots("douyin:video:v1", "views") == []
        assert store.snapshots("douyin:video:v1", "likes")[0].metrics == {"likes": 7}
        assert store.get("douyin:video:v1")["metrics"]["views"] is None

    def test_linked_products_with_ids_get_sales_snapshots(
        self, store: Store, sample_docs: list[dict]
    ) -> None:
        store.upsert(sample_docs)
        assert [s.metrics for s in store.snapshots("douyin:product:p1")] == [{"sales": 10_000}]

    def test_invalid_documents_are_refused_and_nothing_is_written(self, store: Store) -> None:
        good = make_doc("ok")
        bad_docs = [
            {**make_doc("x"), "id": "no-colons"},
            {**make_doc("x"), "id": "mars:video:1", "platform": "mars"},
            {**make_doc("x"), "kind": "live"},  # does not match the id
            {**make_doc("x"), "observed_at": "yesterday-ish"},
            "not a dict",
        ]
        for bad in bad_docs:
            with pytest.raises(InvalidDocument):
                store.upsert([good, bad])  # type: ignore[list-item]
        assert store.count() == 0

    def test_delete_removes_documents_vectors_and_snapshots(
        self, store: Store, sample_docs: list[dict]
    ) -> None:
        store.upsert(sample_docs)
        assert store.delete(["douyin:video:lip1", "douyin:video:nope"]) == 1
        assert store.get("douyin:video:lip1") is None
        assert store.snapshots("douyin:video:lip1") == []
        assert store.count() == len(sample_docs) - 1
        assert store.search("口红", mode="keyword") == []

    def test_prune_deletes_old_snapshots_only(self, store: Store) -> None:
        for when, views in ((T1, 10), (T2, 20), (T3, 30)):
            store.upsert([make_doc("v1", views=views, observed_at=when)])
        assert store.prune(T2) == 1
        assert [s.observed_at for s in store.snapshots("douyin:video:v1")] == [T2, T3]
        assert store.get("douyin:video:v1")["metrics"]["views"] == 30

    def test_iter_documents_pages_through_everything(self, store: Store) -> None:
        store.upsert([make_doc(f"v{i}", views=i) for i in range(23)])
        ids = [d["id"] for d in store.iter_documents(batch=5)]
        assert sorted(ids) == sorted(f"douyin:video:v{i}" for i in range(23))
        big = [d["id"] for d in store.iter_documents(SearchFilters(min_views=20), batch=2)]
        assert sorted(big) == [f"douyin:video:v{i}" for i in (20, 21, 22)]

    # -------------------------------------------------------------------------------- filters

    @pytest.mark.parametrize(
        ("filters", "expected"),
        [
            (SearchFilters(), {"lip1", "snack1", "ear1", "case1", "live1", "p9"}),
            (SearchFilters(platform="douyin"), {"lip1", "case1"}),
            (SearchFilters(kind="live"), {"live1"}),
            (SearchFilters(kind="video", platform="youtube"), {"ear1"}),
            (SearchFilters(min_views=64_000), {"lip1", "ear1", "case1"}),
            (SearchFilters(min_likes=1_000), {"lip1", "ear1"}),
            (SearchFilters(price_min=40), {"lip1", "ear1"}),
            (SearchFilters(price_max=30), {"p9"}),
            (SearchFilters(price_min=50, price_max=55), {"ear1"}),  # inside the 45-60 range
            (SearchFilters(has_products=True), {"lip1", "ear1", "case1"}),
            (SearchFilters(has_products=False), {"snack1", "live1", "p9"}),
            (SearchFilters(creator="美妆小鹿"), {"lip1"}),
            (SearchFilters(creator="@AudioNerd"), {"ear1"}),
            (SearchFilters(creator="douyin:creator:deer"), {"lip1"}),
            (SearchFilters(published_from="2026-11-21T00:00:00Z"), {"snack1", "case1"}),
            (SearchFilters(published_to="2026-11-20T08:00:00Z"), {"lip1", "ear1"}),
            (SearchFilters(observed_from=T2), set()),
            (SearchFilters(observed_to=T1), {"lip1", "snack1", "ear1", "case1", "live1", "p9"}),
        ],
    )
    def test_count_with_filters(
        self, store: Store, sample_docs: list[dict], filters: SearchFilters, expected: set[str]
    ) -> None:
        store.upsert(sample_docs)
        assert store.count(filters) == len(expected)
        natives = {split_id(d["id"])[2] for d in store.iter_documents(filters)}
        assert natives == expected

    # ------------------------------------------------------------------------------ snapshots

    def test_add_snapshots_and_read_them_back(self, store: Store) -> None:
        written = store.add_snapshots(
            [
                Snapshot("douyin:product:x", T1, {"sales": 100}),
                Snapshot("douyin:product:x", T3, {"sales": 400}),
                Snapshot("douyin:product:x", T2, {"sales": 250, "views": 9}),
            ]
        )
        assert written == 4
        assert [s.metrics["sales"] for s in store.snapshots("douyin:product:x", "sales")] == [100, 250, 400]
        assert [s.observed_at for s in store.snapshots("douyin:product:x", since=T2)] == [T2, T3]
        assert [s.observed_at for s in store.snapshots("douyin:product:x", until=T2)] == [T1, T2]
        assert store.snapshots("douyin:product:x", "views")[0].metrics == {"views": 9}
        assert store.snapshots("douyin:product:none") == []

    def test_window_stats_gives_first_and_last_observation_per_entity(self, store: Store) -> None:
        store.add_snapshots(
            [
                Snapshot("douyin:video:a", "2026-11-01T00:00:00Z", {"views": 1}),  # before the window
                Snapshot("douyin:video:a", T1, {"views": 100}),
                Snapshot("douyin:video:a", T2, {"views": 180}),
                Snapshot("douyin:video:a", T3, {"views": 400}),
                Snapshot("tiktok:video:b", T2, {"views": 50}),
                Snapshot("douyin:product:c", T1, {"sales": 5}),
                Snapshot("douyin:product:c", T3, {"sales": 9}),
            ]
        )
        stats = store.window_stats("views", T1, T3)
        assert set(stats) == {"douyin:video:a", "tiktok:video:b"}
        a = stats["douyin:video:a"]
        assert isinstance(a, WindowStat)
        assert (a.first_at, a.first_value, a.last_at, a.last_value, a.count) == (T1, 100, T3, 400, 3)
        assert a.metric == "views"
        b = stats["tiktok:video:b"]
        assert (b.first_value, b.last_value, b.count) == (50, 50, 1)
        assert set(store.window_stats("views", T1, T3, platform="tiktok")) == {"tiktok:video:b"}
        assert set(store.window_stats("sales", T1, T3, kind="product")) == {"douyin:product:c"}
        assert set(store.window_stats("sales", T1, T3, kind="video")) == set()
        assert set(store.window_stats("views", T1, T3, ids=["douyin:video:a"])) == {"douyin:video:a"}
        assert store.window_stats("views", "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z") == {}

    def test_window_stats_includes_snapshots_from_upserts(self, store: Store) -> None:
        store.upsert([make_doc("v1", views=10, observed_at=T1)])
        store.upsert([make_doc("v1", views=70, observed_at=T2)])
        stat = store.window_stats("views", T1, T3, kind="video", platform="douyin")["douyin:video:v1"]
        assert (stat.first_value, stat.last_value, stat.count) == (10, 70, 2)

    # --------------------------------------------------------------------------------- model

    def test_model_is_recorded_once_and_another_is_refused(self, store: Store) -> None:
        assert store.model_info() is None
        store.set_model("model-a", 384)
        store.set_model("model-a", 384)  # same: fine
        assert store.model_info() == ("model-a", 384)
        with pytest.raises(ModelMismatch) as excinfo:
            store.set_model("model-b", 512)
        assert "reindex" in str(excinfo.value)
        with pytest.raises(ModelMismatch):
            store.set_model("model-a", 512)
        assert isinstance(excinfo.value, StoreError)

    def test_metadata_is_kept_beside_the_model(self, store: Store) -> None:
        from indexer.store import HasMetadata

        assert isinstance(store, HasMetadata) and store.get_meta("demo_clock") is None
        store.set_meta("demo_clock", "2026-11-25T12:00:00Z")
        store.set_model("model-a", 384)  # recording the model keeps the metadata, and the reverse
        store.set_meta("other", "x")
        assert store.get_meta("demo_clock") == "2026-11-25T12:00:00Z" and store.model_info() == (
            "model-a",
            384,
        )
        store.set_meta("demo_clock", None)
        assert store.get_meta("demo_clock") is None and store.get_meta("other") == "x"

    def test_vectors_of_the_wrong_dimension_are_refused(self, store: Store) -> None:
        import numpy as np

        store.set_model("model-a", 8)
        with pytest.raises(ModelMismatch):
            store.upsert([make_doc("v1")], [np.ones(16, dtype=np.float32)], ["h"])
        assert store.count() == 0
        with pytest.raises(ModelMismatch):
            store.search("x", np.ones(16, dtype=np.float32), mode="semantic")

    def test_known_hashes_and_vector_kept_when_text_unchanged(self, store: Store) -> None:
        import numpy as np

        store.set_model("model-a", 4)
        store.upsert([make_doc("v1", views=1), make_doc("v2")], [np.array([1, 0, 0, 0]), None], ["h1", None])
        assert store.known_hashes(["douyin:video:v1", "douyin:video:v2", "douyin:video:v3"]) == {
            "douyin:video:v1": "h1"
        }
        store.upsert([make_doc("v1", views=2, observed_at=T2)], [None], ["h1"])  # same text: vector kept
        assert store.known_hashes(["douyin:video:v1"]) == {"douyin:video:v1": "h1"}
        hits = store.search("", np.array([1, 0, 0, 0]), mode="semantic")
        assert [h.id for h in hits] == ["douyin:video:v1"]
        store.upsert(
            [make_doc("v1", title="changed", observed_at=T3)], [None], ["h2"]
        )  # text changed, no vector
        assert store.known_hashes(["douyin:video:v1"]) == {}
        assert store.search("", np.array([1, 0, 0, 0]), mode="semantic") == []

    def test_a_zero_vector_is_stored_as_no_vector(self, store: Store) -> None:
        import numpy as np

        store.set_model("model-a", 4)
        store.upsert(
            [make_doc("zero", title="zero vector lipstick"), make_doc("unit", title="unit vector lipstick")],
            [np.zeros(4, dtype=np.float32), np.array([1.0, 0.0, 0.0, 0.0])],
            ["h0", "h1"],
        )
        assert store.count() == 2  # the document itself is indexed
        assert store.known_hashes(["douyin:video:zero", "douyin:video:unit"]) == {"douyin:video:unit": "h1"}
        assert store.stats().vectors == 1
        semantic = store.search("", np.array([0.5, 0.5, 0.5, 0.5]), mode="semantic", limit=10)
        assert [h.id for h in semantic] == ["douyin:video:unit"]
        assert {h.id for h in store.search("lipstick", mode="keyword")} == {
            "douyin:video:zero",
            "douyin:video:unit",
        }
        assert store.search("", np.zeros(4, dtype=np.float32), mode="semantic") == []  # a zero query, too

    # -------------------------------------------------------------------------------- search

    @pytest.mark.parametrize(
        ("query", "expected_first"),
        [
            ("口红", "douyin:video:lip1"),  # two-character word inside a longer run of Chinese
            ("零食", "tiktok:video:snack1"),
            ("学生党", "douyin:video:lip1"),
            ("唇釉", "douyin:video:lip1"),  # product title
            ("好物推荐", "douyin:video:lip1"),  # hashtag
            ("美妆小鹿", "douyin:video:lip1"),  # creator name
            ("earbuds", "youtube:video:ear1"),
            ("EARBUDS", "youtube:video:ear1"),
            ("earbud", "youtube:video:ear1"),  # stemmed
            ("noise cancelling", "youtube:video:ear1"),
            ("iPhone 手机壳", "douyin:video:case1"),  # mixed Chinese and English
            ("iphone15手机壳", "douyin:video:case1"),
            ("扫地机器人", "kuaishou:live:live1"),
            ("dripper", "web:product:p9"),
        ],
    )
    def test_keyword_search_finds_words_in_any_field_and_script(
        self, store: Store, sample_docs: list[dict], query: str, expected_first: str
    ) -> None:
        store.upsert(sample_docs)
        hits = store.search(query, mode="keyword", limit=3)
        assert hits, query
        assert hits[0].id == expected_first

    def test_keyword_search_does_not_match_unrelated_documents(
        self, store: Store, sample_docs: list[dict]
    ) -> None:
        store.upsert(sample_docs)
        assert {h.id for h in store.search("口红", mode="keyword")} == {"douyin:video:lip1"}
        assert store.search("snowboard", mode="keyword") == []

    @pytest.mark.parametrize("query", NASTY_QUERIES)
    def test_no_query_text_raises(self, store: Store, sample_docs: list[dict], query: str) -> None:
        store.upsert(sample_docs)
        for mode in ("keyword", "hybrid"):
            hits = store.search(query, mode=mode, limit=5)
            assert isinstance(hits, list)

    def test_operators_are_plain_words(self, store: Store) -> None:
        store.upsert(
            [make_doc("near", title="NEAR field communication AND more"), make_doc("x", title="other")]
        )
        assert [h.id for h in store.search('NEAR "AND"', mode="keyword")] == ["douyin:video:near"]
        assert [h.id for h in store.search("(other)*", mode="keyword")] == ["douyin:video:x"]

    def test_empty_query_gives_no_hits(self, store: Store, sample_docs: list[dict]) -> None:
        store.upsert(sample_docs)
        assert store.search("", mode="keyword") == []
        assert store.search("   ", mode="hybrid") == []

    def test_search_respects_limit_and_orders_by_score(self, store: Store) -> None:
        store.upsert([make_doc(f"v{i}", title="口红 " * (i + 1) + "推荐") for i in range(8)])
        hits = store.search("口红", mode="keyword", limit=3)
        assert len(hits) == 3
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        assert all(isinstance(h, Hit) for h in hits)

    def test_filters_apply_to_keyword_search(self, store: Store, sample_docs: list[dict]) -> None:
        store.upsert(sample_docs)
        assert store.search("口红", mode="keyword", filters=SearchFilters(platform="tiktok")) == []
        hits = store.search("手机壳 口红", mode="keyword", filters=SearchFilters(min_views=100_000))
        assert [h.id for h in hits] == ["douyin:video:lip1"]

    def test_semantic_search_without_vector_is_a_query_error(
        self, store: Store, sample_docs: list[dict]
    ) -> None:
        store.upsert(sample_docs)
        with pytest.raises(QueryError):
            store.search("口红", None, mode="semantic")

    def test_hybrid_without_vectors_degrades_to_keyword(self, store: Store, sample_docs: list[dict]) -> None:
        store.upsert(sample_docs)
        hits = store.search("earbuds", None, mode="hybrid")
        assert [h.id for h in hits] == ["youtube:video:ear1"]
        assert hits[0].explain["keyword_rank"] == 1

    @pytest.mark.model
    def test_semantic_and_hybrid_search_with_the_real_model(
        self, store: Store, sample_docs: list[dict], embedder: Any
    ) -> None:
        from indexer.embedder import document_text

        vectors = embedder.embed_documents([document_text(d) for d in sample_docs])
        store.set_model(embedder.model_name, embedder.dim)
        store.upsert(sample_docs, list(vectors), [embedder.text_hash(document_text(d)) for d in sample_docs])
        query = embedder.embed_query("cordless headphones")
        semantic = store.search("cordless headphones", query, mode="semantic", limit=3)
        assert semantic[0].id == "youtube:video:ear1"
        assert semantic[0].explain["vector_rank"] == 1 and semantic[0].explain["keyword_rank"] is None
        assert -1.0 <= semantic[0].score <= 1.0001
        hybrid = store.search("earbuds", embedder.embed_query("earbuds"), mode="hybrid", limit=4)
        top = hybrid[0]
        assert top.id == "youtube:video:ear1"
        assert set(top.explain) >= {
            "keyword_rank",
            "keyword_score",
            "vector_rank",
            "vector_score",
            "fused_score",
            "mode",
        }
        assert top.explain["mode"] == "hybrid"
        assert top.explain["keyword_rank"] == 1 and top.explain["vector_rank"] == 1
        assert top.score == pytest.approx(top.explain["fused_score"])
        assert [h.score for h in hybrid] == sorted((h.score for h in hybrid), reverse=True)
        filtered = store.search(
            "earbuds",
            embedder.embed_query("earbuds"),
            mode="semantic",
            filters=SearchFilters(platform="douyin"),
        )
        assert filtered and {h.doc["platform"] for h in filtered} == {"douyin"}
        with_products = store.search(
            "earbuds",
            embedder.embed_query("earbuds"),
            mode="hybrid",
            filters=SearchFilters(has_products=False, kind="video"),
            min_similarity=-1,  # no floor: the one video without products, however unlike earbuds
        )
        assert {h.id for h in with_products} == {"tiktok:video:snack1"}

    def test_hits_that_matched_no_keyword_need_the_similarity_floor(self, store: Store) -> None:
        import numpy as np

        store.set_model("use-multilingual-v3", 4)  # a registered model: its calibrated floor applies
        floor = search_settings("use-multilingual-v3").vector_floor
        assert floor is not None
        near, far = np.array([1.0, 0.3, 0.0, 0.0]), np.array([0.1, 0.0, 1.0, 0.0])  # cosine 0.96 / 0.10
        store.upsert(
            [
                make_doc("near", title="wireless earbuds"),
                make_doc("far", title="waffle maker"),
                make_doc("word", title="earbuds case"),
            ],
            [near, far, far],
            ["h1", "h2", "h3"],
        )
        query = np.array([1.0, 0.0, 0.0, 0.0])
        hybrid = store.search("earbuds", query, mode="hybrid", limit=10)
        by_id = {h.id.split(":")[-1]: h for h in hybrid}
        assert set(by_id) == {"near", "word"}  # the waffle maker matched no keyword and is not similar
        assert by_id["word"].explain["reason"] == "keyword match"  # kept, however dissimilar
        assert by_id["near"].explain["floor"] == floor
        assert [h.id.split(":")[-1] for h in hybrid] == ["near", "word"]  # cosine + keyword boost
        semantic = store.search("earbuds", query, mode="semantic", limit=10)
        assert [h.id.split(":")[-1] for h in semantic] == ["near"]
        assert semantic[0].explain["reason"] == f"similar (0.96 >= floor {floor:.2f})"
        unfloored = store.search("earbuds", query, mode="hybrid", limit=10, min_similarity=-1)
        assert {h.id.split(":")[-1] for h in unfloored} == {"near", "far", "word"}
        assert {h.explain["floor"] for h in unfloored} == {None}
        strict = store.search("waffle", query, mode="semantic", limit=10, min_similarity=0.995)
        assert strict == []
        nothing = store.search("口红", np.array([0.0, 0.0, 0.0, 1.0]), mode="hybrid", limit=10)
        assert nothing == []  # no keyword, nothing similar: no filler

    def test_hybrid_keeps_vector_only_hits_by_the_floor_vector_and_ranks_by_the_query_vector(
        self, store: Store
    ) -> None:
        import numpy as np

        store.set_model("use-multilingual-v3", 4)
        floor = search_settings("use-multilingual-v3").vector_floor
        assert floor == pytest.approx(0.18)
        own = np.array([1.0, 0.0, 0.0, 0.0])  # what semantic search would use
        moved = np.array([0.0, 1.0, 0.0, 0.0])  # what hybrid ranks by
        vectors = {
            "both": [0.6, 0.8, 0.0, 0.0],  # own 0.6, moved 0.8
            "moved-only": [0.1, 0.99, 0.0, 0.0],  # moved 0.99, own 0.1 < floor: dropped
            "own-only": [0.98, 0.05, 0.2, 0.0],  # own 0.98, moved 0.05 < floor: kept by its own cosine
            "word": [0.0, 0.0, 0.0, 1.0],  # a keyword match, similar to neither
        }
        store.upsert(
            [
                make_doc(name, title="earbuds case" if name == "word" else f"gadget {name}")
                for name in vectors
            ],
            [np.array(v) for v in vectors.values()],
            [f"h-{name}" for name in vectors],
        )
        hits = store.search("earbuds", moved, mode="hybrid", limit=10, floor_vector=own)
        by_id = {h.id.split(":")[-1]: h for h in hits}
        assert set(by_id) == {"both", "own-only", "word"}
        assert [h.id.split(":")[-1] for h in hits][:2] == ["both", "own-only"]  # by the moved vector
        kept = by_id["own-only"].explain
        assert kept["vector_score"] == pytest.approx(0.05 / np.linalg.norm(vectors["own-only"]), abs=1e-4)
        assert kept["floor_score"] == pytest.approx(0.98 / np.linalg.norm(vectors["own-only"]), abs=1e-4)
        assert kept["reason"] == f"similar ({kept['floor_score']:.2f} >= floor {floor:.2f})"
        assert by_id["word"].explain["floor_score"] is None  # kept by its keyword
        alone = store.search("earbuds", moved, mode="hybrid", limit=10)  # no floor vector: the moved one
        assert {h.id.split(":")[-1] for h in alone} == {"both", "moved-only", "word"}
        semantic = store.search("earbuds", moved, mode="semantic", limit=10, floor_vector=own)
        assert {h.id.split(":")[-1] for h in semantic} == {"both", "moved-only"}  # semantic: its own vector
        blank = store.search("earbuds", moved, mode="hybrid", limit=10, floor_vector=np.zeros(4))
        assert {h.id.split(":")[-1] for h in blank} == {
            "word"
        }  # a floor vector with no direction: none similar

    # --------------------------------------------------------------------------------- stats

    def test_stats_count_what_is_stored(self, store: Store, sample_docs: list[dict]) -> None:
        store.upsert(sample_docs)
        stats = store.stats()
        assert isinstance(stats, StoreStats)
        assert stats.documents == len(sample_docs)
        assert stats.by_kind == {"video": 4, "live": 1, "product": 1}
        assert stats.by_platform["douyin"] == 2
        assert stats.snapshots >= 8
        assert stats.vectors == 0 and stats.model is None
        assert (stats.first_observed, stats.last_observed) == (T1, T1)
