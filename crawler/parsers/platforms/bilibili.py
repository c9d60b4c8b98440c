"""Bilibili: the public web-interface JSON API (view, popular, ranking), the live API bodies and video pages; see docs/PLATFORMS.md."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from crawler.items import CreatorRef, Metrics, VideoItem, make_id
from crawler.normalize import guess_language, normalise_hashtags, parse_datetime, parse_duration
from crawler.parsers.base import Page, ParseResult, dig
from crawler.parsers.platforms import bilibili_live
from crawler.parsers.platforms._common import (
    assigned_json,
    body_json,
    count,
    dict_or_empty,
    find_signal,
    first,
    host_matches,
    integer,
    list_or_empty,
    text,
)

DOMAINS = ("bilibili.com", "b23.tv")
BASE = "https://www.bilibili.com"
API = "https://api.bilibili.com"

# Non-zero `code` values of the web-interface API. Risk control (-412 "请求被拦截", -352 "风控校验失败")
# is a block; the rest say the video is gone or hidden (-404 "啥都木有", 62002 "稿件不可见",
# 62004 "稿件审核中", 62012 "仅UP主自己可见", -403 "访问权限不足").
BLOCKED_CODES = {
    -412: "bilibili/risk_control",
    -352: "bilibili/risk_control",
    -401: "bilibili/login_required",
}
# The popular list pages by `pn`; stop following after this many pages (20 videos each).
MAX_POPULAR_PAGES = 10

BLOCK_SIGNALS = (
    ("验证码", "bilibili/captcha"),
    ("geetest", "bilibili/captcha"),
    ("请求被拦截", "bilibili/risk_control"),
)

_HASHTAG_RE = re.compile(r"#([^#\n]{1,40})#")


class BilibiliParser:
    name = "bilibili"
    platform = "bilibili"
    domains = DOMAINS

    def matches_url(self, url: str) -> bool:
        return host_matches(url, DOMAINS)

    def sniff(self, page: Page) -> bool:
        data = body_json(page)
        if (
            isinstance(data, dict)
            and "code" in data
            and ("ttl" in data or "message" in data or "msg" in data)
        ):
            payload = data.get("data")
            if payload is None:  # an error answer: {"code": -404, "message": "啥都木有", "ttl": 1}
                return {"code", "message", "ttl"} <= data.keys()
            return isinstance(payload, dict) and bool(
                "no_more" in payload
                or {"bvid", "aid", "stat"} & payload.keys()
                or bilibili_live.recognise(payload) is not None
                or any(isinstance(v, dict) and "bvid" in v for v in list_or_empty(payload.get("list"))[:1])
            )
        return "__INITIAL_STATE__" in page.text[:3_000_000] and "bilibili" in page.text[:200_000]

    def parse(self, page: Page) -> ParseResult:
        data = body_json(page)
        if isinstance(data, dict) and "code" in data:
            return self._parse_api(page, data)
        state = assigned_json(page.text, "__INITIAL_STATE__")
        video = dig(state, "videoData")
        if isinstance(video, dict) and text(video.get("bvid")):
            tags = [text(t.get("tag_name")) for t in list_or_empty(dig(state, "tags")) if isinstance(t, dict)]
            return ParseResult(items=[video_item(video, page.observed_iso, [t for t in tags if t])])
        if isinstance(state, dict):
            return ParseResult(errors=["bilibili/unavailable"])
        blocked = find_signal(page.text, BLOCK_SIGNALS)
        if blocked:
            return ParseResult(blocked=blocked)
        return ParseResult(errors=["bilibili/no_state"])

    def _parse_api(self, page: Page, data: dict[str, Any]) -> ParseResult:
        code = data.get("code")
        if code != 0:
            if integer(code) in BLOCKED_CODES:
                return ParseResult(blocked=BLOCKED_CODES[code])
            return ParseResult(errors=[f"bilibili/unavailable:{text(code) or 'bad_code'}"])
        payload = data.get("data")
        if not isinstance(payload, dict):
            return ParseResult(errors=["bilibili/empty_response"])
        if payload.get("bvid") or "stat" in payload:
            if not text(payload.get("bvid")):
                return ParseResult(errors=["bilibili/unavailable"])
            tags = [text(t.get("tag_name")) for t in list_or_empty(payload.get("tag")) if isinstance(t, dict)]
            return ParseResult(items=[video_item(payload, page.observed_iso, [t for t in tags if t])])
        view = payload.get("View")  # x/web-interface/view/detail wraps the view in "View"
        if isinstance(view, dict) and text(view.get("bvid")):
            tags = [
                text(t.get("tag_name")) for t in list_or_empty(payload.get("Tags")) if isinstance(t, dict)
            ]
            return ParseResult(items=[video_item(view, page.observed_iso, [t for t in tags if t])])
        live_form = bilibili_live.recognise(payload)
        if live_form is not None:
            return bilibili_live.parse_live(live_form, payload, page.url, page.observed_iso)
        if isinstance(payload.get("list"), list):
            items = [
                video_item(v, page.observed_iso)
                for v in payload["list"]
                if isinstance(v, dict) and text(v.get("bvid"))
            ]
            return ParseResult(items=items, links=self._next_popular_page(page.url, payload))
        return ParseResult(errors=["bilibili/unrecognised_response"])

    def _next_popular_page(self, url: str, payload: dict[str, Any]) -> list[str]:
        """x/web-interface/popular pages by `pn`; the ranking has no pages."""
        parsed = urlparse(url)
        if not parsed.path.endswith("/popular") or payload.get("no_more") is not False:
            return []
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        pn = query.get("pn", "1")
        page_number = int(pn) if re.fullmatch(r"[0-9]{1,6}", pn) else 1
        if page_number >= MAX_POPULAR_PAGES:
            return []
        query.update(pn=str(page_number + 1), ps=query.get("ps", "20"))
        return [parsed._replace(query=urlencode(query)).geturl()]


def video_item(data: dict[str, Any], observed_at: str, tags: list[str] | None = None) -> VideoItem:
    """One video from `view` data or a popular/ranking list entry (they share field names)."""
    bvid = text(data.get("bvid"))
    stat = dict_or_empty(data.get("stat"))
    owner = dict_or_empty(data.get("owner"))
    mid = text(owner.get("mid"))
    title = text(data.get("title"))
    description = text(data.get("desc"))
    dynamic = data.get("dynamic") if isinstance(data.get("dynamic"), str) else ""
    return VideoItem(
        id=make_id("bilibili", "video", bvid),
        platform="bilibili",
        url=f"{BASE}/video/{bvid}",
        title=title,
        description=description if description != "-" else None,
        # Topics the uploader wrote as #话题# in the dynamic text, then the video's tags when the response has them.
        hashtags=normalise_hashtags(_HASHTAG_RE.findall(dynamic) + (tags or [])),
        language=guess_language(" ".join(t for t in (title, description) if t)),
        published_at=parse_datetime(first(data.get("pubdate"), data.get("ctime"))),
        duration_s=parse_duration(data.get("duration")),
        creator=CreatorRef(
            id=mid, name=text(owner.get("name")), url=f"https://space.bilibili.com/{mid}" if mid else None
        )
        if owner
        else None,
        metrics=Metrics(
            views=count(stat.get("view")),
            likes=count(stat.get("like")),
            comments=count(stat.get("reply")),
            shares=count(stat.get("share")),
            collects=count(stat.get("favorite")),
        ),
        observed_at=observed_at,
        source="bilibili",
    )


def view_api_url(bvid: str) -> str:
    return f"{API}/x/web-interface/view?bvid={bvid}"


PARSER = BilibiliParser()
