"""`scrapy crawl tiktok -a urls=URL`: TikTok video, profile (-> its videos) and live pages, and oEmbed responses."""

from __future__ import annotations

from crawler.spiders.base import TrendcartSpider


class TikTokSpider(TrendcartSpider):
    """Profiles link to their recent videos (server-rendered grid), which are followed within tiktok.com."""

    name = "tiktok"
    parser_name = "tiktok"
    stats_platform = "tiktok"
