"""`scrapy crawl bilibili`: the popular list and the ranking by default; or `-a urls=` / `-a bvids=` / `-a rooms=`
/ `-a discover=live,area:PARENT[:AREA]` (the public live room lists)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

import scrapy

from crawler.parsers.platforms.bilibili import API, view_api_url
from crawler.spiders.base import TrendcartSpider

POPULAR_URL = f"{API}/x/web-interface/popular?ps=20&pn=1"
RANKING_URL = f"{API}/x/web-interface/ranking/v2?rid=0&type=all"
LIVE_INFO_URL = "https://api.live.bilibili.com/room/v1/Room/get_info?room_id={room}"
# The public live room lists a visitor's browser opens without signing in (docs/PLATFORMS.md "Bilibili").
LIVE_RECOMMEND_URL = (
    "https://api.live.bilibili.com/xlive/web-interface/v1/webMain/getMoreRecList?platform=web"
)
LIVE_AREA_URL = (
    "https://api.live.bilibili.com/xlive/web-interface/v1/second/getList"
    "?platform=web&parent_area_id={parent}&area_id={area}&sort_type=&page=1"
)
DISCOVER_LISTS = {"popular": POPULAR_URL, "ranking": RANKING_URL, "live": LIVE_RECOMMEND_URL}
_AREA_RE = re.compile(r"^area:(\d{1,6})(?::(\d{1,6}))?$")
_BVID_RE = re.compile(r"/video/(BV[0-9A-Za-z]{10})")
_ROOM_RE = re.compile(r"^/(\d+)")


def discover_urls(discover: str | None) -> list[str]:
    """`popular`, `ranking`, `live` (the live home page's recommended rooms) and `area:PARENT[:AREA]` (one live
    area's rooms, area 0 = the whole parent area) -> their list URLs; ValueError names an unknown list."""
    urls = []
    for name in (n.strip().lower() for n in (discover or "").split(",") if n.strip()):
        area = _AREA_RE.match(name)
        if area:
            urls.append(LIVE_AREA_URL.format(parent=area.group(1), area=area.group(2) or "0"))
        elif name in DISCOVER_LISTS:
            urls.append(DISCOVER_LISTS[name])
        else:
            known = ", ".join([*DISCOVER_LISTS, "area:PARENT[:AREA]"])
            raise ValueError(f"unknown discover list {name!r}; known: {known}")
    return urls


def api_url(url: str) -> str:
    """www.bilibili.com/video/BV... -> the view API the page itself calls; live.bilibili.com/ROOM -> room info.
    Other URLs (the API itself, lists) are kept."""
    parsed = urlparse(url)
    hostname = (parsed.hostname or "").lower()
    if hostname.endswith("bilibili.com") and not hostname.startswith("api."):
        if hostname.startswith("live.") and _ROOM_RE.match(parsed.path):
            return LIVE_INFO_URL.format(room=_ROOM_RE.match(parsed.path).group(1))
        match = _BVID_RE.search(parsed.path)
        if match:
            return view_api_url(match.group(1))
    return url


class BilibiliSpider(TrendcartSpider):
    """Without arguments: the popular list (paged) and the all-site ranking, as a visitor sees them.
    `-a pages_as_api=0` keeps www.bilibili.com video pages as pages (parsed from __INITIAL_STATE__)."""

    name = "bilibili"
    parser_name = "bilibili"
    stats_platform = "bilibili"
    default_start_urls = (POPULAR_URL, RANKING_URL)

    def __init__(
        self,
        bvids: str | None = None,
        rooms: str | None = None,
        pages_as_api: str | None = None,
        urls: str | None = None,
        discover: str | None = None,
        **kwargs: Any,
    ) -> None:
        extra = [view_api_url(b.strip()) for b in (bvids or "").split(",") if b.strip()]
        extra += discover_urls(discover)
        extra += [LIVE_INFO_URL.format(room=r.strip()) for r in (rooms or "").split(",") if r.strip()]
        joined = ",".join(u for u in [urls or "", *extra] if u)
        super().__init__(urls=joined or None, **kwargs)
        self.pages_as_api = str(pages_as_api or "1").lower() not in ("0", "false", "no")

    def start_requests(self) -> Iterable[scrapy.Request]:
        for url in self.start_urls:
            yield self.make_request(api_url(url) if self.pages_as_api else url)
