"""YouTube adapter: golden pages (a real watch page and pages derived from it), Shorts ids, feeds, and a real crawl."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.parsers import choose_parser, parse_page
from crawler.parsers.base import Page
from crawler.parsers.platforms.youtube import PARSER, video_id_from_url
from tests.golden import GoldenCase, check_golden

FIXTURES = Path(__file__).parent / "fixtures" / "platforms" / "youtube"
WATCH_URL = "https://www.youtube.com/watch?v=fJ9rUzIMcZQ"
FEED_URL = "https://www.youtube.com/feeds/videos.xml?channel_id=UCiMhD4jzUqG-IgPzUmmytRQ"

CASES = [
    GoldenCase(FIXTURES / "watch-fJ9rUzIMcZQ.html", url=WATCH_URL, parser=None),
    GoldenCase(FIXTURES / "watch-with-products.html", url=WATCH_URL, parser=None),
    GoldenCase(FIXTURES / "watch-live.html", url="https://www.youtube.com/live/fJ9rUzIMcZQ", parser=None),
    GoldenCase(FIXTURES / "watch-unavailable.html", url=WATCH_URL, parser=None),
    GoldenCase(FIXTURES / "watch-bot-check.html", url=WATCH_URL, parser=None),
    GoldenCase(
        FIXTURES / "watch-odd-types.html", url="https://www.youtube.com/shorts/fJ9rUzIMcZQ", parser=None
    ),
    GoldenCase(FIXTURES / "consent.html", url=WATCH_URL, parser=None),
]
# InnerTube bodies (real captures cut from NewPipeExtractor's mocks, two derived; see SOURCES.md).
API = "https://www.youtube.com/youtubei/v1/"
GAPI = "https://youtubei.googleapis.com/youtubei/v1/"
API_CASES = [
    GoldenCase(FIXTURES / "player-X4VbdwhkE10.json", url=GAPI + "player?prettyPrint=false", parser=None),
    GoldenCase(
        FIXTURES / "player-fields-X4VbdwhkE10.json", url=API + "player?prettyPrint=false", parser=None
    ),
    GoldenCase(FIXTURES / "next-X4VbdwhkE10.json", url=API + "next?prettyPrint=false", parser=None),
    GoldenCase(
        FIXTURES / "player-fields-cV5TjZCJkuA.json", url=API + "player?prettyPrint=false", parser=None
    ),
    GoldenCase(FIXTURES / "next-cV5TjZCJkuA.json", url=API + "next?prettyPrint=false", parser=None),
    GoldenCase(FIXTURES / "next-3sbYbckT1VY.json", url=API + "next?prettyPrint=false", parser=None),
    GoldenCase(FIXTURES / "reel-_PL2HJKxnOM.json", url=GAPI + "reel/reel_item_watch", parser=None),
    GoldenCase(FIXTURES / "browse-live-UC4R8DWoMoI7CAwX8_LjQHig.json", url=API + "browse", parser=None),
    GoldenCase(FIXTURES / "browse-streams-UCR-DXc1voovS8nhAvccRZhg.json", url=API + "browse", parser=None),
    GoldenCase(FIXTURES / "browse-shorts-UCh8gHdtzO2tXd593_bjErWg.json", url=API + "browse", parser=None),
    GoldenCase(FIXTURES / "player-scheduled.json", url=API + "player", parser=None),
    GoldenCase(FIXTURES / "player-ended.json", url=API + "player", parser=None),
]
CASES += API_CASES


@pytest.mark.parametrize("case", CASES, ids=str)
def test_golden(case):
    check_golden(case)


def parse(name: str, url: str = WATCH_URL):
    return parse_page(Page(url=url, body=(FIXTURES / name).read_bytes()), "youtube")


def test_real_watch_page():
    item = parse("watch-fJ9rUzIMcZQ.html").items[0]
    assert item.id == "youtube:video:fJ9rUzIMcZQ"
    assert item.creator.id == "youtube:creator:UCiMhD4jzUqG-IgPzUmmytRQ"  # the feed parser's form
    assert item.thumbnail.startswith("https://i.ytimg.com/vi/fJ9rUzIMcZQ/")
    assert (item.metrics.views, item.metrics.likes, item.metrics.comments) == (2001156445, 13725279, 684000)
    assert item.creator.handle == "Queen" and item.creator.followers == 18800000
    assert item.duration_s == 359 and item.live is None


def test_product_shelf_items():
    products = parse("watch-with-products.html").items[0].products
    assert [(p.title, p.price, p.currency, p.shop) for p in products] == [
        ("Queen – A Night At The Opera (Vinyl)", 24.99, "USD", "store.queenonline.com"),
        ("Bohemian Rhapsody T-Shirt", 19.99, "EUR", "Queen Official Store"),
    ]
    assert products[0].url == "https://store.queenonline.com/vinyl"


def test_live_now_is_a_live_item():
    item = parse("watch-live.html").items[0]
    assert item.kind == "live" and item.id == "youtube:live:fJ9rUzIMcZQ"
    assert item.live.status == "live" and item.live.started_at == "2026-11-25T09:00:00Z"
    assert item.metrics.viewers == 1234


def test_unavailable_is_an_error_and_bot_check_is_blocked():
    gone = parse("watch-unavailable.html")
    assert gone.items == [] and gone.errors == ["youtube/unavailable:error"] and gone.blocked is None
    bot = parse("watch-bot-check.html")
    assert bot.items == [] and bot.blocked == "youtube/bot_check"
    assert parse("consent.html").blocked == "youtube/consent"


@pytest.mark.parametrize("status", ['{"s": "ERROR"}', '["ERROR"]', "404"])
def test_a_status_of_the_wrong_type_is_a_reason_not_a_crash(status):
    html = (FIXTURES / "watch-unavailable.html").read_text(encoding="utf-8")
    html = html.replace('"playabilityStatus":{"status":"ERROR"', '"playabilityStatus":{"status":' + status, 1)
    result = parse_page(Page(url=WATCH_URL, body=html.encode()), "youtube")
    assert result.items == [] and result.errors[0].startswith("youtube/unavailable:")


def test_bad_brackets_in_a_url_name_no_video():
    assert video_id_from_url("https://[www.youtube.com/watch?v=fJ9rUzIMcZQ") is None


def test_odd_types_give_none_not_zero():
    item = parse("watch-odd-types.html", "https://www.youtube.com/shorts/fJ9rUzIMcZQ").items[0]
    assert item.metrics.views is None and item.metrics.likes is None
    assert item.duration_s is None and item.published_at is None
    assert item.creator.id is None and item.creator.name is None
    assert item.url == "https://www.youtube.com/shorts/fJ9rUzIMcZQ"


@pytest.mark.parametrize(
    "url",
    [
        WATCH_URL,
        "https://www.youtube.com/shorts/fJ9rUzIMcZQ",
        "https://youtu.be/fJ9rUzIMcZQ",
        "https://www.youtube.com/live/fJ9rUzIMcZQ?si=x",
        "https://m.youtube.com/watch?v=fJ9rUzIMcZQ&t=3",
    ],
)
def test_every_url_form_names_the_same_video(url):
    assert video_id_from_url(url) == "fJ9rUzIMcZQ"


def test_feeds_belong_to_the_feed_parser_and_still_parse_through_youtube():
    page = Page(
        url=FEED_URL,
        body=(FIXTURES / "feed-UCiMhD4jzUqG-IgPzUmmytRQ.xml").read_bytes(),
        content_type="application/xml",
    )
    assert not PARSER.matches_url(FEED_URL) or choose_parser(page).name == "youtube"
    result = parse_page(page, "youtube")  # what the youtube spider does: delegated, same ids either way
    assert [item.id for item in result.items] == ["youtube:video:fJ9rUzIMcZQ"]
    assert result.items[0].metrics.views == 2001156445


@pytest.mark.parametrize("name", ["watch-fJ9rUzIMcZQ.html", "watch-live.html", "consent.html"])
def test_content_sniffing_recognises_saved_pages(name):
    page = Page(url=(FIXTURES / name).resolve().as_uri(), body=(FIXTURES / name).read_bytes())
    assert choose_parser(page).name == "youtube"


def test_crawl_counts_items_and_blocked_pages(http_server, crawl):
    urls = [
        http_server.add_file("/yt/watch", FIXTURES / "watch-with-products.html"),
        http_server.add_file("/yt/live", FIXTURES / "watch-live.html"),
        http_server.add_file("/yt/gone", FIXTURES / "watch-unavailable.html"),
        http_server.add_file("/yt/bot", FIXTURES / "watch-bot-check.html"),
        http_server.add(
            "/yt/feeds/videos.xml",
            (FIXTURES / "feed-UCiMhD4jzUqG-IgPzUmmytRQ.xml").read_bytes(),
            content_type="application/atom+xml",
        ),
    ]
    outcome = crawl("youtube", args={"urls": ",".join(urls)})
    ids = outcome.by_id()
    assert set(ids) == {"youtube:video:fJ9rUzIMcZQ", "youtube:live:fJ9rUzIMcZQ"}
    assert outcome.stat("trendcart/blocked/youtube") == 1
    assert outcome.stat("trendcart/parse_error/youtube/unavailable:error") == 1


def api(name: str, endpoint: str = "next"):
    page = Page(url=API + endpoint, body=(FIXTURES / name).read_bytes(), content_type="application/json")
    return parse_page(page)


def test_next_alone_gives_the_core_fields_exact_likes_comments_and_subscribers():
    item = api("next-cV5TjZCJkuA.json").items[0]
    assert (item.id, item.title) == ("youtube:video:cV5TjZCJkuA", "This Smartphone Changes Everything...")
    assert (item.metrics.views, item.metrics.likes, item.metrics.comments) == (22111847, 348977, 28000)
    assert item.published_at == "2018-06-19T00:00:00Z"
    assert (
        item.creator.id == "youtube:creator:UCsTcErHg8oDvUnTzoqsYeNw" and item.creator.followers == 25400000
    )


def test_merch_shelf_product_list_and_overlay_are_one_product_each():
    products = api("next-cV5TjZCJkuA.json").items[0].products
    titles = [p.title for p in products]
    assert len(titles) == len(set(titles)) == 6  # 6 shelf items, repeated in the list and the overlay
    first = products[0]
    assert (first.title, first.price, first.currency, first.shop) == (
        "Pixel 9 Thin Case // Latercase Willy Blue",
        26.02,
        "EUR",
        "Latercase",
    )
    assert first.thumbnail.startswith("https://encrypted-tbn2.gstatic.com/")


def test_live_next_counts_viewers_not_views():
    item = api("next-X4VbdwhkE10.json").items[0]
    assert item.kind == "live" and item.live.status == "live"
    assert (item.metrics.viewers, item.metrics.views, item.metrics.likes) == (10226, None, 5366)


def test_collaborators_are_creator_items_and_the_first_is_the_creator():
    result = api("next-3sbYbckT1VY.json")
    video, *creators = result.items
    assert [c.id for c in creators] == [
        "youtube:creator:UC513PdAP2-jWkJunTh5kXRw",
        "youtube:creator:UCY1kMZp36IQSyNx_9h4mpCg",
    ]
    assert [(c.handle, c.followers) for c in creators] == [("CrunchLabs", 2860000), ("MarkRober", 78100000)]
    assert video.creator.id == creators[0].id


def test_live_scheduled_and_ended_player_bodies():
    live = api("player-fields-X4VbdwhkE10.json", "player").items[0]
    assert (
        live.kind == "live" and live.live.started_at == "2026-06-04T06:53:18Z" and live.metrics.likes == 5366
    )
    scheduled = api("player-scheduled.json", "player").items[0]
    assert scheduled.live.status == "scheduled" and scheduled.live.started_at == "2026-11-25T10:00:00Z"
    assert scheduled.metrics.views is None  # the "0" of a stream that has not aired is unknown
    ended = api("player-ended.json", "player").items[0]
    assert ended.kind == "video" and ended.live.status == "ended"
    assert ended.live.ended_at == "2026-06-04T09:12:40Z"


def test_an_unplayable_video_keeps_its_metadata():
    result = api("reel-_PL2HJKxnOM.json", "reel/reel_item_watch")
    assert result.errors == ["youtube/unavailable:unplayable"] and result.blocked is None
    item = result.items[0]
    assert item.title == "SNL Introduces Jim Carrey as Joe Biden | Saturday Night Live"
    assert item.metrics.views == 395969 and item.duration_s == 115


def test_browse_live_listing_shorts_tab_and_streams_tab():
    lives = api("browse-live-UC4R8DWoMoI7CAwX8_LjQHig.json", "browse").items
    assert lives and all(i.kind == "live" and i.metrics.viewers for i in lives)
    assert (lives[0].id, lives[0].metrics.viewers) == ("youtube:live:bC5Mv1IwTlo", 316)
    shorts = api("browse-shorts-UCh8gHdtzO2tXd593_bjErWg.json", "browse").items
    assert shorts[0].url == "https://www.youtube.com/shorts/l-X5WbDSH2o" and shorts[0].metrics.views == 895000
    assert shorts[-1].id == "youtube:creator:UCh8gHdtzO2tXd593_bjErWg"
    streams = api("browse-streams-UCR-DXc1voovS8nhAvccRZhg.json", "browse").items
    assert (
        streams[0].live.status == "ended"
        and streams[0].metrics.views == 43000
        and streams[0].duration_s == 3053
    )


@pytest.mark.parametrize("case", API_CASES, ids=str)
def test_api_bodies_are_recognised_without_a_url(case):
    page = Page(url=case.page.resolve().as_uri(), body=case.page.read_bytes())
    assert choose_parser(page).name == "youtube"


def test_feed_and_watch_parsers_write_one_creator_id_form():
    feed = Page(url=FEED_URL, body=(FIXTURES / "feed-UCiMhD4jzUqG-IgPzUmmytRQ.xml").read_bytes())
    from_feed = parse_page(feed).items[0].creator.id
    assert (
        from_feed
        == parse("watch-fJ9rUzIMcZQ.html").items[0].creator.id
        == "youtube:creator:UCiMhD4jzUqG-IgPzUmmytRQ"
    )


def test_dedupe_products_on_url_without_tracking_or_title_and_price():
    from crawler.items import ProductRef
    from crawler.parsers.platforms._common import dedupe_products, strip_tracking

    assert (
        strip_tracking("https://Shop.example/p?id=1&utm_source=yt&srsltid=x") == "https://shop.example/p?id=1"
    )
    kept = dedupe_products(
        [
            ProductRef(title="Mug", url="https://shop.example/mug?utm_medium=shelf", shop=None),
            ProductRef(title="Mug (list)", url="https://shop.example/mug?utm_medium=list", shop="Shop"),
            ProductRef(title="Cap", price=5.0),
            ProductRef(title="cap", price=5.0, thumbnail="https://img.example/cap.jpg"),
            ProductRef(title="Cap", price=6.0),
        ]
    )
    assert [(p.title, p.shop, p.price, p.thumbnail) for p in kept] == [
        ("Mug", "Shop", None, None),
        ("Cap", None, 5.0, "https://img.example/cap.jpg"),
        ("Cap", None, 6.0, None),
    ]


def test_a_channel_tab_page_reads_its_embedded_browse_body():
    body = (FIXTURES / "browse-shorts-UCh8gHdtzO2tXd593_bjErWg.json").read_text(encoding="utf-8")
    html = f"<html><script>var ytInitialData = {body};</script></html>"
    url = "https://www.youtube.com/channel/UCh8gHdtzO2tXd593_bjErWg/shorts"
    result = parse_page(Page.from_text(url, html))
    assert result.errors == [] and result.items[0].id == "youtube:video:l-X5WbDSH2o"


def test_discover_lists_are_channel_tabs_and_the_live_destination():
    from crawler.spiders.youtube import discover_urls

    assert discover_urls("live,shorts,live-now", "UCR-DXc1voovS8nhAvccRZhg") == [
        "https://www.youtube.com/channel/UCR-DXc1voovS8nhAvccRZhg/streams",
        "https://www.youtube.com/channel/UCR-DXc1voovS8nhAvccRZhg/shorts",
        "https://www.youtube.com/channel/UC4R8DWoMoI7CAwX8_LjQHig/livetab",
    ]
    with pytest.raises(ValueError, match="unknown list 'hot'"):
        discover_urls("hot", None)
