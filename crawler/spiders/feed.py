"""`scrapy crawl feed -a urls=URL`: RSS 2.0 / Atom feeds, YouTube channel and playlist feeds included."""

from __future__ import annotations

from crawler.spiders.base import TrendcartSpider


class FeedSpider(TrendcartSpider):
    """Each feed entry becomes a video (platform youtube for YouTube feeds, web otherwise)."""

    name = "feed"
    parser_name = "feed"
