"""`scrapy crawl kuaishou -a urls=URL`: Kuaishou video pages (www.kuaishou.com/short-video/ID)."""

from __future__ import annotations

from crawler.spiders.base import TrendcartSpider


class KuaishouSpider(TrendcartSpider):
    """Kuaishou's listings are GraphQL calls behind cookies: start from URL lists."""

    name = "kuaishou"
    parser_name = "kuaishou"
    stats_platform = "kuaishou"
