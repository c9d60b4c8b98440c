"""store_overview: what `stats` shows (the store's counts, the platform x kind matrix, the last crawl)."""

from __future__ import annotations

import dataclasses
from typing import Any

from crawler.items import KINDS, PLATFORMS
from indexer.crawl_log import last_crawl
from indexer.store import SearchFilters
from indexer.stores import StoreSpec
from indexer.workflows.opening import opened

# The columns of one matrix row (`matrix_rows`): a platform, a count per kind, the platform's total.
MATRIX_COLUMNS = ("platform", *KINDS, "total")


def store_overview(spec: StoreSpec, model_name: str | None = None) -> dict[str, Any]:
    """StoreStats as JSON plus `by_platform_kind` ({platform: {kind: n}}, platforms that hold documents)
    and `last_crawl` (the crawl log's latest entry, or None). StoreMissing when there is no store."""
    with opened(spec, model_name) as store:
        info = dataclasses.asdict(store.stats())
        info["by_platform_kind"] = {
            p: {k: store.count(SearchFilters(platform=p, kind=k)) for k in KINDS}
            for p in PLATFORMS
            if info["by_platform"].get(p)
        }
    info["last_crawl"] = last_crawl(spec)
    return info


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
