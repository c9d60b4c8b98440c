"""Bilibili live: the room, status, anchor and room-list bodies of api.live.bilibili.com -> live and creator items."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from crawler.items import CreatorItem, CreatorRef, LiveInfo, LiveItem, Metrics, make_id
from crawler.normalize import guess_language, normalise_hashtags, parse_datetime
from crawler.parsers.base import ParseResult
from crawler.parsers.platforms._common import count, dict_or_empty, first, integer, list_or_empty, text

LIVE_API = "https://api.live.bilibili.com"
ROOM_INFO_URL = LIVE_API + "/room/v1/Room/get_info?room_id={room}"
# live_status of every room body: 1 on air, 2 "轮播" (replaying old videos, i.e. not live), 0 off.
LIVE_STATUS = {0: "ended", 1: "live", 2: "ended"}
# The area room list (xlive/web-interface/v1/second/getList) pages by `page`; stop after this many (30 rooms each).
MAX_AREA_PAGES = 5
# official_verify.type / verify.type: 0 a person, 1 an organisation; -1 not verified.
VERIFIED_TYPES = (0, 1)
# Body keys that tell the forms apart (each form's own, see docs/PLATFORMS.md "Bilibili").
ROOM_KEYS = {"live_status", "room_id"}
ROOM_INFO_OLD_KEYS = {"roomStatus", "roomid"}
LIST_ROOM_KEYS = {"roomid", "title"}

_TAGS_SPLIT_RE = re.compile(r"[,，]")


def recognise(payload: dict[str, Any]) -> str | None:
    """The name of the live body form `payload` (a response's `data`) is, or None."""
    if ROOM_INFO_OLD_KEYS <= payload.keys():
        return "room_info_old"
    if ROOM_KEYS <= payload.keys():
        return "room" if "title" in payload else "room_bare"
    if isinstance(payload.get("info"), dict) and "follower_num" in payload:
        return "master_info"
    if isinstance(payload.get("by_room_ids"), dict) or isinstance(payload.get("by_uids"), dict):
        return "base_info"
    if isinstance(payload.get("recommend_room_list"), list):
        return "room_list"
    rooms = list_or_empty(payload.get("list"))
    if rooms and all(isinstance(r, dict) and LIST_ROOM_KEYS <= r.keys() for r in rooms[:1]):
        return "room_list"
    values = list(payload.values())[:1]
    if values and all(isinstance(v, dict) and ROOM_KEYS <= v.keys() for v in values):
        return "by_uids"
    return None


def parse_live(form: str, payload: dict[str, Any], url: str, observed_at: str) -> ParseResult:
    """Items and links of one recognised live body."""
    if form == "room":
        if not text(first(payload.get("room_id"), payload.get("short_id"))):
            return ParseResult(errors=["bilibili/unavailable"])
        return ParseResult(items=[live_item(payload, observed_at)])
    if form == "room_bare":
        # room_init and getRoomPlayInfo: status and start time, no title; the room's info body has the text.
        room = text(payload.get("room_id"))
        if not room or payload.get("is_hidden") is True or payload.get("is_locked") is True:
            return ParseResult(errors=["bilibili/unavailable"])
        return ParseResult(links=[ROOM_INFO_URL.format(room=room)])
    if form == "room_info_old":
        return _room_info_old(payload, url, observed_at)
    if form == "master_info":
        return _master_info(payload, observed_at)
    if form == "base_info":
        rooms = {**dict_or_empty(payload.get("by_uids")), **dict_or_empty(payload.get("by_room_ids"))}
        return ParseResult(items=_rooms(rooms.values(), observed_at))
    if form == "by_uids":
        return ParseResult(items=_rooms(payload.values(), observed_at))
    rooms = list_or_empty(payload.get("recommend_room_list")) or list_or_empty(payload.get("list"))
    items = [list_room_item(r, observed_at) for r in rooms if isinstance(r, dict) and text(r.get("roomid"))]
    return ParseResult(items=items, links=_next_area_page(url, payload))


def _rooms(rooms: Any, observed_at: str) -> list[LiveItem]:
    return [
        live_item(r, observed_at)
        for r in rooms
        if isinstance(r, dict) and text(first(r.get("room_id"), r.get("short_id"))) and text(r.get("title"))
    ]


def live_time(value: Any) -> str | None:
    """A room's `live_time`: epoch seconds (room_init, getRoomPlayInfo, get_status_info_by_uids) or Beijing
    time without a zone `YYYY-MM-DD HH:MM:SS` (get_info); 0 and "0000-00-00 00:00:00" (off air) are None."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", value.strip()):
        if value.startswith("0000"):
            return None
        return parse_datetime(value.strip().replace(" ", "T") + "+08:00")
    if integer(value) is not None or (isinstance(value, str) and value.strip().isdigit()):
        return parse_datetime(int(value)) if int(value) > 0 else None
    return None


def live_item(room: dict[str, Any], observed_at: str) -> LiveItem:
    """get_info, get_status_info_by_uids and getRoomBaseInfo rooms: room_id, uid, title, live_status, online,
    live_time, attention, cover (user_cover / cover_from_user / cover, else the keyframe)."""
    room_id = text(first(room.get("room_id"), room.get("short_id")))
    status_code = room.get("live_status")
    status = LIVE_STATUS.get(integer(status_code) if integer(status_code) is not None else -1)
    uid = text(room.get("uid"))
    started = live_time(room.get("live_time")) if status == "live" else None
    title = text(room.get("title"))
    tags = (
        room.get("tags")
        if isinstance(room.get("tags"), str) and room["tags"].strip()
        else room.get("tag_name")
    )
    description = room.get("description")
    return LiveItem(
        id=make_id("bilibili", "live", room_id),
        platform="bilibili",
        url=f"https://live.bilibili.com/{room_id}",
        title=title,
        description=text(re.sub(r"<[^>]+>", " ", description)) if isinstance(description, str) else None,
        hashtags=normalise_hashtags(_TAGS_SPLIT_RE.split(tags) if isinstance(tags, str) else []),
        language=guess_language(title),
        published_at=started,
        creator=CreatorRef(
            id=uid,
            name=text(room.get("uname")),
            url=f"https://space.bilibili.com/{uid}" if uid else None,
            followers=count(room.get("attention")),
        ),
        live=LiveInfo(status=status, started_at=started),
        metrics=Metrics(viewers=count(room.get("online")) if status == "live" else None),
        thumbnail=_cover(room),
        observed_at=observed_at,
        source="bilibili",
    )


def list_room_item(room: dict[str, Any], observed_at: str) -> LiveItem:
    """A room of a room list (getMoreRecList, an area list): every listed room is on air; `online` is the
    audience now, `watched_show.num` the people who have watched this live so far."""
    room_id = text(room.get("roomid"))
    uid = text(room.get("uid"))
    title = text(room.get("title"))
    verify = dict_or_empty(room.get("verify"))
    watched = dict_or_empty(room.get("watched_show"))
    return LiveItem(
        id=make_id("bilibili", "live", room_id),
        platform="bilibili",
        url=f"https://live.bilibili.com/{room_id}",
        title=title,
        hashtags=normalise_hashtags(
            [t for t in (text(room.get("area_v2_name")), text(room.get("area_name"))) if t][:1]
        ),
        language=guess_language(title),
        creator=CreatorRef(
            id=uid,
            name=text(room.get("uname")),
            url=f"https://space.bilibili.com/{uid}" if uid else None,
            # Room lists send `followers: 0` for every room: a placeholder, unknown.
            followers=count(room.get("followers")) or None,
            verified=True if integer(verify.get("type")) in VERIFIED_TYPES else None,
        ),
        live=LiveInfo(status="live"),
        metrics=Metrics(
            viewers=count(room.get("online")),
            views=count(watched.get("num")) if watched.get("switch") is not False else None,
        ),
        thumbnail=_cover(room),
        observed_at=observed_at,
        source="bilibili",
    )


def _cover(room: dict[str, Any]) -> str | None:
    for key in ("user_cover", "cover_from_user", "cover", "user_cover_flag", "system_cover", "keyframe"):
        value = text(room.get(key))
        if value and value.startswith(("http://", "https://", "//")):
            return "https:" + value if value.startswith("//") else value
    return None


def _room_info_old(payload: dict[str, Any], url: str, observed_at: str) -> ParseResult:
    """room/v1/Room/getRoomInfoOld?mid=UID: roomStatus (0: the user has no room), liveStatus, title, cover,
    online, roomid; the user id is the query's `mid`."""
    room_id = text(payload.get("roomid"))
    if payload.get("roomStatus") == 0 or not room_id or not text(payload.get("title")):
        return ParseResult(errors=["bilibili/unavailable"])
    mid = text(first(*(parse_qs(urlparse(url).query).get("mid") or [None])))
    mid = mid if mid and mid.isdigit() else None
    status = LIVE_STATUS.get(
        integer(payload.get("live_status")) if integer(payload.get("live_status")) is not None else -1
    )
    hidden = payload.get("online_hidden") == 1
    item = LiveItem(
        id=make_id("bilibili", "live", room_id),
        platform="bilibili",
        url=f"https://live.bilibili.com/{room_id}",
        title=text(payload.get("title")),
        language=guess_language(text(payload.get("title"))),
        creator=CreatorRef(id=mid, url=f"https://space.bilibili.com/{mid}") if mid else None,
        live=LiveInfo(status=status),
        metrics=Metrics(viewers=count(payload.get("online")) if status == "live" and not hidden else None),
        thumbnail=_cover(payload),
        observed_at=observed_at,
        source="bilibili",
    )
    return ParseResult(items=[item])


def _master_info(payload: dict[str, Any], observed_at: str) -> ParseResult:
    """live_user/v1/Master/info?uid=UID: the anchor (uname, official_verify, follower_num) and their room id."""
    info = dict_or_empty(payload.get("info"))
    uid = text(info.get("uid"))
    name = text(info.get("uname"))
    if not uid or not name:
        return ParseResult(errors=["bilibili/unavailable"])
    verify = dict_or_empty(info.get("official_verify"))
    room = text(payload.get("room_id"))
    creator = CreatorItem(
        id=make_id("bilibili", "creator", uid),
        platform="bilibili",
        url=f"https://space.bilibili.com/{uid}",
        title=name,
        name=name,
        language=guess_language(name),
        followers=count(payload.get("follower_num")),
        verified=integer(verify.get("type")) in VERIFIED_TYPES
        if integer(verify.get("type")) is not None
        else None,
        observed_at=observed_at,
        source="bilibili",
    )
    return ParseResult(
        items=[creator], links=[ROOM_INFO_URL.format(room=room)] if room and room != "0" else []
    )


def _next_area_page(url: str, payload: dict[str, Any]) -> list[str]:
    """xlive/web-interface/v1/second/getList pages by `page` while `has_more` is 1."""
    parsed = urlparse(url)
    if not parsed.path.endswith("/second/getList") or payload.get("has_more") not in (1, True):
        return []
    query = {k: v[0] for k, v in parse_qs(parsed.query, keep_blank_values=True).items()}
    page = query.get("page", "1")
    number = int(page) if re.fullmatch(r"[0-9]{1,6}", page) else 1
    if number >= MAX_AREA_PAGES:
        return []
    query["page"] = str(number + 1)
    return [parsed._replace(query=urlencode(query)).geturl()]
