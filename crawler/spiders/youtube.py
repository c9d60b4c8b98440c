"""`scrapy crawl youtube -a urls=URL`, `-a channels=UC...` (feeds) and `-a discover=live,shorts`: public lists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.http import Response

from crawler.parsers.platforms.youtube import is_feed_url
from crawler.spiders.base import TrendcartSpider

FEED_URL = "https://www.youtube.com/feeds/videos.xml?{key}={value}"
CHANNEL_TAB_URL = "https://www.youtube.com/channel/{channel}/{tab}"
# The public "Live" destination channel: its page lists streams that are live now, each with "N watching".
LIVE_DESTINATION = "UC4R8DWoMoI7CAwX8_LjQHig"
# discover= names -> the channel tab each opens: the Live tab (live now, upcoming and past streams) and the
# Shorts tab (Shorts with their view counts); `live-now` is the Live destination's list.
DISCOVER_TABS = {"live": "streams", "shorts": "shorts"}


def feed_urls(channels: str | None, playlists: str | None) -> list[str]:
    """Channel ids (UC...) and playlist ids (PL...) -> their public Atom feeds (15 newest videos each)."""
    urls = [
        FEED_URL.format(key="channel_id", value=c.strip()) for c in (channels or "").split(",") if c.strip()
    ]
    urls += [
        FEED_URL.format(key="playlist_id", value=p.strip()) for p in (playlists or "").split(",") if p.strip()
    ]
    return urls


def discover_urls(discover: str | None, channels: str | None) -> list[str]:
    """`-a discover=live,shorts[,live-now]`: each channel's Live and Shorts tabs, and the Live destination."""
    names = [n.strip().lower() for n in (discover or "").split(",") if n.strip()]
    unknown = [n for n in names if n not in DISCOVER_TABS and n != "live-now"]
    if unknown:
        known = ", ".join([*DISCOVER_TABS, "live-now"])
        raise ValueError(f"discover: unknown list {unknown[0]!r}; known: {known}")
    ids = [c.strip() for c in (channels or "").split(",") if c.strip()]
    urls = [
        CHANNEL_TAB_URL.format(channel=c, tab=DISCOVER_TABS[n])
        for n in names
        if n in DISCOVER_TABS
        for c in ids
    ]
    if "live-now" in names:
        urls.append(CHANNEL_TAB_URL.format(channel=LIVE_DESTINATION, tab="livetab"))
    return urls


class YouTubeSpider(TrendcartSpider):
    """Feeds give each video's views and likes; `-a watch=1` also fetches every watch page found in a
    feed or a discovered list (duration, comments, live state and product shelves). `-a discover=live,shorts`
    with `-a channels=` opens each channel's Live and Shorts tabs; `discover=live-now` the Live destination."""

    name = "youtube"
    parser_name = "youtube"
    stats_platform = "youtube"

    def __init__(
        self,
        channels: str | None = None,
        playlists: str | None = None,
        watch: str | None = None,
        urls: str | None = None,
        discover: str | None = None,
        **kwargs: Any,
    ) -> None:
        extra = feed_urls(channels, playlists) + discover_urls(discover, channels)
        joined = ",".join(u for u in [urls or "", *extra] if u)
        super().__init__(urls=joined or None, **kwargs)
        self.follow_watch = str(watch or "").lower() in ("1", "true", "yes")

    def emit(self, response: Response, result: Any) -> Iterator[Any]:
        yield from super().emit(response, result)
        listing = "/channel/" in response.url or "/youtubei/v1/browse" in response.url
        if self.follow_watch and (is_feed_url(response.url) or response.url.endswith(".xml") or listing):
            for item in result.items:
                if item.kind != "creator" and item.url and self.in_scope(item.url):
                    yield self.make_request(item.url)
