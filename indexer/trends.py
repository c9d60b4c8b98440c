"""Trend engine: velocity, growth, acceleration and breadth from snapshot windows (see docs/TRENDS.md)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from crawler.bounds import MAX_WINDOW_S
from crawler.items import GAUGES, METRIC_NAMES
from crawler.times import iso_utc, parse_duration, parse_iso, utc_now
from indexer.store import SearchFilters, Store, WindowStat
from indexer.trend_cache import TrendCache, gc_paused

# -- named constants (each explained in docs/TRENDS.md) ---------------------------------------------
DEFAULT_METRIC = "views"
DEFAULT_WINDOW = "24h"
# The baseline of a window may come from this fraction of the window before its start, so that a daily
# crawl that runs a few minutes later than yesterday's still finds yesterday's snapshot as its baseline.
WINDOW_SLACK = 0.25
# Below this many hours between two observations a rate is noise (two crawls a few seconds apart).
MIN_SPAN_HOURS = 1 / 60
# A starting value or a previous velocity below 1 is treated as 1, so ratios stay finite.
RATIO_FLOOR = 1.0
# Growth counts per day in the score, capped: +100 %/day doubles the score and more adds nothing.
GROWTH_CAP_PER_DAY = 1.0
# Acceleration (relative change of velocity between windows) counts between -50 % and +100 %.
ACCEL_FLOOR, ACCEL_CAP = -0.5, 1.0
# Each doubling of distinct creators adds a quarter to a product's or hashtag's score.
BREADTH_WEIGHT = 0.25

# The metrics a trend can rank by: the snapshot metrics of the JSON form.
METRICS = METRIC_NAMES


class TrendBy(str, Enum):
    """What to rank."""

    product = "product"
    video = "video"
    live = "live"
    creator = "creator"
    hashtag = "hashtag"


@dataclass(slots=True)
class Observation:
    """One member's metric inside one window: first and last value with their times."""

    velocity: float | None  # metric per hour
    basis: str  # "snapshots" | "since_published" | "none"
    first_value: float | None = None
    last_value: float | None = None
    first_at: datetime | None = None
    last_at: datetime | None = None
    snapshots: int = 0

    @property
    def hours(self) -> float | None:
        if self.first_at is None or self.last_at is None:
            return None
        return (self.last_at - self.first_at).total_seconds() / 3600


@dataclass
class TrendResult:
    """One ranked entity and every number its score was computed from."""

    rank: int
    key: str
    by: str
    title: str | None
    score: float
    components: dict[str, Any]
    platforms: list[str] = field(default_factory=list)
    url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "id": self.key,
            "by": self.by,
            "title": self.title,
            "score": self.score,
            "platforms": self.platforms,
            "url": self.url,
            **self.extra,
            "components": self.components,
        }


@dataclass
class TrendReport:
    """The ranking plus what it was computed over (for headers, JSON output and reports)."""

    by: str
    metric: str
    window: str
    now: datetime
    start: datetime
    results: list[TrendResult]
    considered: int = 0
    skipped_no_rate: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "metric": self.metric,
            "window": self.window,
            "now": iso(self.now),
            "start": iso(self.start),
            "considered": self.considered,
            "skipped_no_rate": self.skipped_no_rate,
            "results": [r.to_json() for r in self.results],
        }


# -- small helpers ----------------------------------------------------------------------------------
def parse_window(text: str) -> timedelta:
    """`24h`, `7d`, `90m`, `2w`, `1d12h` -> timedelta. Raises ValueError with the accepted forms."""
    seconds = parse_duration(text, forms=("compact",)) if isinstance(text, str) else None
    if seconds is None:
        raise ValueError(f"bad window {text!r}: use a number and a unit m/h/d/w, e.g. 24h, 7d, 1d12h")
    if seconds <= 0:
        raise ValueError(f"bad window {text!r}: must be longer than zero")
    if seconds > MAX_WINDOW_S:
        raise ValueError(f"bad window {text!r}: longer than {MAX_WINDOW_S // 86400} days")
    return timedelta(seconds=seconds)


def iso(value: datetime | None) -> str | None:
    """crawler.times.iso_utc for a time that may be missing."""
    return None if value is None else iso_utc(value)


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _doc(obj: Any) -> dict[str, Any]:
    """Documents may come back as dicts or as objects with to_json()/a `data` dict; trends read dicts."""
    if obj is None or isinstance(obj, dict):
        return obj or {}
    for attr in ("to_json", "to_dict"):
        if hasattr(obj, attr):
            return getattr(obj, attr)()
    return dict(getattr(obj, "__dict__", {}))


def _creator_key(doc: dict[str, Any]) -> str | None:
    creator = doc.get("creator") or {}
    for name in ("id", "handle", "name", "url"):
        value = creator.get(name) if isinstance(creator, dict) else None
        if value:
            return f"{doc.get('platform')}:{value}" if name != "id" or ":" not in str(value) else str(value)
    return None


creator_key_of = _creator_key  # the key `--by creator` ranks by, for callers outside this module


# Distinct time strings parsed once each: a store's snapshots share the few times its crawls ran at.
TIME_CACHE_SIZE = 65_536


@functools.lru_cache(maxsize=TIME_CACHE_SIZE)
def _parse_text_time(value: str) -> datetime | None:
    return parse_iso(value)


def _time(value: Any) -> datetime | None:
    """crawler.times.parse_iso, remembered for strings (datetimes are immutable, so sharing one is safe)."""
    return _parse_text_time(value) if isinstance(value, str) else parse_iso(value)


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


# -- the maths --------------------------------------------------------------------------------------
def observe(stat: Any, published_at: Any = None) -> Observation:
    """One member's velocity in a window, from its store WindowStat (first/last value and time).

    Two observations at least MIN_SPAN_HOURS apart: (last - first) / hours between them.
    Otherwise, with a publication time: last value / hours since publication (basis since_published).
    """
    if stat is None:
        return Observation(velocity=None, basis="none")
    return Observation(*_observed(stat, published_at))


def _observed(stat: Any, published_at: Any) -> tuple[Any, ...]:
    """observe's fields for a stat that is not None: velocity, basis, first and last value and time, count."""
    if type(stat) is WindowStat:  # what the stores give: its fields read directly (a ranking reads ~200k)
        first_at, last_at = _time(stat.first_at), _time(stat.last_at)
        first_value, last_value, count = stat.first_value, stat.last_value, int(stat.count or 0)
    else:
        first_at, last_at = _time(_get(stat, "first_at")), _time(_get(stat, "last_at"))
        first_value, last_value = _get(stat, "first_value"), _get(stat, "last_value")
        count = int(_get(stat, "count", 0) or 0)
    # Observation.hours, computed here once: the velocity and basis go into the one Observation made.
    hours = None if first_at is None or last_at is None else (last_at - first_at).total_seconds() / 3600
    velocity, basis = None, "none"
    if (
        count >= 2
        and hours is not None
        and hours >= MIN_SPAN_HOURS
        and first_value is not None
        and last_value is not None
    ):
        velocity, basis = (last_value - first_value) / hours, "snapshots"
    else:
        published = _time(published_at)
        if last_value is not None and published is not None and last_at is not None:
            since = (last_at - published).total_seconds() / 3600
            if since >= MIN_SPAN_HOURS:
                velocity, basis = last_value / since, "since_published"
    return velocity, basis, first_value, last_value, first_at, last_at, count


def growth_of(velocity: float | None, first_value: float | None) -> float | None:
    """Velocity relative to the starting value: a fraction of the start gained per hour."""
    if velocity is None or first_value is None:
        return None
    return velocity / max(first_value, RATIO_FLOOR)


def acceleration_of(velocity: float | None, previous: float | None) -> float | None:
    """This window's velocity against the previous window's: +0.5 means 50 % faster."""
    if velocity is None or previous is None:
        return None
    return (velocity - previous) / max(previous, RATIO_FLOOR)


def score_of(
    velocity: float | None, growth: float | None, acceleration: float | None, creators: int | None = None
) -> tuple[float, dict[str, float]]:
    """score = log10(1 + velocity) × growth factor × acceleration factor × breadth factor (docs/TRENDS.md)."""
    base = math.log10(1 + max(velocity or 0.0, 0.0))
    f_growth = 1 + min(max((growth or 0.0) * 24, 0.0), GROWTH_CAP_PER_DAY)
    f_accel = 1 + min(max(acceleration if acceleration is not None else 0.0, ACCEL_FLOOR), ACCEL_CAP)
    f_breadth = 1 + BREADTH_WEIGHT * math.log2(creators) if creators and creators > 1 else 1.0
    score = base * f_growth * f_accel * f_breadth
    factors = {
        "base": round(base, 4),
        "growth": round(f_growth, 4),
        "acceleration": round(f_accel, 4),
        "breadth": round(f_breadth, 4),
    }
    return round(score, 4), factors


# -- the engine -------------------------------------------------------------------------------------
class TrendEngine:
    """Ranks entities of any Store from two `window_stats` calls (this window and the previous one).

    Heavy lifting stays in the store: per-entity first/last observations per window. Python only sees
    one aggregate per active entity and the documents of active entities (get_many).
    """

    def __init__(
        self,
        store: Store,
        now: Callable[[], datetime] | datetime | None = None,
        canonical: Mapping[str, Mapping[str, Any]] | None = None,
        cache: TrendCache | None = None,
    ) -> None:
        """`canonical`: {source product id: its canonical product {id, title, members, platforms}}; with it,
        `--by product` ranks one row per canonical product (docs/TRENDS.md "Canonical products").
        `cache`: shared by every ranking of one evaluation (indexer.trend_cache); without one, each call
        reads the store afresh."""
        self.store = store
        self.cache = cache
        self._active: TrendCache | None = None
        self._now = now
        self.canonical = dict(canonical or {})
        self._products = {str(info["id"]): info for info in self.canonical.values()}

    def now(self) -> datetime:
        if self._now is None:
            return utc_now()
        value = self._now() if callable(self._now) else self._now
        return parse_iso(value) or utc_now()

    def trending(
        self,
        by: TrendBy | str = TrendBy.product,
        window: str | timedelta = DEFAULT_WINDOW,
        metric: str | None = None,
        limit: int = 20,
        platform: str | None = None,
        now: datetime | None = None,
        restrict_to: Iterable[str] | None = None,
    ) -> TrendReport:
        """The ranking. `restrict_to`: rank only the rows with one of these names (`row_names`: a row's key,
        its canonical product's members, its key and title lowercased): the same rows, in the same order
        and with the same numbers, as ranking all and keeping those (watches pass their hits' names);
        `considered` stays the whole count, `skipped_no_rate` counts the restricted rows only."""
        with self._caching():
            return self._trending(by, window, metric, limit, platform, now, restrict_to)

    def warm(
        self,
        by: TrendBy | str = TrendBy.product,
        window: str | timedelta = DEFAULT_WINDOW,
        metric: str | None = None,
        platform: str | None = None,
    ) -> None:
        """Read into the engine's cache what trending(by, window, metric, platform=platform) reads from the
        store first (both windows' snapshots, the documents of what it ranks), so that the ranking later
        only ranks: the watch evaluation warms its rankings while its searches run in a helper process.
        Nothing without a cache of the engine's own, or for what trending would refuse (it says why)."""
        metric = metric or DEFAULT_METRIC
        try:
            by = TrendBy(by)
            span = parse_window(window) if isinstance(window, str) else window
        except ValueError:
            return
        if self.cache is None or metric not in METRICS or metric in GAUGES:
            return
        _, _, windows = self._windows(span, None)
        with self._caching():
            if by in (TrendBy.video, TrendBy.live) or (by is TrendBy.product and metric == "sales"):
                kind = "product" if by is TrendBy.product else by.value
                self._stats(metric, windows, 1, kind, platform)
                self._docs(self._stats(metric, windows, 0, kind, platform).keys())
            else:
                self._members(metric, windows, platform)

    def _windows(
        self, span: timedelta, now: datetime | None
    ) -> tuple[datetime, datetime, tuple[tuple[datetime, datetime], ...]]:
        """The ranking's start and end, and its windows: this one (with slack before it) and the one before."""
        end = parse_iso(now) if now is not None else self.now()
        start = end - span
        slack = span * WINDOW_SLACK
        return start, end, ((start - slack, end), (start - span - slack, start))

    @contextmanager
    def _caching(self) -> Iterator[TrendCache]:
        """The cache of this call: the engine's own, else one for this call only (nested calls share it)."""
        if self._active is not None:
            yield self._active
            return
        self._active = self.cache if self.cache is not None else TrendCache(self.store)
        try:
            with gc_paused():  # a ranking builds ~10 objects per member and frees them by refcount
                yield self._active
        finally:
            self._active = None

    def _trending(
        self,
        by: TrendBy | str,
        window: str | timedelta,
        metric: str | None,
        limit: int,
        platform: str | None,
        now: datetime | None,
        restrict_to: Iterable[str] | None,
    ) -> TrendReport:
        by = TrendBy(by)
        keep = _Names(restrict_to) if restrict_to is not None else None
        metric = metric or DEFAULT_METRIC
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
        if metric in GAUGES and by is not TrendBy.live:
            raise ValueError(
                f"{metric} is a gauge (a live's viewers now, up and down): it has a peak and an average, never "
                f"a velocity; rank lives by it with --by live --metric {metric} (docs/TRENDS.md)"
            )
        span = parse_window(window) if isinstance(window, str) else window
        window_text = window if isinstance(window, str) else f"{span.total_seconds() / 3600:g}h"
        start, end, windows = self._windows(span, now)

        if by is TrendBy.live and metric in GAUGES:
            results, skipped, considered = self._rank_lives_by_gauge(
                metric, windows, platform, start, end, keep
            )
        elif by in (TrendBy.video, TrendBy.live) or (by is TrendBy.product and metric == "sales"):
            kind = "product" if by is TrendBy.product else by.value
            cur, prev = (self._stats(metric, windows, i, kind, platform) for i in (0, 1))
            considered = len(cur)
            docs = self._docs(cur.keys())
            if by is TrendBy.product:  # products known only through links: title, price, shop from the link
                docs = {**self._linked_products(set(cur) - set(docs)), **docs}
                if self.canonical:
                    cur, prev, docs = self._canonical_sales(metric, cur, prev, docs, windows)
                    considered = len(cur)
            if keep is not None:
                cur = {k: v for k, v in cur.items() if keep.entity(k, docs.get(k, {}), self._canonical_info)}
            results, skipped = self._rank_entities(by, cur, prev, docs, start, end)
        else:
            results, skipped, considered = self._rank_groups(by, metric, windows, platform, start, end, keep)
        if by is TrendBy.live:
            self._add_live_numbers(results, windows[0])
        results.sort(key=lambda r: (-r.score, -(r.components.get("velocity") or 0.0), r.key))
        for i, result in enumerate(results[:limit] if limit else results, start=1):
            result.rank = i
        return TrendReport(
            by=by.value,
            metric=metric,
            window=window_text,
            now=end,
            start=start,
            results=results[:limit] if limit else results,
            considered=considered,
            skipped_no_rate=skipped,
        )

    def trends_of(
        self,
        by: TrendBy | str,
        ids: Iterable[str],
        window: str = DEFAULT_WINDOW,
        metric: str | None = None,
        now: datetime | None = None,
    ) -> dict[str, TrendResult]:
        """The trend rows of these entities only, by id: videos and lives from their own counters (one
        window_stats per window on the ids); products and creators from the whole ranking, kept to these
        ids (a product listing finds its canonical product's row). Entities without a trend are absent."""
        with self._caching():
            return self._trends_of(TrendBy(by), sorted(set(ids)), window, metric or DEFAULT_METRIC, now)

    def _trends_of(
        self, by: TrendBy, wanted: list[str], window: str, metric: str, now: datetime | None
    ) -> dict[str, TrendResult]:
        if not wanted:
            return {}
        if by in (TrendBy.product, TrendBy.creator):
            report = self.trending(by=by, window=window, metric=metric, limit=0, now=now)
            found: dict[str, TrendResult] = {}
            for result in report.results:
                members = (result.extra.get("canonical") or {}).get("members") or []
                for key in {result.key, *members} & set(wanted):
                    found[key] = result
            return found
        span = parse_window(window)
        end = parse_iso(now) if now is not None else self.now()
        start, slack = end - span, span * WINDOW_SLACK
        windows = ((start - slack, end), (start - span - slack, start))
        cur, prev = (
            dict(self.store.window_stats(metric, iso(a), iso(b), kind=by.value, ids=wanted))
            for a, b in windows
        )
        results, _ = self._rank_entities(by, cur, prev, self._docs(cur.keys()), start, end)
        if by is TrendBy.live:
            self._add_live_numbers(results, windows[0])
        return {r.key: r for r in results}

    # -- store access ---------------------------------------------------------------------------
    def _cache(self) -> TrendCache:
        return self._active if self._active is not None else TrendCache(self.store)

    def _stats(
        self,
        metric: str,
        windows: tuple[tuple[datetime, datetime], ...],
        index: int,
        kind: str,
        platform: str | None,
    ) -> dict[str, Any]:
        """store.window_stats over windows[index] (through the cache: one bulk read for all the windows)."""
        return self._cache().window_stats(metric, windows, index, kind, platform)

    def _docs(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return self._cache().docs(ids, _doc)

    def _linked_products(self, ids: set[str]) -> dict[str, dict[str, Any]]:
        """Product-like documents for product ids that only videos and lives link: the link's title, url,
        price, currency and shop (the first linking document that has a title wins, by id)."""
        if not ids:
            return {}
        found: dict[str, dict[str, Any]] = {}
        for doc in self.store.iter_documents(SearchFilters(has_products=True)):
            for ref in doc.get("products") or []:
                if (
                    isinstance(ref, dict)
                    and ref.get("id") in ids
                    and ref.get("title")
                    and ref["id"] not in found
                ):
                    found[ref["id"]] = {
                        "id": ref["id"],
                        "kind": "product",
                        "platform": doc.get("platform"),
                        "metrics": {"sales": ref.get("sales")},
                        **{k: ref.get(k) for k in ("title", "url", "price", "price_max", "currency", "shop")},
                    }
        return found

    # -- canonical products ----------------------------------------------------------------------
    def _canon(self, key: str) -> str:
        info = self.canonical.get(key)
        return str(info["id"]) if info else key

    def _canonical_info(self, key: str) -> dict[str, Any] | None:
        info = self._products.get(key)
        return {k: info[k] for k in ("id", "members", "platforms") if k in info} if info else None

    def _canonical_sales(
        self,
        metric: str,
        cur: dict[str, Any],
        prev: dict[str, Any],
        docs: dict[str, dict[str, Any]],
        windows: tuple[tuple[datetime, datetime], ...],
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, dict[str, Any]]]:
        """The listings' own counters (sales) grouped into their canonical products: one stat per product
        and window whose series is the sum of its listings' running maxima (summed_stat)."""
        groups: dict[str, list[str]] = {}
        for listing in cur:
            groups.setdefault(self._canon(listing), []).append(listing)
        out_cur: dict[str, Any] = {}
        out_prev: dict[str, Any] = {}
        out_docs: dict[str, dict[str, Any]] = {}
        for key, listings in groups.items():
            if listings[0] not in self.canonical:
                out_cur[key], out_docs[key] = cur[key], docs.get(key, {})  # ungrouped: the listing itself
                if key in prev:
                    out_prev[key] = prev[key]
                continue
            info = self.canonical[listings[0]]
            members = list(info.get("members") or listings)
            for window, out in zip(windows, (out_cur, out_prev), strict=True):
                stat = summed_stat(self.store, members, metric, *window)
                if stat is not None:
                    out[key] = stat
            member_docs = [docs[m] for m in sorted(listings) if m in docs]
            first = member_docs[0] if member_docs else {}
            sales = [(d.get("metrics") or {}).get(metric) for d in member_docs]
            out_docs[key] = {
                **first,
                "id": key,
                "title": info.get("title") or first.get("title"),
                "metrics": {metric: sum(v for v in sales if isinstance(v, int)) if any(sales) else None},
            }
        return out_cur, out_prev, out_docs

    # -- single entities (video, live, product by its own sales) ---------------------------------
    def _rank_entities(
        self,
        by: TrendBy,
        cur: dict[str, Any],
        prev: dict[str, Any],
        docs: dict[str, dict[str, Any]],
        start: datetime,
        end: datetime,
    ) -> tuple[list[TrendResult], int]:
        results: list[TrendResult] = []
        skipped = 0
        for entity_id, stat in cur.items():
            doc = docs.get(entity_id, {})
            now_obs = observe(stat, doc.get("published_at"))
            if now_obs.velocity is None:
                skipped += 1
                continue
            prev_obs = observe(prev.get(entity_id), doc.get("published_at"))
            growth = (
                growth_of(now_obs.velocity, now_obs.first_value) if now_obs.basis == "snapshots" else None
            )
            accel = acceleration_of(now_obs.velocity, prev_obs.velocity)
            score, factors = score_of(now_obs.velocity, growth, accel)
            components = {
                "velocity": _round(now_obs.velocity),
                "growth": _round(growth, 6),
                "acceleration": _round(accel),
                "velocity_prev": _round(prev_obs.velocity),
                "basis": now_obs.basis,
                "first_value": now_obs.first_value,
                "last_value": now_obs.last_value,
                "gained": (now_obs.last_value - now_obs.first_value)
                if now_obs.basis == "snapshots"
                else None,
                "hours": _round(now_obs.hours, 3),
                "snapshots": now_obs.snapshots,
                "new": _is_new(doc, start, end),
                "factors": factors,
            }
            extra = {"kind": doc.get("kind") or by.value, "creator": (doc.get("creator") or {}).get("name")}
            if doc.get("kind") == "product":
                extra.update(price=doc.get("price"), currency=doc.get("currency"), shop=doc.get("shop"))
                extra["sales"] = (doc.get("metrics") or {}).get("sales")
                if extra["sales"] is None and now_obs.basis == "snapshots":
                    extra["sales"] = now_obs.last_value
                canonical = self._canonical_info(entity_id) if self.canonical else None
                if canonical:
                    extra["canonical"] = canonical
                    extra["sales"] = now_obs.last_value if now_obs.last_value is not None else extra["sales"]
            results.append(
                TrendResult(
                    rank=0,
                    key=entity_id,
                    by=by.value,
                    title=doc.get("title"),
                    score=score,
                    components=components,
                    platforms=[doc.get("platform") or entity_id.split(":")[0]],
                    url=doc.get("url"),
                    extra=extra,
                )
            )
        return results, skipped

    # -- lives: viewers are a gauge (indexer/lives.py) -------------------------------------------
    def _live_stats(self, live_id: str, doc: dict[str, Any], window: tuple[datetime, datetime]) -> Any:
        from indexer.lives import live_stats, samples_of

        samples = samples_of(self.store.snapshots(live_id, since=iso(window[0]), until=iso(window[1])))
        live = doc.get("live") or {}
        return live_stats(samples, live.get("started_at"), live.get("ended_at"))

    def _add_live_numbers(self, results: list[TrendResult], window: tuple[datetime, datetime]) -> None:
        """Every live's gauge numbers beside its counter components: peak (and when), time-weighted average,
        viewer-minutes, minutes live, total viewers and likes per hour."""
        docs = self._docs(r.key for r in results)
        for result in results:
            doc = docs.get(result.key, {})
            stats = self._live_stats(result.key, doc, window).to_json()
            result.components.update({k: v for k, v in stats.items() if k not in ("first_at", "last_at")})
            result.extra["status"] = (doc.get("live") or {}).get("status")

    def _rank_lives_by_gauge(
        self,
        metric: str,
        windows: tuple[tuple[datetime, datetime], ...],
        platform: str | None,
        start: datetime,
        end: datetime,
        keep: _Names | None = None,
    ) -> tuple[list[TrendResult], int, int]:
        """Lives ranked by their viewer curve in the window (lives.gauge_score), never by a gauge's change."""
        from indexer.lives import gauge_score

        window = windows[0]
        cur = self._stats(metric, windows, 0, "live", platform)
        docs = self._docs(cur.keys())
        results: list[TrendResult] = []
        ranked = [k for k in cur if keep is None or keep.entity(k, docs.get(k, {}), self._canonical_info)]
        for live_id in ranked:
            doc = docs.get(live_id, {})
            stats = self._live_stats(live_id, doc, window)
            if stats.peak_viewers is None:
                continue
            components = {
                "velocity": None,
                "growth": None,
                "acceleration": None,
                "velocity_prev": None,
                "basis": "gauge",
                "new": _is_new(doc, start, end),
                "factors": {"viewer_minutes": stats.to_json()["viewer_minutes"]},
            }
            results.append(
                TrendResult(
                    rank=0,
                    key=live_id,
                    by=TrendBy.live.value,
                    title=doc.get("title"),
                    score=gauge_score(stats),
                    components=components,
                    platforms=[doc.get("platform") or live_id.split(":")[0]],
                    url=doc.get("url"),
                    extra={"kind": "live", "creator": (doc.get("creator") or {}).get("name")},
                )
            )
        return results, len(ranked) - len(results), len(cur)

    # -- groups (products by their videos/lives, creators, hashtags) -----------------------------
    def _rank_groups(
        self,
        by: TrendBy,
        metric: str,
        windows: tuple[tuple[datetime, datetime], ...],
        platform: str | None,
        start: datetime,
        end: datetime,
        keep: _Names | None = None,
    ) -> tuple[list[TrendResult], int, int]:
        cur, prev, docs = self._members(metric, windows, platform)
        products: dict[str, dict[str, Any]] = {}

        groups: dict[str, list[str]] = {}
        creator_keys = self._cache().memo.setdefault(("creator keys",), {})  # member id -> _creator_key
        linked: set[str] = set()  # the product ids members link (a product ranking's product documents)
        for member_id in cur:
            if by is TrendBy.creator:
                creator = _memo_creator(creator_keys, member_id, docs)
                keys = [creator] if creator else []
            elif by is TrendBy.product:
                keys = _product_keys(docs.get(member_id, {}), linked)
                if self.canonical:  # a video linking two listings of one product: once
                    keys = list(dict.fromkeys(self._canon(k) for k in keys))
            else:
                keys = _hashtag_keys(docs.get(member_id, {}))
            for key in keys:
                groups.setdefault(key, []).append(member_id)
        if by is TrendBy.product:  # product docs' featured_in links members too
            products = self._product_docs(linked, platform, windows[0])
            for pid, pdoc in products.items():
                key = self._canon(pid)
                for member_id in pdoc.get("featured_in") or []:
                    if member_id in cur and member_id not in groups.get(key, []):
                        groups.setdefault(key, []).append(member_id)

        if keep is not None:
            groups = {
                key: members
                for key, members in groups.items()
                if keep.group(key, lambda k=key, m=members: self._group_title(by, k, m, docs, products))
            }
        # One member's numbers are the same in every group and every ranking of an evaluation: once each.
        spans = tuple((iso(a), iso(b)) for a, b in windows)
        facts = self._cache().memo.setdefault(("members", metric, spans, platform, iso(start), iso(end)), {})
        results: list[TrendResult] = []
        skipped = 0
        for key, members in groups.items():
            v_cur = v_prev = 0.0
            snap_v = snap_first = 0.0
            bases: set[str] = set()
            creators: set[str] = set()
            new_items = contributing = 0
            platforms: set[str] = set()
            have_prev = False
            for member_id in sorted(members):
                fact = facts.get(member_id)
                if fact is None:
                    creator = _memo_creator(creator_keys, member_id, docs)
                    fact = facts[member_id] = _member_facts(member_id, cur, prev, docs, start, end, creator)
                velocity, member_basis, first_value, velocity_before, creator, is_new, member_platform = fact
                if velocity is None:
                    continue
                contributing += 1
                v_cur += velocity
                bases.add(member_basis)
                if member_basis == "snapshots":
                    snap_v += velocity
                    snap_first += first_value or 0.0
                if velocity_before is not None:
                    v_prev += velocity_before
                    have_prev = True
                if creator:
                    creators.add(creator)
                if is_new:
                    new_items += 1
                platforms.add(member_platform)
            if not contributing:
                skipped += 1
                continue
            growth = growth_of(snap_v, snap_first) if "snapshots" in bases else None
            accel = acceleration_of(v_cur, v_prev) if have_prev else None
            breadth = len(creators) if by in (TrendBy.product, TrendBy.hashtag) else None
            score, factors = score_of(v_cur, growth, accel, breadth)
            basis = bases.pop() if len(bases) == 1 else "mixed"
            components = {
                "velocity": _round(v_cur),
                "growth": _round(growth, 6),
                "acceleration": _round(accel),
                "velocity_prev": _round(v_prev) if have_prev else None,
                "basis": basis,
                "items": contributing,
                "new_items": new_items,
                "creators": len(creators),
                "factors": factors,
            }
            title, url, extra = self._group_row_label(by, key, members, docs, products)
            results.append(
                TrendResult(
                    rank=0,
                    key=key,
                    by=by.value,
                    title=title,
                    score=score,
                    components=components,
                    platforms=sorted(platforms),
                    url=url,
                    extra=extra,
                )
            )
        return results, skipped, len(cur)

    def _group_row_label(
        self,
        by: TrendBy,
        key: str,
        members: list[str],
        docs: dict[str, dict[str, Any]],
        products: dict[str, dict[str, Any]],
    ) -> tuple[str | None, str | None, dict[str, Any]]:
        """A group row's title, url and extra (a canonical product's from its listings and its own title)."""
        canonical = self._canonical_info(key) if by is TrendBy.product and self.canonical else None
        if canonical:
            listing = next((m for m in canonical["members"] if m in products), canonical["members"][0])
            title, url, extra = self._group_label(by, listing, members, docs, products)
            title = self._products[key].get("title") or title
            extra["canonical"] = canonical
            return title, url, extra
        return self._group_label(by, key, members, docs, products)

    def _group_title(
        self,
        by: TrendBy,
        key: str,
        members: list[str],
        docs: dict[str, dict[str, Any]],
        products: dict[str, dict[str, Any]],
    ) -> tuple[str | None, list[str]]:
        """A group row's title and its canonical product's members (what restrict_to matches beside the key)."""
        title = self._group_row_label(by, key, members, docs, products)[0]
        canonical = self._canonical_info(key) if by is TrendBy.product and self.canonical else None
        return title, list((canonical or {}).get("members") or [])

    def _product_docs(
        self, ids: Iterable[str], platform: str | None, window: tuple[datetime, datetime]
    ) -> dict[str, dict[str, Any]]:
        """Product documents of these ids (what active members link), plus products observed in the window."""
        found = {pid: doc for pid, doc in self._docs(ids).items() if doc.get("kind") == "product"}
        observed = SearchFilters(kind="product", platform=platform, observed_from=iso(window[0]))
        scanned = self._cache().scan(
            ("observed products", platform, iso(window[0])), lambda: self.store.iter_documents(observed)
        )
        for doc in scanned:
            found.setdefault(doc["id"], _doc(doc))
        return found

    def _members(
        self, metric: str, windows: tuple[tuple[datetime, datetime], ...], platform: str | None
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, dict[str, Any]]]:
        """The group rankings' members (what features products, carries hashtags, is made by creators:
        videos and lives) with their stats now and before and their documents; gathered once per cache for
        every group ranking over the same windows (read, never changed, by _rank_groups)."""
        spans = tuple((iso(a), iso(b)) for a, b in windows)
        memo = self._cache().memo
        key = ("group members", metric, spans, platform)
        if key not in memo:
            cur: dict[str, Any] = {}
            prev: dict[str, Any] = {}
            for kind in ("video", "live"):
                cur.update(self._stats(metric, windows, 0, kind, platform))
                prev.update(self._stats(metric, windows, 1, kind, platform))
            memo[key] = (cur, prev, self._docs(cur.keys()))
        return memo[key]

    @staticmethod
    def _group_label(
        by: TrendBy,
        key: str,
        members: list[str],
        docs: dict[str, dict[str, Any]],
        products: dict[str, dict[str, Any]],
    ) -> tuple[str | None, str | None, dict[str, Any]]:
        if by is TrendBy.hashtag:
            return f"#{key}", None, {}
        if by is TrendBy.creator:
            for member_id in sorted(members):
                creator = docs.get(member_id, {}).get("creator") or {}
                if creator:
                    return (
                        creator.get("name") or creator.get("handle"),
                        creator.get("url"),
                        {"handle": creator.get("handle"), "followers": creator.get("followers")},
                    )
            return key, None, {}
        pdoc = products.get(key)
        if pdoc:
            return (
                pdoc.get("title"),
                pdoc.get("url"),
                {
                    "price": pdoc.get("price"),
                    "price_max": pdoc.get("price_max"),
                    "currency": pdoc.get("currency"),
                    "shop": pdoc.get("shop"),
                    "sales": (pdoc.get("metrics") or {}).get("sales"),
                },
            )
        for member_id in sorted(members):
            for ref in docs.get(member_id, {}).get("products") or []:
                ref_key = (
                    ref.get("id") or ref.get("url") or (f"title:{ref['title']}" if ref.get("title") else None)
                )
                if ref_key == key:
                    return (
                        ref.get("title"),
                        ref.get("url"),
                        {
                            "price": ref.get("price"),
                            "price_max": ref.get("price_max"),
                            "currency": ref.get("currency"),
                            "shop": ref.get("shop"),
                            "sales": ref.get("sales"),
                        },
                    )
        return key, None, {}


def summed_stat(
    store: Store, listings: Iterable[str], metric: str, start: datetime, end: datetime
) -> dict[str, Any] | None:
    """One canonical product's counter in [start, end] from its listings' snapshots: each listing's series
    is its running maximum (two sources reporting one listing differently never pull it down), and the
    product's first value is the sum of the listings' first values, its last value that plus the sum of
    their gains (a listing first seen midway adds its gain, never its whole count). None without data."""
    firsts: list[tuple[str, int]] = []
    lasts: list[str] = []
    first_total = gained = count = 0
    for listing in sorted(set(listings)):
        series = store.snapshots(listing, metric, since=iso(start), until=iso(end))
        values = [(s.observed_at, s.metrics.get(metric)) for s in series if s.metrics.get(metric) is not None]
        if not values:
            continue
        high = values[0][1]
        for _, value in values[1:]:
            high = max(high, value)
        firsts.append((values[0][0], values[0][1]))
        lasts.append(values[-1][0])
        first_total += values[0][1]
        gained += high - values[0][1]
        count += len(values)
    if not firsts:
        return None
    return {
        "first_at": min(at for at, _ in firsts),
        "first_value": first_total,
        "last_at": max(lasts),
        "last_value": first_total + gained,
        "count": count,
    }


def _member_facts(
    member_id: str,
    cur: Mapping[str, Any],
    prev: Mapping[str, Any],
    docs: Mapping[str, dict[str, Any]],
    start: datetime,
    end: datetime,
    creator: str | None,
) -> tuple[float | None, str, Any, float | None, str | None, bool, str]:
    """What a group takes from one member: its velocity, basis and first value now (observe's), its velocity
    before, creator key, whether it is new, its platform (a flat tuple: a ranking reads ~100k of them)."""
    doc = docs.get(member_id, {})
    published = doc.get("published_at")
    velocity, basis, first_value = _observed(cur[member_id], published)[:3]
    before = prev.get(member_id)
    return (
        velocity,
        basis,
        first_value,
        None if before is None else _observed(before, published)[0],
        creator,
        _is_new(doc, start, end),
        doc.get("platform") or member_id.split(":")[0],
    )


_UNKNOWN = object()  # not in a memo yet (None is a value there)


def _memo_creator(
    memo: dict[str, str | None], member_id: str, docs: Mapping[str, dict[str, Any]]
) -> str | None:
    """_creator_key of a member's document, computed once per cache (`memo`: the cache's creator keys)."""
    creator = memo.get(member_id, _UNKNOWN)
    if creator is _UNKNOWN:
        creator = memo[member_id] = _creator_key(docs.get(member_id, {}))
    return creator


def _hashtag_keys(doc: Mapping[str, Any]) -> list[str]:
    """A member's hashtag group keys (creator keys come from _memo_creator, product keys from _product_keys)."""
    return sorted({str(t).strip().lower() for t in doc.get("hashtags") or [] if str(t).strip()})


def _product_keys(doc: Mapping[str, Any], linked: set[str]) -> list[str]:
    """A member's product group keys (each link's id, else its url, else its title); the ids of the products it links are
    added to `linked` on the way (one walk of its links for both)."""
    keys: list[str] = []
    for ref in doc.get("products") or []:
        if not isinstance(ref, dict):
            continue
        ref_id = ref.get("id")
        if ref_id:
            linked.add(ref_id)
        key = ref_id or ref.get("url") or (f"title:{ref['title']}" if ref.get("title") else None)
        if key and key not in keys:
            keys.append(key)
    return keys


class _Names:
    """The names restrict_to keeps, tested the way watches.row_names names a row."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = set(names)

    def _any(self, keys: Iterable[str | None]) -> bool:
        return any(k and k in self.names for k in keys)

    def _own(self, key: str) -> tuple[str, str]:
        return key, key.strip().lower().lstrip("@")

    def entity(self, key: str, doc: Mapping[str, Any], canonical: Callable[[str], Any]) -> bool:
        """An entity row (video, live, product by sales): its key, title and canonical members (tested in
        that order, each only when the ones before did not match: a video ranking tests ~100k rows)."""
        names = self.names
        if key and key in names:  # _any(_own(key)), inline
            return True
        own = key.strip().lower().lstrip("@")
        if own and own in names:
            return True
        title = (doc.get("title") or "").strip().lower()
        if title and title in names:
            return True
        info = canonical(key) or {}
        return self._any(info.get("members") or [])

    def group(self, key: str, label: Callable[[], tuple[str | None, list[str]]]) -> bool:
        """A group row (product, creator, hashtag): its key, else its title and canonical members."""
        if self._any(self._own(key)):
            return True
        title, members = label()
        return self._any(((title or "").strip().lower(), *members))


def _is_new(doc: dict[str, Any], start: datetime, end: datetime) -> bool:
    """Published inside the window (else, when unknown, first seen inside it)."""
    when = _time(doc.get("published_at")) or _time(doc.get("first_seen"))
    return when is not None and start <= when <= end


def trending(
    store: Store,
    by: TrendBy | str = TrendBy.product,
    window: str = DEFAULT_WINDOW,
    metric: str | None = None,
    limit: int = 20,
    platform: str | None = None,
    now: datetime | None = None,
) -> TrendReport:
    """Convenience wrapper: TrendEngine(store).trending(...)."""
    return TrendEngine(store).trending(
        by=by, window=window, metric=metric, limit=limit, platform=platform, now=now
    )
