"""run_schedule: the scheduler over a schedule file, with crawl jobs that crawl, index and log beside the store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from crawler.run import CrawlError, CrawlResult, run_spider
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
    spec: StoreSpec, model_name: str | None = None, say: Say = lambda m: None
) -> Callable[[Job], CrawlResult]:
    """The scheduler's `crawl(job)`: run the job's spider indexing into `spec`, log the crawl, say a summary;
    a crawl whose Scrapy exits non-zero raises CrawlError (the scheduler records it as the run's error).
    The crawl's child inherits the scheduler's lock (it holds it even if the scheduler is killed); a crawl
    stopped by Ctrl-C is logged as interrupted, then KeyboardInterrupt stops the scheduler."""
    target = spec.resolved()

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
        say(
            f"{job.name}: {result.items_total} items, {result.errors_total} errors, "
            f"{result.blocked_total} blocked pages" + (" (interrupted)" if result.interrupted else "")
        )
        if result.interrupted:
            raise KeyboardInterrupt
        if result.returncode != 0:
            raise CrawlError(f"scrapy exited with {result.returncode}")
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
        )
        say(
            f"{job.name}: watched {len(job.live.urls)} live rooms, {report.stored} samples stored, "
            f"{report.failed} failed" + (" (interrupted)" if report.interrupted else "")
        )
        if report.interrupted:
            raise KeyboardInterrupt
        return report

    return crawl


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
    spec = StoreSpec.parse(store or plan.store).resolved()
    opened = spec.open(model_name)
    try:
        scheduler = Scheduler(plan, crawl_job(spec, model_name, say), opened, log=say)
        selected = list(jobs) or None
        return scheduler.run_once(selected) if once else scheduler.run_forever(selected)
    except AlreadyRunning as exc:
        raise Busy(str(exc)) from exc
    except ScheduleError as exc:
        raise BadRequest(str(exc)) from exc
    finally:
        opened.close()
