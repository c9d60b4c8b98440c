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
API = "https://www.douyin.com/aweme/v1/web"
HOT_URL = f"{API}/hot/search/list/?device_platform=webapp&aid=6383&channel=channel_pc_web&detail_list=1"

CASES = [
    GoldenCase(FIXTURES / "share-7535852404919586100.html", url=SHARE_URL, parser=None),
    GoldenCase(FIXTURES / "share-with-products.html", url=SHARE_URL, parser=None),
    GoldenCase(FIXTURES / "share-deleted.html", url=SHARE_URL, parser=None),
    GoldenCase(FIXTURES / "share-odd-types.html", url=SHARE_URL, parser=None),
    GoldenCase(FIXTURES / "video-render-data.html", url=VIDEO_URL, parser=None),
    GoldenCase(FIXTURES / "live-room.html", url="https://live.douyin.com/45599235625", parser=None),
    GoldenCase(FIXTURES / "captcha.html", url=VIDEO_URL, parser=None),
    GoldenCase(
        FIXTURES / "room-info-6843198199583378191.json",
        url="https://webcast.amemv.com/webcast/room/info/?room_id=6843198199583378191",
        parser=None,
    ),
    GoldenCase(
        FIXTURES / "room-web-enter-live.json",
        url="https://live.douyin.com/webcast/room/web/enter/?aid=6383&web_rid=830360786",
        parser=None,
    ),
    GoldenCase(
        FIXTURES / "room-web-enter-ended.json",
        url="https://live.douyin.com/webcast/room/web/enter/?aid=6383&web_rid=830360786",
        parser=None,
    ),
    GoldenCase(
        FIXTURES / "room-reflow-info.json",
        url="https://webcast.amemv.com/webcast/room/reflow/info/?room_id=6843198199583378191",
        parser=None,
    ),
    GoldenCase(
        FIXTURES / "live-promotions-6872323400263797518.json",
        url="https://live.douyin.com/live/promotions/page/?room_id=6872323400263797518",
        parser=None,
    ),
    GoldenCase(FIXTURES / "hot-search-board.json", url=HOT_URL, parser=None),
    GoldenCase(
        FIXTURES / "aweme-post.json", url=f"{API}/aweme/post/?sec_user_id=MS4wLjABAAAA&count=18", parser=None
    ),
    GoldenCase(FIXTURES / "aweme-feed.json", url=f"{API}/tab/feed/?count=10", parser=None),
    GoldenCase(
        FIXTURES / "user-render-data.html",
        url="https://www.douyin.com/user/MS4wLjABAAAAwJYnMkU3OD9tFsyxKQDJmIGfgYZ2lgi10ta9BsejXOA-m2pDSN0v9XVg2dJaeVvP",
        parser=None,
    ),
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


def test_real_ended_room_keeps_both_times_and_total_viewers():
    live = parse("room-info-6843198199583378191.json").items[0]
    assert live.live.status == "ended" and live.metrics.viewers is None
    assert (live.live.started_at, live.live.ended_at) == ("2020-06-28T01:04:01Z", "2020-06-28T16:44:16Z")
    assert (live.metrics.views, live.metrics.likes, live.creator.followers) == (164069, 4746, 214171)
    assert live.thumbnail.startswith("http://p9-webcast-dycdn.byteimg.com/")


@pytest.mark.parametrize(
    "name", ["room-web-enter-live.json", "room-web-enter-ended.json", "room-reflow-info.json"]
)
def test_webcast_room_bodies_are_live_items_never_unavailable(name):
    result = parse(name)
    assert result.errors == [] and len(result.items) == 1
    live = result.items[0]
    assert live.id == "douyin:live:6843198199583378191" and live.title == "小鱼家🐟服饰正在直播"
    if name == "room-web-enter-live.json":
        assert (live.live.status, live.metrics.viewers, live.metrics.views) == ("live", 12000, 164069)
        assert live.url == "https://live.douyin.com/830360786"


def test_live_product_list_prices_fen_to_yuan_featured_in_the_room():
    (product,) = parse("live-promotions-6872323400263797518.json").items
    assert (product.kind, product.title, product.price, product.currency) == (
        "product",
        "k00006三色显瘦牛仔裤",
        59.9,
        "CNY",
    )
    assert product.featured_in == ["douyin:live:6872323400263797518"]  # from detail_url's meta_param
    assert product.metrics.sales is None  # sale_num 0: not shown


def test_hot_board_seeds_hot_pages_and_videos():
    result = parse("hot-search-board.json", HOT_URL)
    assert result.items == [] and "https://www.douyin.com/hot/123223" in result.links
    assert "https://www.douyin.com/video/6870421703589549319" in result.links


def test_aweme_lists_and_feed_placeholder_followers():
    post = parse("aweme-post.json").items
    assert [v.id for v in post] == ["douyin:video:7535852404919586100", "douyin:video:7535000000000000002"]
    feed = parse("aweme-feed.json").items[0]
    assert feed.creator.followers is None  # follower_count 0 beside aweme_count 0: placeholder


def test_profile_render_data_gives_creator_and_posts():
    items = parse("user-render-data.html", "https://www.douyin.com/user/x").items
    assert [i.kind for i in items] == ["creator", "video", "video"]
    assert items[0].followers == 215000 and items[0].metrics.likes == 1830000


@pytest.mark.parametrize(
    "name",
    [
        "room-info-6843198199583378191.json",
        "room-web-enter-live.json",
        "room-reflow-info.json",
        "live-promotions-6872323400263797518.json",
        "hot-search-board.json",
        "aweme-post.json",
        "user-render-data.html",
    ],
)
def test_content_sniffing_recognises_api_bodies(name):
    page = Page(url=(FIXTURES / name).resolve().as_uri(), body=(FIXTURES / name).read_bytes())
    assert choose_parser(page).name == "douyin"


def test_discover_hot_seeds_the_hot_search_board():
    from crawler.parsers.platforms.douyin import HOT_SEARCH_URL
    from crawler.spiders.douyin import DouyinSpider

    assert DouyinSpider(discover="hot").start_urls == [HOT_SEARCH_URL]
    with pytest.raises(ValueError, match="discover"):
        DouyinSpider(discover="nope")
