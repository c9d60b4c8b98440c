"""Spider scope comes from the parser: one list of domains per platform, followed by its spider."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.test import get_crawler

from crawler.parsers import get_parser
from crawler.parsers.base import ParseResult
from crawler.parsers.platforms import bilibili, douyin, kuaishou, tiktok, youtube
from crawler.spiders.base import TrendcartSpider

START = "http://127.0.0.1:8000/start"


@pytest.fixture(scope="module")
def spiders():
    """Every spider class of the project, by name, found as `scrapy crawl` finds them."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    loader = SpiderLoader.from_settings(settings)
    return {name: loader.load(name) for name in loader.list()}


def make_spider(spider_cls, **args):
    return spider_cls.from_crawler(get_crawler(spider_cls), urls=START, **args)


def followed(spider, links: list[str]) -> list[str]:
    response = HtmlResponse(START, body=b"<html></html>", encoding="utf-8", request=Request(START))
    return [r.url for r in spider.emit(response, ParseResult(links=links)) if isinstance(r, Request)]


def test_every_spider_with_a_parser_takes_its_scope_from_the_parser(spiders):
    with_parser = {name: cls for name, cls in spiders.items() if cls.parser_name}
    assert {"bilibili", "douyin", "kuaishou", "tiktok", "youtube", "jsonld", "sitemap", "feed"} <= set(
        with_parser
    )
    for name, cls in with_parser.items():
        assert cls.default_scope == tuple(get_parser(cls.parser_name).domains), name


def test_platform_parsers_own_their_module_domains_and_standards_own_none():
    for module in (bilibili, douyin, kuaishou, tiktok, youtube):
        assert module.PARSER.domains == module.DOMAINS and module.DOMAINS
    for name in ("jsonld", "sitemap", "feed"):
        assert get_parser(name).domains == ()


def test_the_drifted_domains_are_in_scope(spiders):
    # Once missing from the spiders' own copies: gifshow.com (kuaishou), b23.tv (bilibili), youtu.be (youtube).
    ks = make_spider(spiders["kuaishou"])
    assert followed(ks, ["https://www.gifshow.com/fw/photo/3xabc", "https://v.kuaishou.com/x"]) == [
        "https://www.gifshow.com/fw/photo/3xabc",
        "https://v.kuaishou.com/x",
    ]
    assert make_spider(spiders["bilibili"]).in_scope("https://b23.tv/BV1xx411c7mD")
    assert make_spider(spiders["youtube"]).in_scope("https://youtu.be/dQw4w9WgXcQ")
    assert make_spider(spiders["douyin"]).in_scope("https://www.iesdouyin.com/share/video/1/")


def test_scope_still_starts_from_the_start_urls_and_ends_at_other_sites(spiders):
    ks = make_spider(spiders["kuaishou"])
    assert followed(ks, ["http://127.0.0.1:8000/next", "https://www.tiktok.com/@someone"]) == [
        "http://127.0.0.1:8000/next"
    ]
    assert ks.crawler.stats.get_value("trendcart/out_of_scope") == 1
    jsonld = make_spider(spiders["jsonld"])
    assert jsonld.scope == {"127.0.0.1"}
    narrowed = make_spider(spiders["tiktok"], scope="example.com")
    assert narrowed.scope == {"example.com"} and not narrowed.in_scope("https://www.tiktok.com/@a")


def test_a_spider_cannot_repeat_its_parsers_domains():
    with pytest.raises(TypeError, match="scope comes from parser 'kuaishou'"):

        class Drifted(TrendcartSpider):
            name = "drifted"
            parser_name = "kuaishou"
            default_scope = ("kuaishou.com",)
