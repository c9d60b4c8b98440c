"""Kuaishou: video pages (window.__APOLLO_STATE__ photo detail); see docs/PLATFORMS.md."""

from __future__ import annotations

import re
from typing import Any

from crawler.items import CreatorRef, Metrics, VideoItem, make_id
from crawler.normalize import extract_hashtags, guess_language, normalise_hashtags, parse_datetime
from crawler.parsers.base import Page, ParseResult
from crawler.parsers.platforms._common import (
    assigned_json,
    count,
    dict_or_empty,
    duration_ms,
    find_signal,
    first,
    host_matches,
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

_PHOTO_URL_RE = re.compile(r"/(?:short-video|video|fw/photo|photo)/([\w-]+)")


class KuaishouParser:
    name = "kuaishou"
    platform = "kuaishou"
    domains = DOMAINS

    def matches_url(self, url: str) -> bool:
        return host_matches(url, DOMAINS)

    def sniff(self, page: Page) -> bool:
        head = page.text[:3_000_000]
        if "__APOLLO_STATE__" in head and ("VisionVideoDetail" in head or "kuaishou" in head.lower()):
            return True
        return sniff_block_page(page, BLOCK_SIGNALS[:2])

    def parse(self, page: Page) -> ParseResult:
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

    def _video(self, client: dict[str, Any], photo_key: str, page: Page) -> VideoItem:
        photo = client[photo_key]
        photo_id = self._photo_id(client, photo_key)
        author = self._author(client)
        author_id = text(author.get("id"))
        caption = text(photo.get("caption"))
        return VideoItem(
            id=make_id("kuaishou", "video", photo_id),
            platform="kuaishou",
            url=f"{BASE}/short-video/{photo_id}",
            title=caption,
            description=caption,
            hashtags=normalise_hashtags(self._tags(client) + extract_hashtags(caption)),
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
            observed_at=page.observed_iso,
            source=self.name,
        )


PARSER = KuaishouParser()
