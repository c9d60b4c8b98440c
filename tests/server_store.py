"""A small real store for the server's tests and screenshots: products on two platforms, videos, a live room."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from indexer.ingest import Ingestor
from indexer.sqlite_store import SqliteStore
from indexer.store import Store
from indexer.stores import StoreSpec
from indexer.workflows.clock import record_demo_clock

# The store's clock: its last observation; tests pass it as `now`.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
STEPS = 6  # observations per document, 4 h apart
STEP = timedelta(hours=4)
# A scraped title with markup in it: the dashboard must show it as text.
# Followers by creator: lily is a top KOL (>= 1M), 小美 and lampshop are the alliance, so FACT bars split.
FOLLOWERS = {"小美": 50_000, "lampshop": 8_000}
# Price changes over the observations (the product page's price history).
PRICES_USD = (12.99, 12.99, 12.99, 10.99, 10.99, 10.99)
PRICES_CNY = (89.0, 89.0, 79.0, 79.0, 85.0, 85.0)
HOSTILE = '<script>alert("x")</script> Blender <b>bold</b>'


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _product(pid: str, title: str, at: datetime, sales: int, price: float, currency: str) -> dict[str, Any]:
    return {
        "id": pid, "kind": "product", "platform": pid.split(":")[0], "url": f"https://shop.example/{pid.split(':')[-1]}",
        "title": title, "price": price, "currency": currency, "shop": "Hommly", "metrics": {"sales": sales},
        "observed_at": iso(at),
    }  # fmt: skip


def _video(vid: str, title: str, at: datetime, views: int, product: dict[str, Any], creator: str) -> dict:
    platform = vid.split(":")[0]
    return {
        "id": vid, "kind": "video", "platform": platform, "url": f"https://{platform}.example/{vid}",
        "title": title, "creator": {"id": f"{platform}:creator:{creator}", "name": creator, "followers": FOLLOWERS.get(creator, 2_000_000)},
        "metrics": {"views": views, "likes": views // 20}, "products": [product], "observed_at": iso(at),
        "published_at": iso(NOW - STEPS * STEP),
    }  # fmt: skip


def _live(at: datetime, viewers: int, views: int) -> dict[str, Any]:
    return {
        "id": "douyin:live:room1", "kind": "live", "platform": "douyin", "title": "年货节直播 portable blender sale",
        "url": "https://live.douyin.com/room1", "creator": {"id": "douyin:creator:s1", "name": "主播小王"},
        "published_at": iso(NOW - STEPS * STEP), "observed_at": iso(at),
        "live": {"status": "live", "started_at": iso(NOW - STEPS * STEP), "ended_at": None},
        "metrics": {"viewers": viewers, "views": views},
    }  # fmt: skip


def documents() -> list[dict[str, Any]]:
    """Every observation, oldest first."""
    docs = []
    for i in range(STEPS):
        at = NOW - (STEPS - 1 - i) * STEP
        tk = _product(
            "tiktok:product:555", "Hommly Portable Blender Cup 380ml", at, 100 + 90 * i, PRICES_USD[i], "USD"
        )
        dy = _product(
            "douyin:product:777",
            "Hommly 便携榨汁杯 Portable Blender 380ml",
            at,
            50 + 40 * i,
            PRICES_CNY[i],
            "CNY",
        )
        lamp = _product("douyin:product:888", HOSTILE, at, 10 + i, 169.0, "CNY")
        docs += [tk, dy, lamp]
        docs.append(
            _video("tiktok:video:t1", "Portable blender review", at, 1_000 * (i + 1) ** 3, tk, "lily")
        )
        docs.append(_video("douyin:video:d1", "便携榨汁杯 测评", at, 800 * (i + 1) ** 2, dy, "小美"))
        docs.append(_video("douyin:video:d2", f"{HOSTILE} unboxing", at, 300 * (i + 1), lamp, "lampshop"))
        docs.append(_live(at, (3_000, 8_500, 12_000, 26_000, 18_000, 9_000)[i], 10_000 * (i + 1)))
    return docs


def fill_store(store: Store, embedder: Any, docs: list[dict[str, Any]] | None = None) -> None:
    """Index `docs` (default: every observation) into `store` with `embedder`'s vectors, and set its clock;
    the store is closed (an Elasticsearch store refreshes then, so the next reader sees everything)."""
    try:
        ingest = Ingestor(store, embedder, 64)
        for doc in documents() if docs is None else docs:
            assert ingest.add(doc), doc
        ingest.close()
        record_demo_clock(store, iso(NOW))  # the pages' default clock is the store's, as for a demo store
    finally:
        store.close()


def build_store(path: Path, embedder: Any) -> Path:
    """Index every observation into a new SQLite store at `path` with `embedder`'s vectors."""
    fill_store(SqliteStore(path), embedder)
    return path


def breakout_documents() -> list[dict[str, Any]]:
    """A crawl after the store's clock would bring: a new blender video whose views soar in the last hours,
    observed up to NOW (so the clock stays), which breaks into the top of a 'portable blender' video watch."""
    product = _product("tiktok:product:555", "Hommly Portable Blender Cup 380ml", NOW, 550, 10.99, "USD")

    def seen(at: datetime, views: int) -> dict[str, Any]:
        video = _video("tiktok:video:t9", "Portable blender smoothie hack", at, views, product, "lily")
        return {**video, "published_at": iso(NOW - STEP)}

    return [seen(NOW - STEP / 2, 1_000), seen(NOW, 9_000_000)]


def log_crawls(spec: StoreSpec) -> None:
    """A week of crawls in `spec`'s crawl log, one run a day per spider, and today's: tiktok calm (1 of 50
    pages blocked a day), douyin blocked 2 of 50 a day, then 38 of 50 today (the health page's alert)."""
    from crawler.run import CrawlResult
    from indexer.crawl_log import record_crawl

    for days_ago in range(7, -1, -1):
        at = NOW - timedelta(days=days_ago, hours=1)
        for spider, blocked in (("tiktok", 1), ("douyin", 38 if days_ago == 0 else 2)):
            result = CrawlResult(spider=spider, pages=50, requests=52, blocked={spider: blocked})
            record_crawl(spec, result, finished_at=iso(at))
