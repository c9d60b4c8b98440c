"""store_overview: what `stats` shows (the store's counts, the platform x kind matrix, the last crawl)."""

from __future__ import annotations

import dataclasses
from typing import Any

from crawler.items import KINDS, PLATFORMS
from indexer.crawl_log import crawl_entries
from indexer.store import SearchFilters
from indexer.stores import StoreSpec
from indexer.workflows.opening import opened

# The columns of one matrix row (`matrix_rows`): a platform, a count per kind, the platform's total.
MATRIX_COLUMNS = ("platform", *KINDS, "total")


def store_overview(spec: StoreSpec, model_name: str | None = None) -> dict[str, Any]:
    """StoreStats as JSON plus `by_platform_kind` ({platform: {kind: n}}, platforms that hold documents)
    `last_crawl` (the crawl log's latest entry, or None) and `crawls` (crawl_summary of the whole log).
    StoreMissing when there is no store."""
    with opened(spec, model_name) as store:
        info = dataclasses.asdict(store.stats())
        info["by_platform_kind"] = {
            p: {k: store.count(SearchFilters(platform=p, kind=k)) for k in KINDS}
            for p in PLATFORMS
            if info["by_platform"].get(p)
        }
    entries = crawl_entries(spec)
    info["last_crawl"] = entries[-1] if entries else None
    info["crawls"] = crawl_summary(entries)
    return info


def crawl_summary(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The crawl log in one: how many crawls, the first and last finish, their items, errors and blocked
    pages in all, and the crawls per spider; None without a log."""
    if not entries:
        return None
    finished = sorted(str(e["finished_at"]) for e in entries if e.get("finished_at"))
    spiders: dict[str, int] = {}
    for entry in entries:
        spiders[str(entry.get("spider"))] = spiders.get(str(entry.get("spider")), 0) + 1
    return {
        "count": len(entries),
        "first": finished[0] if finished else None,
        "last": finished[-1] if finished else None,
        **{
            key: sum(int(e.get(f"{key}_total") or 0) for e in entries)
            for key in ("items", "errors", "blocked")
        },
        "by_spider": spiders,
    }


def matrix_rows(info: dict[str, Any]) -> list[dict[str, Any]]:
    """The matrix as rows (MATRIX_COLUMNS), one per platform, then the totals row."""
    rows = [
        {"platform": p, **counts, "total": info["by_platform"][p]}
        for p, counts in info["by_platform_kind"].items()
    ]
    rows.append(
        {"platform": "total", **{k: info["by_kind"].get(k, 0) for k in KINDS}, "total": info["documents"]}
    )
    return rows
