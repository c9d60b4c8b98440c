"""run_schedule: the scheduler over a schedule file, with crawl jobs that crawl, index and log beside the store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from crawler.run import CrawlError, CrawlResult, run_spider
from indexer.alerts import AlertConfigError, load_alert_config
from indexer.crawl_log import record_crawl
from indexer.schedule import (
    AlreadyRunning,
    Job,
    JobRun,
    ScheduleError,
    ScheduleLock,
    Scheduler,
    load_config,
)
from indexer.stores import StoreSpec
from indexer.workflows.errors import BadInput, BadRequest, Busy

Say = Callable[[str], None]


def crawl_job(
    spec: StoreSpec, model_name: str | None = None, say: Say = lambda m: None, alerts: Any = None
) -> Callable[[Job], CrawlResult]:
    """The scheduler's `crawl(job)`: run the job's spider indexing into `spec`, log the crawl, say a summary;
    a crawl whose Scrapy exits non-zero raises CrawlError (the scheduler records it as the run's error).
    The crawl's child inherits the scheduler's lock (it holds it even if the scheduler is killed); a crawl
    stopped by Ctrl-C is logged as interrupted, then KeyboardInterrupt stops the scheduler. After each
    crawl the watches and crawl health are evaluated (`alerts`: the file's [alerts] sinks), never failing it."""
    from indexer.workflows.watches import evaluate_after_run

    target = spec.resolved()

    def after(result: Any) -> None:
        for line in result.messages():
            say(line)

    def crawl(job: Job) -> Any:
        if job.kind == "live" and job.live is not None:
            return live_job(job)
        result = run_spider(
            job.spider,
            job.args,
            store=str(target),
            model=model_name,
            settings=job.settings,
            inherit_fds=ScheduleLock.held_fds(),
        )
        record_crawl(target, result)
        after(evaluate_after_run(target, config=alerts, model_name=model_name))
        say(crawl_summary(job.name, result))
        if result.interrupted:
            raise KeyboardInterrupt
        if result.returncode != 0:
            raise CrawlError(crawl_failure(result))
        return result

    def live_job(job: Job) -> Any:
        from indexer.workflows.live import watch_rooms

        assert job.live is not None
        report = watch_rooms(
            target,
            job.live.urls,
            job.live.every,
            for_=job.live.for_,
            samples=job.live.samples,
            model_name=model_name,
            after_run=after,
            alerts=alerts,
        )
        say(
            f"{job.name}: watched {len(job.live.urls)} live rooms, {report.stored} samples stored, "
            f"{report.failed} failed" + (" (interrupted)" if report.interrupted else "")
        )
        if report.interrupted:
            raise KeyboardInterrupt
        return report

    return crawl


# A log line names at most this many error reasons (the most frequent first), then "and N more".
REASONS_SHOWN = 5


def error_reasons(errors: dict[str, int]) -> str:
    """`request_failed/http_503 ×2, parse_error/no_jsonld ×1`: the reasons of a crawl's errors, most first."""
    ranked = sorted(errors.items(), key=lambda item: (-item[1], item[0]))
    shown = ", ".join(f"{reason} ×{n}" for reason, n in ranked[:REASONS_SHOWN])
    return shown + (f" and {len(ranked) - REASONS_SHOWN} more" if len(ranked) > REASONS_SHOWN else "")


def crawl_summary(job: str, result: CrawlResult) -> str:
    """The schedule log's line for one crawl: items, errors with their reasons, blocked pages."""
    n = result.errors_total
    errors = f"{n} error{'' if n == 1 else 's'}" + (f" ({error_reasons(result.errors)})" if n else "")
    blocked = ", ".join(f"{platform} {count}" for platform, count in sorted(result.blocked.items()))
    return (
        f"{job}: {result.items_total} items, {errors}, {result.blocked_total} blocked pages"
        + (f" ({blocked})" if blocked else "")
        + (" (interrupted)" if result.interrupted else "")
    )


def crawl_failure(result: CrawlResult) -> str:
    """Why a crawl failed: Scrapy's exit status, its finish reason, the error reasons and the last line it
    wrote to stderr."""
    parts = [f"scrapy exited with {result.returncode}"]
    if result.finish_reason and result.finish_reason != "finished":
        parts.append(f"finish reason {result.finish_reason}")
    if result.errors:
        parts.append(f"errors: {error_reasons(result.errors)}")
    last = next((line.strip() for line in reversed(result.stderr.splitlines()) if line.strip()), "")
    if last:
        parts.append(f"last log line: {last[:300]}")
    return "; ".join(parts)


def run_schedule(
    config: Path,
    store: str | None = None,
    model_name: str | None = None,
    *,
    once: bool = False,
    jobs: Sequence[str] = (),
    say: Say = lambda m: None,
) -> list[JobRun]:
    """Run the file's jobs (or the named ones) now (`once`) or on their cron times until Ctrl-C. The store
    is `store`, else the file's `store`, else $TRENDCART_STORE or the default. BadInput for a missing or
    bad file, BadRequest for an unknown job, Busy when another scheduler holds the lock."""
    if not config.is_file():
        raise BadInput(f"no such schedule file: {config} (see examples/schedule.toml)")
    try:
        plan = load_config(config)
    except ScheduleError as exc:
        raise BadInput(str(exc)) from exc
    try:
        alerts = load_alert_config(config)
    except AlertConfigError as exc:
        raise BadInput(str(exc)) from exc
    from indexer.workflows.report_products import canonical_of

    spec = StoreSpec.parse(store or plan.store).resolved()
    opened = spec.open(model_name)
    try:
        scheduler = Scheduler(
            plan,
            crawl_job(spec, model_name, say, alerts),
            opened,
            log=say,
            alerts=report_alerts(spec),
            canonical=lambda: canonical_of(spec),  # reports rank canonical products (the product file)
        )
        selected = list(jobs) or None
        return scheduler.run_once(selected) if once else scheduler.run_forever(selected)
    except AlreadyRunning as exc:
        raise Busy(str(exc)) from exc
    except ScheduleError as exc:
        raise BadRequest(str(exc)) from exc
    finally:
        opened.close()


def report_alerts(spec: StoreSpec) -> Callable[[Any], list[dict[str, Any]]]:
    """The scheduler's `alerts(since)`: the store's alerts raised since then, for the reports' Alerts section."""
    from indexer.workflows.watches import recent_alerts

    return lambda since: recent_alerts(spec, since=since)
