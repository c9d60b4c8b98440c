"""`scrapy crawl jsonld -a urls=URL`: schema.org JSON-LD (microdata, OpenGraph fallback) on any site."""

from __future__ import annotations

from crawler.spiders.base import TrendcartSpider


class JsonLdSpider(TrendcartSpider):
    """Videos, live streams and products from schema.org markup; `-a follow=N` follows in-scope links N deep."""

    name = "jsonld"
    parser_name = "jsonld"
