"""Trend engine on a real SqliteStore file, with a fixed clock and hand-computed expected numbers.

The scenario (views; snapshots at T0 = 11-23 12:00, T1 = 11-24 12:00, T2 = 11-25 12:00 UTC; now = T2,
window 24h, so this window is [T1 - 6h slack, T2] and the previous one [T0 - 6h, T1]):

  A  tiktok video   by c1, sells P1, #口红 #makeup   1000 → 2000 → 5000
  B  youtube video  by c2, sells P1, #makeup          10000 → 12400 → 14800
  C  tiktok video   by c1, sells P2 (via P2's featured_in), published T2 - 12h, one snapshot: 3600
  L  douyin live    by c3, sells P2, published T2 - 72h          500 → 1700 (T1, T2)
  X  web video      one snapshot, no publication time (no rate: skipped)
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone

import pytest

from crawler.items import split_id
from indexer.sqlite_store import SqliteStore
from indexer.trends import (
    TrendEngine,
    acceleration_of,
    growth_of,
    parse_window,
    score_of,
)

T0, T1, T2 = "2026-11-23T12:00:00Z", "2026-11-24T12:00:00Z", "2026-11-25T12:00:00Z"
NOW = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)

P1 = {
    "id": "web:product:p1",
    "title": "丝绒口红 Velvet Lipstick",
    "price": 59.9,
    "currency": "CNY",
    "shop": "Shop A",
}
P2 = {
    "id": "web:product:p2",
    "title": "Snack box 零食礼包",
    "price": 39.0,
    "currency": "CNY",
    "shop": "Shop B",
}


def doc(doc_id: str, at: str, views: int | None, likes: int | None = None, **extra):
    platform, kind, _ = split_id(doc_id)
    data = {
        "id": doc_id,
        "kind": kind,
        "platform": platform,
        "title": extra.pop("title", doc_id),
        "observed_at": at,
        "metrics": {"views": views, "likes": likes},
        "hashtags": [],
        "products": [],
    }
    data.update(extra)
    return data


def make_scenario_store(path) -> SqliteStore:
    """The scenario of this module's docstring in a SQLite file (reused by the CLI and report tests)."""
    return fill_scenario(SqliteStore(path))


def fill_scenario(s):
    """Write the scenario into any store (SQLite here; Elasticsearch in test_trends_elastic.py)."""
    a = dict(
        creator={"id": "c1", "name": "Lily"},
        products=[P1],
        hashtags=["口红", "makeup"],
        published_at="2026-11-22T12:00:00Z",
        title="Lipstick try-on 口红试色",
    )
    b = dict(
        creator={"id": "c2", "name": "Bob"},
        products=[P1],
        hashtags=["makeup"],
        published_at="2026-11-01T00:00:00Z",
        title="Makeup haul",
    )
    c = dict(
        creator={"id": "c1", "name": "Lily"},
        published_at="2026-11-25T00:00:00Z",
        title="零食开箱 snack unboxing",
    )
    live = dict(
        creator={"id": "c3", "name": "主播小王"},
        products=[P2],
        published_at="2026-11-22T12:00:00Z",
        title="直播 live room",
        live={"status": "live", "started_at": "2026-11-22T12:00:00Z", "ended_at": None},
    )
    for at, (va, vb, vl, la) in zip(
        (T0, T1, T2), ((1000, 10000, None, 10), (2000, 12400, 500, 20), (5000, 14800, 1700, 80)), strict=True
    ):
        s.upsert([doc("tiktok:video:a", at, va, likes=la, **a), doc("youtube:video:b", at, vb, **b)])
        if vl is not None:
            s.upsert([doc("douyin:live:l", at, vl, **live)])
    s.upsert([doc("tiktok:video:c", T2, 3600, **c), doc("web:video:x", T2, 999)])
    # product documents: P1 with its own sales over time; P2 names C as featuring it
    for at, sales in ((T0, 100), (T1, 160), (T2, 400)):
        s.upsert(
            [
                {
                    **doc("web:product:p1", at, None, title=P1["title"]),
                    "price": 59.9,
                    "currency": "CNY",
                    "shop": "Shop A",
                    "metrics": {"sales": sales},
                    "featured_in": ["tiktok:video:a", "youtube:video:b"],
                }
            ]
        )
    s.upsert(
        [
            {
                **doc("web:product:p2", T2, None, title=P2["title"]),
                "price": 39.0,
                "currency": "CNY",
                "featured_in": ["tiktok:video:c"],
            }
        ]
    )
    return s


@pytest.fixture
def store(tmp_path):
    s = make_scenario_store(tmp_path / "trends.db")
    yield s
    s.close()


def engine(store):
    return TrendEngine(store, now=lambda: NOW)


def by_id(report):
    return {r.key: r for r in report.results}


# -- the formulas -------------------------------------------------------------------------------------
def test_score_formula_by_hand():
    score, factors = score_of(velocity=99.0, growth=0.5 / 24, acceleration=0.25, creators=4)
    # log10(100) = 2; growth 50 %/day -> 1.5; acceleration +25 % -> 1.25; 4 creators -> 1 + 0.25 * 2 = 1.5
    assert factors == {"base": 2.0, "growth": 1.5, "acceleration": 1.25, "breadth": 1.5}
    assert score == pytest.approx(2 * 1.5 * 1.25 * 1.5)


def test_score_caps_and_neutral_values():
    _, factors = score_of(velocity=9.0, growth=10.0, acceleration=50.0, creators=1)
    assert factors["growth"] == 2.0 and factors["acceleration"] == 2.0 and factors["breadth"] == 1.0
    _, factors = score_of(velocity=9.0, growth=None, acceleration=-3.0)
    assert factors["growth"] == 1.0 and factors["acceleration"] == 0.5
    assert score_of(velocity=-50.0, growth=None, acceleration=None)[0] == 0.0
    assert growth_of(10.0, 0) == 10.0  # a start of 0 counts as 1
    assert acceleration_of(10.0, 0.0) == 10.0 and acceleration_of(None, 1.0) is None


@pytest.mark.parametrize("text,hours", [("24h", 24), ("7d", 168), ("90m", 1.5), ("1d12h", 36), ("2w", 336)])
def test_parse_window(text, hours):
    assert parse_window(text).total_seconds() / 3600 == hours


@pytest.mark.parametrize("text", ["", "24", "h", "-1d", "1y", "0h", "24h junk"])
def test_parse_window_rejects(text):
    with pytest.raises(ValueError, match="window"):
        parse_window(text)


# -- videos and lives -----------------------------------------------------------------------------
def test_videos_by_hand(store):
    report = engine(store).trending(by="video", window="24h")
    results = by_id(report)
    a = results["tiktok:video:a"].components
    # A: (5000 - 2000) / 24 h = 125/h; growth 125 / 2000 per hour; previous window (2000 - 1000) / 24
    assert a["velocity"] == 125.0 and a["basis"] == "snapshots" and a["snapshots"] == 2
    assert a["growth"] == pytest.approx(0.0625) and a["velocity_prev"] == pytest.approx(41.6667)
    assert a["acceleration"] == pytest.approx(2.0)
    assert a["first_value"] == 2000 and a["last_value"] == 5000 and a["gained"] == 3000 and a["hours"] == 24
    assert results["tiktok:video:a"].score == pytest.approx(math.log10(126) * 2 * 2, abs=1e-4)
    b = results["youtube:video:b"]
    # B: 100/h in both windows: growth 100/12400 per hour = 19.35 %/day, no acceleration
    assert b.components["velocity"] == 100.0 and b.components["acceleration"] == 0.0
    assert b.score == pytest.approx(math.log10(101) * (1 + 24 * 100 / 12400), abs=1e-4)
    c = results["tiktok:video:c"]
    # C: one snapshot -> 3600 views / 12 h since publication, flagged, no growth or acceleration
    assert c.components["basis"] == "since_published" and c.components["velocity"] == 300.0
    assert (
        c.components["growth"] is None
        and c.components["acceleration"] is None
        and c.components["new"] is True
    )
    assert c.score == pytest.approx(math.log10(301), abs=1e-4)
    assert "web:video:x" not in results and report.skipped_no_rate == 1
    assert [r.key for r in report.results] == ["tiktok:video:a", "tiktok:video:c", "youtube:video:b"]
    assert [r.rank for r in report.results] == [1, 2, 3]


def test_lives_previous_window_since_published(store):
    report = engine(store).trending(by="live", window="24h")
    live = report.results[0]
    assert live.key == "douyin:live:l" and live.components["velocity"] == 50.0
    # previous window holds one snapshot (500 at T1), published 48 h before it: 500 / 48 per hour
    assert live.components["velocity_prev"] == pytest.approx(500 / 48, abs=1e-4)
    assert live.components["acceleration"] == pytest.approx((50 - 500 / 48) / (500 / 48), abs=1e-4)
    assert live.score == pytest.approx(math.log10(51) * 2 * 2, abs=1e-4)


def test_platform_filter_and_limit(store):
    report = engine(store).trending(by="video", window="24h", platform="tiktok", limit=1)
    assert [r.key for r in report.results] == ["tiktok:video:a"]
    assert report.considered == 2


def test_likes_metric(store):
    report = engine(store).trending(by="video", window="24h", metric="likes")
    a = by_id(report)["tiktok:video:a"].components
    assert a["velocity"] == pytest.approx(60 / 24, abs=1e-4) and a["velocity_prev"] == pytest.approx(
        10 / 24, abs=1e-4
    )
    assert set(by_id(report)) == {"tiktok:video:a"}  # nothing else has likes


# -- groups --------------------------------------------------------------------------------------
def test_products_aggregate_their_videos_and_lives(store):
    report = engine(store).trending(by="product", window="24h")
    results = by_id(report)
    p1, p2 = results["web:product:p1"], results["web:product:p2"]
    # P1 = A + B: 225/h now, 41.67 + 100 before; growth over starting values 2000 + 12400; 2 creators
    assert (
        p1.components["velocity"] == 225.0 and p1.components["creators"] == 2 and p1.components["items"] == 2
    )
    assert p1.components["growth"] == pytest.approx(225 / 14400)
    assert p1.components["acceleration"] == pytest.approx(
        (225 - 1000 / 24 - 100) / (1000 / 24 + 100), abs=1e-4
    )
    expected = (
        math.log10(226) * (1 + 24 * 225 / 14400) * (1 + (225 - 1000 / 24 - 100) / (1000 / 24 + 100)) * 1.25
    )
    assert p1.score == pytest.approx(expected, abs=1e-3)
    assert p1.components["basis"] == "snapshots" and p1.components["new_items"] == 0
    assert p1.title == P1["title"] and p1.extra["price"] == 59.9 and p1.extra["sales"] == 400
    # P2 = C (since publication, linked only through P2's featured_in) + L (snapshots): mixed basis
    assert p2.components["velocity"] == 350.0 and p2.components["basis"] == "mixed"
    assert p2.components["new_items"] == 1 and p2.components["creators"] == 2 and p2.components["items"] == 2
    assert p2.components["growth"] == pytest.approx(50 / 500)
    assert p2.score == pytest.approx(math.log10(351) * 2 * 2 * 1.25, abs=1e-3)
    assert [r.key for r in report.results] == ["web:product:p2", "web:product:p1"]


def test_products_by_their_own_sales(store):
    report = engine(store).trending(by="product", window="24h", metric="sales")
    p1 = by_id(report)["web:product:p1"]
    # (400 - 160) / 24 = 10/h, before (160 - 100) / 24 = 2.5/h
    assert p1.components["velocity"] == 10.0 and p1.components["velocity_prev"] == 2.5
    assert p1.score == pytest.approx(math.log10(11) * 2 * 2, abs=1e-4)


def test_hashtags_and_creators(store):
    tags = by_id(engine(store).trending(by="hashtag", window="24h"))
    assert tags["makeup"].components["velocity"] == 225.0 and tags["makeup"].components["creators"] == 2
    assert tags["口红"].components["velocity"] == 125.0 and tags["口红"].title == "#口红"
    creators = engine(store).trending(by="creator", window="24h")
    top = creators.results[0]
    # c1 = A (125/h) + C (300/h since publication)
    assert top.key == "tiktok:c1" and top.title == "Lily" and top.components["velocity"] == 425.0
    assert top.components["basis"] == "mixed" and top.components["items"] == 2
    assert top.score == pytest.approx(math.log10(426) * 2 * 2, abs=1e-4)


def test_empty_window_and_json(store):
    report = engine(store).trending(by="video", window="1h", now=datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert report.results == [] and report.considered == 0
    data = json.loads(json.dumps(engine(store).trending(by="product").to_json()))
    assert (
        data["now"] == "2026-11-25T12:00:00Z"
        and data["results"][0]["components"]["factors"]["breadth"] == 1.25
    )


def test_unknown_metric(store):
    with pytest.raises(ValueError, match="metric"):
        engine(store).trending(metric="hearts")


@pytest.mark.parametrize("by", ["video", "live", "product", "creator", "hashtag"])
def test_a_warmed_cache_ranks_as_a_cold_one(tmp_path, by):
    """TrendEngine.warm reads what a ranking reads into the engine's cache: the ranking after it is the same."""
    from indexer.trend_cache import TrendCache

    store = fill_scenario(SqliteStore(tmp_path / "warm.db"))
    cold = TrendEngine(store, now=lambda: NOW).trending(by=by, window="24h").to_json()
    engine = TrendEngine(store, now=lambda: NOW, cache=TrendCache(store))
    engine.warm(by, "24h")
    assert engine.cache is not None and (engine.cache.memo or engine.cache._bulk)  # it read something
    assert engine.trending(by=by, window="24h").to_json() == cold
    assert cold["results"] or by == "live"
    engine.warm(by, "not a window")  # what trending refuses, warm leaves alone
    store.close()
