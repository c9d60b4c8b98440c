"""Douyin: video, profile and live pages (RENDER_DATA, _ROUTER_DATA), aweme and webcast API bodies, the hot board; see docs/PLATFORMS.md."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

from crawler.bounds import MAX_PRICE
from crawler.items import (
    CreatorItem,
    CreatorRef,
    LiveInfo,
    LiveItem,
    Metrics,
    ProductItem,
    ProductRef,
    VideoItem,
    make_id,
)
from crawler.normalize import (
    extract_hashtags,
    guess_language,
    normalise_hashtags,
    parse_datetime,
    parse_price,
)
from crawler.parsers.base import Page, ParseResult, dig
from crawler.parsers.platforms._common import (
    assigned_json,
    body_json,
    boolean,
    count,
    count_positive,
    dict_or_empty,
    duration_ms,
    find_signal,
    first,
    host_matches,
    json_in_string,
    list_or_empty,
    script_json,
    sniff_block_page,
    text,
)

DOMAINS = ("douyin.com", "iesdouyin.com", "amemv.com")
BASE = "https://www.douyin.com"

# webcast room `status`: 2 is on air, 4 is ended (0/1/3 are preparing/paused states we do not name).
LIVE_STATUS = {2: "live", 4: "ended"}

# The hot-search board (aweme/v1/web/hot/search/list): public JSON a visitor's browser loads without a
# signature; it seeds crawls with the board's hot pages and each entry's representative video.
HOT_SEARCH_URL = (
    "https://www.douyin.com/aweme/v1/web/hot/search/list/?device_platform=webapp&aid=6383"
    "&channel=channel_pc_web&detail_list=1"
)

# Douyin e-commerce prices in aweme promotions are integers in fen (1/100 yuan): 5990 is ¥59.90.
FEN_PER_YUAN = 100

# Block pages, checked only when no state blob was found (normal pages load the TTGCaptcha SDK too).
# "验证码中间页" is the title of the slider-captcha middle page; `_wafchallengeid`/SlardarWAF mark the
# proof-of-work WAF page; `x-vc-bdturing` / `bdturing` the verification service; `middle_page_loading`
# the interstitial that runs the challenge.
BLOCK_SIGNALS = (
    ("验证码中间页", "douyin/captcha"),
    ("middle_page_loading", "douyin/captcha"),
    ("bdturing", "douyin/verify"),
    ("_wafchallengeid", "douyin/waf_challenge"),
    ("SlardarWAF", "douyin/waf_challenge"),
    ("captcha", "douyin/captcha"),
    ("验证码", "douyin/captcha"),
    ("login-guide", "douyin/login_wall"),
)


def pick(data: Any, snake: str) -> Any:
    """Douyin's app API and share pages use snake_case (`digg_count`); the web app's RENDER_DATA uses
    camelCase (`diggCount`). Read either."""
    if not isinstance(data, dict):
        return None
    if snake in data:
        return data[snake]
    camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), snake)
    return data.get(camel)


class DouyinParser:
    name = "douyin"
    platform = "douyin"
    domains = DOMAINS

    def matches_url(self, url: str) -> bool:
        return host_matches(url, DOMAINS)

    def sniff(self, page: Page) -> bool:
        head = page.text[:3_000_000]
        if "_ROUTER_DATA" in head and ("videoInfoRes" in head or "aweme" in head):
            return True
        if 'id="RENDER_DATA"' in head and ("douyin" in head or "aweme" in head or "roomStore" in head):
            return True
        data = body_json(page)
        if isinstance(data, dict):
            return "aweme_detail" in data or "aweme_list" in data or api_kind(data) is not None
        return sniff_block_page(page, BLOCK_SIGNALS[:2])

    def parse(self, page: Page) -> ParseResult:
        html = page.text
        api = body_json(page)
        if isinstance(api, dict) and ("aweme_detail" in api or "status_code" in api or "aweme_list" in api):
            return self._parse_api(page, api)
        router = assigned_json(html, "_ROUTER_DATA") or script_json(html, "_ROUTER_DATA")
        if isinstance(router, dict):
            return self._parse_router(page, router)
        render = script_json(html, "RENDER_DATA", url_encoded=True)
        if isinstance(render, dict):
            return self._parse_render(page, render)
        blocked = find_signal(html, BLOCK_SIGNALS)
        if blocked:
            return ParseResult(blocked=blocked)
        return ParseResult(errors=["douyin/no_state"])

    # -- share pages: window._ROUTER_DATA -> loaderData -> "video_(id)/page" -> videoInfoRes ----------
    def _parse_router(self, page: Page, router: dict[str, Any]) -> ParseResult:
        for value in dict_or_empty(router.get("loaderData")).values():
            res = dig(value, "videoInfoRes")
            if not isinstance(res, dict):
                continue
            items = [a for a in list_or_empty(res.get("item_list")) if isinstance(a, dict) and aweme_id(a)]
            if items:
                return ParseResult(items=[video_item(a, page.observed_iso) for a in items])
            return ParseResult(errors=[unavailable_reason(res)])
        return ParseResult(errors=["douyin/unrecognised_state"])

    # -- web pages: <script id="RENDER_DATA"> (URL-encoded JSON) ------------------------------------
    def _parse_render(self, page: Page, render: dict[str, Any]) -> ParseResult:
        room_info = dig(render, "app", "initialState", "roomStore", "roomInfo")
        if isinstance(room_info, dict):
            return self._parse_room(page, room_info)
        for value in render.values():
            user = dig(value, "user", "user")
            if isinstance(user, dict) and text(pick(user, "sec_uid")):
                return profile(page, value, user)
        for value in render.values():
            aweme = dig(value, "aweme")
            if not isinstance(aweme, dict):
                continue
            detail = aweme.get("detail")
            if isinstance(detail, dict) and aweme_id(detail):
                return ParseResult(items=[video_item(detail, page.observed_iso)])
            return ParseResult(errors=[unavailable_reason(aweme)])
        return ParseResult(errors=["douyin/unrecognised_state"])

    # -- JSON responses: aweme/v1/web/aweme/detail and webcast/room/web/enter ------------------------
    def _parse_api(self, page: Page, api: dict[str, Any]) -> ParseResult:
        kind = api_kind(api)
        if kind == "hot_board":
            return hot_board(api)
        if kind == "promotions":
            return self._parse_promotions(page, api)
        if kind == "room_info":  # webcast/room/info: data is the room itself
            return self._parse_room(page, {"room": api["data"]})
        if kind == "reflow":  # webcast/room/reflow/info: data.room + data.user
            data = api["data"]
            return self._parse_room(page, {"room": data.get("room"), "anchor": data.get("user")})
        if isinstance(api.get("aweme_detail"), dict) and aweme_id(api["aweme_detail"]):
            return ParseResult(items=[video_item(api["aweme_detail"], page.observed_iso)])
        if isinstance(api.get("aweme_list"), list):
            items = [
                video_item(a, page.observed_iso)
                for a in api["aweme_list"]
                if isinstance(a, dict) and aweme_id(a)
            ]
            return ParseResult(items=items)
        rooms = dig(api, "data", "data")
        if isinstance(rooms, list) and rooms and isinstance(rooms[0], dict):
            info = {
                "room": rooms[0],
                "anchor": dig(api, "data", "user"),
                "web_rid": dig(api, "data", "web_rid"),
            }
            return self._parse_room(page, info)
        return ParseResult(errors=[unavailable_reason(api)])

    # -- a live room's product list (current promotion / cart) -----------------------------------------
    def _parse_promotions(self, page: Page, api: dict[str, Any]) -> ParseResult:
        """Each promotion becomes a product featured in the live room (the body names no room title or
        host, so it cannot be a live item of its own); the room id comes from the request's `room_id`
        or the promotions' `detail_url` (`meta_param.live_room_id`)."""
        refs = live_products(api)
        room_id = room_id_of(page.url, api)
        live_id = make_id("douyin", "live", room_id) if room_id else None
        items = [
            ProductItem(
                id=ref.id,
                platform="douyin",
                url=ref.url,
                title=ref.title,
                price=ref.price,
                price_max=ref.price_max,
                currency=ref.currency,
                shop=ref.shop,
                metrics=Metrics(sales=ref.sales),
                featured_in=[live_id] if live_id else [],
                thumbnail=ref.thumbnail,
                observed_at=page.observed_iso,
                source=self.name,
            )
            for ref in refs
            if ref.id and ref.title
        ]
        return ParseResult(items=items)

    # -- live rooms -----------------------------------------------------------------------------------
    def _parse_room(self, page: Page, info: dict[str, Any]) -> ParseResult:
        room = dict_or_empty(info.get("room"))
        owner = dict_or_empty(room.get("owner")) or dict_or_empty(info.get("anchor"))
        web_rid = text(first(info.get("web_rid"), info.get("webRid")))
        room_id = text(first(room.get("id_str"), info.get("roomId"), room.get("id")))
        native = room_id or web_rid
        if not native or not room:
            return ParseResult(errors=["douyin/unavailable"])
        status_code = room.get("status")
        status = LIVE_STATUS.get(status_code if isinstance(status_code, int) else -1)
        stats = dict_or_empty(room.get("stats"))
        started = parse_datetime(first(room.get("create_time"), room.get("start_time")))
        finished = parse_datetime(room.get("finish_time")) if status == "ended" else None
        title = text(room.get("title"))
        sec_uid = text(owner.get("sec_uid"))
        item = LiveItem(
            id=make_id("douyin", "live", native),
            platform="douyin",
            url=f"https://live.douyin.com/{web_rid}" if web_rid else None,
            title=title,
            hashtags=extract_hashtags(title),
            creator=CreatorRef(
                id=sec_uid or text(owner.get("id_str")),
                name=text(owner.get("nickname")),
                handle=text(first(owner.get("display_id"), owner.get("unique_id"), owner.get("short_id"))),
                url=f"{BASE}/user/{sec_uid}" if sec_uid else None,
                followers=count(dig(owner, "follow_info", "follower_count")),
                verified=boolean(owner.get("verified")),
            ),
            live=LiveInfo(status=status, started_at=started if status else None, ended_at=finished),
            metrics=Metrics(
                viewers=count(
                    first(
                        room.get("user_count_str"),
                        stats.get("user_count_str"),
                        room.get("user_count"),
                        dig(room, "room_view_stats", "display_value"),
                    )
                )
                if status == "live"
                else None,
                views=count(first(stats.get("total_user"), stats.get("total_user_str"))),  # exact first
                likes=count(room.get("like_count")),
            ),
            published_at=started,
            thumbnail=image_url(room.get("cover")),
            products=live_products(room),
            observed_at=page.observed_iso,
            source=self.name,
        )
        return ParseResult(items=[item])


def unavailable_reason(container: dict[str, Any]) -> str:
    """`filter_list` / `filter_detail` explain why an aweme is missing (deleted, private, under review)."""
    filters = list_or_empty(container.get("filter_list")) or [container.get("filter_detail")]
    for entry in filters:
        reason = text(dict_or_empty(entry).get("filter_reason"))
        if reason:
            return f"douyin/unavailable:{reason}"
    return "douyin/unavailable"


# -- one aweme (snake or camel case) -> VideoItem ------------------------------------------------------
def aweme_id(aweme: dict[str, Any]) -> str | None:
    return text(pick(aweme, "aweme_id"))


def video_item(aweme: dict[str, Any], observed_at: str) -> VideoItem:
    native = aweme_id(aweme)
    description = text(pick(aweme, "desc"))
    return VideoItem(
        id=make_id("douyin", "video", native),
        platform="douyin",
        url=f"{BASE}/video/{native}",
        title=text(pick(aweme, "item_title")) or description,
        description=description,
        hashtags=hashtags(aweme, description),
        language=guess_language(description),
        published_at=parse_datetime(pick(aweme, "create_time")),
        duration_s=duration_seconds(first(dig(aweme, "video", "duration"), pick(aweme, "duration"))),
        creator=author_ref(first(aweme.get("author"), aweme.get("authorInfo"))),
        metrics=metrics(first(aweme.get("statistics"), aweme.get("stats"))),
        products=products(aweme),
        thumbnail=image_url(first(dig(aweme, "video", "cover"), dig(aweme, "video", "origin_cover"))),
        observed_at=observed_at,
        source="douyin",
    )


def duration_seconds(value: Any) -> int | None:
    """Douyin's video durations are milliseconds (352596 -> 353 s)."""
    return duration_ms(value)


def author_ref(author: Any) -> CreatorRef | None:
    author = dict_or_empty(author)
    if not author:
        return None
    sec_uid = text(pick(author, "sec_uid"))
    handle = text(first(pick(author, "unique_id"), pick(author, "short_id")))
    return CreatorRef(
        id=sec_uid or text(pick(author, "uid")),
        name=text(pick(author, "nickname")),
        handle=handle if handle != "0" else None,
        url=f"{BASE}/user/{sec_uid}" if sec_uid else None,
        followers=followers(author),
        verified=True
        if text(pick(author, "custom_verify")) or text(pick(author, "enterprise_verify_reason"))
        else None,
    )


def followers(user: dict[str, Any]) -> int | None:
    """Feed authors carry placeholder `follower_count: 0` beside `aweme_count: 0` (a creator whose video
    we are reading has at least one): unknown, not zero followers."""
    number = count(pick(user, "follower_count"))
    if number == 0 and count(pick(user, "aweme_count")) == 0:
        return None
    return number


def image_url(value: Any) -> str | None:
    """An image object's first `url_list` entry (or a plain URL string); None unless it is http(s)."""
    if isinstance(value, dict):
        value = first(*list_or_empty(pick(value, "url_list"))[:1], value.get("url"))
    found = text(value)
    return found if found and found.startswith(("http://", "https://")) else None


def metrics(stats: Any) -> Metrics:
    """Douyin returns `play_count: 0` to visitors: hidden, so it becomes None rather than zero views."""
    stats = dict_or_empty(stats)
    return Metrics(
        views=count_positive(pick(stats, "play_count")),
        likes=count(pick(stats, "digg_count")),
        comments=count(pick(stats, "comment_count")),
        shares=count(pick(stats, "share_count")),
        collects=count(pick(stats, "collect_count")),
    )


def hashtags(aweme: dict[str, Any], description: str | None) -> list[str]:
    found = [
        text(pick(e, "hashtag_name")) for e in list_or_empty(pick(aweme, "text_extra")) if isinstance(e, dict)
    ]
    found += [
        text(pick(c, "cha_name")) for c in list_or_empty(pick(aweme, "cha_list")) if isinstance(c, dict)
    ]
    return normalise_hashtags([t for t in found if t] + extract_hashtags(description))


def products(aweme: dict[str, Any]) -> list[ProductRef]:
    """The shopping cart (小黄车): `promotions` (a list), `simple_promotions` (the same list as a JSON
    string) and `anchor_info` (one anchor whose `extra` is a JSON string describing the product).
    Integer prices are fen and are divided by 100; strings such as "59.9" are already yuan."""
    raw: list[dict[str, Any]] = []
    for key in ("promotions", "simple_promotions"):
        value = json_in_string(pick(aweme, key))
        raw += [p for p in list_or_empty(value) if isinstance(p, dict)]
    anchor = dict_or_empty(pick(aweme, "anchor_info"))
    if anchor:
        extra = dict_or_empty(json_in_string(anchor.get("extra")))
        if extra or anchor.get("id"):
            raw.append({**extra, "anchor_id": anchor.get("id"), "anchor_title": anchor.get("title")})
    found: dict[str, ProductRef] = {}
    for promo in raw:
        product_id = text(
            first(pick(promo, "product_id"), pick(promo, "promotion_id"), promo.get("anchor_id"))
        )
        title = text(first(pick(promo, "title"), pick(promo, "elastic_title"), promo.get("anchor_title")))
        if not (product_id or title):
            continue
        low = yuan(first(pick(promo, "min_price"), pick(promo, "price")))
        high = yuan(pick(promo, "max_price"))
        product = ProductRef(
            id=make_id("douyin", "product", product_id) if product_id else None,
            title=title,
            price=low,
            price_max=high if high and low and high > low else None,
            currency="CNY" if low is not None else None,
            url=text(pick(promo, "detail_url"))
            or (
                f"https://haohuo.jinritemai.com/views/product/detail?id={product_id}" if product_id else None
            ),
            shop=text(first(pick(promo, "shop_name"), dig(promo, "shop_info", "shop_name"))),
            sales=count(pick(promo, "sales")),
            thumbnail=image_url(first(pick(promo, "cover"), pick(promo, "img_url"))),
        )
        key = product_id or title
        if key in found:  # anchor_info often repeats a promotion: fill gaps, never overwrite
            known = found[key]
            for name, value in vars(product).items():
                if getattr(known, name) is None:
                    setattr(known, name, value)
        else:
            found[key] = product
    return list(found.values())


def api_kind(api: dict[str, Any]) -> str | None:
    """Which webcast / board body this is (None for the aweme bodies and anything else)."""
    data = api.get("data")
    if isinstance(dig(data, "word_list"), list) or isinstance(dig(data, "trending_list"), list):
        return "hot_board"
    if isinstance(api.get("promotions"), list) and "status_code" in api:
        return "promotions"
    if isinstance(data, dict) and isinstance(data.get("room"), dict):
        return "reflow"
    if isinstance(data, dict) and text(data.get("id_str")) and "owner" in data and "status" in data:
        return "room_info"
    if isinstance(dig(data, "data"), list) and ("room_status" in data or "enter_room_id" in data):
        return "web_enter"
    return None


def live_products(room_or_list: dict[str, Any]) -> list[ProductRef]:
    """A live room's cart: `promotions[]` (title, `min_price`/`price` in fen, `sale_num`, `cover`,
    `shop_id`); the product being presented now (`current_promotion_id`) comes first."""
    promos = [p for p in list_or_empty(room_or_list.get("promotions")) if isinstance(p, dict)]
    current = text(room_or_list.get("current_promotion_id"))
    promos.sort(key=lambda p: text(first(p.get("promotion_id"), p.get("product_id"))) != current)
    found: dict[str, ProductRef] = {}
    for promo in promos:
        product_id = text(first(promo.get("product_id"), promo.get("promotion_id")))
        title = text(first(promo.get("title"), promo.get("elastic_title"), promo.get("short_title")))
        if not product_id or not title or product_id in found:
            continue
        low = yuan(first(promo.get("min_price"), promo.get("price")))
        high = yuan(promo.get("max_price"))
        found[product_id] = ProductRef(
            id=make_id("douyin", "product", product_id),
            title=title,
            price=low,
            price_max=high if high and low and high > low else None,
            currency="CNY" if low is not None else None,
            url=f"https://haohuo.jinritemai.com/views/product/detail?id={product_id}",
            shop=text(promo.get("shop_name")),
            sales=count_positive(first(promo.get("sale_num"), promo.get("sales"))),  # 0: not shown
            thumbnail=image_url(promo.get("cover")),
        )
    return list(found.values())


def room_id_of(url: str, api: dict[str, Any]) -> str | None:
    """The live room of a product-list body: the request's `room_id`, else a promotion's
    `detail_url` whose `meta_param` JSON names `live_room_id`."""
    query = parse_qs(urlparse(url).query) if "?" in url else {}
    room = text((query.get("room_id") or [None])[0])
    if room and room.isdigit():
        return room
    for promo in list_or_empty(api.get("promotions")):
        detail = text(dict_or_empty(promo).get("detail_url")) or ""
        match = re.search(r'live_room_id\\?"\s*:\s*\\?"?(\d+)', detail)
        if match:
            return match.group(1)
    return None


def hot_board(api: dict[str, Any]) -> ParseResult:
    """The hot-search board: `data.word_list[]` (word, hot_value, position, sentence_id, group_id) and
    `data.trending_list[]`. Links: the board's hot page per entry and its representative video."""
    data = dict_or_empty(api.get("data"))
    links: list[str] = []
    for entry in list_or_empty(data.get("word_list")) + list_or_empty(data.get("trending_list")):
        entry = dict_or_empty(entry)
        sentence = text(entry.get("sentence_id"))
        word = text(entry.get("word"))
        group = text(entry.get("group_id"))
        if sentence and word:
            links.append(f"{BASE}/hot/{quote(sentence)}")
        if group and group.isdigit():
            links.append(f"{BASE}/video/{group}")
    if not links:
        return ParseResult(errors=["douyin/unrecognised_response"])
    return ParseResult(links=list(dict.fromkeys(links)))


def profile(page: Page, value: dict[str, Any], user: dict[str, Any]) -> ParseResult:
    """A profile page's RENDER_DATA: `<n>.user.user` (the creator) and `<n>.post.data` (first posts)."""
    sec_uid = text(pick(user, "sec_uid"))
    handle = text(first(pick(user, "unique_id"), pick(user, "short_id")))
    handle = handle if handle != "0" else None
    url = f"{BASE}/user/{sec_uid}"
    creator = CreatorItem(
        id=make_id("douyin", "creator", sec_uid),
        platform="douyin",
        url=url,
        title=text(pick(user, "nickname")),
        description=text(pick(user, "signature")),
        name=text(pick(user, "nickname")),
        handle=handle,
        followers=followers(user),
        verified=True
        if text(pick(user, "custom_verify")) or text(pick(user, "enterprise_verify_reason"))
        else None,
        metrics=Metrics(likes=count(pick(user, "total_favorited"))),
        observed_at=page.observed_iso,
        source="douyin",
    )
    creator.creator = CreatorRef(
        id=sec_uid,
        name=creator.name,
        handle=handle,
        url=url,
        followers=creator.followers,
        verified=creator.verified,
    )
    ref = CreatorRef(id=sec_uid, name=creator.name, handle=handle, url=url, followers=creator.followers)
    videos = []
    for aweme in list_or_empty(dig(value, "post", "data")):
        if isinstance(aweme, dict) and aweme_id(aweme):
            video = video_item(aweme, page.observed_iso)
            video.creator = video.creator or ref
            videos.append(video)
    return ParseResult(items=[creator, *videos])


def yuan(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return round(value / FEN_PER_YUAN, 2) if 0 < value <= MAX_PRICE * FEN_PER_YUAN else None
    price = parse_price(value)
    return price.amount if price and price.amount > 0 else None


PARSER = DouyinParser()
