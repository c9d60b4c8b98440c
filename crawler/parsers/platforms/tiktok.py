"""TikTok: video, profile and live pages (embedded state), API bodies, oEmbed, Creative Center lists; see docs/PLATFORMS.md."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from crawler.items import CreatorItem, CreatorRef, LiveInfo, LiveItem, Metrics, ProductRef, VideoItem, make_id
from crawler.normalize import (
    extract_hashtags,
    normalise_hashtags,
    parse_datetime,
    parse_duration,
    parse_price,
)
from crawler.parsers.base import Page, ParseResult, dig
from crawler.parsers.platforms._common import (
    assigned_json,
    body_json,
    boolean,
    count,
    dict_or_empty,
    find_signal,
    first,
    host_matches,
    json_in_string,
    list_or_empty,
    script_json,
    sniff_block_page,
    text,
)

DOMAINS = ("tiktok.com",)
BASE = "https://www.tiktok.com"

# webapp.video-detail `statusCode` values seen in the wild (0 is a normal page): the video is gone or
# private. Reported as `tiktok/unavailable`, never as an item.
UNAVAILABLE_STATUS = {
    10201: "not_found",
    10204: "not_found",
    10216: "private",
    10222: "private",
    10235: "removed",
}

# LiveRoom.liveRoomUserInfo.liveRoom.status (and user.status): 2 is on air, 4 is ended (the same codes as
# Douyin's webcast rooms).
LIVE_STATUS = {2: "live", 4: "ended"}

# Block pages. TikTok's WAF answers with a ~1.4 KB "Please wait..." challenge page whose markers are
# `_wafchallengeid` / `SlardarWAF`; its captcha page carries the `tiktok-verify-page` / `captcha_container`
# markers. These words also occur in normal pages' SDK config, so they count only when no state is found.
BLOCK_SIGNALS = (
    ("_wafchallengeid", "tiktok/waf_challenge"),
    ("SlardarWAF", "tiktok/waf_challenge"),
    ("tiktok-verify-page", "tiktok/captcha"),
    ("captcha_container", "tiktok/captcha"),
    ("verify-bar-close", "tiktok/captcha"),
    ("Security Check", "tiktok/captcha"),
    ("/login?redirect_url", "tiktok/login_wall"),
)

# TikTok Creative Center (ads.tiktok.com/business/creativecenter): public trending lists whose first page is
# embedded in Next.js's __NEXT_DATA__; they give links to seed crawls, not items.
CREATIVE_CENTER_HOST = "ads.tiktok.com"

_VIDEO_URL_RE = re.compile(r"https?://(?:www\.)?tiktok\.com/@([\w.\-]+)/video/(\d+)")


class TikTokParser:
    name = "tiktok"
    platform = "tiktok"
    domains = DOMAINS

    def matches_url(self, url: str) -> bool:
        return host_matches(url, DOMAINS)

    def sniff(self, page: Page) -> bool:
        head = page.text[:2_000_000]
        if "__UNIVERSAL_DATA_FOR_REHYDRATION__" in head or 'id="SIGI_STATE"' in head:
            return "webapp.app-context" in head or "AppContext" in head or "tiktok" in head.lower()
        if 'id="__NEXT_DATA__"' in head and ("creativecenter" in head.lower() or "Creative Center" in head):
            return True
        data = body_json(page) if page.text.lstrip()[:1] == "{" else None
        if isinstance(data, dict):
            return data.get("provider_name") == "TikTok" or is_api_body(data)
        return sniff_block_page(page, BLOCK_SIGNALS[:3])

    def parse(self, page: Page) -> ParseResult:
        html = page.text
        data = body_json(page)
        if isinstance(data, dict) and ("provider_name" in data or "embed_product_id" in data):
            return self._parse_oembed(page, data)
        if isinstance(data, dict) and is_api_body(data):
            return self._parse_api(page, data)
        next_data = script_json(html, "__NEXT_DATA__")
        if isinstance(next_data, dict) and dig(next_data, "props", "pageProps") is not None:
            return self._parse_creative_center(dict_or_empty(dig(next_data, "props", "pageProps")))
        universal = script_json(html, "__UNIVERSAL_DATA_FOR_REHYDRATION__")
        scope = dict_or_empty(dig(universal, "__DEFAULT_SCOPE__"))
        if "webapp.video-detail" in scope:
            return self._parse_video_detail(page, scope["webapp.video-detail"])
        if "webapp.user-detail" in scope:
            return self._parse_user_detail(page, scope["webapp.user-detail"], html)
        # The older SIGI_STATE layout, looked for only when the current state holds no video or profile
        # (two more scans of a 500 KB page otherwise).
        sigi = dict_or_empty(script_json(html, "SIGI_STATE") or assigned_json(html, "SIGI_STATE"))
        if sigi.get("LiveRoom"):
            return self._parse_live(page, sigi["LiveRoom"])
        if sigi.get("ItemModule"):
            return self._parse_sigi_items(page, sigi)
        if "webapp.live-detail" in scope or "webapp.live-room" in scope:
            return self._parse_live(page, scope.get("webapp.live-detail") or scope.get("webapp.live-room"))
        blocked = find_signal(html, BLOCK_SIGNALS)
        if blocked:
            return ParseResult(blocked=blocked)
        if universal is not None or sigi:
            return ParseResult(errors=["tiktok/unrecognised_state"])
        return ParseResult(errors=["tiktok/no_state"])

    # -- video -------------------------------------------------------------------------------------
    def _parse_video_detail(self, page: Page, detail: Any) -> ParseResult:
        detail = dict_or_empty(detail)
        status = detail.get("statusCode")
        item = dig(detail, "itemInfo", "itemStruct")
        if status not in (0, None, "0") or not isinstance(item, dict) or not text(item.get("id")):
            reason = UNAVAILABLE_STATUS.get(status if isinstance(status, int) else -1, "unavailable")
            return ParseResult(
                errors=[f"tiktok/unavailable:{reason}" if reason != "unavailable" else "tiktok/unavailable"]
            )
        return ParseResult(items=[video_item(item, page.observed_iso)])

    # -- API bodies: api/item/detail, api/post/item_list (and other itemList lists), api-live/user/room --
    def _parse_api(self, page: Page, data: dict[str, Any]) -> ParseResult:
        if "itemInfo" in data or ("statusCode" in data and "itemList" not in data and "data" not in data):
            return self._parse_video_detail(page, data)
        if isinstance(data.get("itemList"), list) or "hasMore" in data:
            items = [
                video_item(raw, page.observed_iso)
                for raw in list_or_empty(data.get("itemList"))
                if isinstance(raw, dict) and text(raw.get("id"))
            ]
            return ParseResult(items=items)
        live = dict_or_empty(data.get("data"))
        return self._parse_live(page, {"liveRoomUserInfo": live, "loadingState": data.get("loadingState")})

    # -- Creative Center trending lists (discovery) ----------------------------------------------------
    def _parse_creative_center(self, props: dict[str, Any]) -> ParseResult:
        """popular videos (`data.videos[].itemUrl`) -> video pages; popular hashtags (`data.list[]
        .hashtagName`) -> tag pages. Links only: a list row holds no counts worth an item."""
        data = dict_or_empty(props.get("data"))
        links = []
        for video in list_or_empty(data.get("videos")):
            video = dict_or_empty(video)
            url = text(first(video.get("itemUrl"), video.get("item_url")))
            video_id = text(first(video.get("itemId"), video.get("item_id"), video.get("id")))
            if url and host_matches(url, DOMAINS):
                links.append(url.split("?")[0])
            elif video_id and video_id.isdigit():
                links.append(f"{BASE}/video/{video_id}")
        for tag in list_or_empty(data.get("list")):
            name = text(first(dict_or_empty(tag).get("hashtagName"), dict_or_empty(tag).get("hashtag_name")))
            if name:
                links.append(f"{BASE}/tag/{quote(name)}")
        if not links:
            return ParseResult(errors=["tiktok/unrecognised_state"])
        return ParseResult(links=list(dict.fromkeys(links)))

    def _parse_sigi_items(self, page: Page, sigi: dict[str, Any]) -> ParseResult:
        """The older SIGI_STATE layout: ItemModule {id: item} with authors in UserModule.users."""
        users = dict_or_empty(dig(sigi, "UserModule", "users"))
        stats = dict_or_empty(dig(sigi, "UserModule", "stats"))
        items = []
        for raw in dict_or_empty(sigi.get("ItemModule")).values():
            if not isinstance(raw, dict) or not text(raw.get("id")):
                continue
            raw = dict(raw)
            handle = raw.get("author") if isinstance(raw.get("author"), str) else None
            if handle:  # SIGI items name the author by handle; the user record lives beside them
                raw["author"] = {**dict_or_empty(users.get(handle)), "uniqueId": handle}
                raw.setdefault("authorStats", stats.get(handle))
            items.append(video_item(raw, page.observed_iso))
        if not items:
            return ParseResult(errors=["tiktok/unavailable"])
        return ParseResult(items=items)

    # -- profile -----------------------------------------------------------------------------------
    def _parse_user_detail(self, page: Page, detail: Any, html: str) -> ParseResult:
        detail = dict_or_empty(detail)
        user = dict_or_empty(dig(detail, "userInfo", "user"))
        if detail.get("statusCode") not in (0, None) or not (
            text(user.get("uniqueId")) or text(user.get("id"))
        ):
            return ParseResult(errors=["tiktok/unavailable"])
        stats = dict_or_empty(dig(detail, "userInfo", "stats"))
        stats_v2 = dict_or_empty(dig(detail, "userInfo", "statsV2"))
        handle = text(user.get("uniqueId"))
        native = text(user.get("id")) or handle  # the numeric id survives a handle change
        creator = CreatorItem(
            id=make_id("tiktok", "creator", native),
            platform="tiktok",
            url=f"{BASE}/@{handle}" if handle else None,
            title=text(user.get("nickname")),
            description=text(user.get("signature")),
            name=text(user.get("nickname")),
            handle=handle,
            followers=first(count(stats_v2.get("followerCount")), count(stats.get("followerCount"))),
            verified=boolean(user.get("verified")),
            metrics=Metrics(likes=first(count(stats_v2.get("heartCount")), count(stats.get("heartCount")))),
            observed_at=page.observed_iso,
            source=self.name,
        )
        creator.creator = CreatorRef(
            id=text(user.get("id")),
            name=creator.name,
            handle=handle,
            url=creator.url,
            followers=creator.followers,
            verified=creator.verified,
        )
        links = [f"{BASE}/@{h}/video/{vid}" for h, vid in _VIDEO_URL_RE.findall(html)]
        for raw in list_or_empty(dig(detail, "userInfo", "itemList")):
            video_id = text(dict_or_empty(raw).get("id"))
            if video_id and handle:
                links.append(f"{BASE}/@{handle}/video/{video_id}")
        return ParseResult(items=[creator], links=list(dict.fromkeys(links)))

    # -- live --------------------------------------------------------------------------------------
    def _parse_live(self, page: Page, live_room: Any) -> ParseResult:
        live_room = dict_or_empty(live_room)
        info = dict_or_empty(live_room.get("liveRoomUserInfo")) or dict_or_empty(live_room.get("data"))
        user = dict_or_empty(info.get("user"))
        room = dict_or_empty(info.get("liveRoom"))
        handle = text(user.get("uniqueId"))
        room_id = text(first(user.get("roomId"), room.get("roomId"), live_room.get("roomId")))
        if not room and not user:
            return ParseResult(errors=["tiktok/unavailable"])
        status_code = first(room.get("status"), user.get("status"), live_room.get("liveRoomStatus"))
        status = LIVE_STATUS.get(status_code if isinstance(status_code, int) else -1)
        native = room_id or (f"@{handle}" if handle else None)
        if native is None:
            return ParseResult(errors=["tiktok/unavailable"])
        stats = dict_or_empty(room.get("liveRoomStats"))
        # Until the page loads them (loadingState.getUserStat 0), user stats are placeholder zeros: unknown.
        loading = dict_or_empty(live_room.get("loadingState"))
        user_stats = {} if loading.get("getUserStat") == 0 else dict_or_empty(info.get("stats"))
        title = text(room.get("title"))
        started = parse_datetime(room.get("startTime"))
        item = LiveItem(
            id=make_id("tiktok", "live", native),
            platform="tiktok",
            url=f"{BASE}/@{handle}/live" if handle else None,
            title=title or (f"{text(user.get('nickname')) or handle} LIVE" if handle else None),
            hashtags=extract_hashtags(title),
            creator=CreatorRef(
                id=text(user.get("id")),
                name=text(user.get("nickname")),
                handle=handle,
                url=f"{BASE}/@{handle}" if handle else None,
                followers=None if placeholder_stats(user_stats) else count(user_stats.get("followerCount")),
                verified=boolean(user.get("verified")),
            ),
            live=LiveInfo(status=status, started_at=started if status else None),
            metrics=Metrics(
                viewers=count(stats.get("userCount")) if status == "live" else None,
                views=count(first(stats.get("totalUser"), stats.get("enterCount"))),
                likes=count(stats.get("likeCount")),
            ),
            published_at=started,
            thumbnail=text(first(room.get("coverUrl"), room.get("squareCoverImg"))),
            observed_at=page.observed_iso,
            source=self.name,
        )
        return ParseResult(items=[item])

    # -- oEmbed ------------------------------------------------------------------------------------
    def _parse_oembed(self, page: Page, data: dict[str, Any]) -> ParseResult:
        """https://www.tiktok.com/oembed?url=...: title, author and the video id (`embed_product_id`)."""
        video_id = text(data.get("embed_product_id"))
        if not video_id:
            match = re.search(r"data-video-id=\\?\"(\d+)", str(data.get("html") or ""))
            video_id = match.group(1) if match else None
        if not video_id:
            return ParseResult(errors=["tiktok/oembed_without_id"])
        author_url = text(data.get("author_url"))
        handle = author_url.rstrip("/").rsplit("@", 1)[-1] if author_url and "@" in author_url else None
        title = text(data.get("title"))
        item = VideoItem(
            id=make_id("tiktok", "video", video_id),
            platform="tiktok",
            url=f"{BASE}/@{handle}/video/{video_id}" if handle else None,
            title=title,
            description=title,
            hashtags=extract_hashtags(title),
            creator=CreatorRef(name=text(data.get("author_name")), handle=handle, url=author_url),
            observed_at=page.observed_iso,
            source=self.name,
        )
        return ParseResult(items=[item])


# -- item building (also used for SIGI_STATE items, which share itemStruct's field names) ------------
def video_item(item: dict[str, Any], observed_at: str) -> VideoItem:
    video_id = text(item.get("id"))
    author = author_ref(item)
    handle = author.handle if author else None
    description = text(item.get("desc"))
    return VideoItem(
        id=make_id("tiktok", "video", video_id),
        platform="tiktok",
        url=f"{BASE}/@{handle}/video/{video_id}" if handle else f"{BASE}/video/{video_id}",
        title=description,
        description=description,
        hashtags=hashtags(item, description),
        language=text(item.get("textLanguage")) if item.get("textLanguage") not in ("un", "") else None,
        published_at=parse_datetime(item.get("createTime")),
        duration_s=parse_duration(first(dig(item, "video", "duration"), dig(item, "music", "duration"))),
        creator=author,
        metrics=metrics(item),
        products=products(item),
        thumbnail=text(first(dig(item, "video", "cover"), dig(item, "video", "originCover"))),
        observed_at=observed_at,
        source="tiktok",
    )


def author_ref(item: dict[str, Any]) -> CreatorRef | None:
    author = dict_or_empty(item.get("author"))
    if not author:
        return None
    stats = dict_or_empty(item.get("authorStatsV2")) or dict_or_empty(item.get("authorStats"))
    fallback = dict_or_empty(item.get("authorStats"))
    handle = text(author.get("uniqueId"))
    followers = first(count(stats.get("followerCount")), count(fallback.get("followerCount")))
    return CreatorRef(
        id=text(author.get("id")),
        name=text(author.get("nickname")),
        handle=handle,
        url=f"{BASE}/@{handle}" if handle else None,
        followers=None if placeholder_stats(stats) and placeholder_stats(fallback) else followers,
        verified=boolean(author.get("verified")),
    )


def is_api_body(data: dict[str, Any]) -> bool:
    """TikTok's web API envelopes: `itemInfo` (api/item/detail), `itemList` (api/post/item_list and the
    other lists), `data.liveRoom` (api-live/user/room); each with `statusCode`/`status_code` and no
    Douyin `aweme_*` keys."""
    if "aweme_list" in data or "aweme_detail" in data:
        return False
    if "itemInfo" in data or isinstance(data.get("itemList"), list):
        return True
    has_status = "statusCode" in data
    return has_status and ("liveRoom" in dict_or_empty(data.get("data")) or "log_pb" in data)


def placeholder_stats(stats: dict[str, Any]) -> bool:
    """Stats sent before they load (follower, heart and video counts all 0): unknown, never 0 followers.
    An empty dict is not a placeholder (nothing was said)."""
    keys = ("followerCount", "heartCount", "heart", "videoCount")
    present = [stats.get(k) for k in keys if k in stats]
    return bool(present) and all(v in (0, "0") for v in present)


def metrics(item: dict[str, Any]) -> Metrics:
    """`statsV2` (strings, exact) first, then `stats` (ints, sometimes strings, sometimes rounded)."""
    v2 = dict_or_empty(item.get("statsV2"))
    v1 = dict_or_empty(item.get("stats"))

    def pick(key: str) -> int | None:
        return first(count(v2.get(key)), count(v1.get(key)))

    return Metrics(
        views=pick("playCount"),
        likes=pick("diggCount"),
        comments=pick("commentCount"),
        shares=pick("shareCount"),
        collects=pick("collectCount"),
    )


def hashtags(item: dict[str, Any], description: str | None) -> list[str]:
    """Hashtags from `textExtra` entries with a hashtagName (mentions have an empty one), then
    `challenges[].title`, then `#tags` written in the description."""
    found: list[str] = []
    extras = list_or_empty(item.get("textExtra"))
    for content in list_or_empty(item.get("contents")):
        extras += list_or_empty(dict_or_empty(content).get("textExtra"))
    for extra in extras:
        name = text(dict_or_empty(extra).get("hashtagName"))
        if name:
            found.append(name)
    for challenge in list_or_empty(item.get("challenges")):
        name = text(dict_or_empty(challenge).get("title"))
        if name:
            found.append(name)
    return normalise_hashtags(found + extract_hashtags(description))


def products(item: dict[str, Any]) -> list[ProductRef]:
    """TikTok Shop anchors: `anchors[].extra` is a JSON string holding a list of components; those with
    `component_key == "anchor_shop"` (type 33) carry the product in their own JSON-string `extra`
    (product_id, title, seller_id, price, currency, seo_url ...). Other anchors (CapCut, places) are skipped.
    A price of 0 is how the page says "not shown", so it becomes None."""
    found: dict[str, ProductRef] = {}
    for anchor in list_or_empty(item.get("anchors")):
        anchor = dict_or_empty(anchor)
        components = json_in_string(anchor.get("extra"))
        components = (
            components
            if isinstance(components, list)
            else [components]
            if isinstance(components, dict)
            else []
        )
        for component in components:
            component = dict_or_empty(component)
            if component.get("component_key") != "anchor_shop" and component.get("type") != 33:
                continue
            product = dict_or_empty(json_in_string(component.get("extra")))
            product_id = text(first(product.get("product_id"), component.get("id"), anchor.get("id")))
            if not product_id:
                continue
            price = parse_price(
                first(product.get("format_price"), product.get("price")), product.get("currency")
            )
            found[product_id] = ProductRef(
                id=make_id("tiktok", "product", product_id) if product_id else None,
                title=text(
                    first(
                        product.get("title"),
                        product.get("elastic_title"),
                        component.get("keyword"),
                        anchor.get("keyword"),
                    )
                ),
                price=price.amount if price and price.amount > 0 else None,
                price_max=price.amount_max if price and price.amount > 0 else None,
                currency=(price.currency if price and price.amount > 0 else None)
                or text(product.get("currency")),
                url=(text(product.get("seo_url")) or "").split("?")[0] or f"{BASE}/view/product/{product_id}",
                shop=text(first(product.get("shop_name"), dig(product, "seller_info", "shop_name"))),
                sales=count(first(product.get("sold_count"), dig(product, "sold_info", "sold_count"))),
                thumbnail=product_image(product),
            )
    return list(found.values())


def product_image(product: dict[str, Any]) -> str | None:
    """A shop product's image: `cover_url`/`cover`, else the first of `images`/`img_url` lists."""
    for key in ("cover_url", "cover", "image", "img_url", "images"):
        value = product.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, dict):
            value = first(value.get("url"), *list_or_empty(value.get("url_list"))[:1])
        found = text(value)
        if found and found.startswith(("http://", "https://")):
            return found
    return None


PARSER = TikTokParser()
