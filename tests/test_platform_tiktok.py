"""TikTok adapter: golden pages (real captures and pages derived from them), edge cases, and a real crawl."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.parsers import choose_parser, parse_page
from crawler.parsers.base import Page
from tests.golden import GoldenCase, check_golden

FIXTURES = Path(__file__).parent / "fixtures" / "platforms" / "tiktok"
VIDEO_URL = "https://www.tiktok.com/@illojuan/video/7571863205253778710"

CASES = [
    GoldenCase(FIXTURES / "video-7571863205253778710.html", url=VIDEO_URL, parser=None),
    GoldenCase(FIXTURES / "profile-illojuan.html", url="https://www.tiktok.com/@illojuan", parser=None),
    GoldenCase(FIXTURES / "video-with-products.html", url=VIDEO_URL, parser=None),
    GoldenCase(FIXTURES / "video-private.html", url=VIDEO_URL, parser=None),
    GoldenCase(FIXTURES / "video-sigi-state.html", url=VIDEO_URL, parser=None),
    GoldenCase(FIXTURES / "video-odd-types.html", url=VIDEO_URL, parser=None),
    GoldenCase(FIXTURES / "live-illojuan.html", url="https://www.tiktok.com/@illojuan/live", parser=None),
    GoldenCase(FIXTURES / "live-ended.html", url="https://www.tiktok.com/@illojuan/live", parser=None),
    GoldenCase(FIXTURES / "waf-challenge.html", url=VIDEO_URL, parser=None),
    GoldenCase(
        FIXTURES / "api-item-detail-7571863205253778710.json",
        url="https://www.tiktok.com/api/item/detail/?itemId=7571863205253778710",
        parser=None,
    ),
    GoldenCase(
        FIXTURES / "api-item-detail-not-found.json",
        url="https://www.tiktok.com/api/item/detail/?itemId=7571863205253778710",
        parser=None,
    ),
    GoldenCase(
        FIXTURES / "api-post-item-list.json",
        url="https://www.tiktok.com/api/post/item_list/?secUid=MS4wLjABAAAARpM8d0mtXFPytJwiiHvFcy1C&count=35",
        parser=None,
    ),
    GoldenCase(
        FIXTURES / "live-universal-data.html", url="https://www.tiktok.com/@illojuan/live", parser=None
    ),
    GoldenCase(
        FIXTURES / "creative-center-popular-videos.html",
        url="https://ads.tiktok.com/business/creativecenter/inspiration/popular/pc/en",
        parser=None,
    ),
    GoldenCase(
        FIXTURES / "creative-center-popular-hashtags.html",
        url="https://ads.tiktok.com/business/creativecenter/inspiration/popular/hashtag/pc/en",
        parser=None,
    ),
    GoldenCase(
        FIXTURES / "oembed-7571863205253778710.json",
        url=f"https://www.tiktok.com/oembed?url={VIDEO_URL}",
        parser=None,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_golden(case):
    check_golden(case)


def parse(name: str, url: str = VIDEO_URL):
    return parse_page(Page(url=url, body=(FIXTURES / name).read_bytes()), "tiktok")


def test_real_video_counts_prefer_statsv2_and_keep_mentions_out_of_hashtags():
    item = parse("video-7571863205253778710.html").items[0].to_json()
    assert (
        item["metrics"]["views"] == 192100 and item["metrics"]["collects"] == 1311
    )  # "1311" was a string in stats
    assert item["creator"]["handle"] == "illojuan" and item["creator"]["followers"] == 783400
    assert item["hashtags"] == []  # textExtra holds two @mentions (empty hashtagName), no hashtags


def test_shop_anchors_become_products_and_zero_price_is_unknown():
    products = {p.id: p for p in parse("video-with-products.html").items[0].products}
    assert set(products) == {
        "tiktok:product:1729385720934617094",
        "tiktok:product:1729385720934617100",
    }  # the CapCut anchor is skipped
    deck = products["tiktok:product:1729385720934617094"]
    assert (deck.title, deck.price, deck.currency) == ("Mystery King Tarot Deck 23 cards", 12.99, "EUR")
    assert deck.url == "https://www.tiktok.com/view/product/1729385720934617094"
    assert products["tiktok:product:1729385720934617100"].price is None  # price 0 means "not shown"


def test_older_sigi_state_layout_gives_the_same_video():
    old = parse("video-sigi-state.html").items[0].to_json()
    new = parse("video-7571863205253778710.html").items[0].to_json()
    assert old == new


def test_private_video_is_an_error_not_an_item():
    result = parse("video-private.html")
    assert result.items == [] and result.blocked is None
    assert result.errors == ["tiktok/unavailable:private"]


@pytest.mark.parametrize("status", ['{"code": 10216}', "[10216]", '"10216"'])
def test_a_status_of_the_wrong_type_is_a_reason_not_a_crash(status):
    html = (FIXTURES / "video-private.html").read_text(encoding="utf-8")
    html = html.replace('"statusCode":10216', '"statusCode":' + status, 1)
    result = parse_page(Page(url=VIDEO_URL, body=html.encode()), "tiktok")
    assert result.items == [] and result.errors == ["tiktok/unavailable"]


def test_odd_types_give_none_not_zero():
    item = parse("video-odd-types.html").items[0].to_json()
    assert (
        item["metrics"]["likes"] is None
        and item["metrics"]["comments"] is None
        and item["metrics"]["shares"] is None
    )
    assert item["metrics"]["views"] == 19200  # "19.2K"
    assert item["creator"] is None  # no author object: no empty creator that looks like data
    assert item["published_at"] is None


def test_live_room_and_ended_room():
    live = parse("live-illojuan.html").items[0]
    assert live.kind == "live" and live.live.status == "live" and live.metrics.viewers == 3124
    ended = parse("live-ended.html").items[0]
    assert ended.live.status == "ended" and ended.metrics.viewers is None


def test_waf_page_is_blocked_without_items():
    result = parse("waf-challenge.html")
    assert result.blocked == "tiktok/waf_challenge" and result.items == []


def test_profile_links_to_its_videos():
    result = parse("profile-illojuan.html", "https://www.tiktok.com/@illojuan")
    assert len(result.links) == 18 and all("/@illojuan/video/" in link for link in result.links)


@pytest.mark.parametrize(
    "name",
    [
        "video-7571863205253778710.html",
        "profile-illojuan.html",
        "live-illojuan.html",
        "oembed-7571863205253778710.json",
        "waf-challenge.html",
    ],
)
def test_content_sniffing_recognises_saved_pages(name):
    page = Page(url=(FIXTURES / name).resolve().as_uri(), body=(FIXTURES / name).read_bytes())
    assert choose_parser(page).name == "tiktok"


def test_crawl_counts_items_links_and_blocked_pages(http_server, crawl):
    urls = [
        http_server.add_file(
            "/tt/@illojuan/video/7571863205253778710", FIXTURES / "video-with-products.html"
        ),
        http_server.add_file("/tt/@illojuan", FIXTURES / "profile-illojuan.html"),
        http_server.add_file("/tt/@illojuan/live", FIXTURES / "live-illojuan.html"),
        http_server.add_file("/tt/private", FIXTURES / "video-private.html"),
        http_server.add_file("/tt/waf", FIXTURES / "waf-challenge.html"),
    ]
    # scope=127.0.0.1: the profile's links point at www.tiktok.com, which a test must not fetch.
    outcome = crawl("tiktok", args={"urls": ",".join(urls), "scope": "127.0.0.1"})
    ids = outcome.by_id()
    assert {
        "tiktok:video:7571863205253778710",
        "tiktok:creator:6781206617314018309",
        "tiktok:live:7591234567890123456",
    } == set(ids)
    assert len(ids["tiktok:video:7571863205253778710"]["products"]) == 2
    assert outcome.stat("trendcart/blocked/tiktok") == 1
    assert outcome.stat("trendcart/parse_error/tiktok/unavailable:private") == 1
    assert outcome.stat("trendcart/out_of_scope") == 18


def test_api_item_detail_body_gives_the_page_video():
    api = parse("api-item-detail-7571863205253778710.json").items[0].to_json()
    page = parse("video-7571863205253778710.html").items[0].to_json()
    assert api == page and api["thumbnail"].startswith("https://")
    assert parse("api-item-detail-not-found.json").errors == ["tiktok/unavailable:not_found"]


def test_item_list_placeholder_author_stats_are_unknown():
    items = parse("api-post-item-list.json").items
    assert [i.id for i in items] == ["tiktok:video:7571863205253778710", "tiktok:video:7570000000000000001"]
    assert items[0].creator.followers == 783400
    assert items[1].creator.followers is None  # authorStats all 0 before they load: unknown, not 0


def test_live_in_universal_data_with_unloaded_user_stats():
    live = parse("live-universal-data.html", "https://www.tiktok.com/@illojuan/live").items[0]
    assert live.kind == "live" and live.live.status == "live" and live.live.started_at == live.published_at
    assert (live.metrics.viewers, live.metrics.views, live.metrics.likes) == (3124, 48211, 90412)
    assert live.creator.followers is None  # loadingState.getUserStat 0: the 0 is a placeholder
    assert live.thumbnail == "https://p16-webcast.tiktokcdn.com/webcast-va/cover.webp"


def test_creative_center_lists_seed_video_and_tag_pages():
    videos = parse("creative-center-popular-videos.html", "https://ads.tiktok.com/business/creativecenter/x")
    assert videos.items == [] and videos.links[0] == VIDEO_URL and len(videos.links) == 2
    tags = parse("creative-center-popular-hashtags.html", "https://ads.tiktok.com/business/creativecenter/x")
    assert tags.links == ["https://www.tiktok.com/tag/tortilla", "https://www.tiktok.com/tag/tarot"]


@pytest.mark.parametrize(
    "name",
    [
        "api-item-detail-7571863205253778710.json",
        "api-post-item-list.json",
        "live-universal-data.html",
        "creative-center-popular-videos.html",
    ],
)
def test_content_sniffing_recognises_api_bodies(name):
    page = Page(url=(FIXTURES / name).resolve().as_uri(), body=(FIXTURES / name).read_bytes())
    assert choose_parser(page).name == "tiktok"


def test_discover_trending_seeds_creative_center():
    from crawler.spiders.tiktok import CREATIVE_CENTER_URLS, TikTokSpider

    spider = TikTokSpider(discover="trending")
    assert spider.start_urls == list(CREATIVE_CENTER_URLS["trending"])
    with pytest.raises(ValueError, match="discover"):
        TikTokSpider(discover="nope")
