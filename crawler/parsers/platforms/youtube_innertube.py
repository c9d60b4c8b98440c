"""YouTube InnerTube readers: the `youtubei/v1` next and browse bodies (and ytInitialData, which is a next body)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from crawler.items import CreatorItem, CreatorRef, LiveInfo, LiveItem, Metrics, VideoItem, make_id
from crawler.normalize import guess_language, parse_datetime, parse_duration
from crawler.parsers.base import Page, dig
from crawler.parsers.platforms._common import count, count_positive, dict_or_empty, first, list_or_empty, text

BASE = "https://www.youtube.com"
# How deep we walk an InnerTube tree looking for renderers; the real next body is ~40 levels deep.
MAX_WALK_DEPTH = 60
# Top-level keys that only InnerTube bodies carry (player, next, browse, reel_item_watch): content sniffing.
INNERTUBE_KEYS = ("playabilityStatus", "videoDetails", "playerResponse", "currentVideoEndpoint")
INNERTUBE_CONTENTS = (
    "twoColumnWatchNextResults",
    "twoColumnBrowseResultsRenderer",
    "singleColumnBrowseResultsRenderer",
)

_CHANNEL_ID_RE = re.compile(r"^UC[\w-]{22}$")
_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
# "19 Jun 2018", "Started streaming on 4 Jun 2026" (en-GB) and "Jun 19, 2018" (en-US) as the watch page shows them.
_DAY_MONTH_YEAR_RE = re.compile(r"\b(\d{1,2}) ([A-Za-z]{3})[a-z]*\.? (\d{4})\b")
_MONTH_DAY_YEAR_RE = re.compile(r"\b([A-Za-z]{3})[a-z]*\.? (\d{1,2}), (\d{4})\b")


def walk(node: Any, key: str, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every dict stored under `key` anywhere in a nested JSON tree (depth-limited)."""
    if depth > MAX_WALK_DEPTH:
        return
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key and isinstance(v, dict):
                yield v
            elif isinstance(v, (dict, list)):
                yield from walk(v, key, depth + 1)
    elif isinstance(node, list):
        for v in node:
            if isinstance(v, (dict, list)):
                yield from walk(v, key, depth + 1)


def is_innertube(data: Any) -> bool:
    """True for a JSON body that an InnerTube endpoint sent (player, next, browse, reel_item_watch)."""
    if not isinstance(data, dict):
        return False
    if any(k in data for k in INNERTUBE_KEYS):
        return True
    contents = dict_or_empty(data.get("contents"))
    if any(k in contents for k in INNERTUBE_CONTENTS):
        return True
    actions = list_or_empty(data.get("onResponseReceivedActions"))
    return bool(actions) and "responseContext" in data


def runs_text(node: Any) -> str | None:
    """`{"simpleText": "x"}`, `{"runs": [{"text": "a"}, {"text": "b"}]}` or `{"content": "x"}` -> the text."""
    node = dict_or_empty(node)
    simple = text(first(node.get("simpleText"), node.get("content")))
    if simple:
        return simple
    parts = [r.get("text") for r in list_or_empty(node.get("runs")) if isinstance(r, dict)]
    return text("".join(p for p in parts if isinstance(p, str)))


def best_thumbnail(node: Any) -> str | None:
    """The widest image URL of a `{"thumbnails": [...]}` or `{"sources": [...]}` list; `//host` URLs get https."""
    node = dict_or_empty(node)
    images = list_or_empty(first(node.get("thumbnails"), node.get("sources")))
    best, best_width = None, -1
    for image in images:
        url = text(dig(image, "url"))
        width = count(dig(image, "width")) or 0
        if url and width > best_width:
            best, best_width = url, width
    if best and best.startswith("//"):
        best = "https:" + best
    return best if best and best.startswith("https://") else None


def display_date(value: Any) -> str | None:
    """An ISO time from the watch page's display date ("19 Jun 2018", "Started streaming on Jun 4, 2026")."""
    raw = text(value)
    if not raw:
        return None
    match = _DAY_MONTH_YEAR_RE.search(raw)
    if match:
        day, month, year = match.group(1), match.group(2), match.group(3)
    else:
        match = _MONTH_DAY_YEAR_RE.search(raw)
        if not match:
            return None
        month, day, year = match.group(1), match.group(2), match.group(3)
    number = _MONTHS.get(month.lower())
    if not number or not 1 <= int(day) <= 31:
        return None
    return parse_datetime(f"{year}-{number:02d}-{int(day):02d}")


def channel_ref(endpoint: Any) -> tuple[str | None, str | None]:
    """(channel id, @handle) from a browseEndpoint-bearing navigation endpoint."""
    browse = dict_or_empty(dig(endpoint, "browseEndpoint"))
    channel_id = text(browse.get("browseId"))
    base = text(browse.get("canonicalBaseUrl")) or text(
        dig(endpoint, "commandMetadata", "webCommandMetadata", "url")
    )
    handle = base.split("/@", 1)[1].strip("/") or None if base and "/@" in base else None
    return (channel_id if channel_id and _CHANNEL_ID_RE.match(channel_id) else None), handle


def creator_id(channel_id: str | None) -> str | None:
    """YouTube creators are `youtube:creator:UC…` whichever parser (watch page, API body, feed) saw them."""
    return make_id("youtube", "creator", channel_id) if channel_id else None


# -- next ------------------------------------------------------------------------------------------
def watch_results(next_body: Any) -> list[Any]:
    return list_or_empty(
        dig(next_body, "contents", "twoColumnWatchNextResults", "results", "results", "contents")
    )


def primary_info(next_body: Any) -> dict[str, Any]:
    return next(walk(watch_results(next_body), "videoPrimaryInfoRenderer"), {})


def owner_renderer(next_body: Any) -> dict[str, Any]:
    return next(walk(watch_results(next_body), "videoOwnerRenderer"), None) or next(
        walk(next_body, "videoOwnerRenderer"), {}
    )


def next_video_id(next_body: Any) -> str | None:
    return text(dig(next_body, "currentVideoEndpoint", "watchEndpoint", "videoId"))


def like_count(next_body: Any) -> int | None:
    """Exact likes: `likeCountEntity.expandedLikeCountIfIndifferent`, else the like button's accessibility
    text ("like this video along with 348,977 other people"); the short "349K" title is never used."""
    for entity in walk(next_body, "likeCountEntity"):
        exact = dig(entity, "expandedLikeCountIfIndifferent", "content")
        if exact:
            return count(exact)
    for button in walk(next_body, "likeButtonViewModel"):
        button = dict_or_empty(button.get("likeButtonViewModel")) or button  # the key nests twice
        label = text(
            dig(
                button,
                "toggleButtonViewModel",
                "toggleButtonViewModel",
                "defaultButtonViewModel",
                "buttonViewModel",
                "accessibilityText",
            )
        )
        if label and re.search(r"\d", label):
            return count(label)
    return None


def comment_count(next_body: Any) -> int | None:
    """The comments panel header shows a rounded count ("684K", "28k")."""
    for panel in walk(next_body, "engagementPanelSectionListRenderer"):
        if panel.get("panelIdentifier") == "engagement-panel-comments-section":
            runs = dig(panel, "header", "engagementPanelTitleHeaderRenderer", "contextualInfo", "runs")
            return count(dig(runs, 0, "text"))
    return None


def concurrent_viewers(next_body: Any) -> int | None:
    for renderer in walk(next_body, "videoViewCountRenderer"):
        if renderer.get("isLive"):
            return count(first(renderer.get("originalViewCount"), runs_text(renderer.get("viewCount"))))
    return None


def collaborators(next_body: Any) -> list[CreatorRef]:
    """The creators of a collaboration video: the owner's `showDialogCommand` list (title, @handle and
    subscribers in `subtitle`, channel id in the title's browseEndpoint)."""
    owner = owner_renderer(next_body)
    items = dig(
        owner,
        "navigationEndpoint",
        "showDialogCommand",
        "panelLoadingStrategy",
        "inlineContent",
        "dialogViewModel",
        "customContent",
        "listViewModel",
        "listItems",
    )
    found = []
    for entry in list_or_empty(items):
        model = dict_or_empty(dig(entry, "listItemViewModel"))
        title = dict_or_empty(model.get("title"))
        endpoint = dig(title, "commandRuns", 0, "onTap", "innertubeCommand")
        channel_id, handle = channel_ref(endpoint)
        subtitle = text(dig(model, "subtitle", "content")) or ""
        match = re.search(r"@([\w.-]+)", subtitle)
        handle = handle or (match.group(1) if match else None)
        subscribers = re.search(r"([\d.,]+\s*[KkMmBb]?)\s*subscribers", subtitle)
        verified = any(
            dig(run, "element", "type", "imageType", "image", "sources", 0, "clientResource", "imageName")
            == "CHECK_CIRCLE_FILLED"
            for run in list_or_empty(title.get("attachmentRuns"))
        )
        name = text(title.get("content"))
        if not (channel_id or name):
            continue
        found.append(
            CreatorRef(
                id=creator_id(channel_id),
                name=name,
                handle=handle,
                url=f"{BASE}/@{handle}"
                if handle
                else (f"{BASE}/channel/{channel_id}" if channel_id else None),
                followers=count(subscribers.group(1)) if subscribers else None,
                verified=True if verified else None,
            )
        )
    return found


def next_creator(next_body: Any) -> CreatorRef | None:
    """The channel from `videoOwnerRenderer` (title run's browseEndpoint, subscribers, verified badge)."""
    owner = owner_renderer(next_body)
    if not owner:
        return None
    channel_id, handle = channel_ref(
        first(dig(owner, "title", "runs", 0, "navigationEndpoint"), owner.get("navigationEndpoint"))
    )
    name = text(dig(owner, "title", "runs", 0, "text"))
    team = collaborators(next_body)
    if team and not channel_id:
        return team[0]
    return CreatorRef(
        id=creator_id(channel_id),
        name=name,
        handle=handle,
        url=f"{BASE}/@{handle}" if handle else (f"{BASE}/channel/{channel_id}" if channel_id else None),
        followers=subscribers(owner),
        verified=True if is_verified(owner) else None,
    )


def subscribers(owner: dict[str, Any]) -> int | None:
    return count(
        first(
            dig(owner, "subscriberCountText", "accessibility", "accessibilityData", "label"),
            dig(owner, "subscriberCountText", "simpleText"),
        )
    )


def is_verified(owner: dict[str, Any]) -> bool:
    return any(
        "VERIFIED" in (text(dig(b, "metadataBadgeRenderer", "style")) or "")
        for b in list_or_empty(owner.get("badges"))
    )


def next_core(next_body: Any) -> dict[str, Any]:
    """The core fields a next body carries when no player response came with it."""
    primary = primary_info(next_body)
    counter = dict_or_empty(dig(primary, "viewCount", "videoViewCountRenderer"))
    secondary = next(walk(watch_results(next_body), "videoSecondaryInfoRenderer"), {})
    live = counter.get("isLive") is True
    return {
        "video_id": next_video_id(next_body),
        "title": runs_text(primary.get("title")),
        "description": text(dig(secondary, "attributedDescription", "content")),
        # A live counter shows viewers ("10,226 watching now"), never the total views.
        # `originalViewCount` is "0" on some bodies while the text shows the count: the text comes first.
        "views": None
        if live
        else first(
            count(runs_text(counter.get("viewCount"))), count_positive(counter.get("originalViewCount"))
        ),
        "published_at": display_date(runs_text(primary.get("dateText"))),
        "is_live": live,
    }


# -- browse ----------------------------------------------------------------------------------------
def browse_items(body: Any, page: Page) -> list[VideoItem | LiveItem | CreatorItem]:
    """A browse body's lists: the Live destination and channel Live tabs (`videoRenderer` with "N watching",
    `lockupViewModel` with "Streamed 2 years ago"), Shorts tabs (`shortsLockupViewModel`, "895k views"), and
    the channel itself when the body names it (`channelMetadataRenderer`)."""
    channel = dict_or_empty(dig(body, "metadata", "channelMetadataRenderer"))
    channel_id = text(channel.get("externalId"))
    channel_id = channel_id if channel_id and _CHANNEL_ID_RE.match(channel_id) else None
    vanity = text(channel.get("vanityChannelUrl")) or ""
    handle = vanity.split("/@", 1)[1].strip("/") or None if "/@" in vanity else None
    owner = (
        CreatorRef(
            id=creator_id(channel_id),
            name=text(channel.get("title")),
            handle=handle,
            url=f"{BASE}/@{handle}" if handle else f"{BASE}/channel/{channel_id}",
        )
        if channel_id
        else None
    )
    items: list[Any] = []
    seen: set[str] = set()
    for renderer in walk(body, "videoRenderer"):
        item = video_renderer_item(renderer, owner, page)
        if item and item.id not in seen:
            seen.add(item.id)
            items.append(item)
    for lockup in walk(body, "lockupViewModel"):
        item = lockup_item(lockup, owner, page)
        if item and item.id not in seen:
            seen.add(item.id)
            items.append(item)
    for short in walk(body, "shortsLockupViewModel"):
        item = short_item(short, owner, page)
        if item and item.id not in seen:
            seen.add(item.id)
            items.append(item)
    if owner and channel_id:
        items.append(
            CreatorItem(
                id=owner.id or "",
                platform="youtube",
                url=owner.url,
                title=owner.name,
                description=text(channel.get("description")),
                name=owner.name,
                handle=handle,
                observed_at=page.observed_iso,
                source="youtube",
            )
        )
    return items


def video_renderer_item(renderer: dict[str, Any], owner: CreatorRef | None, page: Page) -> Any:
    video_id = text(renderer.get("videoId"))
    if not video_id:
        return None
    title = runs_text(renderer.get("title"))
    views_text = runs_text(renderer.get("viewCountText")) or ""
    channel_id, handle = channel_ref(dig(renderer, "ownerText", "runs", 0, "navigationEndpoint"))
    name = text(dig(renderer, "ownerText", "runs", 0, "text"))
    creator = (
        CreatorRef(
            id=creator_id(channel_id),
            name=name,
            handle=handle,
            url=f"{BASE}/@{handle}" if handle else (f"{BASE}/channel/{channel_id}" if channel_id else None),
            verified=True if is_verified({"badges": renderer.get("ownerBadges")}) else None,
        )
        if channel_id or name
        else owner
    )
    common = dict(
        platform="youtube",
        url=f"{BASE}/watch?v={video_id}",
        title=title,
        description=runs_text(renderer.get("descriptionSnippet")),
        language=guess_language(title),
        creator=creator,
        thumbnail=best_thumbnail(renderer.get("thumbnail")),
        observed_at=page.observed_iso,
        source="youtube",
    )
    if "watching" in views_text:
        return LiveItem(
            id=make_id("youtube", "live", video_id),
            live=LiveInfo(status="live"),
            metrics=Metrics(viewers=count(views_text)),
            **common,
        )
    return VideoItem(
        id=make_id("youtube", "video", video_id),
        duration_s=parse_duration(runs_text(renderer.get("lengthText"))),
        metrics=Metrics(views=count(views_text) if "view" in views_text else None),
        **common,
    )


def lockup_item(lockup: dict[str, Any], owner: CreatorRef | None, page: Page) -> Any:
    if text(lockup.get("contentType")) != "LOCKUP_CONTENT_TYPE_VIDEO":
        return None
    video_id = text(lockup.get("contentId"))
    if not video_id:
        return None
    meta = dict_or_empty(dig(lockup, "metadata", "lockupMetadataViewModel"))
    title = text(dig(meta, "title", "content"))
    parts = [
        text(dig(part, "text", "content")) or ""
        for row in list_or_empty(dig(meta, "metadata", "contentMetadataViewModel", "metadataRows"))
        for part in list_or_empty(dig(row, "metadataParts"))
    ]
    views = next((count(p) for p in parts if "view" in p), None)
    watching = next((count(p) for p in parts if "watching" in p), None)
    badges = [text(b.get("text")) for b in walk(lockup.get("contentImage"), "thumbnailBadgeViewModel")]
    duration = next((parse_duration(b) for b in badges if b and re.match(r"^\d+(:\d{2}){1,2}$", b)), None)
    common = dict(
        platform="youtube",
        url=f"{BASE}/watch?v={video_id}",
        title=title,
        language=guess_language(title),
        creator=owner,
        thumbnail=best_thumbnail(dig(lockup, "contentImage", "thumbnailViewModel", "image")),
        observed_at=page.observed_iso,
        source="youtube",
    )
    if watching is not None:
        return LiveItem(
            id=make_id("youtube", "live", video_id),
            live=LiveInfo(status="live"),
            metrics=Metrics(viewers=watching),
            **common,
        )
    streamed = any(p.startswith("Streamed") for p in parts)
    return VideoItem(
        id=make_id("youtube", "video", video_id),
        duration_s=duration,
        live=LiveInfo(status="ended") if streamed else None,
        metrics=Metrics(views=views),
        **common,
    )


def short_item(short: dict[str, Any], owner: CreatorRef | None, page: Page) -> Any:
    video_id = text(dig(short, "onTap", "innertubeCommand", "reelWatchEndpoint", "videoId"))
    if not video_id:
        return None
    title = text(dig(short, "overlayMetadata", "primaryText", "content"))
    views = text(dig(short, "overlayMetadata", "secondaryText", "content")) or ""
    return VideoItem(
        id=make_id("youtube", "video", video_id),
        platform="youtube",
        url=f"{BASE}/shorts/{video_id}",
        title=title,
        language=guess_language(title),
        creator=owner,
        metrics=Metrics(views=count(views) if "view" in views else None),
        thumbnail=best_thumbnail(dig(short, "thumbnailViewModel", "thumbnailViewModel", "image")),
        observed_at=page.observed_iso,
        source="youtube",
    )
