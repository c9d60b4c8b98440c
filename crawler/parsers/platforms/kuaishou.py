"""Kuaishou: video pages (window.__APOLLO_STATE__), the GraphQL bodies (visionVideoDetail, photo feeds such as
visionSearchPhoto) and live rooms (live.kuaishou.com __INITIAL_STATE__); see docs/PLATFORMS.md."""

from __future__ import annotations

import re
from typing import Any

from crawler.items import CreatorRef, LiveInfo, LiveItem, Metrics, VideoItem, make_id
from crawler.normalize import extract_hashtags, guess_language, normalise_hashtags, parse_datetime
from crawler.parsers.base import Page, ParseResult
from crawler.parsers.platforms._common import (
    assigned_json,
    body_json,
    boolean,
    count,
    dict_or_empty,
    duration_ms,
    find_signal,
    first,
    host_matches,
    integer,
    list_or_empty,
    sniff_block_page,
    text,
)

DOMAINS = ("kuaishou.com", "kuaishou.cn", "chenzhongtech.com", "gifshow.com")
BASE = "https://www.kuaishou.com"

PHOTO_PREFIX = "VisionVideoDetailPhoto:"
AUTHOR_PREFIX = "VisionVideoDetailAuthor:"

# Kuaishou sends visitors it distrusts to its captcha service (captcha.zt.kuaishou.com) or a slider page.
BLOCK_SIGNALS = (
    ("captcha.zt.kuaishou.com", "kuaishou/captcha"),
    ("captchaSession", "kuaishou/captcha"),
    ("滑块验证", "kuaishou/captcha"),
    ("验证码", "kuaishou/captcha"),
)

# GraphQL answers that say "no such photo" or "verify first" (result codes of the web GraphQL API).
GRAPHQL_BLOCKED_RESULTS = {400002: "kuaishou/captcha", 2: "kuaishou/login_required"}
LIVE_BASE = "https://live.kuaishou.com"

_PHOTO_URL_RE = re.compile(r"/(?:short-video|video|fw/photo|photo)/([\w-]+)")


class KuaishouParser:
    name = "kuaishou"
    platform = "kuaishou"
    domains = DOMAINS

    def matches_url(self, url: str) -> bool:
        return host_matches(url, DOMAINS)

    def sniff(self, page: Page) -> bool:
        if graphql_payload(body_json(page)) is not None:
            return True
        head = page.text[:3_000_000]
        if "__INITIAL_STATE__" in head and '"liveroom"' in head and '"playList"' in head:
            return True
        if "__APOLLO_STATE__" in head and ("VisionVideoDetail" in head or "kuaishou" in head.lower()):
            return True
        return sniff_block_page(page, BLOCK_SIGNALS[:2])

    def parse(self, page: Page) -> ParseResult:
        data = body_json(page)
        if isinstance(data, dict) and isinstance(data.get("data"), dict):
            return self._parse_graphql(page, data)
        if "__APOLLO_STATE__" not in page.text and "__INITIAL_STATE__" in page.text:
            live = dict_or_empty(dict_or_empty(assigned_json(page.text, "__INITIAL_STATE__")).get("liveroom"))
            if live:
                return self._parse_live(page, live)
        state = assigned_json(page.text, "__APOLLO_STATE__")
        client = dict_or_empty(dict_or_empty(state).get("defaultClient"))
        if not client:
            blocked = find_signal(page.text, BLOCK_SIGNALS)
            if blocked:
                return ParseResult(blocked=blocked)
            return ParseResult(errors=["kuaishou/no_state"])
        photo_key = self._photo_key(client, page.url)
        if photo_key is None or not self._photo_id(client, photo_key):
            blocked = find_signal(page.text, BLOCK_SIGNALS)
            return ParseResult(blocked=blocked) if blocked else ParseResult(errors=["kuaishou/unavailable"])
        return ParseResult(items=[self._video(client, photo_key, page)])

    def _photo_id(self, client: dict[str, Any], photo_key: str) -> str | None:
        return text(client[photo_key].get("id")) or text(photo_key[len(PHOTO_PREFIX) :])

    def _photo_key(self, client: dict[str, Any], url: str) -> str | None:
        """The photo the page is about: the one the detail query points at, else the one named in the URL,
        else the only photo in the cache."""
        for key, value in client.items():
            if key.startswith("$ROOT_QUERY.visionVideoDetail") and isinstance(value, dict):
                ref = dict_or_empty(value.get("photo")).get("id")
                if isinstance(ref, str) and isinstance(client.get(ref), dict):
                    return ref
        match = _PHOTO_URL_RE.search(url)
        if match and isinstance(client.get(PHOTO_PREFIX + match.group(1)), dict):
            return PHOTO_PREFIX + match.group(1)
        photos = [
            k
            for k, v in client.items()
            if k.startswith(PHOTO_PREFIX) and "." not in k and isinstance(v, dict)
        ]
        return photos[0] if len(photos) == 1 else None

    def _author(self, client: dict[str, Any]) -> dict[str, Any]:
        for key, value in client.items():
            if key.startswith("$ROOT_QUERY.visionVideoDetail") and isinstance(value, dict):
                ref = dict_or_empty(value.get("author")).get("id")
                if isinstance(ref, str) and isinstance(client.get(ref), dict):
                    return client[ref]
        authors = [
            v
            for k, v in client.items()
            if k.startswith(AUTHOR_PREFIX) and "." not in k and isinstance(v, dict)
        ]
        return authors[0] if len(authors) == 1 else {}

    def _tags(self, client: dict[str, Any]) -> list[str]:
        names = []
        for key, value in client.items():
            if key.startswith("$ROOT_QUERY.visionVideoDetail") and isinstance(value, dict):
                for ref in list_or_empty(value.get("tags")):
                    node = dict_or_empty(client.get(text(dict_or_empty(ref).get("id")))) or dict_or_empty(ref)
                    name = text(node.get("name"))
                    if name:
                        names.append(name)
        return names

    def _parse_graphql(self, page: Page, data: dict[str, Any]) -> ParseResult:
        """`{"data": {"visionVideoDetail": {photo, author, tags}}}` or a feed `{"data": {OP: {"feeds": [...]}}}`."""
        payload = graphql_payload(data)
        if payload is None:
            return ParseResult(errors=["kuaishou/unrecognised_response"])
        result = payload.get("result")
        if integer(result) in GRAPHQL_BLOCKED_RESULTS:
            return ParseResult(blocked=GRAPHQL_BLOCKED_RESULTS[result])
        if "feeds" in payload:
            items = [
                self._video_from(
                    dict_or_empty(f.get("photo")), dict_or_empty(f.get("author")), _tag_names(f), page
                )
                for f in list_or_empty(payload.get("feeds"))
                if isinstance(f, dict) and text(dict_or_empty(f.get("photo")).get("id"))
            ]
            return ParseResult(items=items)
        photo = dict_or_empty(payload.get("photo"))
        if not text(photo.get("id")):
            return ParseResult(errors=["kuaishou/unavailable"])
        return ParseResult(
            items=[self._video_from(photo, dict_or_empty(payload.get("author")), _tag_names(payload), page)]
        )

    def _parse_live(self, page: Page, room: dict[str, Any]) -> ParseResult:
        """live.kuaishou.com/u/ID: `liveroom.playList[0]` with liveStream (id, caption, poster), author, gameInfo
        (watchingCount: the audience now, a display string) and isLiving."""
        entry = dict_or_empty(first(*list_or_empty(room.get("playList")))) or room
        stream = dict_or_empty(entry.get("liveStream"))
        author = dict_or_empty(entry.get("author"))
        author_id = text(author.get("id"))
        stream_id = text(stream.get("id"))
        if not author_id or not (stream_id or entry.get("isLiving") is False):
            blocked = find_signal(page.text, BLOCK_SIGNALS)
            return ParseResult(blocked=blocked) if blocked else ParseResult(errors=["kuaishou/unavailable"])
        living = entry.get("isLiving")
        status = "live" if living is True else ("ended" if living is False else None)
        caption = text(stream.get("caption"))
        game = dict_or_empty(entry.get("gameInfo"))
        started = parse_datetime(stream.get("startTime")) if status == "live" else None
        item = LiveItem(
            id=make_id("kuaishou", "live", author_id),
            platform="kuaishou",
            url=f"{LIVE_BASE}/u/{author_id}",
            title=caption or text(author.get("name")),
            description=text(author.get("description")),
            language=guess_language(caption),
            published_at=started,
            creator=CreatorRef(
                id=author_id,
                name=text(author.get("name")),
                url=f"{BASE}/profile/{author_id}",
                verified=boolean(dict_or_empty(author.get("verifiedStatus")).get("verified")),
            ),
            live=LiveInfo(status=status, started_at=started),
            metrics=Metrics(
                viewers=count(first(game.get("watchingCount"), stream.get("watchingCount")))
                if status == "live"
                else None,
                likes=count(first(game.get("likeCount"), stream.get("likeCount"))),
            ),
            thumbnail=_url(first(stream.get("poster"), stream.get("coverUrl"))),
            observed_at=page.observed_iso,
            source=self.name,
        )
        return ParseResult(items=[item])

    def _video(self, client: dict[str, Any], photo_key: str, page: Page) -> VideoItem:
        photo = dict(client[photo_key])
        photo["id"] = self._photo_id(client, photo_key)
        return self._video_from(photo, self._author(client), self._tags(client), page)

    def _video_from(
        self, photo: dict[str, Any], author: dict[str, Any], tags: list[str], page: Page
    ) -> VideoItem:
        """One photo (the Apollo cache's, a GraphQL detail's or a feed entry's: they share field names)."""
        photo_id = text(photo.get("id"))
        author_id = text(author.get("id"))
        caption = text(photo.get("caption"))
        return VideoItem(
            id=make_id("kuaishou", "video", photo_id),
            platform="kuaishou",
            url=f"{BASE}/short-video/{photo_id}",
            title=caption,
            description=caption,
            hashtags=normalise_hashtags(tags + extract_hashtags(caption)),
            language=guess_language(caption),
            published_at=parse_datetime(photo.get("timestamp")),
            duration_s=duration_ms(photo.get("duration")),
            creator=CreatorRef(
                id=author_id,
                name=text(author.get("name")),
                url=f"{BASE}/profile/{author_id}" if author_id else None,
            )
            if author
            else None,
            metrics=Metrics(
                views=count(photo.get("viewCount")),
                # realLikeCount is the exact number; likeCount is a display string ("1.2万").
                likes=first(count(photo.get("realLikeCount")), count(photo.get("likeCount"))),
                comments=count(photo.get("commentCount")),
            ),
            thumbnail=_url(photo.get("coverUrl")),
            observed_at=page.observed_iso,
            source=self.name,
        )


def graphql_payload(data: Any) -> dict[str, Any] | None:
    """The operation's answer of a Kuaishou GraphQL body: `data.visionVideoDetail`, or a `data.OP` holding a
    photo `feeds` list (visionSearchPhoto, visionProfilePhotoList, brilliantTypeData); None for other JSON."""
    payload = dict_or_empty(dict_or_empty(data).get("data"))
    detail = payload.get("visionVideoDetail")
    if isinstance(detail, dict):
        return detail
    for name, value in payload.items():
        if isinstance(name, str) and name.startswith(("vision", "brilliant")) and isinstance(value, dict):
            if isinstance(value.get("feeds"), list) or "result" in value:
                return value
    return None


def _tag_names(node: dict[str, Any]) -> list[str]:
    names = [text(dict_or_empty(t).get("name")) for t in list_or_empty(node.get("tags"))]
    return [n for n in names if n]


def _url(value: Any) -> str | None:
    url = text(value)
    return url if url and url.startswith(("http://", "https://")) else None


PARSER = KuaishouParser()
