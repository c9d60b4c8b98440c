"""Kuaishou GraphQL bodies and live rooms (issue 17 item 4): fixtures shaped from public extractor code."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.parsers import choose_parser, parse_page
from crawler.parsers.base import Page
from tests.golden import FIXED_OBSERVED_AT, GoldenCase, check_golden

FIXTURES = Path(__file__).parent / "fixtures" / "platforms" / "kuaishou"
GRAPHQL = "https://www.kuaishou.com/graphql"
URLS = {
    "graphql-vision-video-detail.json": GRAPHQL,
    "graphql-vision-video-detail-gone.json": GRAPHQL,
    "graphql-vision-search-photo.json": GRAPHQL,
    "graphql-captcha.json": GRAPHQL,
    "live-room-kpl704668133.html": "https://live.kuaishou.com/u/KPL704668133",
    "live-room-offline.html": "https://live.kuaishou.com/u/3xnzv8m2ck9q4ye",
}
CASES = [GoldenCase(FIXTURES / name, url=url, parser=None) for name, url in URLS.items()]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_golden(case):
    check_golden(case)


def parse(name: str):
    body = (FIXTURES / name).read_bytes()
    return parse_page(Page(url=URLS[name], body=body, observed_at=FIXED_OBSERVED_AT), "kuaishou")


@pytest.mark.parametrize("name", sorted(URLS))
def test_extract_without_url_recognises_every_body(name):
    page = Page(url=(FIXTURES / name).resolve().as_uri(), body=(FIXTURES / name).read_bytes())
    assert choose_parser(page).name == "kuaishou"


def test_graphql_detail_matches_the_page_form():
    api = parse("graphql-vision-video-detail.json").items[0].to_json()
    page = parse_page(
        Page(
            url="https://www.kuaishou.com/short-video/3xk7gm9v3aq2bzu",
            body=(FIXTURES / "short-video-3xk7gm9v3aq2bzu.html").read_bytes(),
            observed_at=FIXED_OBSERVED_AT,
        ),
        "kuaishou",
    ).items[0]
    assert api == page.to_json()  # one photo, two forms, one item
    assert api["thumbnail"] == "https://p2.a.yximgs.com/upic/2026/11/20/cover.jpg"


def test_search_feed_gives_every_photo_with_display_counts():
    items = parse("graphql-vision-search-photo.json").items
    assert [i.id for i in items] == ["kuaishou:video:3xk7gm9v3aq2bzu", "kuaishou:video:3xd8r5h2m4wkq7a"]
    assert items[0].metrics.views == 386000  # "38.6万"
    assert items[1].language == "de" and items[1].duration_s == 58


def test_gone_and_captcha_answers():
    assert parse("graphql-vision-video-detail-gone.json").errors == ["kuaishou/unavailable"]
    captcha = parse("graphql-captcha.json")
    assert captcha.blocked == "kuaishou/captcha" and captcha.items == []


def test_live_room_viewers_start_and_cover():
    live = parse("live-room-kpl704668133.html").items[0]
    assert live.id == "kuaishou:live:KPL704668133" and live.live.status == "live"
    assert live.metrics.viewers == 235000  # gameInfo.watchingCount "23.5万"
    assert live.live.started_at == live.published_at == "2026-11-25T08:00:00Z"
    assert live.creator.verified is True and live.thumbnail.endswith("cover-c9t2Xq8LmZk.jpg")
    offline = parse("live-room-offline.html").items[0]
    assert offline.live.status == "ended" and offline.metrics.viewers is None
