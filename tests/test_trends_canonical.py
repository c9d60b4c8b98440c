"""`trending --by product` by canonical product: one row per product, its members listed, content that
links two listings counted once, sales summed over listings by their running maxima; SQLite and ES."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from crawler.items import Snapshot
from indexer.sqlite_store import SqliteStore
from indexer.trends import TrendEngine, summed_stat

T = ("2026-11-25T00:00:00Z", "2026-11-25T06:00:00Z", "2026-11-25T12:00:00Z")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
CP = {
    "id": "cp-blender0001",
    "title": "Hommly portable blender cup 380 ml",
    "platforms": ["douyin", "tiktok"],
}
MEMBERS = ["douyin:product:777", "tiktok:product:555"]
CANONICAL = {m: {**CP, "members": MEMBERS} for m in MEMBERS}
# sales per listing at T0, T1, T2: tiktok's second source lags (90 < 100: never a fall); douyin's listing
# is first seen at T1 with its whole count (5,000: never a jump of 5,000)
SALES = {"tiktok:product:555": (100, 90, 150), "douyin:product:777": (None, 5_000, 5_100)}
PRODUCT_TITLES = {
    "tiktok:product:555": "Hommly Portable Blender Cup 380ml",
    "douyin:product:777": "家美 便携榨汁杯",
}


def fill(store):
    for i, at in enumerate(T):
        docs = []
        for pid, series in SALES.items():
            if series[i] is not None:
                docs.append(
                    {
                        "id": pid,
                        "kind": "product",
                        "platform": pid.split(":")[0],
                        "url": None,
                        "title": PRODUCT_TITLES[pid],
                        "price": 10.0,
                        "currency": "USD",
                        "shop": "Hommly",
                        "metrics": {"sales": series[i]},
                        "observed_at": at,
                        "featured_in": [],
                    }  # fmt: skip
                )
        refs = [{"id": m, "title": PRODUCT_TITLES[m]} for m in MEMBERS]
        docs += [
            {"id": "douyin:video:both", "kind": "video", "platform": "douyin", "url": None, "title": "开箱",
             "creator": {"id": "a", "name": "A"}, "metrics": {"views": 1_000 * (i + 1)}, "products": refs,
             "observed_at": at},
            {"id": "tiktok:video:one", "kind": "video", "platform": "tiktok", "url": None, "title": "review",
             "creator": {"id": "b", "name": "B"}, "metrics": {"views": 600 * i}, "products": refs[1:],
             "observed_at": at},
            {"id": "tiktok:video:lamp", "kind": "video", "platform": "tiktok", "url": None, "title": "lamp",
             "creator": {"id": "c", "name": "C"}, "metrics": {"views": 100 * i},
             "products": [{"id": "tiktok:product:lamp", "title": "LED lamp"}], "observed_at": at},
        ]  # fmt: skip
        store.upsert(docs)
    return store


def check(store):
    # sales: one row for the product; first = 100 + 5,000 (each listing's first value), gained 50 + 100
    (row,) = TrendEngine(store, now=NOW, canonical=CANONICAL).trending("product", "12h", "sales").results
    c = row.components
    assert row.key == CP["id"] and row.title == CP["title"]
    assert row.extra["canonical"] == {"id": CP["id"], "members": MEMBERS, "platforms": CP["platforms"]}
    assert (c["first_value"], c["last_value"], c["gained"]) == (5_100, 5_250, 150)
    assert c["velocity"] == pytest.approx(150 / 12) and row.extra["sales"] == 5_250
    stat = summed_stat(store, MEMBERS, "sales", datetime(2026, 11, 24, tzinfo=timezone.utc), NOW)
    assert stat["first_at"] == T[0] and stat["last_at"] == T[2] and stat["count"] == 5
    # views: the video that links both listings counts once; the lamp stays a row of its own
    report = TrendEngine(store, now=NOW, canonical=CANONICAL).trending("product", "12h", "views")
    rows = {r.key: r for r in report.results}
    assert set(rows) == {CP["id"], "tiktok:product:lamp"}
    product = rows[CP["id"]]
    assert product.components["items"] == 2 and product.components["velocity"] == pytest.approx(
        2_000 / 12 + 1_200 / 12
    )
    assert product.extra["canonical"]["members"] == MEMBERS and product.title == CP["title"]
    # without the product file's grouping: one row per listing, the shared video in both
    plain = {r.key: r for r in TrendEngine(store, now=NOW).trending("product", "12h", "views").results}
    assert set(plain) == {*MEMBERS, "tiktok:product:lamp"}
    assert plain["douyin:product:777"].components["items"] == 1


def test_canonical_rows_on_sqlite(tmp_path):
    store = fill(SqliteStore(tmp_path / "c.db"))
    try:
        check(store)
        # a listing whose sources disagree never pulls the product down: 90 after 100 is not a fall
        store.add_snapshots([Snapshot("tiktok:product:555", "2026-11-25T11:00:00Z", {"sales": 1})])
        (row,) = TrendEngine(store, now=NOW, canonical=CANONICAL).trending("product", "12h", "sales").results
        assert row.components["gained"] == 150
    finally:
        store.close()


@pytest.mark.elasticsearch
def test_canonical_rows_on_elasticsearch(es_url, tmp_path):
    from indexer.elastic import ElasticConfig, ElasticStore

    config = ElasticConfig.from_env(
        es_url, environ={}, index_prefix=f"tcc-{uuid.uuid4().hex[:12]}", outbox_dir=tmp_path / "outbox"
    )
    store = fill(ElasticStore(config))
    try:
        check(store)
    finally:
        try:
            store.destroy()
        finally:
            store.close()
