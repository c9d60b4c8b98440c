"""Scheduled crawls: jobs from a TOML file, run on cron times in-process, each writing dated reports (docs/SCHEDULE.md).

The crawl itself is injected (`crawl(job)`), so this module never imports Scrapy: the CLI passes a
callable that runs `crawler.run.run_spider` in a subprocess; tests pass a fake. Time is injected too
(`now`, `sleep`), so the loop is tested with a fake clock.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from crawler.pidlock import PidLockBusy, pid_lock
from crawler.times import iso_utc, utc_now
from indexer.reports import FORMATS, write_report
from indexer.store import Store
from indexer.trends import parse_window

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_REPORT_DIR = "reports"
DEFAULT_FORMATS = ("html",)
DEFAULT_LOCK = Path("trendcart-data") / "schedule.lock"
# A report file per run is named after the run's date (UTC); jobs that run more than once a day can
# set `name = "%Y-%m-%dT%H%M"` in their [jobs.report] table.
DEFAULT_REPORT_NAME = "%Y-%m-%d"
# The scheduler never sleeps longer than this in one call, so a changed clock (suspend, NTP) is noticed.
MAX_SLEEP_S = 60.0


class ScheduleError(Exception):
    """A bad schedule file (missing keys, bad cron expression, unknown format)."""


class AlreadyRunning(ScheduleError):
    """Another scheduler holds the lock."""


@dataclass
class ReportSettings:
    out_dir: str = DEFAULT_REPORT_DIR
    formats: tuple[str, ...] = DEFAULT_FORMATS
    window: str = "24h"
    metric: str | None = None
    title: str | None = None
    limit: int = 10
    name: str = DEFAULT_REPORT_NAME

    def paths(self, job: str, when: datetime) -> list[Path]:
        stem = when.astimezone(timezone.utc).strftime(self.name)
        return [Path(self.out_dir) / job / f"{stem}.{fmt}" for fmt in self.formats]


# Job kinds: `crawl` runs a spider; `live` watches live rooms for a while (indexer/workflows/live.py).
JOB_KINDS = ("crawl", "live")
# A live job without `for` or `samples` watches this long (or until its rooms end), so the next run can start.
DEFAULT_LIVE_FOR = "1h"


@dataclass
class LiveSettings:
    """A `live` job's watch: its rooms (URLs or saved pages), tick, and how long."""

    urls: list[str]
    every: str = "60s"
    for_: str | None = DEFAULT_LIVE_FOR
    samples: int | None = None


@dataclass
class Job:
    name: str
    spider: str
    cron: str
    args: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    report: ReportSettings = field(default_factory=ReportSettings)
    kind: str = "crawl"
    live: LiveSettings | None = None

    def next_time(self, after: datetime) -> datetime:
        from croniter import croniter

        return croniter(self.cron, after.astimezone(timezone.utc)).get_next(datetime)


@dataclass
class ScheduleConfig:
    jobs: list[Job]
    store: str | None = None
    lock_file: Path = DEFAULT_LOCK
    path: Path | None = None


@dataclass
class JobRun:
    job: str
    started_at: datetime
    finished_at: datetime | None = None
    crawl: Any = None
    reports: list[str] = field(default_factory=list)
    error: str | None = None
    # The time the reports are computed as of: the end of the crawl, so they include what it indexed.
    report_as_of: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        crawl = self.crawl.to_json() if hasattr(self.crawl, "to_json") else self.crawl
        return {
            "job": self.job,
            "started_at": iso_utc(self.started_at),
            "finished_at": iso_utc(self.finished_at) if self.finished_at else None,
            "crawl": crawl,
            "reports": self.reports,
            "report_as_of": iso_utc(self.report_as_of) if self.report_as_of else None,
            "error": self.error,
        }


# -- the file ---------------------------------------------------------------------------------------
def load_config(path: str | Path) -> ScheduleConfig:
    """Read and check a schedule file; every problem is a ScheduleError naming the job and key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScheduleError(f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleError(f"{path} is not valid TOML: {exc}") from None
    return parse_config(data, path)


def parse_config(data: dict[str, Any], path: Path | None = None) -> ScheduleConfig:
    from croniter import croniter

    where = str(path or "schedule")
    raw_jobs = data.get("jobs")
    if not isinstance(raw_jobs, list) or not raw_jobs:
        raise ScheduleError(f"{where}: no jobs: add at least one [[jobs]] table")
    base = path.parent if path else Path(".")
    defaults = data.get("report") if isinstance(data.get("report"), dict) else {}
    jobs: list[Job] = []
    for number, raw in enumerate(raw_jobs, start=1):
        label = (
            f"{where}: job {raw.get('name') or number}" if isinstance(raw, dict) else f"{where}: job {number}"
        )
        if not isinstance(raw, dict):
            raise ScheduleError(f"{label}: must be a table")
        kind = raw.get("kind", "crawl")
        if kind not in JOB_KINDS:
            raise ScheduleError(f"{label}: `kind` must be one of {', '.join(JOB_KINDS)}, got {kind!r}")
        for key in ("name", "cron") if kind == "live" else ("name", "spider", "cron"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise ScheduleError(f"{label}: `{key}` is required (a string)")
        live = _live_settings(raw, label, path.parent if path else Path(".")) if kind == "live" else None
        name = raw["name"].strip()
        if not name.replace("-", "").replace("_", "").isalnum():
            raise ScheduleError(f"{label}: `name` may hold letters, digits, - and _ only (it names a folder)")
        if not croniter.is_valid(raw["cron"]):
            raise ScheduleError(
                f"{label}: bad cron expression {raw['cron']!r} (five fields: minute hour day month weekday)"
            )
        args = raw.get("args") or {}
        settings = raw.get("settings") or {}
        if not isinstance(args, dict) or not isinstance(settings, dict):
            raise ScheduleError(f"{label}: `args` and `settings` must be tables of key = value")
        report_raw = {**defaults, **(raw.get("report") or {})}
        formats = report_raw.get("formats", list(DEFAULT_FORMATS))
        formats = [formats] if isinstance(formats, str) else formats
        bad = [f for f in formats if f not in FORMATS]
        if bad or not formats:
            raise ScheduleError(
                f"{label}: report formats must be among {', '.join(FORMATS)}, got {formats!r}"
            )
        window = str(report_raw.get("window", "24h"))
        try:
            parse_window(window)
        except ValueError as exc:
            raise ScheduleError(f"{label}: {exc}") from None
        out_dir = Path(str(report_raw.get("out_dir", DEFAULT_REPORT_DIR))).expanduser()
        report = ReportSettings(
            out_dir=str(out_dir if out_dir.is_absolute() else base / out_dir),
            formats=tuple(formats),
            window=window,
            metric=report_raw.get("metric"),
            title=report_raw.get("title"),
            limit=int(report_raw.get("limit", 10)),
            name=str(report_raw.get("name", DEFAULT_REPORT_NAME)),
        )
        jobs.append(
            Job(
                name=name,
                spider=raw["spider"].strip() if kind == "crawl" else "live",
                cron=raw["cron"].strip(),
                args={str(k): _arg(v, base if k == "urls_file" else None) for k, v in args.items()},
                settings={str(k): str(v) for k, v in settings.items()},
                report=report,
                kind=kind,
                live=live,
            )
        )
    names = [j.name for j in jobs]
    if len(set(names)) != len(names):
        raise ScheduleError(f"{where}: job names must be unique")
    lock = Path(str(data.get("lock_file") or DEFAULT_LOCK)).expanduser()
    return ScheduleConfig(
        jobs=jobs, store=data.get("store"), lock_file=lock if lock.is_absolute() else base / lock, path=path
    )


def _live_settings(raw: dict[str, Any], label: str, base: Path) -> LiveSettings:
    """A live job's `urls` (a list or a comma-separated string; relative file paths are relative to the
    schedule file), `every`, `for` and `samples`."""
    from crawler.times import parse_duration

    urls = raw.get("urls")
    urls = [u.strip() for u in urls.split(",")] if isinstance(urls, str) else urls
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) and u.strip() for u in urls):
        raise ScheduleError(f"{label}: a live job needs `urls` (room URLs or saved pages)")
    urls = [
        u if u.startswith(("http://", "https://")) or Path(u).is_absolute() else str(base / u) for u in urls
    ]
    for key in ("every", "for"):
        value = raw.get(key)
        if value is not None and (
            not isinstance(value, str) or not parse_duration(value, forms=("compact",))
        ):
            raise ScheduleError(f"{label}: `{key}` must be a duration such as 30s, 5m, 3h")
    samples = raw.get("samples")
    if samples is not None and (not isinstance(samples, int) or isinstance(samples, bool) or samples < 1):
        raise ScheduleError(f"{label}: `samples` must be a whole number of at least 1")
    return LiveSettings(
        urls=urls,
        every=raw.get("every", "60s"),
        for_=raw.get("for", None if samples else DEFAULT_LIVE_FOR),
        samples=samples,
    )


def _arg(value: Any, base: Path | None = None) -> str:
    """Spider arguments are strings; a TOML list becomes the comma-separated form (`urls = ["a", "b"]`);
    a relative `urls_file` is relative to the schedule file."""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if base is not None and not Path(str(value)).expanduser().is_absolute():
        return str((base / str(value)).resolve())
    return str(value)


# -- the lock ---------------------------------------------------------------------------------------
class ScheduleLock:
    """An exclusive, non-blocking fcntl lock on a file holding the owner's pid; released on exit or crash.

    A crawl's child process inherits the lock (`held_fds()`, passed on by the crawl job), so a crawl left
    running by a killed scheduler keeps it until it exits: a new scheduler never overlaps with it."""

    # Descriptors of the locks this process holds now, for child processes to inherit.
    _held: set[int] = set()

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.handle: Any = None

    @classmethod
    def held_fds(cls) -> tuple[int, ...]:
        return tuple(sorted(cls._held))

    def __enter__(self) -> ScheduleLock:
        try:
            handle = pid_lock(self.path)
        except PidLockBusy as busy:
            raise AlreadyRunning(_busy_message(busy.owner, self.path)) from None
        self.handle = handle
        ScheduleLock._held.add(handle.fileno())
        return self

    def __exit__(self, *exc: object) -> None:
        # Close without LOCK_UN: an unlock would also free a crawl child still holding the inherited lock.
        if self.handle is not None:
            ScheduleLock._held.discard(self.handle.fileno())
            self.handle.close()
            self.handle = None


def _busy_message(owner: str, path: Path) -> str:
    if owner.isdigit() and not _pid_alive(int(owner)):
        return (
            f"a crawl started by scheduler pid {owner} (no longer running) is still finishing; lock {path}: "
            "wait a few seconds for it to close"
        )
    return f"another scheduler is running (pid {owner}; lock {path}): wait for it to finish or stop it first"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- the loop ---------------------------------------------------------------------------------------
class Scheduler:
    """Runs jobs at their cron times. `crawl(job)` crawls and indexes (returns a summary); the scheduler
    then writes the job's reports from `store`, dated by the run's time."""

    def __init__(
        self,
        config: ScheduleConfig,
        crawl: Callable[[Job], Any],
        store: Store,
        now: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] = lambda msg: None,
        alerts: Callable[[datetime], list[dict[str, Any]]] | None = None,
        canonical: Callable[[], Any] | None = None,
    ) -> None:
        self.config, self.crawl, self.store = config, crawl, store
        self.now, self.sleep, self.log = now, sleep, log
        self.alerts = alerts  # alerts(since): the alerts raised since then, for the reports' Alerts section
        self.canonical = canonical  # canonical(): the product file's grouping, for the reports

    def run_job(self, job: Job) -> JobRun:
        """One run: crawl (and index), then every report format, computed as of the end of the crawl (the
        crawl's observations are stamped after the run started) and named after the run's start; a failing
        crawl still gets its error logged."""
        run = JobRun(job=job.name, started_at=self.now())
        self.log(f"{iso_utc(run.started_at)} {job.name}: crawl {job.spider}")
        try:
            run.crawl = self.crawl(job)
            run.report_as_of = self.now()
            for path in job.report.paths(job.name, run.started_at):
                write_report(
                    self.store,
                    path,
                    now=run.report_as_of,
                    window=job.report.window,
                    metric=job.report.metric,
                    title=job.report.title or f"{job.name} — trendcart",
                    limit=job.report.limit,
                    alerts=self.alerts(run.started_at - parse_window(job.report.window))
                    if self.alerts
                    else None,
                    canonical=self.canonical() if self.canonical else None,
                )
                run.reports.append(str(path))
        except Exception as exc:  # one job's failure must not stop the schedule  # noqa: BLE001
            run.error = f"{type(exc).__name__}: {exc}"
            self.log(f"{job.name}: failed: {run.error}")
        run.finished_at = self.now()
        if run.reports:
            self.log(f"{job.name}: wrote {', '.join(run.reports)} (as of {iso_utc(run.report_as_of)})")
        return run

    def run_once(self, jobs: list[str] | None = None) -> list[JobRun]:
        """Every job (or the named ones) now, one after the other, under the lock."""
        selected = self._select(jobs)
        with ScheduleLock(self.config.lock_file):
            return [self.run_job(job) for job in selected]

    def run_forever(self, jobs: list[str] | None = None, max_runs: int | None = None) -> list[JobRun]:
        """Sleep until the next cron time, run the jobs due, repeat; Ctrl-C (KeyboardInterrupt) stops
        cleanly between runs. `max_runs` stops after that many job runs (for tests)."""
        selected = self._select(jobs)
        runs: list[JobRun] = []
        with ScheduleLock(self.config.lock_file):
            start = self.now()
            due = {job.name: job.next_time(start) for job in selected}
            try:
                while max_runs is None or len(runs) < max_runs:
                    when = min(due.values())
                    self.log(
                        f"next run {iso_utc(when)}: "
                        + ", ".join(sorted(n for n, t in due.items() if t == when))
                    )
                    while (wait := (when - self.now()).total_seconds()) > 0:
                        self.sleep(min(wait, MAX_SLEEP_S))
                    for job in selected:  # in file order, each due job once
                        if due[job.name] <= self.now():
                            runs.append(self.run_job(job))
                            # the next time after this run ends: a run that overran its next slot skips it, never piles up
                            due[job.name] = job.next_time(max(self.now(), due[job.name]))
                            if max_runs is not None and len(runs) >= max_runs:
                                break
            except KeyboardInterrupt:
                self.log("stopped")
        return runs

    def _select(self, names: list[str] | None) -> list[Job]:
        if not names:
            return list(self.config.jobs)
        known = {j.name: j for j in self.config.jobs}
        missing = [n for n in names if n not in known]
        if missing:
            raise ScheduleError(f"no job named {missing[0]!r}; jobs: {', '.join(known)}")
        return [known[n] for n in names]
