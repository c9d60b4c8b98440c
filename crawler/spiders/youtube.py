"""`scrapy crawl youtube -a urls=URL` or `-a channels=UC...`: watch/Shorts pages and channel/playlist feeds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.http import Response

from crawler.parsers.platforms.youtube import is_feed_url
from crawler.spiders.base import TrendcartSpider

FEED_URL = "https://www.youtube.com/feeds/videos.xml?{key}={value}"


def feed_urls(channels: str | None, playlists: str | None) -> list[str]:
    """Channel ids (UC...) and playlist ids (PL...) -> their public Atom feeds (15 newest videos each)."""
    urls = [
        FEED_URL.format(key="channel_id", value=c.strip()) for c in (channels or "").split(",") if c.strip()
    ]
    urls += [
        FEED_URL.format(key="playlist_id", value=p.strip()) for p in (playlists or "").split(",") if p.strip()
    ]
    return urls


class YouTubeSpider(TrendcartSpider):
    """Feeds give each video's views and likes; `-a watch=1` also fetches every watch page found in a
    feed (duration, comments, live state and product shelves)."""

    name = "youtube"
    parser_name = "youtube"
    stats_platform = "youtube"

    def __init__(
        self,
        channels: str | None = None,
        playlists: str | None = None,
        watch: str | None = None,
        urls: str | None = None,
        **kwargs: Any,
    ) -> None:
        extra = feed_urls(channels, playlists)
        joined = ",".join(u for u in [urls or "", *extra] if u)
        super().__init__(urls=joined or None, **kwargs)
        self.follow_watch = str(watch or "").lower() in ("1", "true", "yes")

    def emit(self, response: Response, result: Any) -> Iterator[Any]:
        yield from super().emit(response, result)
        if self.follow_watch and (is_feed_url(response.url) or response.url.endswith(".xml")):
            for item in result.items:
                if item.url and self.in_scope(item.url):
                    yield self.make_request(item.url)
