"""`scrapy crawl sitemap -a urls=URL`: Google video sitemaps, sitemap indexes, gzip, robots.txt `Sitemap:` lines."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawler.parsers import get_parser
from crawler.parsers.base import ParseResult
from crawler.spiders.base import TrendcartSpider

TRUE_WORDS = ("1", "true", "yes", "on")


class PageFetchingSpider(TrendcartSpider):
    """With `-a pages=1`, also fetches the pages a parser lists in `ParseResult.pages` and parses them
    with the `jsonld` parser (a plain sitemap's <loc>s)."""

    page_parser_name = "jsonld"

    def __init__(self, pages: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fetch_pages = str(pages).strip().lower() in TRUE_WORDS if pages is not None else False
        self.page_parser = get_parser(self.page_parser_name)

    def emit(self, response: Response, result: ParseResult) -> Iterator[Any]:
        yield from super().emit(response, result)
        if not result.pages:
            return
        if not self.fetch_pages:
            self.inc("pages_not_fetched", len(result.pages))
            return
        for url in result.pages:
            if self.in_scope(url):
                yield scrapy.Request(response.urljoin(url), callback=self.parse_page, errback=self.on_error)
            else:
                self.inc("out_of_scope")

    def parse_page(self, response: Response) -> Iterator[Any]:
        yield from self.parse_response(response, self.page_parser).items


class SitemapSpider(PageFetchingSpider):
    """Start from sitemap.xml, sitemap_index.xml, *.xml.gz or robots.txt; child sitemaps are always followed."""

    name = "sitemap"
    parser_name = "sitemap"
