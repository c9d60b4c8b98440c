"""`scrapy crawl tiktok -a urls=URL` or `-a discover=trending`: TikTok video, profile, live pages, API bodies, oEmbed."""

from __future__ import annotations

from typing import Any

from crawler.spiders.base import TrendcartSpider
from crawler.spiders.douyin import discovery_urls

CREATIVE_CENTER = "https://ads.tiktok.com/business/creativecenter/inspiration/popular"
# TikTok Creative Center's public trending pages (first page embedded in __NEXT_DATA__), by `-a discover=`.
CREATIVE_CENTER_URLS = {
    "trending": (f"{CREATIVE_CENTER}/pc/en", f"{CREATIVE_CENTER}/hashtag/pc/en"),
    "videos": (f"{CREATIVE_CENTER}/pc/en",),
    "hashtags": (f"{CREATIVE_CENTER}/hashtag/pc/en",),
}


class TikTokSpider(TrendcartSpider):
    """Profiles link to their recent videos (server-rendered grid), which are followed within tiktok.com;
    `-a discover=trending|videos|hashtags` seeds the crawl with Creative Center's trending lists."""

    name = "tiktok"
    parser_name = "tiktok"
    stats_platform = "tiktok"

    def __init__(self, discover: str | None = None, urls: str | None = None, **kwargs: Any) -> None:
        extra = discovery_urls(discover, CREATIVE_CENTER_URLS)
        joined = ",".join(u for u in [urls or "", *extra] if u)
        super().__init__(urls=joined or None, **kwargs)
