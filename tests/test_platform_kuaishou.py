"""Kuaishou adapter: pages built from the Apollo cache shape public extractors read (no real capture exists)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.parsers import choose_parser, parse_page
from crawler.parsers.base import Page
from tests.golden import GoldenCase, check_golden

FIXTURES = Path(__file__).parent / "fixtures" / "platforms" / "kuaishou"
URL = "https://www.kuaishou.com/short-video/3xk7gm9v3aq2bzu"

CASES = [
    GoldenCase(FIXTURES / "short-video-3xk7gm9v3aq2bzu.html", url=URL, parser=None),
    GoldenCase(FIXTURES / "short-video-odd-types.html", url=URL, parser=None),
    GoldenCase(FIXTURES / "short-video-deleted.html", url=URL, parser=None),
    GoldenCase(FIXTURES / "captcha.html", url=URL, parser=None),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_golden(case):
    check_golden(case)


def parse(name: str):
    return parse_page(Page(url=URL, body=(FIXTURES / name).read_bytes()), "kuaishou")


def test_video_fields():
    item = parse("short-video-3xk7gm9v3aq2bzu.html").items[0]
    assert item.id == "kuaishou:video:3xk7gm9v3aq2bzu"
    assert (item.metrics.views, item.metrics.likes) == (386000, 12034)  # realLikeCount over "1.2万"
    assert item.duration_s == 31 and item.creator.name == "穿搭小铺"
    assert item.hashtags == ["好物推荐", "冬季穿搭"]
    assert item.published_at == "2025-11-20T06:40:00Z"


def test_odd_types_give_none_not_zero():
    item = parse("short-video-odd-types.html").items[0]
    assert item.metrics.views is None and item.metrics.likes is None
    assert item.creator is None and item.published_at is None and item.duration_s is None


@pytest.mark.parametrize("ref", [["$ROOT_QUERY.x"], {"id": 1}, 7, None])
def test_a_tag_ref_of_the_wrong_type_is_skipped(ref):
    page = (FIXTURES / "short-video-odd-types.html").read_text(encoding="utf-8")
    page = page.replace('"tags":[{"type":"id"', '"tags":[{"id":' + json.dumps(ref) + '},{"type":"id"', 1)
    result = parse_page(Page(url=URL, body=page.encode()), "kuaishou")
    assert result.items[0].hashtags[:2] == ["好物推荐", "冬季穿搭"]


def test_deleted_and_captcha():
    assert parse("short-video-deleted.html").errors == ["kuaishou/unavailable"]
    captcha = parse("captcha.html")
    assert captcha.blocked == "kuaishou/captcha" and captcha.items == []


@pytest.mark.parametrize("name", ["short-video-3xk7gm9v3aq2bzu.html", "captcha.html"])
def test_content_sniffing_recognises_saved_pages(name):
    page = Page(url=(FIXTURES / name).resolve().as_uri(), body=(FIXTURES / name).read_bytes())
    assert choose_parser(page).name == "kuaishou"


def test_crawl_counts_items_and_blocked_pages(http_server, crawl):
    urls = [
        http_server.add_file(
            "/ks/short-video/3xk7gm9v3aq2bzu", FIXTURES / "short-video-3xk7gm9v3aq2bzu.html"
        ),
        http_server.add_file("/ks/deleted", FIXTURES / "short-video-deleted.html"),
        http_server.add_file("/ks/captcha", FIXTURES / "captcha.html"),
    ]
    outcome = crawl("kuaishou", args={"urls": ",".join(urls)})
    assert set(outcome.by_id()) == {"kuaishou:video:3xk7gm9v3aq2bzu"}
    assert outcome.stat("trendcart/blocked/kuaishou") == 1
    assert outcome.stat("trendcart/parse_error/kuaishou/unavailable") == 1
