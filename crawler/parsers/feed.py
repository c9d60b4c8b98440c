"""The `feed` parser: RSS 2.0 and Atom entries -> videos, YouTube channel/playlist feeds included."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from lxml import etree

from crawler.items import CreatorRef, Metrics, VideoItem, make_id
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
from crawler.parsers.web import absolute_url, web_id
from crawler.parsers.xml import child, children, local, namespace, parse_xml, text_of

NAME = "feed"
ATOM = "http://www.w3.org/2005/Atom"
MEDIA = "http://search.yahoo.com/mrss/"
YT = "http://www.youtube.com/xml/schemas/2015"
DC = "http://purl.org/dc/elements/1.1/"
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
RSS1 = "http://purl.org/rss/1.0/"
# YouTube video ids: 11 characters of [A-Za-z0-9_-] (the feed also says so in <id>yt:video:ID</id>).
_YT_VIDEO_ID_RE = re.compile(r"^[A-Za-z0-9_-]{6,20}$")
_SNIFF_RE = re.compile(rb"<(?:\w+:)?(?:rss|feed|RDF)[\s>]")
_RSS_AUTHOR_RE = re.compile(r"^\s*\S+@\S+\s*\((?P<name>[^)]+)\)\s*$")  # `jane@example.com (Jane Doe)`


def _el(parent: etree._Element | None, name: str, ns: str | None) -> etree._Element | None:
    return child(parent, name, ns) if parent is not None else None


def _text(parent: etree._Element | None, name: str, ns: str | None) -> str | None:
    return text_of(_el(parent, name, ns))


class FeedParser:
    name = NAME
    domains: tuple[str, ...] = ()  # any site

    def matches_url(self, url: str) -> bool:
        parts = urlsplit(url)
        return (parts.hostname or "").endswith("youtube.com") and parts.path.startswith("/feeds/")

    def sniff(self, page: Page) -> bool:
        return bool(_SNIFF_RE.search(page.body[:4096]))

    def parse(self, page: Page) -> ParseResult:
        result = ParseResult(parser=NAME)
        root = parse_xml(page.body) if page.body.strip() else None
        if root is None:
            result.errors.append(f"{NAME}/not_xml")
            return result
        kind = local(root.tag)
        if kind == "feed":
            entries, channel = children(root, "entry"), root
        elif kind == "rss":
            channel = child(root, "channel")
            entries = children(channel, "item") if channel is not None else []
        elif kind == "RDF":  # RSS 1.0: items are siblings of the channel
            channel = child(root, "channel")
            entries = children(root, "item")
        else:
            result.errors.append(f"{NAME}/not_a_feed")
            return result
        context = FeedContext.read(channel, page.url)
        for entry in entries:
            item = entry_item(entry, context, page.observed_at)
            if isinstance(item, str):
                result.errors.append(f"{NAME}/{item}")
            else:
                result.items.append(item)
        return result


class FeedContext:
    """What the feed says about all its entries: its link, title, author, YouTube channel id."""

    def __init__(
        self, url: str, title: str | None, link: str | None, author: CreatorRef | None, channel_id: str | None
    ):
        self.url, self.title, self.link, self.author, self.channel_id = url, title, link, author, channel_id

    @classmethod
    def read(cls, channel: etree._Element | None, url: str) -> FeedContext:
        if channel is None:
            return cls(url, None, None, None, None)
        link = _link(channel, url)
        title = clean_text(text_of(child(channel, "title")), 200)
        channel_id = _text(channel, "channelId", YT)
        author = _author(channel, url)
        if author is None and (title or link):
            author = CreatorRef(name=title, url=link)
        return cls(url, title, link, author, channel_id)


def _link(element: etree._Element, base: str) -> str | None:
    """Atom <link rel="alternate" href>, else RSS <link>text</link>."""
    for link in children(element, "link"):
        href = link.get("href")
        if href and link.get("rel", "alternate") == "alternate":
            return absolute_url(href, base)
        if not href and namespace(link.tag) != ATOM:
            url = absolute_url(text_of(link), base)
            if url:
                return url
    return None


def _author(element: etree._Element, base: str) -> CreatorRef | None:
    atom = child(element, "author", ATOM)
    if atom is not None:
        name = clean_text(_text(atom, "name", ATOM), 200)
        url = absolute_url(_text(atom, "uri", ATOM), base)
        return CreatorRef(name=name, url=url) if name or url else None
    raw = (
        text_of(child(element, "creator", DC))
        or text_of(child(element, "author", None))
        or _text(element, "author", ITUNES)
    )
    if raw:
        match = _RSS_AUTHOR_RE.match(raw)
        name = clean_text(match.group("name") if match else raw, 200)
        return CreatorRef(name=name) if name else None
    return None


def entry_item(entry: etree._Element, feed: FeedContext, observed_at: datetime) -> VideoItem | str:
    """One entry as a VideoItem, or the short reason it cannot be one."""
    group = child(entry, "group", MEDIA)
    media = [group, entry] if group is not None else [entry]

    def media_text(name: str) -> str | None:
        for parent in media:
            value = _text(parent, name, MEDIA)
            if value:
                return value
        return None

    def media_el(name: str) -> etree._Element | None:
        for parent in media:
            found = _el(parent, name, MEDIA)
            if found is not None:
                return found
            community = _el(parent, "community", MEDIA)
            found = _el(community, name, MEDIA)
            if found is not None:
                return found
        return None

    title = clean_text(media_text("title") or _entry_text(entry, "title"), 500)
    description = clean_text(
        media_text("description")
        or _entry_text(entry, "summary")
        or _entry_text(entry, "description")
        or _text(entry, "encoded", CONTENT)
        or _entry_text(entry, "content")
    )
    if title is None and description is None:
        return "entry_without_title"
    link = _link(entry, feed.url)
    video_id = _youtube_video_id(entry)
    channel_id = _text(entry, "channelId", YT) or feed.channel_id
    author = _author(entry, feed.url) or feed.author
    if video_id:
        platform = "youtube"
        item_id = make_id("youtube", "video", video_id)
        link = link or f"https://www.youtube.com/watch?v={video_id}"
        if author is not None or channel_id:
            author = author or CreatorRef()
            author.id = make_id("youtube", "creator", channel_id) if channel_id else None
    else:
        platform = "web"
        guid = child(entry, "guid")
        permalink = (
            text_of(guid) if guid is not None and guid.get("isPermaLink", "true").lower() != "false" else None
        )
        link = link or _http_url(permalink) or _http_url(_entry_text(entry, "id"))
        item_id = web_id("video", link)
        if item_id is None:
            return "entry_without_link"
        if author is not None and author.url and author.id is None:
            author.id = web_id("creator", author.url)
    tags = [c.get("term") or text_of(c) for c in children(entry, "category")]
    keywords = media_text("keywords")
    stats = media_el("statistics")
    rating = media_el("starRating")
    content = media_el("content")
    published = (
        _entry_text(entry, "published")
        or text_of(child(entry, "pubDate"))
        or _text(entry, "date", DC)
        or _entry_text(entry, "issued")
    )
    return VideoItem(
        id=item_id,
        platform=platform,
        url=link,
        title=title,
        description=description,
        hashtags=normalise_hashtags(
            [t for t in tags if t]
            + normalise_hashtags(keywords or "")
            + extract_hashtags(title)
            + extract_hashtags(description)
        ),
        language=guess_language(" ".join(t for t in (title, description) if t)),
        published_at=parse_datetime(published, observed_at),
        creator=author,
        metrics=Metrics(
            views=parse_count(stats.get("views")) if stats is not None else None, likes=_likes(rating)
        ),
        observed_at=iso_utc(observed_at),
        source=NAME,
        duration_s=parse_duration(
            (content.get("duration") if content is not None else None) or _text(entry, "duration", ITUNES)
        ),
    )


def _entry_text(entry: etree._Element, name: str) -> str | None:
    """A child's text whether it is Atom, RSS 2.0 (no namespace) or RSS 1.0, never a media:/yt: child."""
    for node in entry:
        if local(node.tag) == name and namespace(node.tag) in ("", ATOM, RSS1):
            return text_of(node)
    return None


def _likes(rating: etree._Element | None) -> int | None:
    """media:starRating's count is how many viewers rated the video; YouTube's feeds fill it with the
    like count, so it stands in for likes (docs/CRAWLING.md). YouTube writes count="0" both for no likes
    and for hidden likes, so 0 is unknown, not zero."""
    count = parse_count(rating.get("count")) if rating is not None else None
    return count or None


def _http_url(value: str | None) -> str | None:
    """Only an absolute http(s) URL: a guid or Atom id such as `urn:uuid:...` or `gc-1003` is not a page."""
    return value.strip() if value and value.strip().lower().startswith(("http://", "https://")) else None


def _youtube_video_id(entry: etree._Element) -> str | None:
    value = _text(entry, "videoId", YT)
    if not value:
        atom_id = _entry_text(entry, "id") or ""
        value = atom_id[len("yt:video:") :] if atom_id.startswith("yt:video:") else None
    return value if value and _YT_VIDEO_ID_RE.match(value) else None


PARSER = FeedParser()
