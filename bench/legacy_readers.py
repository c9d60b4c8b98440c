"""The TikTok spider as it was before issue #16: the platform readers (one-pattern script reader, whole-page
scans), a page that decodes its body a second time after Scrapy's `response.text`, and Scrapy's meta-refresh
check on: the baseline that bench/bench_crawl.py measures the shipped spider against, in the same run."""

from __future__ import annotations

import re
from typing import Any

from crawler.parsers.base import BadJson, Page, ParseResult, dig, loads_lenient, raw_decode_json


def script_text(html: str, script_id: str) -> str | None:
    """The text of `<script id="ID" ...>...</script>`, or None (one lazy pattern over the page)."""
    match = re.search(
        rf'<script[^>]*\bid=["\']{re.escape(script_id)}["\'][^>]*>(.*?)</script>', html, re.S | re.I
    )
    return match.group(1) if match else None


def assigned_json(html: str, name: str) -> Any:
    """The JSON value assigned to a global, scanning the whole page even when the name is absent."""
    pattern = rf"""(?:window\.{re.escape(name)}|window\[["']{re.escape(name)}["']\]|var\s+{re.escape(name)})\s*=\s*"""
    for match in re.finditer(pattern, html):
        start = match.end()
        try:
            value, _ = raw_decode_json(html, start)
        except BadJson as exc:
            if exc.reason == "too_deep":
                continue
            end = html.find("</script>", start)
            try:
                value = loads_lenient(html[start : end if end > 0 else None])
            except BadJson:
                continue
        return value
    return None


def tiktok_parse(self: Any, page: Page) -> ParseResult:
    """TikTokParser.parse as it was: the SIGI_STATE fallback read on every page, before the main state."""
    from crawler.parsers.platforms import tiktok as t

    html = page.text
    data = t.body_json(page)
    if isinstance(data, dict) and ("provider_name" in data or "embed_product_id" in data):
        return self._parse_oembed(page, data)
    if isinstance(data, dict) and t.is_api_body(data):
        return self._parse_api(page, data)
    next_data = t.script_json(html, "__NEXT_DATA__")
    if isinstance(next_data, dict) and dig(next_data, "props", "pageProps") is not None:
        return self._parse_creative_center(t.dict_or_empty(dig(next_data, "props", "pageProps")))
    universal = t.script_json(html, "__UNIVERSAL_DATA_FOR_REHYDRATION__")
    scope = t.dict_or_empty(dig(universal, "__DEFAULT_SCOPE__"))
    sigi = t.dict_or_empty(t.script_json(html, "SIGI_STATE") or t.assigned_json(html, "SIGI_STATE"))
    if "webapp.video-detail" in scope:
        return self._parse_video_detail(page, scope["webapp.video-detail"])
    if "webapp.user-detail" in scope:
        return self._parse_user_detail(page, scope["webapp.user-detail"], html)
    if sigi.get("LiveRoom"):
        return self._parse_live(page, sigi["LiveRoom"])
    if sigi.get("ItemModule"):
        return self._parse_sigi_items(page, sigi)
    if "webapp.live-detail" in scope or "webapp.live-room" in scope:
        return self._parse_live(page, scope.get("webapp.live-detail") or scope.get("webapp.live-room"))
    blocked = t.find_signal(html, t.BLOCK_SIGNALS)
    if blocked:
        return ParseResult(blocked=blocked)
    if universal is not None or sigi:
        return ParseResult(errors=["tiktok/unrecognised_state"])
    return ParseResult(errors=["tiktok/no_state"])


# The settings the spider ran with before (Scrapy's defaults then: the meta-refresh check on, 100 item
# workers started per response), set as the spider's own so that they win over crawler/settings.py.
OLD_SETTINGS = {"METAREFRESH_ENABLED": True, "CONCURRENT_ITEMS": 100}


def page_of(self: Any, response: Any) -> Page:
    """TrendcartSpider.page_of as it was: the page decodes the body itself, whatever Scrapy decoded."""
    content_type = response.headers.get(b"Content-Type")
    return Page(
        url=response.url,
        body=response.body,
        content_type=content_type.decode("latin-1") if content_type else None,
        status=response.status,
        observed_at=self.now(),
    )


def install() -> None:
    """Put the old spider in place of the shipped one (in this process only: the bench's baseline child):
    the old readers, the page's own decode and OLD_SETTINGS (before the crawler is made)."""
    from crawler.parsers.platforms import _common, tiktok
    from crawler.spiders.base import TrendcartSpider
    from crawler.spiders.tiktok import TikTokSpider

    _common.script_text = script_text
    _common.assigned_json = assigned_json
    tiktok.assigned_json = assigned_json
    tiktok.TikTokParser.parse = tiktok_parse
    TrendcartSpider.page_of = page_of
    TikTokSpider.custom_settings = {**(TikTokSpider.custom_settings or {}), **OLD_SETTINGS}
