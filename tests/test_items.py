"""Typed items: stable ids, the one JSON form, and the round trip through from_json."""

from __future__ import annotations

import json

import pytest

from crawler.items import (
    METRIC_NAMES,
    CreatorRef,
    LiveInfo,
    LiveItem,
    Metrics,
    ProductItem,
    ProductRef,
    Snapshot,
    VideoItem,
    from_json,
    make_id,
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
        with pytest.raises(ValueError):
            from_json(bad)


def test_snapshot_keeps_known_metrics_only():
    snap = Snapshot.from_item(sample_video())
    assert snap == Snapshot(
        "web:video:shop.example/v/1", "2026-11-25T10:00:00Z", {"views": 120000, "likes": 3400}
    )
