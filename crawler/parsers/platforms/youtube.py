"""YouTube: watch and Shorts pages (ytInitialPlayerResponse + ytInitialData) and channel/playlist feeds; see docs/PLATFORMS.md."""

from __future__ import annotations

import importlib
import re
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qs, urlparse

from crawler.items import CreatorItem, CreatorRef, LiveInfo, LiveItem, Metrics, ProductRef, VideoItem, make_id
from crawler.normalize import (
    extract_hashtags,
    guess_language,
    normalise_hashtags,
    parse_datetime,
    parse_duration,
    parse_price,
)
from crawler.parsers.base import Page, ParseResult, dig
from crawler.parsers.platforms._common import (
    assigned_json,
    body_json,
    count,
    dedupe_products,
    dict_or_empty,
    find_signal,
    first,
    host,
    host_matches,
    list_or_empty,
    sniff_block_page,
    text,
)
from crawler.parsers.platforms.youtube_innertube import (
    MAX_WALK_DEPTH,
    best_thumbnail,
    browse_items,
    collaborators,
    comment_count,
    concurrent_viewers,
    creator_id,
    is_innertube,
    like_count,
    next_core,
    next_creator,
    next_video_id,
    owner_renderer,
    walk,
    watch_results,
)

DOMAINS = ("youtube.com", "youtu.be", "youtube-nocookie.com")
BASE = "https://www.youtube.com"
# InnerTube's API host beside www.youtube.com/youtubei/v1: its bodies are ours, but it is no crawl scope.
API_HOSTS = ("youtubei.googleapis.com",)

# playabilityStatus.status values that mean "no video for a visitor" (deleted, private, region-blocked).
UNAVAILABLE = {"ERROR", "UNPLAYABLE", "LOGIN_REQUIRED", "CONTENT_CHECK_REQUIRED", "AGE_CHECK_REQUIRED"}
# LOGIN_REQUIRED reasons that are walls in front of a public video rather than a private video.
WALL_REASONS = (
    ("confirm your age", "youtube/age_gate"),
    ("not a bot", "youtube/bot_check"),
    ("confirm you", "youtube/bot_check"),
)
# Block pages without player state: the EU consent interstitial, Google's "unusual traffic" page,
# and a recaptcha. The real watch page also mentions consent.youtube.com in its scripts, so these
# count only when the player response is absent.
BLOCK_SIGNALS = (
    ("Our systems have detected unusual traffic", "youtube/unusual_traffic"),
    ("/sorry/index", "youtube/unusual_traffic"),
    ("g-recaptcha", "youtube/captcha"),
    ("Before you continue to YouTube", "youtube/consent"),
    ("consent.youtube.com", "youtube/consent"),
    ("Sign in to confirm", "youtube/bot_check"),
)

_VIDEO_ID_RE = re.compile(r"^[\w-]{11}$")
_FEED_NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "yt": "http://www.youtube.com/xml/schemas/2015",
    "media": "http://search.yahoo.com/mrss/",
}


def video_id_from_url(url: str) -> str | None:
    """watch?v=ID, /shorts/ID, /live/ID, /embed/ID and youtu.be/ID all name the same video."""
    try:
        parsed = urlparse(url)
    except ValueError:  # unbalanced `[` brackets in the host
        return None
    if host(url) == "youtu.be":
        candidate = parsed.path.strip("/").split("/")[0]
        return candidate if _VIDEO_ID_RE.match(candidate or "") else None
    query = parse_qs(parsed.query).get("v", [None])[0]
    if query and _VIDEO_ID_RE.match(query):
        return query
    match = re.match(r"^/(?:shorts|live|embed|v)/([\w-]{11})", parsed.path)
    return match.group(1) if match else None


def is_feed_url(url: str) -> bool:
    return host_matches(url, DOMAINS) and urlparse(url).path.startswith("/feeds/")


class YouTubeParser:
    name = "youtube"
    platform = "youtube"
    domains = DOMAINS

    def matches_url(self, url: str) -> bool:
        # Channel and playlist feeds are RSS/Atom: the standards `feed` parser owns them when it exists.
        if is_feed_url(url) and _feed_parser() is not None:
            return False
        return host_matches(url, DOMAINS) or host(url) in API_HOSTS

    def sniff(self, page: Page) -> bool:
        head = page.text[:3_000_000]
        if "ytInitialPlayerResponse" in head or "ytInitialData" in head:
            return True
        if head.lstrip()[:1] == "{" and is_innertube(body_json(page)):
            return True
        if "http://www.youtube.com/xml/schemas/2015" in head[:4000]:
            return _feed_parser() is None  # the standards feed parser owns feeds when it exists
        return sniff_block_page(page, (BLOCK_SIGNALS[0], BLOCK_SIGNALS[3], BLOCK_SIGNALS[4]))

    def parse(self, page: Page) -> ParseResult:
        html = page.text
        if html.lstrip().startswith("<?xml") or "<feed" in html[:2000]:
            return self._parse_feed(page)
        data = body_json(page)
        if isinstance(data, dict):
            if is_innertube(data):
                return parse_innertube(data, page)
            return ParseResult(errors=["youtube/unrecognised_response"])
        player = assigned_json(html, "ytInitialPlayerResponse")
        initial = assigned_json(html, "ytInitialData")
        if not isinstance(player, dict) and isinstance(initial, dict) and not watch_results(initial):
            items = browse_items(initial, page)  # a channel tab page embeds its browse body
            if items:
                return ParseResult(items=items)
        if not isinstance(player, dict):
            blocked = find_signal(html, BLOCK_SIGNALS)
            if blocked:
                return ParseResult(blocked=blocked)
            return ParseResult(errors=["youtube/no_state"])
        return watch_result(player, dict_or_empty(initial), page)

    # -- feeds ---------------------------------------------------------------------------------------
    def _parse_feed(self, page: Page) -> ParseResult:
        """Delegate to the standards feed parser when it exists; else read YouTube's Atom dialect here."""
        feed = _feed_parser()
        if feed is not None:
            result = feed.parse(page)
            if result.items or result.blocked:
                return result
        try:
            root = ET.fromstring(page.body)
        except ET.ParseError:
            return ParseResult(errors=["youtube/malformed_feed"])
        channel_name = text(root.findtext("atom:author/atom:name", namespaces=_FEED_NS))
        items = []
        for entry in root.findall("atom:entry", _FEED_NS):
            video_id = text(entry.findtext("yt:videoId", namespaces=_FEED_NS))
            if not video_id:
                continue
            title = text(entry.findtext("atom:title", namespaces=_FEED_NS))
            description = text(entry.findtext("media:group/media:description", namespaces=_FEED_NS))
            stats = entry.find("media:group/media:community/media:statistics", _FEED_NS)
            rating = entry.find("media:group/media:community/media:starRating", _FEED_NS)
            channel_id = text(entry.findtext("yt:channelId", namespaces=_FEED_NS))
            author_uri = text(entry.findtext("atom:author/atom:uri", namespaces=_FEED_NS))
            items.append(
                VideoItem(
                    id=make_id("youtube", "video", video_id),
                    platform="youtube",
                    url=f"{BASE}/watch?v={video_id}",
                    title=title,
                    description=description,
                    hashtags=extract_hashtags(description),
                    language=guess_language(" ".join(t for t in (title, description) if t)),
                    published_at=parse_datetime(entry.findtext("atom:published", namespaces=_FEED_NS)),
                    creator=CreatorRef(
                        id=creator_id(channel_id),
                        name=text(entry.findtext("atom:author/atom:name", namespaces=_FEED_NS))
                        or channel_name,
                        url=author_uri,
                    ),
                    metrics=Metrics(
                        views=count(stats.get("views")) if stats is not None else None,
                        likes=count(rating.get("count")) if rating is not None else None,
                    ),
                    observed_at=page.observed_iso,
                    source=self.name,
                )
            )
        return ParseResult(items=items)


def _feed_parser() -> Any:
    try:
        return importlib.import_module("crawler.parsers.feed").PARSER
    except (ModuleNotFoundError, AttributeError):
        return None


# -- watch page / player + next bodies -> items ----------------------------------------------------
def parse_innertube(data: dict[str, Any], page: Page) -> ParseResult:
    """A `youtubei/v1` body: player (or reel_item_watch's `playerResponse`), next, or browse."""
    player = (
        data
        if ("videoDetails" in data or "playabilityStatus" in data)
        else dict_or_empty(data.get("playerResponse"))
    )
    next_body = data if (watch_results(data) or "currentVideoEndpoint" in data) else {}
    if player:
        return watch_result(player, next_body, page)
    if next_body:
        if not next_video_id(next_body):
            return ParseResult(errors=["youtube/no_video"])
        return ParseResult(items=[watch_item({}, next_body, page), *collaborator_items(next_body, page)])
    items = browse_items(data, page)
    return ParseResult(items=items) if items else ParseResult(errors=["youtube/empty_list"])


def watch_result(player: dict[str, Any], next_body: dict[str, Any], page: Page) -> ParseResult:
    """A player response (+ the next body when there is one). Playability errors keep the metadata that
    is present: an unplayable or age-gated video with its videoDetails is an item plus an error reason."""
    status = dict_or_empty(player.get("playabilityStatus"))
    details = dict_or_empty(player.get("videoDetails"))
    status_name = text(status.get("status"))
    video_id = text(details.get("videoId"))
    if status_name in UNAVAILABLE or not video_id:
        reason = " ".join(
            x
            for x in (
                text(status.get("reason")),
                text(dig(status, "errorScreen", "playerErrorMessageRenderer", "subreason", "simpleText")),
            )
            if x
        )
        wall = find_signal(reason, WALL_REASONS) if status_name == "LOGIN_REQUIRED" else None
        error = wall or f"youtube/unavailable:{(status_name or 'no_video').lower()}"
        if not (video_id and text(details.get("title"))) or wall == "youtube/bot_check":
            return ParseResult(blocked=wall) if wall else ParseResult(errors=[error])
        items = [watch_item(player, next_body, page), *collaborator_items(next_body, page)]
        return ParseResult(items=items, errors=[error])
    return ParseResult(items=[watch_item(player, next_body, page), *collaborator_items(next_body, page)])


def watch_item(player: dict[str, Any], initial: dict[str, Any], page: Page) -> VideoItem | LiveItem:
    """One video or live item from a player response and/or a next body (ytInitialData is one): the
    player's fields first, the next body's rendered ones where the player has none."""
    details = dict_or_empty(player.get("videoDetails"))
    micro = dict_or_empty(dig(player, "microformat", "playerMicroformatRenderer"))
    broadcast = dict_or_empty(micro.get("liveBroadcastDetails"))
    status = dict_or_empty(player.get("playabilityStatus"))
    core = next_core(initial) if initial else {}
    video_id = text(first(details.get("videoId"), core.get("video_id")))
    title = text(first(details.get("title"), dig(micro, "title", "simpleText"), core.get("title")))
    description = text(
        first(
            details.get("shortDescription"), dig(micro, "description", "simpleText"), core.get("description")
        )
    )
    common = dict(
        platform="youtube",
        url=f"{BASE}/shorts/{video_id}" if "/shorts/" in page.url else f"{BASE}/watch?v={video_id}",
        title=title,
        description=description,
        # Tags the creator wrote as #hashtags; `keywords` are SEO tags and are kept out of hashtags.
        hashtags=normalise_hashtags(extract_hashtags(description)),
        language=guess_language(" ".join(t for t in (title, description) if t)),
        # ISO strings only: a bare number here is not an epoch but a broken field.
        published_at=parse_datetime(
            first(*(v for v in (micro.get("publishDate"), micro.get("uploadDate")) if isinstance(v, str)))
        )
        or core.get("published_at"),
        duration_s=parse_duration(first(details.get("lengthSeconds"), micro.get("lengthSeconds"))) or None,
        creator=creator_ref(details, micro, initial),
        products=products(initial),
        thumbnail=best_thumbnail(details.get("thumbnail")) or best_thumbnail(micro.get("thumbnail")),
        observed_at=page.observed_iso,
        source="youtube",
    )
    views = count(first(details.get("viewCount"), micro.get("viewCount")))
    if views is None and not details and not micro:
        views = core.get("views")
    likes = first(count(micro.get("likeCount")), like_count(initial))
    comments = comment_count(initial)
    live_now = (
        broadcast.get("isLiveNow") is True or details.get("isLive") is True or core.get("is_live") is True
    )
    scheduled_at = parse_datetime(
        dig(
            status,
            "liveStreamability",
            "liveStreamabilityRenderer",
            "offlineSlate",
            "liveStreamOfflineSlateRenderer",
            "scheduledStartTime",
        )
    )
    upcoming = details.get("isUpcoming") is True or (
        text(status.get("status")) == "LIVE_STREAM_OFFLINE" and scheduled_at is not None
    )
    if live_now or upcoming:
        info = LiveInfo(
            status="live" if live_now else "scheduled",
            started_at=(None if live_now else scheduled_at)
            or parse_datetime(broadcast.get("startTimestamp")),
            ended_at=parse_datetime(broadcast.get("endTimestamp")),
        )
        # A live's published_at is its start (the scheduled start of a scheduled one) as on every platform
        # (docs/DATA_MODEL.md), never publishDate; else the next body's "Started streaming on <day>".
        common["published_at"] = info.started_at or (core.get("published_at") if live_now else None)
        return LiveItem(
            id=make_id("youtube", "live", video_id),
            live=info,
            metrics=Metrics(
                # A scheduled stream's "0" views are a placeholder: unknown until it airs.
                views=views if live_now else (views or None),
                likes=likes,
                comments=comments,
                viewers=concurrent_viewers(initial) if live_now else None,
            ),
            **common,
        )
    live = None
    if broadcast:
        live = LiveInfo(
            status="ended",
            started_at=parse_datetime(broadcast.get("startTimestamp")),
            ended_at=parse_datetime(broadcast.get("endTimestamp")),
        )
    return VideoItem(
        id=make_id("youtube", "video", video_id),
        live=live,
        metrics=Metrics(views=views, likes=likes, comments=comments),
        **common,
    )


def creator_ref(details: dict[str, Any], micro: dict[str, Any], initial: dict[str, Any]) -> CreatorRef:
    channel_id = text(first(details.get("channelId"), micro.get("externalChannelId")))
    if not channel_id and not text(first(details.get("author"), micro.get("ownerChannelName"))):
        from_next = next_creator(initial) if initial else None
        if from_next:
            return from_next
    profile = text(micro.get("ownerProfileUrl"))
    handle = None
    if profile and "/@" in profile:
        handle = profile.rsplit("/@", 1)[1].strip("/") or None
    owner = owner_renderer(initial) if initial else {}
    return CreatorRef(
        id=creator_id(channel_id),
        name=text(first(details.get("author"), micro.get("ownerChannelName"))),
        handle=handle,
        url=f"{BASE}/@{handle}" if handle else (f"{BASE}/channel/{channel_id}" if channel_id else None),
        followers=count(dig(owner, "subscriberCountText", "simpleText")),
        verified=True if any(mentions(b, "VERIFIED") for b in list_or_empty(owner.get("badges"))) else None,
    )


def collaborator_items(next_body: dict[str, Any], page: Page) -> list[CreatorItem]:
    """Each creator of a collaboration video as a creator item (the video names the first as its creator)."""
    return [
        CreatorItem(
            id=ref.id,
            platform="youtube",
            url=ref.url,
            title=ref.name,
            name=ref.name,
            handle=ref.handle,
            followers=ref.followers,
            verified=ref.verified,
            observed_at=page.observed_iso,
            source="youtube",
        )
        for ref in (collaborators(next_body) if next_body else [])
        if ref.id
    ]


def mentions(node: Any, needle: str, depth: int = 0) -> bool:
    """True when a key or a string anywhere in a JSON tree (depth-limited) contains `needle`."""
    if depth > MAX_WALK_DEPTH:
        return False
    if isinstance(node, str):
        return needle in node
    if isinstance(node, dict):
        return any(needle in k or mentions(v, needle, depth + 1) for k, v in node.items())
    if isinstance(node, list):
        return any(mentions(v, needle, depth + 1) for v in node)
    return False


def decimal_comma(value: Any) -> Any:
    """ "€19,99" -> "€19.99": YouTube localises prices, and a comma before exactly two digits is a decimal mark."""
    if isinstance(value, str) and "." not in value:
        return re.sub(r"(\d),(\d{2})(?!\d)", r"\1.\2", value)
    return value


def products(initial: dict[str, Any]) -> list[ProductRef]:
    """Product shelves in a next body: `productListItemRenderer` (the "Products" panel and the in-video
    shopping overlay: title.simpleText, price string, merchantName) and `merchandiseItemRenderer` (the merch
    shelf: title, price, vendorName). The price string carries its currency ("$24.99", "25,16 €"). One
    product shown by several of them (links differing in utm_* tags) is kept once (dedupe_products)."""
    found: list[ProductRef] = []
    for renderer in list(walk(initial, "productListItemRenderer")) + list(
        walk(initial, "merchandiseItemRenderer")
    ):
        title = text(
            first(
                dig(renderer, "title", "simpleText"),
                renderer.get("title") if isinstance(renderer.get("title"), str) else None,
                renderer.get("accessibilityTitle"),
            )
        )
        if not title:
            continue
        price = parse_price(decimal_comma(renderer.get("price")))
        url = next(
            (
                text(dig(c, "urlEndpoint", "url"))
                for c in list_or_empty(
                    dig(
                        first(renderer.get("onClickCommand"), renderer.get("buttonCommand")),
                        "commandExecutorCommand",
                        "commands",
                    )
                )
                if dig(c, "urlEndpoint", "url")
            ),
            None,
        )
        found.append(
            ProductRef(
                id=None,
                title=title,
                price=price.amount if price else None,
                price_max=price.amount_max if price else None,
                currency=price.currency if price else None,
                url=url,
                shop=text(first(renderer.get("merchantName"), renderer.get("vendorName"))),
                thumbnail=best_thumbnail(renderer.get("thumbnail")),
            )
        )
    return dedupe_products(found)


PARSER = YouTubeParser()
