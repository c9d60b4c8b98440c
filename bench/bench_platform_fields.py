"""Share of present fields extracted right on the real TikTok and Douyin captures (issue 17).

For each real capture, a list of fields: where the value is in the body (a path), how the item writes it
(a transform: fen -> yuan, epoch -> ISO, ms -> s), and where it lands in the item. A field is *present*
when the body holds a value (not null, not "", not a placeholder 0), *right* when the item's value equals
the transformed body value. Run: `python -m bench.bench_platform_fields` (prints one line per platform).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.fields import MISSING, at, same
from crawler.normalize import parse_datetime
from crawler.parsers import parse_page
from crawler.parsers.base import Page

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "platforms"


def iso(value: Any) -> Any:
    return parse_datetime(value)


def fen(value: Any) -> Any:
    return round(value / 100, 2)


def ms_to_s(value: Any) -> Any:
    return round(value / 1000)


def integer(value: Any) -> Any:
    return int(value)


def first_url(value: Any) -> Any:
    return value["url_list"][0]


Field = tuple[str, str, Callable[[Any], Any], str]  # body path, transform, item path (label = item path)


def tiktok_state(html: str) -> Any:
    text = re.search(r'<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__"[^>]*>(.*?)</script>', html, re.S)
    return json.loads(text.group(1))["__DEFAULT_SCOPE__"]


def douyin_router(html: str) -> Any:
    text = re.search(r"window\._ROUTER_DATA\s*=\s*(\{.*?\})</script>", html, re.S)
    return json.loads(text.group(1).replace("\\u002F", "/"))


def json_body(text: str) -> Any:
    return json.loads(text)


S = "webapp.video-detail|itemInfo|itemStruct|"
U = "webapp.user-detail|userInfo|"
A = "loaderData|video_(id)/page|videoInfoRes|item_list|0|"
CAPTURES: dict[
    str, list[tuple[str, str, Callable[[str], Any], int, list[tuple[str, Callable[[Any], Any], str]]]]
] = {
    "tiktok": [
        (
            "tiktok/video-7571863205253778710.html",
            "https://www.tiktok.com/@illojuan/video/7571863205253778710",
            tiktok_state,
            0,
            [
                (S + "id", lambda v: f"tiktok:video:{v}", "id"),
                (S + "desc", same, "title"),
                (S + "desc", same, "description"),
                (S + "createTime", iso, "published_at"),
                (S + "video.duration", same, "duration_s"),
                (S + "video.cover", same, "thumbnail"),
                (S + "textLanguage", same, "language"),
                (S + "author.uniqueId", same, "creator.handle"),
                (S + "author.nickname", same, "creator.name"),
                (S + "author.id", same, "creator.id"),
                (S + "author.verified", same, "creator.verified"),
                (S + "authorStats.followerCount", same, "creator.followers"),
                (S + "statsV2.playCount", integer, "metrics.views"),
                (S + "statsV2.diggCount", integer, "metrics.likes"),
                (S + "statsV2.commentCount", integer, "metrics.comments"),
                (S + "statsV2.shareCount", integer, "metrics.shares"),
                (S + "statsV2.collectCount", integer, "metrics.collects"),
            ],
        ),
        (
            "tiktok/profile-illojuan.html",
            "https://www.tiktok.com/@illojuan",
            tiktok_state,
            0,
            [
                (U + "user.id", lambda v: f"tiktok:creator:{v}", "id"),
                (U + "user.uniqueId", same, "handle"),
                (U + "user.nickname", same, "name"),
                (U + "user.signature", same, "description"),
                (U + "user.verified", same, "verified"),
                (U + "statsV2.followerCount", integer, "followers"),
                (U + "statsV2.heartCount", integer, "metrics.likes"),
            ],
        ),
    ],
    "douyin": [
        (
            "douyin/share-7535852404919586100.html",
            "https://www.iesdouyin.com/share/video/7535852404919586100/",
            douyin_router,
            0,
            [
                (A + "aweme_id", lambda v: f"douyin:video:{v}", "id"),
                (A + "desc", same, "description"),
                (A + "create_time", iso, "published_at"),
                (A + "video.duration", ms_to_s, "duration_s"),
                (A + "video.cover", first_url, "thumbnail"),
                (A + "author.sec_uid", same, "creator.id"),
                (A + "author.nickname", same, "creator.name"),
                (A + "statistics.digg_count", same, "metrics.likes"),
                (A + "statistics.comment_count", same, "metrics.comments"),
                (A + "statistics.share_count", same, "metrics.shares"),
                (A + "statistics.collect_count", same, "metrics.collects"),
            ],
        ),
        (
            "douyin/room-info-6843198199583378191.json",
            "https://webcast.amemv.com/webcast/room/info/?room_id=6843198199583378191",
            json_body,
            0,
            [
                ("data.id_str", lambda v: f"douyin:live:{v}", "id"),
                ("data.title", same, "title"),
                ("data.status", lambda v: {2: "live", 4: "ended"}[v], "live.status"),
                ("data.create_time", iso, "live.started_at"),
                ("data.finish_time", iso, "live.ended_at"),
                ("data.stats.total_user", same, "metrics.views"),
                ("data.like_count", same, "metrics.likes"),
                ("data.cover", first_url, "thumbnail"),
                ("data.owner.sec_uid", same, "creator.id"),
                ("data.owner.nickname", same, "creator.name"),
                ("data.owner.display_id", same, "creator.handle"),
                ("data.owner.follow_info.follower_count", same, "creator.followers"),
                ("data.owner.verified", same, "creator.verified"),
            ],
        ),
        (
            "douyin/live-promotions-6872323400263797518.json",
            "https://live.douyin.com/live/promotions/page/",
            json_body,
            0,
            [
                ("promotions.0.product_id", lambda v: f"douyin:product:{v}", "id"),
                ("promotions.0.title", same, "title"),
                ("promotions.0.min_price", fen, "price"),
                ("promotions.0.cover", same, "thumbnail"),
            ],
        ),
    ],
}


def present(value: Any) -> bool:
    return value is not MISSING and value is not None and value != "" and value != 0


def measure(platform: str) -> tuple[int, int, list[str]]:
    found = right = 0
    misses = []
    for name, url, reader, index, fields in CAPTURES[platform]:
        raw = (FIXTURES / name).read_bytes()
        body = reader(raw.decode("utf-8"))
        result = parse_page(Page(url=url, body=raw))
        item = result.items[index].to_json() if len(result.items) > index else {}
        for path, transform, target in fields:
            value = at(body, path)
            if not present(value):
                continue
            found += 1
            if at(item, target) == transform(value):
                right += 1
            else:
                misses.append(f"{name}: {target} = {at(item, target)!r}, body {transform(value)!r}")
    return found, right, misses


def main() -> int:
    for platform in CAPTURES:
        found, right, misses = measure(platform)
        print(
            f"{platform}: {right}/{found} present fields right ({100 * right / found:.0f}%) on "
            f"{len(CAPTURES[platform])} real captures"
        )
        for miss in misses:
            print("  miss:", miss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
