"""Douyin adapter: golden pages (a real share page and pages derived from it), edge cases, and a real crawl."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.parsers import choose_parser, parse_page
from crawler.parsers.base import Page
from tests.golden import GoldenCase, check_golden

FIXTURES = Path(__file__).parent / "fixtures" / "platforms" / "douyin"
SHARE_URL = "https://www.iesdouyin.com/share/video/7535852404919586100/"
VIDEO_URL = "https://www.douyin.com/video/7535852404919586100"

CASES = [
    GoldenCase(FIXTURES / "share-7535852404919586100.html", url=SHARE_URL, parser=None),
    GoldenCase(FIXTURES / "share-with-products.html", url=SHARE_URL, parser=None),
    GoldenCase(FIXTURES / "share-deleted.html", url=SHARE_URL, parser=None),
    GoldenCase(FIXTURES / "share-odd-types.html", url=SHARE_URL, parser=None),
    GoldenCase(FIXTURES / "video-render-data.html", url=VIDEO_URL, parser=None),
    GoldenCase(FIXTURES / "live-room.html", url="https://live.douyin.com/45599235625", parser=None),
    GoldenCase(FIXTURES / "captcha.html", url=VIDEO_URL, parser=None),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_golden(case):
    check_golden(case)


def parse(name: str, url: str = SHARE_URL):
    return parse_page(Page(url=url, body=(FIXTURES / name).read_bytes()), "douyin")


def test_real_share_page_hides_plays_as_none_and_reads_ms_duration():
    item = parse("share-7535852404919586100.html").items[0]
    assert item.metrics.views is None  # play_count is 0 for visitors: hidden, not zero
    assert (item.metrics.likes, item.metrics.collects) == (7007, 2804)
    assert item.duration_s == 353  # 352596 ms
    assert item.hashtags == ["恐怖游戏", "steam"]
    assert item.creator.id.startswith("MS4wLjABAAAA")  # sec_uid


def test_shopping_cart_prices_are_fen_converted_to_yuan():
    products = {p.id: p for p in parse("share-with-products.html").items[0].products}
    pad = products["douyin:product:3693124180478591234"]
    assert (pad.price, pad.currency, pad.shop, pad.sales) == (159.0, "CNY", "北通官方旗舰店", 12034)
    headset = products["douyin:product:3701122334455667788"]
    assert (headset.price, headset.price_max, headset.sales) == (89.9, 129.9, 12000)
    assert len(products) == 2  # anchor_info repeats the first product


def test_deleted_and_captcha_pages():
    deleted = parse("share-deleted.html")
    assert deleted.items == [] and deleted.errors == ["douyin/unavailable:status_deleted"]
    captcha = parse("captcha.html", VIDEO_URL)
    assert captcha.items == [] and captcha.blocked == "douyin/captcha"


def test_odd_types_give_none_not_zero():
    item = parse("share-odd-types.html").items[0]
    assert item.metrics.likes == 7007  # "7007"
    assert item.metrics.comments is None and item.metrics.shares is None and item.metrics.collects is None
    assert (
        item.creator is None and item.published_at is None and item.duration_s is None and item.products == []
    )


def test_render_data_and_live_room():
    item = parse("video-render-data.html", VIDEO_URL).items[0]
    assert item.creator.followers == 215000 and item.metrics.likes == 7007
    live = parse("live-room.html", "https://live.douyin.com/45599235625").items[0]
    assert live.kind == "live" and live.live.status == "live"
    assert (live.metrics.viewers, live.metrics.views) == (12000, 89000)
    assert live.url == "https://live.douyin.com/45599235625"


def test_normal_page_with_captcha_sdk_is_not_blocked():
    """Real share pages load the TTGCaptcha SDK: the word "captcha" alone must not mark them blocked."""
    assert b"Captcha" in (FIXTURES / "share-7535852404919586100.html").read_bytes()
    assert parse("share-7535852404919586100.html").blocked is None


@pytest.mark.parametrize(
    "name", ["share-7535852404919586100.html", "video-render-data.html", "live-room.html", "captcha.html"]
)
def test_content_sniffing_recognises_saved_pages(name):
    page = Page(url=(FIXTURES / name).resolve().as_uri(), body=(FIXTURES / name).read_bytes())
    assert choose_parser(page).name == "douyin"


def test_crawl_counts_items_and_blocked_pages(http_server, crawl):
    urls = [
        http_server.add_file("/dy/share/video/7535852404919586100/", FIXTURES / "share-with-products.html"),
        http_server.add_file("/dy/live/45599235625", FIXTURES / "live-room.html"),
        http_server.add_file("/dy/deleted", FIXTURES / "share-deleted.html"),
        http_server.add_file("/dy/captcha", FIXTURES / "captcha.html"),
    ]
    outcome = crawl("douyin", args={"urls": ",".join(urls)})
    ids = outcome.by_id()
    assert set(ids) == {"douyin:video:7535852404919586100", "douyin:live:7589001122334455667"}
    assert ids["douyin:video:7535852404919586100"]["metrics"]["views"] is None
    assert outcome.stat("trendcart/blocked/douyin") == 1
    assert outcome.stat("trendcart/parse_error/douyin/unavailable:status_deleted") == 1
