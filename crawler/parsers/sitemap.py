"""The `sitemap` parser: Google video sitemaps, plain sitemaps, sitemap indexes (gzip or not), robots.txt."""

from __future__ import annotations

import re
import struct
import zlib
from datetime import datetime
from typing import Any

from lxml import etree
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from scrapy.utils.gz import gunzip

from crawler.items import CreatorRef, LiveInfo, LiveItem, Metrics, VideoItem, make_id
from crawler.normalize import (
    clean_text,
    extract_hashtags,
    guess_language,
    iso_utc,
    normalise_hashtags,
    parse_count,
    parse_datetime,
    parse_duration,
)
from crawler.parsers.base import Page, ParseResult
from crawler.parsers.web import absolute_url, web_id, web_native_id
from crawler.parsers.xml import child, children, local, parse_xml, text_of

NAME = "sitemap"
VIDEO_NS = "http://www.google.com/schemas/sitemap-video/1.1"
# The sitemaps.org protocol caps a sitemap at 50 MiB uncompressed; more from a .gz is a bomb.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
_SNIFF_RE = re.compile(rb"<(?:\w+:)?(?:urlset|sitemapindex)[\s>]")
_ROBOTS_SITEMAP_RE = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


def decompress(body: bytes) -> bytes:
    """The body, gunzipped when it is gzip (a `.xml.gz` served as a file rather than with Content-Encoding).
    Raises _DecompressionMaxSizeExceeded past MAX_SITEMAP_BYTES, OSError when the gzip is broken."""
    if body[:2] == GZIP_MAGIC:
        return gunzip(body, max_size=MAX_SITEMAP_BYTES)
    return body


def is_robots_txt(url: str) -> bool:
    return url.split("?", 1)[0].lower().endswith("/robots.txt")


class SitemapParser:
    name = NAME
    domains: tuple[str, ...] = ()  # any site

    def matches_url(self, url: str) -> bool:
        return False  # sitemaps live at any path; recognised by content

    def sniff(self, page: Page) -> bool:
        head = page.body[:4096]
        if head[:2] == GZIP_MAGIC:
            return page.url.lower().split("?", 1)[0].endswith((".xml.gz", ".gz"))
        return bool(_SNIFF_RE.search(head))

    def parse(self, page: Page) -> ParseResult:
        result = ParseResult(parser=NAME)
        if is_robots_txt(page.url):
            text = page.body.decode("utf-8", "replace")
            result.links.extend(
                u for u in (absolute_url(m, page.url) for m in _ROBOTS_SITEMAP_RE.findall(text)) if u
            )
            return result
        try:
            body = decompress(page.body)
        except _DecompressionMaxSizeExceeded:
            result.errors.append(f"{NAME}/too_large")
            return result
        except (OSError, EOFError, zlib.error, struct.error):  # a cut or damaged .gz
            result.errors.append(f"{NAME}/bad_gzip")
            return result
        root = parse_xml(body) if body.strip() else None
        if root is None:
            result.errors.append(f"{NAME}/not_xml")
            return result
        kind = local(root.tag)
        if kind == "sitemapindex":
            for entry in children(root, "sitemap"):
                url = absolute_url(text_of(child(entry, "loc")), page.url)
                if url:
                    result.links.append(url)
        elif kind == "urlset":
            for entry in children(root, "url"):
                self._url_entry(entry, page, result)
        else:
            result.errors.append(f"{NAME}/not_a_sitemap")
        return result

    def _url_entry(self, entry: etree._Element, page: Page, result: ParseResult) -> None:
        loc = absolute_url(text_of(child(entry, "loc")), page.url)
        videos = children(entry, "video", VIDEO_NS)
        if loc is None:
            if videos:
                result.errors.append(f"{NAME}/video_without_loc")
            return
        if not videos:
            result.pages.append(loc)
            return
        for index, video in enumerate(videos):
            item = video_item(video, loc, index, page.observed_at)
            if item is None:
                result.errors.append(f"{NAME}/video_without_title")
            else:
                result.items.append(item)


def video_item(
    video: etree._Element, loc: str, index: int, observed_at: datetime
) -> VideoItem | LiveItem | None:
    """One <video:video>. The id is the page's <loc>; a page's second and later videos add `#video-N`."""

    def field(name: str) -> str | None:
        return text_of(child(video, name, VIDEO_NS))

    title = clean_text(field("title"), 500)
    description = clean_text(field("description"))
    if title is None and description is None:
        return None
    native = web_native_id(loc)
    if native is None:
        return None
    if index:
        native += f"#video-{index + 1}"
    uploader = child(video, "uploader", VIDEO_NS)
    creator = None
    if uploader is not None:
        info = absolute_url(uploader.get("info"), loc)
        name = clean_text(text_of(uploader), 200)
        if name or info:
            creator = CreatorRef(id=web_id("creator", info), name=name, url=info)
    tags = [t for t in (text_of(n) for n in children(video, "tag", VIDEO_NS)) if t]
    observed = iso_utc(observed_at)
    fields: dict[str, Any] = dict(
        platform="web",
        url=loc,
        title=title,
        description=description,
        hashtags=normalise_hashtags(tags + extract_hashtags(title) + extract_hashtags(description)),
        language=guess_language(" ".join(t for t in (title, description) if t)),
        published_at=parse_datetime(field("publication_date"), observed_at),
        creator=creator,
        metrics=Metrics(views=parse_count(field("view_count"))),
        observed_at=observed,
        source=NAME,
        duration_s=parse_duration(field("duration")),
    )
    if (field("live") or "").strip().lower() == "yes":
        return LiveItem(
            id=make_id("web", "live", native), live=live_info(field("expiration_date"), observed_at), **fields
        )
    return VideoItem(id=make_id("web", "video", native), **fields)


def live_info(expiration: str | None, observed_at: datetime) -> LiveInfo:
    """`<video:live>yes</video:live>` says the page is a live stream now; past its expiration date it has ended."""
    expires = parse_datetime(expiration, observed_at)
    if expires and expires <= iso_utc(observed_at):
        return LiveInfo(status="ended", ended_at=expires)
    return LiveInfo(status="live")


PARSER = SitemapParser()
