"""Share of present fields extracted right on the real YouTube captures (issue 17).

For each real capture (watch page, InnerTube player / next / browse / reel bodies), a list of fields:
where the value is in the body (a dotted path; a list index is a number), how the item writes it (counts
from display text, ISO times, `youtube:creator:` ids) and where it lands in the item. A field is *present*
when the body holds a value, *right* when the item's value equals the transformed body value.
Run: `python -m bench.bench_youtube_fields` (one line per capture, then the total).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.fields import MISSING, at, same
from crawler.normalize import parse_count, parse_datetime
from crawler.parsers import parse_page
from crawler.parsers.base import Page
from crawler.parsers.platforms._common import assigned_json, body_json

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "platforms" / "youtube"
API = "https://www.youtube.com/youtubei/v1/"

NEXT_RESULTS = "contents.twoColumnWatchNextResults.results.results.contents"
PRIMARY = NEXT_RESULTS + ".0.videoPrimaryInfoRenderer"
OWNER = NEXT_RESULTS + ".1.videoSecondaryInfoRenderer.owner.videoOwnerRenderer"
LIKE_TEXT = (
    PRIMARY
    + ".videoActions.menuRenderer.topLevelButtons.0.segmentedLikeDislikeButtonViewModel.likeButtonViewModel"
    ".likeButtonViewModel.toggleButtonViewModel.toggleButtonViewModel.defaultButtonViewModel.buttonViewModel"
    ".accessibilityText"
)
MICRO = "microformat.playerMicroformatRenderer"


def creator(value: Any) -> Any:
    return f"youtube:creator:{value}"


def handle(value: Any) -> Any:
    return value.rsplit("/@", 1)[1]


def widest(value: Any) -> Any:
    return max(value, key=lambda t: t.get("width", 0))["url"]


def runs(value: Any) -> Any:
    return "".join(r["text"] for r in value["runs"]) if "runs" in value else value["simpleText"]


def runs_count(value: Any) -> Any:
    return parse_count(runs(value))


# (body path, transform, item path); item path `items.N.` picks the item, the rest is its JSON.
Field = tuple[str, Callable[[Any], Any], str]
PLAYER_FIELDS: list[Field] = [
    ("videoDetails.title", same, "title"),
    ("videoDetails.viewCount", parse_count, "metrics.views"),
    ("videoDetails.channelId", creator, "creator.id"),
    ("videoDetails.author", same, "creator.name"),
    ("videoDetails.shortDescription", same, "description"),
    ("videoDetails.thumbnail.thumbnails", widest, "thumbnail"),
    (MICRO + ".title.simpleText", same, "title"),
    (MICRO + ".viewCount", parse_count, "metrics.views"),
    (MICRO + ".likeCount", parse_count, "metrics.likes"),
    (MICRO + ".publishDate", parse_datetime, "published_at"),
    (MICRO + ".externalChannelId", creator, "creator.id"),
    (MICRO + ".ownerChannelName", same, "creator.name"),
    (MICRO + ".ownerProfileUrl", handle, "creator.handle"),
    (MICRO + ".liveBroadcastDetails.startTimestamp", parse_datetime, "live.started_at"),
]
NEXT_FIELDS: list[Field] = [
    ("currentVideoEndpoint.watchEndpoint.videoId", same, "url"),
    (PRIMARY + ".title", runs, "title"),
    (LIKE_TEXT, parse_count, "metrics.likes"),
    (OWNER + ".title.runs.0.text", same, "creator.name"),
    (OWNER + ".title.runs.0.navigationEndpoint.browseEndpoint.browseId", creator, "creator.id"),
    (OWNER + ".subscriberCountText.simpleText", parse_count, "creator.followers"),
    (NEXT_RESULTS + ".1.videoSecondaryInfoRenderer.attributedDescription.content", same, "description"),
    (
        NEXT_RESULTS + ".3.merchandiseShelfRenderer.items.0.merchandiseItemRenderer.title",
        same,
        "products.0.title",
    ),
    (
        NEXT_RESULTS + ".3.merchandiseShelfRenderer.items.0.merchandiseItemRenderer.vendorName",
        same,
        "products.0.shop",
    ),
]
VIEWS: Field = (PRIMARY + ".viewCount.videoViewCountRenderer.viewCount", runs_count, "metrics.views")
VIEWERS: Field = (PRIMARY + ".viewCount.videoViewCountRenderer.viewCount", runs_count, "metrics.viewers")

# capture -> (request URL, fields); the watch page is two bodies (player, then ytInitialData as a next body).
CAPTURES: dict[str, tuple[str, list[Field]]] = {
    "player-X4VbdwhkE10.json": ("https://youtubei.googleapis.com/youtubei/v1/player", PLAYER_FIELDS),
    "player-fields-X4VbdwhkE10.json": (API + "player", PLAYER_FIELDS),
    "next-X4VbdwhkE10.json": (API + "next", [*NEXT_FIELDS, VIEWERS]),
    "player-fields-cV5TjZCJkuA.json": (API + "player", PLAYER_FIELDS),
    "next-cV5TjZCJkuA.json": (API + "next", [*NEXT_FIELDS, VIEWS]),
    "next-3sbYbckT1VY.json": (API + "next", [*NEXT_FIELDS, VIEWS]),
    "reel-_PL2HJKxnOM.json": (
        "https://youtubei.googleapis.com/youtubei/v1/reel/reel_item_watch",
        [(f"playerResponse.{p}", t, i) for p, t, i in PLAYER_FIELDS],
    ),
}
LISTS = {  # browse bodies: per listed entry, (entry key, fields inside it)
    "browse-live-UC4R8DWoMoI7CAwX8_LjQHig.json": (
        "videoRenderer",
        [
            ("videoId", same, "url"),
            ("title", runs, "title"),
            ("viewCountText", runs_count, "metrics.viewers"),
        ],
    ),
    "browse-streams-UCR-DXc1voovS8nhAvccRZhg.json": (
        "lockupViewModel",
        [
            ("contentId", same, "url"),
            ("metadata.lockupMetadataViewModel.title.content", same, "title"),
            (
                "metadata.lockupMetadataViewModel.metadata.contentMetadataViewModel.metadataRows.0.metadataParts.0"
                ".text.content",
                parse_count,
                "metrics.views",
            ),
        ],
    ),
    "browse-shorts-UCh8gHdtzO2tXd593_bjErWg.json": (
        "shortsLockupViewModel",
        [
            ("onTap.innertubeCommand.reelWatchEndpoint.videoId", same, "url"),
            ("overlayMetadata.primaryText.content", same, "title"),
            ("overlayMetadata.secondaryText.content", parse_count, "metrics.views"),
        ],
    ),
}


def walk(node: Any, key: str) -> list[Any]:
    found: list[Any] = []
    if isinstance(node, dict):
        for k, v in node.items():
            found.extend([v] if k == key else walk(v, key))
    elif isinstance(node, list):
        for v in node:
            found.extend(walk(v, key))
    return found


def matches(item_path: str, want: Any, item: dict[str, Any]) -> bool:
    got = at(item, item_path)
    if item_path == "url":  # a video id lands in the URL
        return isinstance(got, str) and got.endswith(str(want))
    return got == want


def score(body: Any, fields: list[Field], item: dict[str, Any]) -> tuple[int, int, list[str]]:
    present = right = 0
    misses = []
    for path, transform, item_path in fields:
        raw = at(body, path)
        if raw is MISSING or raw in (None, "", "0"):
            continue
        present += 1
        want = transform(raw)
        if matches(item_path, want, item):
            right += 1
        else:
            misses.append(f"{item_path}: want {want!r:.60}, got {at(item, item_path)!r:.60}")
    return present, right, misses


def parse(name: str, url: str) -> list[dict[str, Any]]:
    page = Page(url=url, body=(FIXTURES / name).read_bytes())
    return [item.to_json() for item in parse_page(page).items]


def main() -> int:
    total_present = total_right = 0
    rows = []
    watch = (FIXTURES / "watch-fJ9rUzIMcZQ.html").read_text(encoding="utf-8")
    item = parse("watch-fJ9rUzIMcZQ.html", "https://www.youtube.com/watch?v=fJ9rUzIMcZQ")[0]
    p1, r1, m1 = score(assigned_json(watch, "ytInitialPlayerResponse"), PLAYER_FIELDS, item)
    # The page's description is the player's `shortDescription`; ytInitialData renders it again with its
    # links rewritten, so that second copy is not a field of its own.
    rendered = [f for f in NEXT_FIELDS if f[2] != "description"]
    p2, r2, m2 = score(assigned_json(watch, "ytInitialData"), [*rendered, VIEWS], item)
    rows.append(("watch-fJ9rUzIMcZQ.html", p1 + p2, r1 + r2, m1 + m2))
    for name, (url, fields) in CAPTURES.items():
        body = body_json(Page(url=url, body=(FIXTURES / name).read_bytes()))
        rows.append((name, *score(body, fields, parse(name, url)[0])))
    for name, (key, fields) in LISTS.items():
        body = body_json(Page(url=API + "browse", body=(FIXTURES / name).read_bytes()))
        items = {i["url"].rsplit("/", 1)[-1].split("=")[-1]: i for i in parse(name, API + "browse")}
        present = right = 0
        misses: list[str] = []
        for entry in walk(body, key):
            video_id = at(entry, fields[0][0])
            p, r, m = score(entry, fields, items.get(video_id, {}))
            present, right, misses = present + p, right + r, misses + m
        rows.append((name, present, right, misses))
    for name, present, right, misses in rows:
        total_present, total_right = total_present + present, total_right + right
        print(f"{name:48} {right:3}/{present:3} right" + (f"  misses: {misses}" if misses else ""))
    print(
        f"youtube: {total_right}/{total_present} present fields right ({100 * total_right / total_present:.1f}%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
