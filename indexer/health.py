"""Crawl health: blocked / empty / error rates per platform and spider from the crawl log, and the rise rule."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from crawler.items import PLATFORMS
from crawler.times import iso_utc, parse_iso
from indexer.alerts import Alert

# The three rates, each a count over a denominator of one run: blocked pages and empty pages over pages
# received; errors (parse errors, failed requests, index errors) over requests made (pages when the log has
# no request count), since a failed request has no page.
RATES = ("blocked", "empty", "error")
# "Today" is the 24 hours before the check; the baseline is each of the BASELINE_DAYS days before that.
DAY = timedelta(hours=24)
BASELINE_DAYS = 7
# The rise rule: today's rate is above RISE_FACTOR × the baseline's median daily rate AND at least
# RISE_POINTS (a fraction: 0.20 = 20 percentage points) above it, over at least MIN_PAGES pages today.
# The factor alone would fire on 0 % -> 2 %; the points alone on a platform that is always half blocked.
RISE_FACTOR = 3.0
RISE_POINTS = 0.20
MIN_PAGES = 20
# A spider with no baseline yet (its first day) alerts when a rate is at least this high: a platform that
# blocks every page from the start must not stay silent for a week.
NO_BASELINE_RATE = 0.5


@dataclass
class Run:
    """One crawl from the log, as counts."""

    at: datetime
    spider: str
    platform: str
    pages: int
    requests: int
    counts: dict[str, int]  # RATES -> count
    blocked_platforms: dict[str, int] = field(default_factory=dict)

    def denominator(self, rate: str) -> int:
        return max(self.requests, self.pages) if rate == "error" else self.pages


def platform_of(spider: str, blocked: Mapping[str, int] | None = None) -> str:
    """A platform spider's own platform (its name); for a site spider the platform blocking most, else web."""
    if spider in PLATFORMS:
        return spider
    if blocked:
        return max(sorted(blocked), key=lambda p: blocked[p])
    return "web"


def run_of(entry: Mapping[str, Any]) -> Run | None:
    """A crawl-log entry (crawler.run.CrawlResult.to_json plus `finished_at`) as a Run; None when unreadable."""
    at = parse_iso(entry.get("finished_at")) if isinstance(entry.get("finished_at"), str) else None
    spider = entry.get("spider")
    if at is None or not isinstance(spider, str):
        return None

    def total(key: str) -> int:
        value = entry.get(key)
        return (
            sum(int(v) for v in value.values() if isinstance(v, (int, float)))
            if isinstance(value, dict)
            else 0
        )

    blocked = {str(k): int(v) for k, v in (entry.get("blocked") or {}).items() if isinstance(v, (int, float))}
    return Run(
        at=at,
        spider=spider,
        platform=platform_of(spider, blocked),
        pages=int(entry.get("pages") or 0),
        requests=int(entry.get("requests") or 0),
        counts={"blocked": total("blocked"), "empty": total("empty"), "error": total("errors")},
        blocked_platforms=blocked,
    )


def read_runs(path: Path, since: datetime | None = None) -> list[Run]:
    """The crawl log's runs (finished at or after `since`), oldest first; unreadable lines are skipped."""
    runs: list[Run] = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return runs
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        run = run_of(entry) if isinstance(entry, dict) else None
        if run is not None and (since is None or run.at >= since):
            runs.append(run)
    runs.sort(key=lambda r: r.at)
    return runs


@dataclass
class Day:
    """One 24-hour bucket of one series and rate."""

    count: int = 0
    of: int = 0
    runs: int = 0

    @property
    def rate(self) -> float | None:
        return self.count / self.of if self.of else None

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "of": self.of, "runs": self.runs, "rate": _r(self.rate)}


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass
class RateHealth:
    """One rate of one series: today, the baseline days, and whether the rise rule fires."""

    rate: str
    today: Day
    days: list[Day]  # the baseline days, the most recent first
    alert: bool = False
    reason: str = ""

    @property
    def baseline_days(self) -> list[Day]:
        return [d for d in self.days if d.of]

    @property
    def baseline(self) -> float | None:
        """The median daily rate of the baseline days that had pages."""
        rates = [d.rate for d in self.baseline_days if d.rate is not None]
        return statistics.median(rates) if rates else None

    def trend(self) -> list[float | None]:
        """Daily rates, oldest first, today last (for a sparkline)."""
        return [d.rate for d in reversed(self.days)] + [self.today.rate]

    def to_json(self) -> dict[str, Any]:
        known = self.baseline_days
        return {
            "rate": self.rate,
            "today": self.today.to_json(),
            "baseline": _r(self.baseline),
            "baseline_days": len(known),
            "baseline_mean": {
                "count": round(sum(d.count for d in known) / len(known), 1) if known else None,
                "of": round(sum(d.of for d in known) / len(known), 1) if known else None,
            },
            "trend": [_r(v) for v in self.trend()],
            "alert": self.alert,
            "reason": self.reason,
        }


@dataclass
class Series:
    """One platform and spider: its runs' rates."""

    platform: str
    spider: str
    rates: dict[str, RateHealth]
    runs: int
    last_run: datetime | None
    blocked_platforms: dict[str, int] = field(default_factory=dict)  # blocked pages today, by platform

    @property
    def key(self) -> str:
        return f"{self.platform}/{self.spider}"

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "spider": self.spider,
            "runs": self.runs,
            "last_run": iso_utc(self.last_run) if self.last_run else None,
            "blocked_platforms": self.blocked_platforms,
            "rates": {name: r.to_json() for name, r in self.rates.items()},
        }


@dataclass
class HealthReport:
    """Every series as of `now`, with the rule's settings (so a reader sees what fired and why)."""

    now: datetime
    series: list[Series]

    @property
    def firing(self) -> list[tuple[Series, RateHealth]]:
        return [(s, r) for s in self.series for r in s.rates.values() if r.alert]

    def to_json(self) -> dict[str, Any]:
        return {
            "now": iso_utc(self.now),
            "rule": {
                "today_hours": DAY.total_seconds() / 3600,
                "baseline_days": BASELINE_DAYS,
                "rise_factor": RISE_FACTOR,
                "rise_points": RISE_POINTS,
                "min_pages": MIN_PAGES,
                "no_baseline_rate": NO_BASELINE_RATE,
            },
            "series": [s.to_json() for s in self.series],
            "alerts": [alert_key(s, r) for s, r in self.firing],
        }


def judge(rate: RateHealth) -> RateHealth:
    """Apply the rise rule (module constants) to one rate; sets `alert` and `reason`."""
    today = rate.today.rate
    if today is None or rate.today.of < MIN_PAGES:
        rate.reason = f"fewer than {MIN_PAGES} {_unit(rate.rate)} today"
        return rate
    base = rate.baseline
    if base is None:
        rate.alert = today >= NO_BASELINE_RATE
        rate.reason = f"no baseline yet; {today:.0%} {'≥' if rate.alert else '<'} {NO_BASELINE_RATE:.0%}"
        return rate
    rate.alert = today > RISE_FACTOR * base and today - base >= RISE_POINTS
    rate.reason = (
        f"{today:.0%} today vs a {base:.0%} median: "
        f"{'above' if today > RISE_FACTOR * base else 'not above'} {RISE_FACTOR:g}× and "
        f"{'at least' if today - base >= RISE_POINTS else 'less than'} {RISE_POINTS * 100:.0f} points higher"
    )
    return rate


def _unit(rate: str) -> str:
    return "requests" if rate == "error" else "pages"


def health(runs: Iterable[Run], now: datetime) -> HealthReport:
    """Every (platform, spider) seen in the BASELINE_DAYS + 1 days before `now`, each rate judged."""
    start = now - DAY * (BASELINE_DAYS + 1)
    grouped: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        if start < run.at <= now:
            grouped.setdefault((run.platform, run.spider), []).append(run)
    series = []
    for (platform, spider), members in sorted(grouped.items()):
        rates: dict[str, RateHealth] = {}
        blocked_today: dict[str, int] = {}
        for name in RATES:
            today, days = Day(), [Day() for _ in range(BASELINE_DAYS)]
            for run in members:
                age = int((now - run.at) / DAY)  # 0 = today, 1 = the day before, ...
                bucket = today if age == 0 else days[age - 1] if age <= BASELINE_DAYS else None
                if bucket is None:
                    continue
                bucket.count += run.counts[name]
                bucket.of += run.denominator(name)
                bucket.runs += 1
                if name == "blocked" and age == 0:
                    for p, n in run.blocked_platforms.items():
                        blocked_today[p] = blocked_today.get(p, 0) + n
            rates[name] = judge(RateHealth(rate=name, today=today, days=days))
        series.append(
            Series(
                platform=platform,
                spider=spider,
                rates=rates,
                runs=len(members),
                last_run=max(r.at for r in members),
                blocked_platforms=blocked_today,
            )
        )
    return HealthReport(now=now, series=series)


def alert_key(series: Series, rate: RateHealth) -> str:
    return f"health:{series.key}:{rate.rate}"


_VERBS = {"blocked": "pages blocked", "empty": "pages empty", "error": "requests failed"}


def health_message(series: Series, rate: RateHealth) -> str:
    """E.g. "tiktok: 41 of 50 pages blocked today, 1 of 50 on average last week (spider tiktok; ...)"."""
    t = rate.today
    verb = _VERBS[rate.rate]
    known = rate.baseline_days
    if known:
        mean_count = sum(d.count for d in known) / len(known)
        mean_of = sum(d.of for d in known) / len(known)
        before = (
            f"{mean_count:,.0f} of {mean_of:,.0f} on average "
            + ("last week" if len(known) >= BASELINE_DAYS else f"over the {len(known)} day(s) before")
            + f" (median {rate.baseline:.0%})"
        )
    else:
        before = "no baseline yet (its first day)"
    return (
        f"{series.platform}: {t.count:,} of {t.of:,} {verb} today ({t.rate or 0:.0%}), {before}; "
        f"spider {series.spider}, {t.runs} run(s) in the last 24 h"
    )


def health_alerts(
    report: HealthReport, open_episodes: Mapping[str, str]
) -> tuple[list[Alert], dict[str, str], list[str]]:
    """Alerts for the rates that fire and had no open episode; the episodes opened (key -> since) and
    closed (their rate no longer fires): a rise is alerted once, again only after it has calmed down."""
    at = iso_utc(report.now)
    alerts, opened, closed = [], {}, []
    firing = {alert_key(s, r): (s, r) for s, r in report.firing}
    for key, (series, rate) in firing.items():
        if key not in open_episodes:
            opened[key] = at
            detail = {"platform": series.platform, "spider": series.spider, **rate.to_json()}
            if rate.rate == "blocked":
                detail["blocked_platforms"] = series.blocked_platforms
            alerts.append(
                Alert(kind="health", key=key, at=at, message=health_message(series, rate), detail=detail)
            )
    closed = [k for k in open_episodes if k not in firing]
    return alerts, opened, closed
