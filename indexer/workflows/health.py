"""`health`: crawl health from the crawl log beside a store, its new alerts delivered, and its table view."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crawler.times import utc_now
from indexer.alerts import AlertConfig
from indexer.health import HealthReport, health, read_runs
from indexer.lives import sparkline
from indexer.stores import StoreSpec
from indexer.workflows.errors import NothingFound
from indexer.workflows.watches import AfterRun, OnAlert, check_now


def crawl_health(spec: StoreSpec, now: datetime | None = None) -> HealthReport:
    """The health of every platform and spider crawled into `spec` lately (read only: nothing recorded)."""
    return health(read_runs(spec.crawl_log_path), now or utc_now())


def check_health(
    spec: StoreSpec,
    now: datetime | None = None,
    config: AlertConfig | None = None,
    on_alert: OnAlert | None = None,
) -> AfterRun:
    """Crawl health as of `now`, with the rises not alerted before recorded and delivered (once per rise);
    NothingFound when the crawl log has no run in the last 8 days."""
    result = check_now(spec, watches=False, config=config, now=now, on_alert=on_alert)
    if result.health is None or not result.health.series:
        raise NothingFound(f"no crawls logged for {spec} in the last 8 days ({spec.crawl_log_path})")
    return result


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def health_lines(report: HealthReport) -> list[str]:
    """One line per platform, spider and rate: today's count of its pages, the rate, the baseline median,
    a sparkline of the daily rates (oldest first, today last), and ALERT where the rise rule fires."""
    lines = [
        f"crawl health as of {report.to_json()['now']} (today = the last 24 h; baseline = 7 days before)"
    ]
    for series in report.series:
        for rate in series.rates.values():
            t = rate.today
            spark = sparkline([None if v is None else round(v * 1000) for v in rate.trend()])
            lines.append(
                f"{series.platform:<9} {series.spider:<10} {rate.rate:<8} today {t.count:>5,} of {t.of:<6,} "
                f"{_pct(t.rate):>5}  baseline {_pct(rate.baseline):>5}  {spark}"
                + (f"  ALERT: {rate.reason}" if rate.alert else "")
            )
    return lines


def health_json(result: AfterRun) -> dict[str, Any]:
    """`health --json`: HealthReport.to_json with the new alerts and their delivery."""
    assert result.health is not None
    return {
        **result.health.to_json(),
        "new_alerts": [a.to_json() for a in result.alerts],
        "delivery": result.delivery.to_json(),
    }
