"""crawl_and_index: run a spider (crawler.run.run_spider, a child process) indexing into a store, and log it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from crawler.run import CrawlResult, run_spider
from crawler.times import parse_iso
from indexer.crawl_log import record_crawl
from indexer.stores import StoreSpec
from indexer.workflows.errors import BadInput, BadRequest


def key_values(pairs: Iterable[str], what: str) -> dict[str, str]:
    """`KEY=VALUE` strings (spider arguments, Scrapy settings) as a dict; BadRequest naming `what` otherwise."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BadRequest(f"{what} must look like KEY=VALUE, got {pair!r}")
        out[key.strip()] = value
    return out


def spider_args(
    args: Mapping[str, str], urls: str | None = None, urls_file: Path | None = None
) -> dict[str, str]:
    """The spider's arguments with the start URLs added (`urls`, comma-separated; `urls_file`, absolute)."""
    merged = dict(args)
    if urls:
        merged["urls"] = urls
    if urls_file:
        if not urls_file.is_file():
            raise BadInput(f"no such file: {urls_file}")
        merged["urls_file"] = str(urls_file.resolve())
    from crawler.spiders.base import read_start_urls

    try:  # the spider's own rule, checked here so that a bad file is one line and exit 4, not a failed child
        read_start_urls(merged.get("urls"), merged.get("urls_file"))
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    return merged


# The URL schemes redis-py connects with (plain, TLS, a Unix socket).
FRONTIER_SCHEMES = ("redis://", "rediss://", "unix://")


def check_frontier_url(url: str) -> str:
    """`url` when it names a Redis server (redis://HOST:PORT/DB, rediss://, unix://); BadRequest else."""
    if not url.startswith(FRONTIER_SCHEMES):
        raise BadRequest(f"--frontier must be a Redis URL such as redis://127.0.0.1:6379/0, got {url!r}")
    return url


def crawl_and_index(
    spider: str,
    args: Mapping[str, str],
    spec: StoreSpec,
    *,
    index: bool = True,
    model_name: str | None = None,
    out: Path | None = None,
    now: str | None = None,
    settings: Mapping[str, str] | None = None,
    on_progress: Callable[[CrawlResult], None] | None = None,
    job_dir: Path | None = None,
    after_run: Callable[[Any], None] | None = None,
    frontier: str | None = None,
) -> CrawlResult:
    """Crawl, indexing as it goes (unless `index` is False: then `out` must keep the items), and append the
    summary to the crawl log beside `spec`. UnknownSpider / CrawlError from crawler.run when it cannot run.

    job_dir (or `settings["JOBDIR"]`): resumable: Ctrl-C returns a result with `interrupted` set, and the
    same call resumes where it stopped, appending to `out`. A relative JOBDIR is the caller's, not the child's.
    Then the watches and crawl health are evaluated (indexer.workflows.watches.evaluate_after_run, never
    raising); `after_run` gets what that did (new alerts, failed sinks).

    frontier (or `settings["TRENDCART_FRONTIER"]` / `["REDIS_URL"]`): a Redis URL whose queue and seen-set
    this crawl shares with every other crawl given the same one (crawler/frontier.py); not with a job dir."""
    if not index and out is None:
        raise BadRequest("--no-index without --out would keep nothing")
    settings = dict(settings or {})
    if frontier:
        check_frontier_url(frontier)
        settings["TRENDCART_FRONTIER"] = frontier
    job_dir = job_dir or (Path(settings.pop("JOBDIR")) if settings.get("JOBDIR") else None)
    if job_dir is not None and (settings.get("TRENDCART_FRONTIER") or settings.get("REDIS_URL")):
        raise BadRequest("--frontier keeps the queue in Redis: it does not combine with --job-dir")
    if job_dir is not None and job_dir.exists() and not job_dir.is_dir():
        raise BadInput(f"the job dir is not a folder: {job_dir}")
    result = run_spider(
        spider,
        args,
        store=str(spec.resolved()) if index else None,
        model=model_name,
        out=out,
        now=now,
        settings=settings,
        on_progress=on_progress,
        job_dir=job_dir.resolve() if job_dir else None,
    )
    record_crawl(spec, result)
    from indexer.workflows.watches import evaluate_after_run

    evaluated = evaluate_after_run(spec, now=parse_iso(now) if now else None, model_name=model_name)
    if after_run is not None:
        after_run(evaluated)
    return result
