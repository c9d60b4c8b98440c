"""FACT: a product's gain in a window split by who produced it (Field, Alliance, Top-KOL) and Campaign share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crawler.times import parse_iso
from indexer.campaigns import Campaign, tagged, window_of
from indexer.product_match import normalise
from indexer.store import Store

# A creator at or above this many followers is a head creator (头部达人): the Chinese MCN trade counts
# 百万粉 (a million followers) as the head tier, and TikTok's "mega" tier starts there too. Configurable.
TOP_KOL_FOLLOWERS = 1_000_000
PARTS = ("field", "alliance", "top_kol")
RULES = {
    "field": "the product's own shop or brand account (same id, same normalised name, or a user mapping)",
    "top_kol": "creators with at least {threshold:,} followers",
    "alliance": "every other creator",
    "campaign": "gain inside a campaign window of the calendar, or on content tagged with a campaign",
    "mentions": "videos and lives that name the product without linking it (hybrid search on its titles; "
    "confidence = the title's cosine): their gain, split like the links', never added to the links' total",
}


@dataclass
class Contribution:
    """One video's or live's gain of the metric in the window, and who made it."""

    content_id: str
    creator: str | None
    creator_id: str | None
    followers: int | None
    gain: int
    campaign_gain: int = 0
    campaign: str | None = None


@dataclass
class FactBreakdown:
    metric: str
    total: int
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)
    campaign: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "total": self.total, **self.parts, "campaign": self.campaign}


def _norm(text: Any) -> str:
    return normalise(str(text or "")).replace(" ", "").lstrip("@")


def classify(
    creator: Mapping[str, Any],
    own: Iterable[str],
    threshold: int = TOP_KOL_FOLLOWERS,
) -> str:
    """`field`, `top_kol` or `alliance` for one creator; `own` are the normalised shop/brand names and ids
    of the product (and the user's mapping of accounts to it)."""
    names = {_norm(creator.get(k)) for k in ("id", "name", "handle")} - {""}
    if names & set(own):
        return "field"
    followers = creator.get("followers")
    if isinstance(followers, int) and followers >= threshold:
        return "top_kol"
    return "alliance"


def contributions(
    store: Store,
    contents: Sequence[Mapping[str, Any]],
    metric: str,
    start: datetime,
    end: datetime,
    campaigns: Sequence[Campaign] = (),
) -> list[Contribution]:
    """Each content's gain of `metric` in [start, end] (its counter as a running maximum: last - first),
    and the part of it inside a campaign window (or all of it when the content carries a campaign tag)."""
    found = []
    for doc in contents:
        series = store.snapshots(doc["id"], metric, since=start, until=end)
        values = [(s.observed_at, s.metrics.get(metric)) for s in series if s.metrics.get(metric) is not None]
        if len(values) < 2:
            continue
        gain = campaign_gain = 0
        high = values[0][1]
        for at, value in values[1:]:
            step = max(value - high, 0)
            high = max(high, value)
            gain += step
            moment = parse_iso(at)
            if step and moment is not None and window_of(campaigns, moment):
                campaign_gain += step
        tag = tagged(campaigns, doc.get("hashtags") or [], doc.get("title"))
        creator = doc.get("creator") or {}
        found.append(
            Contribution(
                content_id=doc["id"],
                creator=creator.get("name") or creator.get("handle") or creator.get("id"),
                creator_id=creator.get("id"),
                followers=creator.get("followers"),
                gain=gain,
                campaign_gain=gain if tag else campaign_gain,
                campaign=tag or (window_of(campaigns, end) if campaign_gain else None),
            )
        )
    return found


def breakdown(
    found: Sequence[Contribution],
    contents: Mapping[str, Mapping[str, Any]],
    own: Iterable[str],
    metric: str = "views",
    threshold: int = TOP_KOL_FOLLOWERS,
    via: str = "link",
) -> FactBreakdown:
    """The FACT split of the contributions: per part its gain, share, contributors (each with `via`: link
    or mention) and rule; campaign as a separate dimension (its share of the whole gain, and which)."""
    own = set(own)
    total = sum(c.gain for c in found)
    result = FactBreakdown(metric, total)
    for part in PARTS:
        mine = [
            c for c in found if classify(contents[c.content_id].get("creator") or {}, own, threshold) == part
        ]
        gain = sum(c.gain for c in mine)
        by_creator: dict[str, int] = {}
        for c in mine:
            by_creator[c.creator or "?"] = by_creator.get(c.creator or "?", 0) + c.gain
        result.parts[part] = {
            "gain": gain,
            "share": round(gain / total, 4) if total else None,
            "contributors": [
                {"creator": name, "gain": g, "via": via}
                for name, g in sorted(by_creator.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "rule": RULES[part].format(threshold=threshold),
        }
    campaign_gain = sum(c.campaign_gain for c in found)
    result.campaign = {
        "gain": campaign_gain,
        "share": round(campaign_gain / total, 4) if total else None,
        "campaigns": sorted({c.campaign for c in found if c.campaign and c.campaign_gain}),
        "rule": RULES["campaign"],
    }
    return result


def mention_block(
    found: Sequence[Contribution],
    mentions: Sequence[Mapping[str, Any]],
    own: Iterable[str],
    metric: str = "views",
    threshold: int = TOP_KOL_FOLLOWERS,
) -> dict[str, Any]:
    """`fact.mentions`: the FACT split of the gain of content that mentions the product without linking it
    (`mentions`: indexer.mentions.find_mentions hits, with their `doc` and `confidence`), apart from the
    links: its own total, parts and campaign share, and each content's gain with its confidence."""
    contents = {m["id"]: m["doc"] for m in mentions}
    block = breakdown(found, contents, own, metric, threshold, via="mention").to_json()
    gains = {c.content_id: c.gain for c in found}
    block["content"] = [
        {
            "id": m["id"],
            "creator": m.get("creator"),
            "confidence": m["confidence"],
            "gain": gains.get(m["id"]),
            "via": "mention",
        }
        for m in mentions
    ]
    block["rule"] = RULES["mentions"]
    return block


def own_accounts(members: Iterable[Mapping[str, Any]], mapping: Iterable[str] = ()) -> set[str]:
    """The normalised shop and brand names of a product's offers, plus accounts the user maps to it."""
    names = {_norm(m.get(k)) for m in members for k in ("shop", "brand")} | {_norm(a) for a in mapping}
    return names - {""}
