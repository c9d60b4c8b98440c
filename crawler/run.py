"""Run one spider as a `python -m scrapy crawl` subprocess, with live progress and a closing summary.

Twisted's reactor cannot restart inside one process, so the CLI, the scheduler and the demo all crawl
through `run_spider`, which starts Scrapy in a child process, follows its counters through a small
progress file (written every second by `CrawlProgress`), and reads the final stats back.

Stopping (docs/CRAWLING.md, "Stopping and resuming"): the child runs in its own process group, so a
terminal's Ctrl-C reaches only this parent, which passes exactly one SIGINT on (Scrapy then closes
cleanly and a job dir keeps its pending queue); a second Ctrl-C passes a second SIGINT (Scrapy forces
an unclean stop), a third kills. The child dies with its parent: `ParentWatch` (crawler/extensions.py)
sets PR_SET_PDEATHSIG on Linux and closes the spider when the parent pid goes away.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from crawler.jobdir import JobDir, JobDirInUse, trim_partial_line
from crawler.times import iso_utc, utc_now

REPO = Path(__file__).resolve().parents[1]
STATS_PREFIX = "trendcart/"
# How often the child writes its counters, and how often the parent reads them (seconds).
PROGRESS_INTERVAL = 1.0
POLL_INTERVAL = 0.25
# Lines of the crawl log quoted in an error when Scrapy itself fails (bad spider arguments, ...).
LOG_TAIL_LINES = 15
# CrawlResult fields kept for close inspection but left out of its JSON summary (and the crawl log).
RAW_FIELDS = ("stats", "stderr")
# Scrapy's finish reason after SIGINT/SIGTERM, and ours when ParentWatch stopped a crawl whose parent died.
PARENT_GONE = "parent_gone"
PARENT_GONE_STAT = "trendcart/parent_gone"  # set by crawler.extensions.ParentWatch
INTERRUPTED_REASONS = ("shutdown", PARENT_GONE)
# What the parent sends its child on the Nth Ctrl-C: one SIGINT closes cleanly (Scrapy persists a job
# dir's queue), a second makes Scrapy force an unclean stop, a third kills.
STOP_SIGNALS = (signal.SIGINT, signal.SIGINT, signal.SIGKILL)
# Grace for a child told to stop by a timeout before it is killed (s).
TERMINATE_GRACE_S = 10


class CrawlError(Exception):
    """The crawl could not run (unknown spider, Scrapy failed to start, timeout)."""


class UnknownSpider(CrawlError):
    pass


@dataclass
class CrawlResult:
    """What one crawl did: items by kind, errors by reason, blocked pages by platform, drops by reason."""

    spider: str
    items: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    blocked: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    # Pages a parser understood but found nothing in, by parser (crawl health: indexer/health.py).
    empty: dict[str, int] = field(default_factory=dict)
    pages: int = 0
    requests: int = 0
    indexed: int | None = None
    finish_reason: str | None = None
    returncode: int = 0
    elapsed_s: float = 0.0
    out: str | None = None
    log_file: str | None = None
    store: str | None = None
    # Stopped before its end (Ctrl-C, SIGTERM, a killed parent): resumable when it had a job dir.
    interrupted: bool = False
    # The job dir (Scrapy's JOBDIR), whether this run continued an earlier one there, and when the job
    # had last been crawled to its end before this run (a rerun of a finished job finds nothing to do).
    job_dir: str | None = None
    resumed: bool = False
    job_finished_at: str | None = None
    # The raw Scrapy stats and the child's stderr, for callers that inspect a crawl closely (the tests);
    # not part of the JSON summary.
    stats: dict[str, Any] = field(default_factory=dict, repr=False)
    stderr: str = field(default="", repr=False)

    @property
    def items_total(self) -> int:
        return sum(self.items.values())

    @property
    def errors_total(self) -> int:
        return sum(self.errors.values())

    @property
    def blocked_total(self) -> int:
        return sum(self.blocked.values())

    def to_json(self) -> dict[str, Any]:
        data = {key: value for key, value in asdict(self).items() if key not in RAW_FIELDS}
        data.update(
            items_total=self.items_total, errors_total=self.errors_total, blocked_total=self.blocked_total
        )
        return data

    @classmethod
    def from_stats(cls, spider: str, stats: Mapping[str, Any]) -> CrawlResult:
        result = cls(spider=spider)
        result.update(stats)
        return result

    def update(self, stats: Mapping[str, Any]) -> None:
        """Read Scrapy/trendcart stats counters into this summary (used live and at the end)."""
        items: dict[str, int] = {}
        errors: dict[str, int] = {}
        blocked: dict[str, int] = {}
        dropped: dict[str, int] = {}
        empty: dict[str, int] = {}
        for key, value in stats.items():
            if not key.startswith(STATS_PREFIX) or not isinstance(value, (int, float)):
                continue
            _, group, *rest = key.split("/", 2)
            name = rest[0] if rest else group
            if group == "items":
                items[name] = int(value)
            elif group == "parse_error":
                errors[f"parse_error/{name}"] = int(value)
            elif group in ("request_failed", "index_error"):
                errors[f"{group}/{name}"] = int(value)
            elif group == "blocked":
                blocked[name] = int(value)
            elif group == "dropped":
                dropped[name] = int(value)
            elif group == "empty_page":
                empty[name] = int(value)
            elif group == "indexed":
                self.indexed = int(value)
        self.items, self.errors, self.blocked, self.dropped = items, errors, blocked, dropped
        self.empty = empty
        self.pages = int(stats.get("response_received_count", self.pages) or 0)
        self.requests = int(stats.get("downloader/request_count", self.requests) or 0)
        self.finish_reason = stats.get("finish_reason", self.finish_reason)
        if stats.get(PARENT_GONE_STAT) and self.finish_reason:
            self.finish_reason = PARENT_GONE
        if self.finish_reason in INTERRUPTED_REASONS:
            self.interrupted = True


def list_spiders() -> list[str]:
    """Names of the spiders in this project (no crawl started)."""
    from scrapy.spiderloader import SpiderLoader
    from scrapy.utils.project import get_project_settings

    env = os.environ.get("SCRAPY_SETTINGS_MODULE")
    os.environ["SCRAPY_SETTINGS_MODULE"] = "crawler.settings"
    try:
        return sorted(SpiderLoader.from_settings(get_project_settings()).list())
    finally:
        if env is None:
            os.environ.pop("SCRAPY_SETTINGS_MODULE", None)
        else:
            os.environ["SCRAPY_SETTINGS_MODULE"] = env


def build_command(
    spider: str,
    args: Mapping[str, str],
    settings: Mapping[str, Any],
    out: Path | None,
    append: bool = False,
) -> list[str]:
    """The child's command line; the export is replaced (`-O`), or appended to (`-o`) when resuming."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider]
    if out is not None:
        cmd += ["-o" if append else "-O", f"{out}:jsonlines"]
    for key, value in settings.items():
        cmd += ["-s", f"{key}={value}"]
    for key, value in args.items():
        cmd += ["-a", f"{key}={value}"]
    return cmd


def run_spider(
    spider: str,
    args: Mapping[str, str] | None = None,
    *,
    store: str | None = None,
    model: str | None = None,
    out: Path | str | None = None,
    now: str | None = None,
    settings: Mapping[str, Any] | None = None,
    on_progress: Callable[[CrawlResult], None] | None = None,
    workdir: Path | str | None = None,
    timeout: float | None = None,
    check_spider: bool = True,
    check: bool = True,
    job_dir: Path | str | None = None,
    inherit_fds: Sequence[int] = (),
) -> CrawlResult:
    """Crawl with `spider` in a child process and return its summary.

    store: index as it goes through the IndexPipeline (TRENDCART_INDEX_STORE) into this store spec, which
    the caller resolves (indexer.stores.StoreSpec.resolved(): the child does not run in the caller's folder).
    out: also keep the items as JSON lines (replaced; appended to when the run resumes a job dir).
    now: a fixed observation time (TRENDCART_NOW; replays).
    settings: Scrapy settings for the child (`-s KEY=VALUE`), over the project's.
    on_progress: called about every second with the counters so far (for progress displays).
    workdir: where the stats, progress and log files go (kept, with `log_file` set); default a temporary
    folder removed afterwards. check_spider: look the name up first (UnknownSpider instead of a failed child).
    check: raise CrawlError when Scrapy failed without writing its stats (False: return the result, its
    `returncode` and `stderr` telling what happened).
    job_dir: Scrapy's JOBDIR (also read from `settings["JOBDIR"]`): the crawl can be stopped and resumed by
    running it again; held by one crawl at a time (CrawlError when another, or its orphan, holds it).
    inherit_fds: descriptors the child keeps open (a lock it must hold while it lives, the scheduler's).
    Ctrl-C (KeyboardInterrupt) stops the child cleanly and returns the result with `interrupted` set.
    """
    if check_spider:
        known = list_spiders()
        if spider not in known:
            raise UnknownSpider(f"no spider named {spider!r}; known: {', '.join(known) or 'none'}")
    merged_settings = dict(settings or {})
    job_dir = job_dir or merged_settings.pop("JOBDIR", None) or None
    merged_settings.pop("JOBDIR", None)
    launch = functools.partial(
        _run_child,
        spider,
        args,
        store,
        model,
        out,
        now,
        merged_settings,
        on_progress,
        workdir,
        timeout,
        check,
    )
    if job_dir is None:
        return launch(None, inherit_fds)
    try:
        with JobDir(Path(job_dir)) as job:
            return launch(job, (*inherit_fds, job.fileno()))
    except JobDirInUse as exc:
        raise CrawlError(str(exc)) from None


def _run_child(
    spider: str,
    args: Mapping[str, str] | None,
    store: str | None,
    model: str | None,
    out: Path | str | None,
    now: str | None,
    settings: Mapping[str, Any],
    on_progress: Callable[[CrawlResult], None] | None,
    workdir: Path | str | None,
    timeout: float | None,
    check: bool,
    job: JobDir | None,
    inherit_fds: Sequence[int],
) -> CrawlResult:
    own_tmp = None
    if workdir is None:
        own_tmp = tempfile.TemporaryDirectory(prefix="trendcart-crawl-")
        workdir = own_tmp.name
    # The child runs in the repository root: every path handed to it must be absolute.
    work = Path(workdir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    args = {
        key: (str(Path(value).resolve()) if key == "urls_file" and value else value)
        for key, value in (args or {}).items()
    }
    stats_file, progress_file, log_file = (
        work / f"{spider}-stats.json",
        work / f"{spider}-progress.json",
        work / f"{spider}.log",
    )
    for path in (stats_file, progress_file):
        path.unlink(missing_ok=True)
    merged: dict[str, Any] = {
        "TRENDCART_STATS_FILE": str(stats_file),
        "TRENDCART_PROGRESS_FILE": str(progress_file),
        "TRENDCART_PARENT_PID": str(os.getpid()),
        "LOG_FILE": str(log_file),
        "LOG_FILE_APPEND": "False",
    }
    if store:
        merged["TRENDCART_INDEX_STORE"] = store
    if now:
        merged["TRENDCART_NOW"] = now
    merged.update(settings)
    resumed = job is not None and job.resuming
    if job is not None:
        merged["JOBDIR"] = str(job.path)
    out_path = Path(out).resolve() if out else None
    if out_path:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        if resumed:
            trim_partial_line(out_path)
    env = {
        **os.environ,
        "SCRAPY_SETTINGS_MODULE": "crawler.settings",
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p),
    }
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    if model:
        env["TRENDCART_MODEL"] = model
    result = CrawlResult(
        spider=spider, out=str(out_path) if out_path else None, log_file=str(log_file), store=store
    )
    if job is not None:
        result.job_dir, result.resumed, result.job_finished_at = str(job.path), resumed, job.finished_at
    started_at = iso_utc(utc_now())
    started = time.monotonic()
    cmd = build_command(spider, args or {}, merged, out_path, append=resumed)
    try:
        # Its own process group: a terminal's Ctrl-C reaches only us, and we pass on one SIGINT (module doc).
        proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            pass_fds=tuple(inherit_fds),
        )
        stderr_chunks = _follow(proc, progress_file, result, on_progress, started, timeout)
    finally:
        result.elapsed_s = round(time.monotonic() - started, 3)
    result.returncode = proc.returncode
    result.stderr = stderr_chunks
    if stats_file.exists():
        result.stats = json.loads(stats_file.read_text(encoding="utf-8"))
        result.update(result.stats)
    elif result.interrupted:
        result.finish_reason = result.finish_reason or "shutdown"  # forced or killed before its stats
    elif proc.returncode != 0 and check:
        tail = _log_tail(log_file, stderr_chunks)
        if own_tmp:
            own_tmp.cleanup()
        raise CrawlError(f"scrapy crawl {spider} failed (exit {proc.returncode}): {tail}")
    if job is not None:
        job.record(
            {
                "started_at": started_at,
                "finished_at": iso_utc(utc_now()),
                "finish_reason": result.finish_reason,
                "interrupted": result.interrupted,
                "pages": result.pages,
                "requests": result.requests,
                "items": result.items_total,
                "returncode": result.returncode,
            }
        )
    if on_progress:
        on_progress(result)
    if own_tmp:
        result.log_file = None
        own_tmp.cleanup()
    return result


def _follow(
    proc: subprocess.Popen,
    progress_file: Path,
    result: CrawlResult,
    on_progress: Callable[[CrawlResult], None] | None,
    started: float,
    timeout: float | None,
) -> str:
    """Wait for the child, reading its progress file; returns its stderr (Scrapy's start-up errors).

    Each KeyboardInterrupt passes the next of STOP_SIGNALS to the child and keeps waiting (the child's
    clean close flushes the index pipeline, the export and the job dir's queue); `result.interrupted`."""
    import threading

    chunks: list[str] = []
    reader = threading.Thread(
        target=lambda: chunks.append(proc.stderr.read() if proc.stderr else ""), daemon=True
    )
    reader.start()
    stops = 0
    while True:
        try:
            _poll(proc, progress_file, result, on_progress, started, timeout)
            break
        except KeyboardInterrupt:
            result.interrupted = True
            _signal(proc, STOP_SIGNALS[min(stops, len(STOP_SIGNALS) - 1)])
            stops += 1
    reader.join(5)
    return "".join(chunks)


def _poll(
    proc: subprocess.Popen,
    progress_file: Path,
    result: CrawlResult,
    on_progress: Callable[[CrawlResult], None] | None,
    started: float,
    timeout: float | None,
) -> None:
    """Until the child exits: enforce the timeout, hand fresh counters to `on_progress`."""
    last_mtime = 0.0
    while proc.poll() is None:
        if timeout is not None and time.monotonic() - started > timeout:
            proc.terminate()
            try:
                proc.wait(TERMINATE_GRACE_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            raise CrawlError(f"crawl took longer than {timeout:g} s and was stopped")
        if on_progress and progress_file.exists():
            mtime = progress_file.stat().st_mtime
            if mtime != last_mtime:
                last_mtime = mtime
                try:
                    result.update(json.loads(progress_file.read_text(encoding="utf-8")))
                except (OSError, ValueError):
                    pass  # caught mid-replace; the next read sees the whole file
                result.elapsed_s = round(time.monotonic() - started, 1)
                on_progress(result)
        time.sleep(POLL_INTERVAL)


def _signal(proc: subprocess.Popen, signum: int) -> None:
    """Send `signum` to the child unless it has already exited."""
    if proc.poll() is None:
        try:
            proc.send_signal(signum)
        except ProcessLookupError:
            pass


def _log_tail(log_file: Path, stderr: str) -> str:
    text = stderr.strip() or (
        log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else ""
    )
    lines = [line for line in text.splitlines() if line.strip()]
    for line in reversed(lines):  # the most telling line is usually the last exception message
        if "Error" in line or "error" in line:
            return line.strip()
    return " | ".join(lines[-3:]) if lines else "no output"


class CrawlProgress:
    """Scrapy extension: every second, write the crawl's counters to TRENDCART_PROGRESS_FILE (atomically).

    Off (NotConfigured) unless the setting is set, which `run_spider` does for the CLI's progress display.
    """

    def __init__(self, stats: Any, path: str, interval: float = PROGRESS_INTERVAL) -> None:
        self.stats = stats
        self.path = Path(path)
        self.interval = interval
        self.task: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlProgress:
        from scrapy import signals
        from scrapy.exceptions import NotConfigured

        path = crawler.settings.get("TRENDCART_PROGRESS_FILE")
        if not path:
            raise NotConfigured("TRENDCART_PROGRESS_FILE not set")
        ext = cls(
            crawler.stats, path, crawler.settings.getfloat("TRENDCART_PROGRESS_INTERVAL", PROGRESS_INTERVAL)
        )
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        from twisted.internet import task

        self.task = task.LoopingCall(self.write)
        self.task.start(self.interval, now=True)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        self.write()

    def write(self) -> None:
        stats = self.stats.get_stats()
        data = {k: v for k, v in stats.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)
