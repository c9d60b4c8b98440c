"""Typed items: stable ids, the one JSON form, and the round trip through from_json."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest

from crawler.items import (
    METRIC_NAMES,
    CreatorRef,
    InvalidItem,
    LiveInfo,
    LiveItem,
    Metrics,
    ProductItem,
    ProductRef,
    Snapshot,
    VideoItem,
    check_item,
    from_json,
    is_count,
    make_id,
    parse_id,
    split_id,
)

COMMON_KEYS = {
    "id",
    "kind",
    "platform",
    "url",
    "title",
    "description",
    "hashtags",
    "language",
    "published_at",
    "duration_s",
    "creator",
    "live",
    "metrics",
    "products",
    "observed_at",
    "source",
}


def test_make_id_and_split_id():
    assert make_id("youtube", "video", "dQw4w9WgXcQ") == "youtube:video:dQw4w9WgXcQ"
    assert make_id("web", "product", " shop.example/p/1?a=1 ") == "web:product:shop.example/p/1?a=1"
    assert split_id("web:video:shop.example:8080/v") == ("web", "video", "shop.example:8080/v")
    assert make_id("douyin", "live", 7_300_000_000) == "douyin:live:7300000000"


@pytest.mark.parametrize(
    ("platform", "kind", "native"), [("myspace", "video", "1"), ("web", "post", "1"), ("web", "video", " ")]
)
def test_make_id_refuses_bad_parts(platform, kind, native):
    with pytest.raises(ValueError):
        make_id(platform, kind, native)


def sample_video() -> VideoItem:
    return VideoItem(
        id="web:video:shop.example/v/1",
        platform="web",
        url="https://shop.example/v/1",
        title="口红试色",
        hashtags=["口红"],
        language="zh",
        published_at="2026-11-20T08:00:00Z",
        duration_s=90,
        creator=CreatorRef(id="web:creator:shop.example/u/1", name="小美", followers=1200),
        metrics=Metrics(views=120000, likes=3400),
        products=[ProductRef(id="web:product:shop.example/p/1", title="口红", price=59.9, currency="CNY")],
        observed_at="2026-11-25T10:00:00Z",
        source="jsonld",
    )


def test_json_form_has_every_common_key_and_null_metrics():
    data = sample_video().to_json()
    assert COMMON_KEYS <= set(data) and data["kind"] == "video"
    assert set(data["metrics"]) == set(METRIC_NAMES)
    assert data["metrics"]["comments"] is None  # unknown, not 0
    assert data["live"] is None and data["products"][0]["price"] == 59.9
    json.dumps(data)  # plain JSON types only


def test_round_trip_for_every_kind():
    live = LiveItem(
        id="web:live:shop.example/l/1", platform="web", title="直播", live=LiveInfo(status="live")
    )
    product = ProductItem(
        id="web:product:shop.example/p/1",
        platform="web",
        title="口红",
        price=39.0,
        price_max=59.0,
        currency="CNY",
        featured_in=["web:video:shop.example/v/1"],
    )
    for item in (sample_video(), live, product):
        data = item.to_json()
        again = from_json(json.loads(json.dumps(data)))
        assert type(again) is type(item) and again.to_json() == data
    assert product.to_json()["featured_in"] == ["web:video:shop.example/v/1"]
    assert live.to_json()["kind"] == "live" and live.to_json()["live"]["status"] == "live"


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"kind": "post", "id": "x"},
        {"kind": "video", "id": "x", "platform": "web", "bogus_shape": 1, "metrics": "n/a"},
    ],
)
def test_from_json_rejects_or_tolerates(bad):
    if isinstance(bad, dict) and bad.get("kind") == "video":
        assert from_json(bad).metrics == Metrics()  # unknown keys ignored, a wrong-shaped metrics is unknown
    else:
        with pytest.raises(InvalidItem):  # a ValueError
            from_json(bad)


def test_snapshot_keeps_known_metrics_only():
    snap = Snapshot.from_item(sample_video())
    assert snap == Snapshot(
        "web:video:shop.example/v/1", "2026-11-25T10:00:00Z", {"views": 120000, "likes": 3400}
    )


# -- the one check of the JSON form ------------------------------------------------------------------
def test_parse_id_is_none_for_a_malformed_id():
    assert parse_id("web:video:shop.example:8080/v") == ("web", "video", "shop.example:8080/v")
    for bad in (None, 42, "nocolons", "web:video:", "mars:video:1", "web:post:1"):
        assert parse_id(bad) is None
    with pytest.raises(ValueError, match="platform:kind:native_id"):
        split_id("nocolons")


@pytest.mark.parametrize(
    ("value", "counts"),
    [
        (0, True),
        (12, True),
        (10**12, True),
        (-1, False),
        (True, False),
        (12.0, False),
        ("12", False),
        (None, False),
    ],
)
def test_one_count_rule(value, counts):
    assert is_count(value) is counts


def test_check_item_fills_the_canonical_form():
    data = check_item(
        {
            "id": "web:video:x",
            "kind": "video",
            "platform": "web",
            "title": "t",
            "observed_at": "2026-11-25T18:00:00+08:00",
            "metrics": {"views": 12.0},
        }
    )
    assert data["observed_at"] == "2026-11-25T10:00:00Z"
    assert data["metrics"]["views"] == 12 and data["metrics"]["likes"] is None
    assert type(data["metrics"]["views"]) is int  # integral floats are ints before anything else sees them
    assert data["products"] == [] and data["hashtags"] == []
    assert check_item({"id": "web:video:y", "kind": "video", "platform": "web", "title": "t"})["observed_at"]
    assert set(data) >= COMMON_KEYS


def test_check_item_canonical_times_counts_and_defaults():
    now = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
    data = check_item(
        {
            "id": "web:creator:ann",
            "kind": "creator",
            "platform": "web",
            "name": "Ann",
            "followers": 1200.0,
            "published_at": "2026-11-20",
            "products": [],
            "unknown_key": 1,
        },
        now=now,
    )
    assert data["observed_at"] == "2026-11-25T10:00:00Z" and data["published_at"] == "2026-11-20T00:00:00Z"
    assert type(data["followers"]) is int and data["followers"] == 1200
    assert "unknown_key" not in data
    video = sample_video().to_json()
    assert check_item(video) == video  # the canonical form is a fixed point
    assert check_item(check_item(video)) == video


@pytest.mark.parametrize(
    ("change", "reason", "message"),
    [
        ({"id": 7}, "bad_id", "id: expected a string"),
        ({"id": "nocolons"}, "bad_id", "'nocolons' is not 'platform:kind:native_id'"),
        ({"id": "web:video:"}, "bad_id", "is not 'platform:kind:native_id'"),
        ({"id": "mars:video:1"}, "bad_platform", "with a known platform and kind"),
        ({"id": "web:post:1"}, "bad_kind", "with a known platform and kind"),
        ({"id": "tiktok:video:1"}, "bad_platform", "kind/platform 'video'/'web' do not match id"),
        ({"kind": "live"}, "bad_kind", "do not match id"),
        ({"title": 42}, "invalid_shape", "title: expected a string or null, got int"),
        ({"observed_at": 1_700_000_000}, "invalid_shape", "observed_at: expected a string or null"),
        ({"hashtags": "notalist"}, "invalid_shape", "hashtags: expected a list, got str"),
        ({"hashtags": ["ok", 3]}, "invalid_shape", "hashtags: expected a list of strings"),
        ({"metrics": "n/a"}, "invalid_shape", "metrics: expected an object, got str"),
        ({"creator": ["x"]}, "invalid_shape", "creator: expected an object, got list"),
        ({"metrics": {"views": "1.2万"}}, "invalid_shape", "metrics.views: expected a non-negative integer"),
        ({"metrics": {"views": -5}}, "invalid_shape", "metrics.views"),
        ({"metrics": {"likes": True}}, "invalid_shape", "metrics.likes"),
        ({"metrics": {"likes": 1.5}}, "invalid_shape", "metrics.likes"),
        ({"products": ["p"]}, "invalid_shape", "products: expected a list of objects"),
        (
            {"products": [{"title": "p", "price": "cheap"}]},
            "invalid_shape",
            "products[].price: expected a number",
        ),
        ({"price_max": True}, "invalid_shape", "price_max: expected a number or null"),
        ({"observed_at": "last tuesday"}, "invalid_shape", "observed_at: not an ISO 8601 time"),
        ({"published_at": "3天前"}, "invalid_shape", "published_at: not an ISO 8601 time"),
        ({"title": " ", "description": None}, "no_text", "no text: a document needs a title"),
    ],
)
def test_check_item_refuses_with_a_reason(change, reason, message):
    doc = {"id": "web:video:x", "kind": "video", "platform": "web", "title": "t", **change}
    with pytest.raises(InvalidItem, match=re.escape(message)) as excinfo:
        check_item(doc)
    assert excinfo.value.reason == reason
    assert isinstance(excinfo.value, ValueError)


@pytest.mark.parametrize("bad", [None, [], "text", 3])
def test_check_item_wants_an_object(bad):
    with pytest.raises(InvalidItem, match="expected a JSON object"):
        check_item(bad)


# -- bounds (crawler/bounds.py) in the one check ------------------------------------------------------
def test_the_count_rule_has_the_documented_ceiling():
    from crawler.bounds import MAX_COUNT

    assert is_count(MAX_COUNT) and not is_count(MAX_COUNT + 1) and not is_count(2**63)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"metrics": {"views": 2**63}}, "metrics.views: expected a non-negative integer"),
        ({"metrics": {"views": 1e308}}, "metrics.views"),
        ({"metrics": {"likes": float("inf")}}, "metrics.likes"),
        ({"metrics": {"likes": float("nan")}}, "metrics.likes"),
        ({"creator": {"name": "Ann", "followers": 10**30}}, "creator.followers"),
        ({"creator": {"name": {"first": "Ann"}}}, "creator.name: expected a string or null, got dict"),
        ({"creator": {"name": "Ann", "verified": "yes"}}, "creator.verified: expected true, false or null"),
        ({"products": [{"title": "p", "sales": 10**19}]}, "products[].sales"),
        ({"products": [{"title": {"x": 1}}]}, "products[].title: expected a string or null, got dict"),
        ({"products": [{"title": "p", "price": float("nan")}]}, "products[].price: expected a finite number"),
        ({"price": float("inf")}, "price: expected a finite number"),
        ({"price": 10**10}, "price: expected a finite number in [0, 1000000000]"),
        ({"price": -1}, "price: expected a finite number"),
        ({"duration_s": 8 * 24 * 3600}, "duration_s: expected a non-negative integer (at most 604800)"),
        ({"published_at": "0001-01-01T00:00:00+01:00"}, "'0001-01-01T00:00:00+01:00'"),
        ({"published_at": "9999-12-31T23:59:59-01:00"}, "'9999-12-31T23:59:59-01:00'"),
        ({"published_at": "1970-01-02T00:00:00Z"}, "published_at: 1970-01-02T00:00:00Z is not believable"),
        ({"published_at": "2099-01-01T00:00:00Z"}, "published_at: 2099-01-01T00:00:00Z is not believable"),
        ({"observed_at": "2999-01-01T00:00:00Z"}, "observed_at: 2999-01-01T00:00:00Z is not believable"),
        ({"live": {"status": "live", "started_at": "0001-01-01T00:00:00+01:00"}}, "live.started_at"),
        ({"live": {"status": "live", "ended_at": "2099-01-01T00:00:00Z"}}, "live.ended_at"),
        ({"live": {"status": ["live"]}}, "live.status: expected a string or null"),
        ({"featured_in": [{"id": "web:video:1"}]}, "featured_in: expected a list of strings, got a dict"),
        ({"title": "x" * 100_001}, "title: 100001 characters, more than 100000"),
        ({"hashtags": ["t"] * 10_001}, "hashtags: 10001 elements, more than 10000"),
        ({"shop": 5}, "shop: expected a string or null, got int"),
        ({"title": "bad \udcff"}, "title: not Unicode text (a lone surrogate at character 4)"),
        ({"hashtags": ["\ud800"]}, "hashtags: not Unicode text"),
        ({"creator": {"name": "x\udfff"}}, "creator.name: not Unicode text"),
    ],
)
def test_check_item_refuses_values_outside_the_bounds(change, message):
    doc = {
        "id": "web:video:x",
        "kind": "video",
        "platform": "web",
        "title": "t",
        "observed_at": "2026-11-25T10:00:00Z",
        **change,
    }
    with pytest.raises(InvalidItem, match=re.escape(message)) as excinfo:
        check_item(doc)
    assert excinfo.value.reason == "invalid_shape"
    assert str(excinfo.value).startswith(next(iter(change)))  # the field is named first
    assert len(str(excinfo.value)) < 300  # a one-line reason, never the hostile value in full


def test_check_item_keeps_values_at_the_bounds_and_canonical_live_times():
    from crawler.bounds import MAX_COUNT, MAX_DURATION_S, MAX_PRICE

    data = check_item(
        {
            "id": "web:live:x",
            "kind": "live",
            "platform": "web",
            "title": "t",
            "observed_at": "2026-11-25T10:00:00Z",
            "published_at": "2000-01-01T00:00:00Z",
            "duration_s": float(MAX_DURATION_S),
            "metrics": {"views": MAX_COUNT, "viewers": 0},
            "live": {"status": "live", "started_at": "2026-11-25T17:00:00+08:00", "ended_at": None},
            "products": [{"id": "web:product:p", "title": "p", "price": MAX_PRICE, "sales": MAX_COUNT}],
        }
    )
    assert data["metrics"]["views"] == MAX_COUNT and data["duration_s"] == MAX_DURATION_S
    assert data["live"]["started_at"] == "2026-11-25T09:00:00Z"
    assert data["products"][0]["sales"] == MAX_COUNT and data["products"][0]["price"] == MAX_PRICE
    product = check_item(
        {
            "id": "web:product:p",
            "kind": "product",
            "platform": "web",
            "title": "p",
            "featured_in": ["web:video:1"],
        }
    )
    assert product["featured_in"] == ["web:video:1"]
