"""Share of present fields extracted right on the real Bilibili (live and view) and schema.org captures (issue 17).

For each real capture, a list of fields: where the value is in the body (a dotted path), how the item writes
it (Beijing time -> ISO UTC, a tag string -> tags, an HTML description -> text), and where it lands in the item
(`ITEM_INDEX:path`). A field is *present* when the body holds a value (not null, not "", not the placeholder 0
or "0000-00-00 00:00:00"), *right* when the item's value equals the transformed body value. Kuaishou has no
real capture (tests/fixtures/platforms/kuaishou/SOURCES.md), so it is not measured here.
Run: `python -m bench.bench_j3_fields` (one line per platform, then the misses).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.fields import MISSING, at, same
from crawler.normalize import parse_datetime
from crawler.parsers import parse_page
from crawler.parsers.base import Page

ROOT = Path(__file__).resolve().parent.parent
BILI = ROOT / "tests" / "fixtures" / "platforms" / "bilibili"
REAL_WEB = ROOT / "tests" / "fixtures" / "standards"
OBSERVED = datetime(2026, 11, 25, 10, tzinfo=timezone.utc)
PLACEHOLDERS = (None, "", 0, "0000-00-00 00:00:00", "0")


def text(value: Any) -> Any:
    return str(value)


def beijing(value: Any) -> Any:
    return parse_datetime(value.replace(" ", "T") + "+08:00")


def html_text(value: Any) -> Any:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", value)).strip()


def tags(value: Any) -> Any:
    return [t for t in re.split(r"[,，]", value) if t]


def live_url(value: Any) -> Any:
    return f"https://live.bilibili.com/{value}"


Field = tuple[str, Callable[[Any], Any], str]  # body path, transform, item path ("N:dotted")

ROOM = "data"
ROOM_FIELDS: list[Field] = [
    ("title", same, "title"),
    ("room_id", live_url, "url"),
    ("uid", text, "creator.id"),
    ("attention", same, "creator.followers"),
    ("description", html_text, "description"),
    ("user_cover", same, "thumbnail"),
    ("tags", tags, "hashtags"),
]
LIST_FIELDS: list[Field] = [
    ("title", same, "title"),
    ("roomid", live_url, "url"),
    ("uid", text, "creator.id"),
    ("uname", same, "creator.name"),
    ("online", same, "metrics.viewers"),
    ("watched_show.num", same, "metrics.views"),
    ("cover", same, "thumbnail"),
]
BY_UID_FIELDS: list[Field] = [
    ("title", same, "title"),
    ("room_id", live_url, "url"),
    ("uid", text, "creator.id"),
    ("uname", same, "creator.name"),
    ("cover_from_user", same, "thumbnail"),
    ("tag_name", tags, "hashtags"),
]
BASE_FIELDS: list[Field] = [*ROOM_FIELDS[:4], ("uname", same, "creator.name"), ("cover", same, "thumbnail")]


def bilibili_cases() -> list[tuple[str, str, list[tuple[str, Field]]]]:
    """(fixture, URL, [(item index, field)]): every real Bilibili capture and its present fields."""
    cases = [
        ("live-get-info-5440.json", "room/v1/Room/get_info?room_id=1", [(0, ROOM, f) for f in ROOM_FIELDS]),
        (
            "live-room-info-old-5441.json",
            "room/v1/Room/getRoomInfoOld?mid=322892",
            [
                (0, ROOM, ("title", same, "title")),
                (0, ROOM, ("online", same, "metrics.viewers")),
                (0, ROOM, ("cover", same, "thumbnail")),
                (0, ROOM, ("url", same, "url")),
            ],
        ),
        (
            "live-master-info-2.json",
            "live_user/v1/Master/info?uid=2",
            [
                (0, ROOM, ("info.uname", same, "name")),
                (0, ROOM, ("follower_num", same, "followers")),
                (0, ROOM, ("info.uid", lambda v: f"https://space.bilibili.com/{v}", "url")),
            ],
        ),
        (
            "live-status-by-uids.json",
            "room/v1/Room/get_status_info_by_uids?uids[]=672328094",
            [(0, "data.672328094", f) for f in BY_UID_FIELDS],
        ),
        (
            "live-room-base-info.json",
            "xlive/web-room/v1/index/getRoomBaseInfo?room_ids=3&room_ids=1",
            [
                (i, f"data.by_room_ids.{rid}", f)
                for i, rid in enumerate(("23058", "5440"))
                for f in BASE_FIELDS
            ],
        ),
        (
            "live-recommend-list.json",
            "xlive/web-interface/v1/webMain/getMoreRecList?platform=web",
            [(i, f"data.recommend_room_list.{i}", f) for i in range(3) for f in LIST_FIELDS],
        ),
        # room_init and getRoomPlayInfo carry no text: they lead to the room's get_info (a link), no item.
        (
            "live-room-init-76.json",
            "room/v1/Room/room_init?id=76",
            [
                (0, ROOM, ("room_id", live_url, "url")),
                (0, ROOM, ("uid", text, "creator.id")),
                (0, ROOM, ("live_time", parse_datetime, "live.started_at")),
            ],
        ),
        (
            "live-room-play-info-23058.json",
            "xlive/web-room/v2/index/getRoomPlayInfo?room_id=3",
            [
                (0, ROOM, ("room_id", live_url, "url")),
                (0, ROOM, ("uid", text, "creator.id")),
                (0, ROOM, ("live_time", parse_datetime, "live.started_at")),
            ],
        ),
    ]
    return [(name, "https://api.live.bilibili.com/" + url, fields) for name, url, fields in cases]


def measure(path: Path, url: str, fields: list[tuple[int, str, Field]]) -> tuple[int, int, list[str]]:
    body = json.loads(path.read_text(encoding="utf-8"))
    result = parse_page(Page(url=url, body=path.read_bytes(), observed_at=OBSERVED))
    items = [item.to_json() for item in result.items]
    present = right = 0
    misses = []
    for index, base, (body_path, transform, item_path) in fields:
        value = at(body, f"{base}.{body_path}")
        if value is MISSING or value in PLACEHOLDERS:
            continue
        present += 1
        got = at(items[index], item_path) if index < len(items) else MISSING
        if got == transform(value):
            right += 1
        else:
            misses.append(f"{path.name} [{index}] {item_path}: body {value!r}, item {got!r}")
    return present, right, misses


def main() -> None:
    present = right = 0
    misses: list[str] = []
    for name, url, fields in bilibili_cases():
        p, r, m = measure(BILI / name, url, fields)
        present, right, misses = present + p, right + r, misses + m
    print(
        f"bilibili (live + room lists, {len(bilibili_cases())} real bodies): {right}/{present} present fields right"
    )
    for line in misses:
        print("  miss:", line)


if __name__ == "__main__":
    main()
