"""Item pipelines: validate (drop with a counted reason), normalise, dedupe, emit the JSON form."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler.items import CreatorRef, LiveInfo, LiveItem, Metrics, ProductItem, ProductRef, VideoItem
from crawler.pipelines import (
    DedupePipeline,
    JsonFormPipeline,
    NormalisePipeline,
    ValidatePipeline,
    normalise_item,
)

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)


class SpiderStub:
    """Only what pipelines use: spider.crawler.stats, from a real (unstarted) Scrapy crawler."""

    def __init__(self) -> None:
        self.crawler = get_crawler()

    def stat(self, key: str) -> int:
        return self.crawler.stats.get_value(key, 0)


@pytest.fixture
def spider():
    return SpiderStub()


def video(**kwargs) -> VideoItem:
    base = dict(id="web:video:shop.example/v/1", platform="web", title="Title")
    return VideoItem(**{**base, **kwargs})


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ("not an item", "not_an_item"),
        (video(id="nocolons"), "bad_id"),
        (video(id="web:video:"), "bad_id"),
        (video(id="tiktok:video:1"), "bad_platform"),
        (video(id="web:live:1"), "bad_kind"),
        (video(title="  ", description=None), "no_text"),
        ({"kind": "nonsense", "id": "web:video:1"}, "invalid_shape"),
    ],
)
def test_validate_drops_with_counted_reason(spider, item, reason):
    with pytest.raises(DropItem, match=reason):
        ValidatePipeline().process_item(item, spider)
    assert spider.stat(f"trendcart/dropped/{reason}") == 1


def test_validate_accepts_json_form_dicts(spider):
    item = ValidatePipeline().process_item(video().to_json(), spider)
    assert isinstance(item, VideoItem) and item.id == "web:video:shop.example/v/1"


def test_normalise_coerces_every_field():
    item = video(
        title="  口红\n试色  ",
        description="#好物# 推荐",
        url=" https://shop.example/v/1 ",
        hashtags="#a, b,#a",
        published_at="3天前",
        observed_at=None,
        duration_s="01:30",
        metrics=Metrics(views="1.2万", likes="-5", comments="1e30", shares=None),
        creator=CreatorRef(name="  小美 ", followers="3.4w", verified="yes"),
        products=[
            ProductRef(title="口红", price="¥39-59", currency=None, sales="10万+"),
            ProductRef(title=None, id=None),
        ],
    )
    normalise_item(item, NOW)
    assert (
        item.title == "口红 试色" and item.url == "https://shop.example/v/1" and item.hashtags == ["a", "b"]
    )
    assert item.published_at == "2026-11-22T10:00:00Z" and item.observed_at == "2026-11-25T10:00:00Z"
    assert item.duration_s == 90 and item.language == "zh"
    assert (item.metrics.views, item.metrics.likes, item.metrics.comments, item.metrics.shares) == (
        12000,
        None,
        None,
        None,
    )
    assert item.creator.name == "小美" and item.creator.followers == 34000 and item.creator.verified is None
    assert len(item.products) == 1
    product = item.products[0]
    assert (product.price, product.price_max, product.currency, product.sales) == (39.0, 59.0, "CNY", 100000)


def test_normalise_live_and_product_items():
    live = LiveItem(
        id="web:live:x.example/l",
        platform="web",
        title="t",
        live=LiveInfo(status="onair", started_at=1_700_000_000_000, ended_at="garbage"),
    )
    normalise_item(live, NOW)
    assert (live.live.status, live.live.started_at, live.live.ended_at) == (
        None,
        "2023-11-14T22:13:20Z",
        None,
    )
    product = ProductItem(
        id="web:product:x.example/p", platform="web", title="t", price="59.90元", currency=None
    )
    normalise_item(product, NOW)
    assert (product.price, product.currency) == (59.9, "CNY")
    product = ProductItem(id="web:product:x.example/p", platform="web", title="t", price=-3, currency="usd")
    normalise_item(product, NOW)
    assert (product.price, product.currency) == (None, "USD")


def test_dedupe_counts_duplicates_and_items(spider):
    pipe = DedupePipeline()
    pipe.process_item(video(), spider)
    with pytest.raises(DropItem, match="duplicate"):
        pipe.process_item(video(), spider)
    assert spider.stat("trendcart/dropped/duplicate") == 1 and spider.stat("trendcart/items/video") == 1


def test_whole_chain_emits_the_json_form(spider):
    item = video(metrics=Metrics(views="12.3K"), observed_at="2026-11-25T10:00:00Z")
    for pipe in (ValidatePipeline(), NormalisePipeline(), DedupePipeline(), JsonFormPipeline()):
        item = pipe.process_item(item, spider)
    assert isinstance(item, dict) and item["metrics"]["views"] == 12300 and item["kind"] == "video"


def test_json_form_stop_passes_items_through_the_one_check(spider):
    good = JsonFormPipeline().process_item(video(observed_at="2026-11-25T18:00:00+08:00"), spider)
    assert good["observed_at"] == "2026-11-25T10:00:00Z"
    with pytest.raises(DropItem, match="invalid_shape"):
        JsonFormPipeline().process_item(video(metrics=Metrics(views="12.3K")), spider)  # not normalised
    assert spider.stat("trendcart/dropped/invalid_shape") == 1
