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


@pytest.mark.parametrize("case", CASES, ids=str)
def test_golden(case):
    check_golden(case)


def parse(name: str, url: str = WATCH_URL):
    return parse_page(Page(url=url, body=(FIXTURES / name).read_bytes()), "youtube")


def test_real_watch_page():
    item = parse("watch-fJ9rUzIMcZQ.html").items[0]
    assert item.id == "youtube:video:fJ9rUzIMcZQ"
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
