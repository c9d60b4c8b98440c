"""`scrapy crawl douyin -a urls=URL` or `-a discover=hot`: Douyin video, share, profile and live pages, API bodies."""

from __future__ import annotations

from typing import Any

from crawler.parsers.platforms.douyin import HOT_SEARCH_URL
from crawler.spiders.base import TrendcartSpider

# Public lists a visitor opens without a signed request, by `-a discover=` name.
DISCOVERY_URLS = {"hot": (HOT_SEARCH_URL,)}


def discovery_urls(name: str | None, known: dict[str, tuple[str, ...]]) -> list[str]:
    """The seed URLs of `-a discover=a,b`; ValueError naming the known lists for an unknown one."""
    found: list[str] = []
    for part in (name or "").split(","):
        part = part.strip().lower()
        if not part:
            continue
        if part not in known:
            raise ValueError(f"unknown discover list {part!r}; known: {', '.join(sorted(known))}")
        found.extend(known[part])
    return found


class DouyinSpider(TrendcartSpider):
    """Start from URL lists, or `-a discover=hot` (the hot-search board -> its hot pages and videos)."""

    name = "douyin"
    parser_name = "douyin"
    stats_platform = "douyin"

    def __init__(self, discover: str | None = None, urls: str | None = None, **kwargs: Any) -> None:
        extra = discovery_urls(discover, DISCOVERY_URLS)
        joined = ",".join(u for u in [urls or "", *extra] if u)
        super().__init__(urls=joined or None, **kwargs)
