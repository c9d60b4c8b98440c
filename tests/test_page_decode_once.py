"""A page's body is decoded once: the spider's Page takes Scrapy's `response.text` only when it is provably
the string the Page would decode itself (issue #16), and platform spiders skip Scrapy's meta-refresh check."""

from __future__ import annotations

import codecs
import random
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.test import get_crawler
from w3lib.encoding import html_to_unicode, read_bom

from crawler.parsers.base import Page
from crawler.spiders.base import TrendcartSpider

FIXTURES = Path(__file__).parent / "fixtures"
URL = "http://127.0.0.1:8000/page"
CONTENT_TYPES = (
    "text/html; charset=utf-8",
    "text/html; charset=UTF8",
    'text/html; charset="utf-8"',
    "text/html; charset=iso-8859-1",
    "text/html; charset=latin-1",
    "text/html; charset=gbk",
    "text/html; charset=gb2312",
    "text/html; charset=shift_jis",
    "text/html; charset=utf-16",
    "text/html; charset=no-such-charset",
    "text/html",
    "application/json; charset=utf-8",
    None,
)
BODIES = (
    b"<html><head><title>caf\xc3\xa9 \xe5\xa5\xbd\xe7\x89\xa9</title></head><body>x</body></html>",
    b'<html><head><meta charset="gbk"><title>\xba\xc3\xce\xef</title></head></html>',
    b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"></head>caf\xe9</html>',
    b'<?xml version="1.0" encoding="windows-1252"?><rss><title>caf\xe9</title></rss>',
    b"\xef\xbb\xbf<html><title>marked caf\xc3\xa9</title></html>",
    codecs.BOM_UTF16_LE + "<html><title>wide café</title></html>".encode("utf-16-le"),
    b"<html><title>broken \xff\xfe\xc3 bytes \xe5\xa5</title></html>",
    b'{"id": "7", "title": "\xe5\xa5\xbd\xe7\x89\xa9"}',
    b"",
)


def fixture_bodies() -> list[bytes]:
    return [p.read_bytes() for p in sorted(FIXTURES.rglob("*")) if p.is_file() and p.suffix != ".py"]


def spider() -> TrendcartSpider:
    from crawler.spiders.tiktok import TikTokSpider

    return TikTokSpider.from_crawler(get_crawler(TikTokSpider), urls=URL)


def scrapy_response(body: bytes, content_type: str | None) -> Response:
    """A response as Scrapy's downloader makes it (its class chosen from the headers, no encoding given)."""
    from scrapy.responsetypes import responsetypes

    headers = {"Content-Type": content_type} if content_type else {}
    cls = responsetypes.from_args(headers=headers, url=URL, body=body)
    return cls(URL, body=body, headers=headers, request=Request(URL))


def own_text(body: bytes, content_type: str | None) -> str:
    """The page's text as it was before: the page decoding its body itself."""
    return Page(url=URL, body=body, content_type=content_type).text


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_the_page_text_is_the_same_string_whether_adopted_or_decoded(content_type):
    the_spider = spider()
    bodies = [*BODIES, *fixture_bodies()]
    rng = random.Random(16)
    bodies += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))) for _ in range(40)]
    adopted = texts = 0
    for body in bodies:
        response = scrapy_response(body, content_type)
        page = the_spider.page_of(response)
        assert page.text == own_text(body, content_type), (content_type, body[:80])
        if isinstance(response, TextResponse) and read_bom(body)[0] is None:
            texts += 1  # Scrapy decoded it as text and no mark decides: adoptable when the charset agrees
            adopted += page.text is response.text
    if content_type and ("utf-8" in content_type or "UTF8" in content_type):
        assert texts > 200 and adopted == texts  # decoded once, by Scrapy


def test_the_common_page_is_decoded_once_by_scrapy():
    body = (FIXTURES / "platforms" / "tiktok").glob("*.html").__next__().read_bytes()
    response = scrapy_response(body, "text/html; charset=utf-8")
    page = spider().page_of(response)
    assert page.text is response.text


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("text/html; charset=utf-8", BODIES[0], "utf-8"),
        ("text/html; charset=latin-1", BODIES[0], "cp1252"),  # w3lib reads latin-1 as its superset
        ("text/html; charset=utf-16", b"<html></html>", "utf-16-be"),
        ("text/html", BODIES[1], "gb18030"),
        (None, BODIES[2], "cp1252"),
        (None, BODIES[3], "cp1252"),
        ("text/html; charset=utf-8", BODIES[4], None),  # a byte order mark decides, and is dropped
        ("text/html", BODIES[0], None),  # undeclared: read as UTF-8, never adopted
        ("text/html; charset=no-such-charset", BODIES[0], None),
    ],
)
def test_declared_encoding_is_the_codec_w3lib_decodes_with(content_type, body, expected):
    page = Page(url=URL, body=body, content_type=content_type)
    assert page.declared_encoding() == expected
    if expected:
        header = page._charset_header()
        assert codecs.lookup(html_to_unicode(header, page.body)[0]).name == expected


def test_a_text_of_another_codec_is_refused_and_the_page_decodes_itself():
    body = "<html><title>café</title></html>".encode("latin-1")
    page = Page(url=URL, body=body, content_type="text/html; charset=iso-8859-1")
    wrong = body.decode("utf-8", "replace")
    assert page.adopt_text(wrong, "utf-8") is False
    assert page.text == "<html><title>café</title></html>"
    # Scrapy's response made with an explicit encoding that disagrees with the header: not adopted.
    response = HtmlResponse(
        URL, body=body, headers={"Content-Type": "text/html; charset=iso-8859-1"}, encoding="utf-8"
    )
    assert spider().page_of(response).text == "<html><title>café</title></html>"


@pytest.fixture(scope="module")
def spider_classes():
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    loader = SpiderLoader.from_settings(settings)
    return {name: loader.load(name) for name in loader.list()}


def test_platform_spiders_skip_the_meta_refresh_check_and_generic_ones_keep_it(spider_classes):
    for name in ("tiktok", "douyin", "youtube", "kuaishou", "bilibili"):
        crawler = get_crawler(spider_classes[name], settings_dict={})
        assert crawler.settings.getbool("METAREFRESH_ENABLED") is False, name
    for name in ("jsonld", "sitemap", "feed"):
        crawler = get_crawler(spider_classes[name], settings_dict={})
        assert crawler.settings.getbool("METAREFRESH_ENABLED") is True, name
