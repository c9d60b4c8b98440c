"""Live-room analytics from snapshots: viewers as a gauge (peak, average, viewer-minutes), products on sale."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crawler.bounds import MAX_PRICE
from crawler.items import Snapshot
from crawler.times import iso_utc, parse_iso
from indexer.store import Store

# Snapshot metrics the live watch writes for each product listed in a room at a sample (beyond the `sales`
# that every linked product with a count gets from the store): snapshots hold integer counts, so a price is
# kept in hundredths of its currency unit (`price_cents@LIVE_ID`: a room's own price), and `listed@LIVE_ID` = 1
# marks "in that room's list at that time"
# (so one store query, window_stats, gives each product's first and last time and its count of samples).
PRICE_PREFIX = "price_cents@"
LISTED_PREFIX = "listed@"
PRICE_SCALE = 100
# The characters of the viewer sparkline, lowest to highest (one per sample, resampled to SPARK_WIDTH).
SPARK_CHARS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 40
# A live's viewer series compared against its platform's numbers: the live metrics read from snapshots.
LIVE_METRICS = ("viewers", "peak_viewers", "views", "likes", "sales")


@dataclass
class Sample:
    """One observation of a live room (a snapshot time and the live metrics known then)."""

    at: datetime
    viewers: int | None = None
    peak_viewers: int | None = None
    views: int | None = None
    likes: int | None = None
    sales: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "at": iso_utc(self.at),
            "viewers": self.viewers,
            "peak_viewers": self.peak_viewers,
            "views": self.views,
            "likes": self.likes,
            "sales": self.sales,
        }


@dataclass
class LiveStats:
    """What a live's samples say, every number explained in docs/TRENDS.md ("A live room's numbers")."""

    samples: int = 0
    viewers_now: int | None = None
    peak_viewers: int | None = None  # max of the sampled viewers and the platform's published peak
    peak_at: str | None = None  # when the sampled peak was seen (None when only the platform's peak is known)
    peak_source: str | None = None  # "samples" | "platform"
    avg_viewers: float | None = None  # time-weighted (trapezoids between samples)
    viewer_minutes: float | None = None  # the area under the viewer curve
    minutes_live: float | None = None  # started_at (else the first sample) to ended_at (else the last sample)
    minutes_observed: float | None = None  # first to last sample
    views_per_hour: float | None = None  # growth of total viewers (a counter) between the samples
    likes_per_hour: float | None = None
    first_at: str | None = None
    last_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "viewers_now": self.viewers_now,
            "peak_viewers": self.peak_viewers,
            "peak_at": self.peak_at,
            "peak_source": self.peak_source,
            "avg_viewers": _round(self.avg_viewers, 1),
            "viewer_minutes": _round(self.viewer_minutes, 1),
            "minutes_live": _round(self.minutes_live, 1),
            "minutes_observed": _round(self.minutes_observed, 1),
            "views_per_hour": _round(self.views_per_hour, 2),
            "likes_per_hour": _round(self.likes_per_hour, 2),
            "first_at": self.first_at,
            "last_at": self.last_at,
        }


@dataclass
class LiveProduct:
    """One product seen in a live room: when it was listed, its prices and its sales during the live."""

    id: str
    title: str | None = None
    currency: str | None = None
    url: str | None = None
    shop: str | None = None
    first_seen: str | None = None
    last_seen: str | None = None
    samples_listed: int = 0
    price_first: float | None = None
    price_last: float | None = None
    price_changes: list[dict[str, Any]] = field(default_factory=list)
    sales_first: int | None = None
    sales_last: int | None = None
    listed_now: bool = False

    @property
    def sales_delta(self) -> int | None:
        if self.sales_first is None or self.sales_last is None:
            return None
        return self.sales_last - self.sales_first

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "currency": self.currency,
            "url": self.url,
            "shop": self.shop,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "samples_listed": self.samples_listed,
            "price_first": self.price_first,
            "price_last": self.price_last,
            "price_changes": self.price_changes,
            "sales_first": self.sales_first,
            "sales_last": self.sales_last,
            "sales_delta": self.sales_delta,
            "listed_now": self.listed_now,
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


# -- samples and their numbers ----------------------------------------------------------------------
def samples_of(snapshots: Iterable[Snapshot]) -> list[Sample]:
    """A live's snapshots (oldest first, as Store.snapshots returns them) as samples."""
    out = []
    for snap in snapshots:
        at = parse_iso(snap.observed_at)
        if at is None:
            continue
        metrics = snap.metrics or {}
        out.append(Sample(at, **{name: metrics.get(name) for name in LIVE_METRICS}))
    out.sort(key=lambda s: s.at)
    return out


def live_stats(samples: Sequence[Sample], started_at: Any = None, ended_at: Any = None) -> LiveStats:
    """Peak, time-weighted average, viewer-minutes, minutes live and counter growth from a live's samples.

    Concurrent viewers are a gauge: between two samples the curve is taken as a straight line (trapezoid
    rule), so viewer-minutes is the area under it and the average is that area over the minutes observed
    (one sample alone: its value). Total viewers (`views`) and likes are counters: their growth per hour is
    (last - first) / hours between the first and last sample that carry them."""
    stats = LiveStats(samples=len(samples))
    if not samples:
        return stats
    stats.first_at, stats.last_at = iso_utc(samples[0].at), iso_utc(samples[-1].at)
    stats.minutes_observed = (samples[-1].at - samples[0].at).total_seconds() / 60
    curve = [(s.at, s.viewers) for s in samples if s.viewers is not None]
    if curve:
        stats.viewers_now = curve[-1][1]
        peak_at, peak = max(curve, key=lambda p: (p[1], -p[0].timestamp()))
        stats.peak_viewers, stats.peak_at, stats.peak_source = peak, iso_utc(peak_at), "samples"
        area = 0.0
        for (t0, v0), (t1, v1) in zip(curve, curve[1:], strict=False):
            area += (v0 + v1) / 2 * (t1 - t0).total_seconds() / 60
        span = (curve[-1][0] - curve[0][0]).total_seconds() / 60
        stats.viewer_minutes = area
        stats.avg_viewers = area / span if span > 0 else float(curve[0][1])
    published = [s.peak_viewers for s in samples if s.peak_viewers is not None]
    if published and (stats.peak_viewers is None or max(published) > stats.peak_viewers):
        stats.peak_viewers, stats.peak_at, stats.peak_source = max(published), None, "platform"
    start = parse_iso(started_at) or samples[0].at
    end = parse_iso(ended_at) or samples[-1].at
    stats.minutes_live = max((end - start).total_seconds() / 60, 0.0)
    stats.views_per_hour = _per_hour([(s.at, s.views) for s in samples])
    stats.likes_per_hour = _per_hour([(s.at, s.likes) for s in samples])
    return stats


def _per_hour(points: list[tuple[datetime, int | None]]) -> float | None:
    known = [(t, v) for t, v in points if v is not None]
    if len(known) < 2:
        return None
    hours = (known[-1][0] - known[0][0]).total_seconds() / 3600
    return (known[-1][1] - known[0][1]) / hours if hours > 0 else None


def gauge_score(stats: LiveStats) -> float:
    """A live ranked by its viewers (a gauge): log10(1 + viewer-minutes); without a curve, log10(1 + peak)."""
    if stats.viewer_minutes:
        return round(math.log10(1 + stats.viewer_minutes), 4)
    return round(math.log10(1 + (stats.peak_viewers or 0)), 4)


def filled_peak(metrics: Mapping[str, Any], seen_peak: int | None) -> int | None:
    """`peak_viewers` for a new sample: the max of the platform's published peak, the viewers now and the
    peak seen in the samples before it (None when none of them is known)."""
    known = [
        v for v in (metrics.get("peak_viewers"), metrics.get("viewers"), seen_peak) if isinstance(v, int)
    ]
    return max(known) if known else None


def sparkline(values: Sequence[int | None], width: int = SPARK_WIDTH) -> str:
    """Viewers as a text sparkline (a gap for an unknown value), resampled to at most `width` characters."""
    if not values:
        return ""
    if len(values) > width:
        step = len(values) / width
        values = [values[int(i * step)] for i in range(width)]
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    low, high = min(known), max(known)
    top = len(SPARK_CHARS) - 1
    return "".join(
        " " if v is None else SPARK_CHARS[top if high == low else round((v - low) / (high - low) * top)]
        for v in values
    )


# -- products ---------------------------------------------------------------------------------------
def listed_metric(live_id: str) -> str:
    """The snapshot metric that marks a product as listed in one live room at one time (value 1)."""
    return f"{LISTED_PREFIX}{live_id}"


def price_metric(live_id: str) -> str:
    """The snapshot metric of a product's price in one live room, in cents (two rooms may differ)."""
    return f"{PRICE_PREFIX}{live_id}"


def product_snapshots(item: Mapping[str, Any]) -> list[Snapshot]:
    """For a live item in the JSON form: one snapshot per product with an id in its list, at the item's
    observed_at: listed in this live (listed_metric) and the price in cents; sales come with the item itself
    (every linked product with a count gets a `sales` snapshot from the store, see indexer/documents.py)."""
    if item.get("kind") != "live" or not item.get("observed_at") or not item.get("id"):
        return []
    out = []
    for ref in item.get("products") or []:
        if not isinstance(ref, dict) or not ref.get("id"):
            continue
        metrics = {listed_metric(item["id"]): 1}
        price = ref.get("price")
        if isinstance(price, (int, float)) and not isinstance(price, bool) and 0 <= price <= MAX_PRICE:
            metrics[price_metric(item["id"])] = round(price * PRICE_SCALE)
        out.append(Snapshot(entity_id=ref["id"], observed_at=item["observed_at"], metrics=metrics))
    return out


def live_products(store: Store, doc: Mapping[str, Any], samples: Sequence[Sample]) -> list[LiveProduct]:
    """The products of a live: its current list (the document) and every product listed at one of its
    samples (the watch's snapshots), with first/last seen, price changes and sales during the live."""
    refs = {r["id"]: r for r in doc.get("products") or [] if isinstance(r, dict) and r.get("id")}
    listed: dict[str, Any] = {}
    since = until = None
    if samples:
        since, until = iso_utc(samples[0].at), iso_utc(samples[-1].at)
        listed = dict(store.window_stats(listed_metric(str(doc.get("id"))), since, until))
    ended = (doc.get("live") or {}).get("status") == "ended"
    products = []
    for pid in dict.fromkeys([*refs, *sorted(listed)]):
        ref = refs.get(pid, {})
        product = LiveProduct(
            id=pid,
            title=ref.get("title"),
            currency=ref.get("currency"),
            url=ref.get("url"),
            shop=ref.get("shop"),
            listed_now=pid in refs and not ended,
        )
        if pid in listed:
            stat = listed[pid]
            product.first_seen, product.last_seen = _iso(stat.first_at), _iso(stat.last_at)
            product.samples_listed = stat.count
        if since is not None:  # prices and sales at the times this live listed it (others may list it too)
            last_price = None
            mark, price_key = listed_metric(str(doc.get("id"))), price_metric(str(doc.get("id")))
            for snap in store.snapshots(pid, since=since, until=until):
                metrics = snap.metrics or {}
                if not metrics.get(mark):
                    continue
                if metrics.get(price_key) is not None:
                    price = metrics[price_key] / PRICE_SCALE
                    if product.price_first is None:
                        product.price_first = price
                    if last_price is not None and price != last_price:
                        product.price_changes.append(
                            {"at": _iso(snap.observed_at), "from": last_price, "to": price}
                        )
                    product.price_last = last_price = price
                if isinstance(metrics.get("sales"), int):
                    if product.sales_first is None:
                        product.sales_first = metrics["sales"]
                    product.sales_last = metrics["sales"]
        if product.price_last is None and isinstance(ref.get("price"), (int, float)):
            product.price_first = product.price_last = ref["price"]
        if product.sales_last is None and isinstance(ref.get("sales"), int):
            product.sales_first = product.sales_last = ref["sales"]
        if product.title is None:  # listed earlier, gone from the current list: its own document, if any
            pdoc = store.get(pid) or {}
            product.title, product.url = pdoc.get("title"), pdoc.get("url")
            product.currency = pdoc.get("currency")
        products.append(product)
    products.sort(key=lambda p: (-(p.sales_delta or 0), p.first_seen or "~", p.id))
    return products


def _iso(value: Any) -> str | None:
    parsed = parse_iso(value)
    return None if parsed is None else iso_utc(parsed)


# -- one live, everything `live show` prints --------------------------------------------------------
def live_detail(store: Store, live_id: str) -> dict[str, Any] | None:
    """Title, streamer, status, times, the sample series, its numbers and its products; None if unknown."""
    doc = store.get(live_id)
    if doc is None or doc.get("kind") != "live":
        return None
    samples = samples_of(store.snapshots(live_id))
    live = doc.get("live") or {}
    stats = live_stats(samples, live.get("started_at"), live.get("ended_at"))
    creator = doc.get("creator") or {}
    return {
        "id": live_id,
        "platform": doc.get("platform"),
        "url": doc.get("url"),
        "title": doc.get("title"),
        "streamer": creator.get("name") or creator.get("handle"),
        "streamer_id": creator.get("id"),
        "status": live.get("status"),
        "started_at": live.get("started_at"),
        "ended_at": live.get("ended_at"),
        "published_at": doc.get("published_at"),
        "stats": stats.to_json(),
        "samples": [s.to_json() for s in samples],
        "products": [p.to_json() for p in live_products(store, doc, samples)],
    }
