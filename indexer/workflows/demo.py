"""run_demo: the offline tour. Serve the generated site day by day, crawl each day with the real spiders,
index, rank, search and write a report; returns a DemoResult for the face to print."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.run import CrawlError, CrawlResult, run_spider
from crawler.times import parse_iso
from indexer.crawl_log import record_crawl
from indexer.embedder import Embedder
from indexer.ingest import ingest_jsonl
from indexer.store import Hit, Store
from indexer.stores import StoreSpec
from indexer.trends import TrendBy, TrendReport

# Settings for crawling our own local demo server: no politeness delays are needed against 127.0.0.1.
DEMO_CRAWL_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    "RETRY_TIMES": "1",
    "DOWNLOAD_TIMEOUT": "10",
    "TELNETCONSOLE_ENABLED": "False",
}
# Spiders of one replayed day run side by side (each is a `scrapy crawl` process).
DEMO_PARALLEL_CRAWLS = 3
DEMO_DIR = Path("trendcart-data")
DEMO_STORE_NAME = "demo.db"
DEMO_REPORT_NAME = "demo-report.html"
DEMO_QUERIES = ("口红", "零食礼包", "wireless earbuds")
DEMO_WINDOW = "24h"
DEMO_TOP = 10  # trending products shown
DEMO_HITS = 3  # hits per demo search
DEMO_FACT_WINDOW = "14d"  # the FACT split of the demo's multi-platform product covers every replayed day
# Files of the demo's own store (SQLite and its WAL, the crawl log), removed so that each demo starts afresh.
OWN_STORE_SUFFIXES = ("", "-wal", "-shm", ".crawls.jsonl")

Say = Callable[[str], None]


@dataclass
class DemoResult:
    store: StoreSpec
    report: Path
    seconds: float
    crawl: dict[str, Any]  # days (per day: items, errors, blocked, indexed, by_spider), totals, `base`
    documents: int
    snapshots: int
    trending: TrendReport
    searches: dict[str, list[Hit]]
    # the canonical product found on the most platforms, with its FACT split (workflows.products.show_product)
    product: dict[str, Any] | None = None

    @property
    def base(self) -> str:
        """The last replayed day's time: what `--now` reproduces the demo's rankings with."""
        return self.crawl["base"]

    def to_json(self) -> dict[str, Any]:
        return {
            "store": str(self.store),
            "report": str(self.report),
            "seconds": round(self.seconds, 1),
            "crawl": self.crawl,
            "documents": self.documents,
            "snapshots": self.snapshots,
            "trending": self.trending.to_json(),
            "searches": {q: [h.to_json() for h in hits] for q, hits in self.searches.items()},
            "product": self.product,
        }


def run_demo(
    out_dir: Path = DEMO_DIR,
    *,
    days: int = 4,
    small: bool = False,
    seed: int = 20261125,
    spec: StoreSpec | None = None,
    model_name: str | None = None,
    embedder: Embedder | None = None,
    say: Say = lambda message: None,
) -> DemoResult:
    """Without `spec`, a fresh `<out_dir>/demo.db` (recreated each time); a named store is only added to.
    Raises StoreError, or CrawlError("demo crawl failed: ...") when a spider cannot run."""
    from indexer.reports import write_report
    from indexer.search import search
    from indexer.trends import TrendEngine
    from indexer.workflows.clock import record_demo_clock
    from indexer.workflows.report_products import canonical_of

    started = time.monotonic()
    own_store = spec is None  # only the demo's own store takes its clock: a named store keeps the real one
    if spec is None:
        spec = StoreSpec.parse(str(out_dir / DEMO_STORE_NAME))
        for suffix in OWN_STORE_SUFFIXES:
            Path(f"{spec.path}{suffix}").unlink(missing_ok=True)
    work = out_dir / "demo-crawl"
    shutil.rmtree(work, ignore_errors=True)
    say(f"demo: serving a generated site on 127.0.0.1 and crawling {days} replayed days into {spec}")
    store = spec.open(model_name)
    try:
        embedder = embedder or Embedder(model_name)
        try:
            totals = replay(store, embedder, work, days, small, seed, say, crawl_log=spec)
        except CrawlError as exc:
            raise CrawlError(f"demo crawl failed: {exc}") from exc
        now = parse_iso(totals["base"])
        if own_store:
            record_demo_clock(store, totals["base"])
        ranking = TrendEngine(store).trending(by=TrendBy.product, window=DEMO_WINDOW, limit=DEMO_TOP, now=now)
        searches = {q: search(store, q, "hybrid", None, DEMO_HITS, embedder=embedder) for q in DEMO_QUERIES}
        report = out_dir / DEMO_REPORT_NAME
        counts = store.stats()
    finally:
        store.close()
    product = _multi_platform_product(spec, model_name, embedder, now)
    # After the grouping above, so the report ranks canonical products (the store's product file).
    store = spec.open(model_name)
    try:
        write_report(
            store,
            report,
            now=now,
            window=DEMO_WINDOW,
            title="trendcart demo report",
            canonical=canonical_of(spec),
        )
    finally:
        store.close()
    return DemoResult(
        store=spec,
        report=report,
        seconds=time.monotonic() - started,
        crawl=totals,
        documents=counts.documents,
        snapshots=counts.snapshots,
        trending=ranking,
        searches=searches,
        product=product,
    )


def _multi_platform_product(
    spec: StoreSpec, model_name: str | None, embedder: Embedder, now: Any
) -> dict[str, Any] | None:
    """The canonical product seen on the most platforms (docs/PRODUCTS.md), shown with its FACT split over
    the replayed days; None when no product is on two platforms."""
    from indexer.workflows.products import list_products, show_product

    found = [p for p in list_products(spec, model_name, embedder) if len(p["platforms"]) > 1]
    if not found:
        return None
    return show_product(spec, found[0]["id"], model_name, embedder, window=DEMO_FACT_WINDOW, now=now)


def replay(
    store: Store,
    embedder: Embedder,
    work: Path,
    days: int,
    small: bool,
    seed: int,
    say: Say = lambda message: None,
    crawl_log: StoreSpec | None = None,
) -> dict[str, Any]:
    """Serve the sample site day by day, crawl each day with the real spiders, index; returns the totals."""
    from crawler.demo_site import DemoServer, DemoSite

    site = DemoSite(seed=seed, days=days, small=small)
    totals: dict[str, Any] = {
        "days": [],
        "items": 0,
        "errors": 0,
        "blocked": 0,
        "indexed": 0,
        "base": site.day_iso(days - 1),
    }
    with DemoServer(site) as server:
        for day in range(days):
            server.serve_day(day)
            results = _crawl_day(server.start_urls(day), work / f"day{day}", site.day_iso(day))
            indexed = 0
            for result in results.values():
                if crawl_log is not None:
                    record_crawl(crawl_log, result, finished_at=site.day_iso(day))
                if result.out and Path(result.out).exists():
                    indexed += ingest_jsonl(result.out, store, embedder).indexed
            entry = {
                "day": day,
                "observed_at": site.day_iso(day),
                "items": sum(r.items_total for r in results.values()),
                "errors": sum(r.errors_total for r in results.values()),
                "blocked": sum(r.blocked_total for r in results.values()),
                "indexed": indexed,
                "by_spider": {s: r.items_total for s, r in results.items()},
            }
            totals["days"].append(entry)
            for key in ("items", "errors", "blocked", "indexed"):
                totals[key] += entry[key]
            say(
                f"day {day + 1}/{days} ({site.day_iso(day)}): "
                + ", ".join(f"{s} {r.items_total}" for s, r in results.items())
                + f" items; {entry['errors']} errors; indexed {indexed}"
            )
    return totals


def _crawl_day(starts: dict[str, list[str]], day_dir: Path, now: str) -> dict[str, CrawlResult]:
    """Every spider of one replayed day, DEMO_PARALLEL_CRAWLS at a time, exporting to `day_dir`."""
    day_dir.mkdir(parents=True, exist_ok=True)
    jobs = {}
    for spider, urls in starts.items():
        urls_file = day_dir / f"{spider}-urls.txt"
        urls_file.write_text("\n".join(urls) + "\n", encoding="utf-8")
        jobs[spider] = dict(
            args={"urls_file": str(urls_file)},
            out=day_dir / f"{spider}.jsonl",
            now=now,
            settings=DEMO_CRAWL_SETTINGS,
            workdir=day_dir,
            check_spider=False,
        )
    with ThreadPoolExecutor(DEMO_PARALLEL_CRAWLS) as pool:
        results = pool.map(lambda kv: run_spider(kv[0], **kv[1]), jobs.items())
        return dict(zip(jobs, results, strict=True))
