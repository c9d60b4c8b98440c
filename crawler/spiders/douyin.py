"""`scrapy crawl douyin -a urls=URL`: Douyin video, share (iesdouyin.com) and live room pages."""

from __future__ import annotations

from crawler.spiders.base import TrendcartSpider


class DouyinSpider(TrendcartSpider):
    """Douyin offers no public listing to a visitor without signed requests: start from URL lists."""

    name = "douyin"
    parser_name = "douyin"
    stats_platform = "douyin"
