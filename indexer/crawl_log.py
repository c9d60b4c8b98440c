"""The crawl log: one JSON line per finished crawl beside the store (StoreSpec.crawl_log_path), read by `stats`."""

from __future__ import annotations

import json
from typing import Any, Protocol

from crawler.times import iso_utc, utc_now
from indexer.stores import StoreSpec


class CrawlSummary(Protocol):
    """What a crawl hands the log: crawler.run.CrawlResult (kept structural so the indexer needs no Scrapy)."""

    def to_json(self) -> dict[str, Any]: ...


def record_crawl(spec: StoreSpec, result: CrawlSummary, finished_at: str | None = None) -> None:
    """Append one crawl's summary; never fails (the log is a convenience for `stats`, not worth a crawl)."""
    entry = {"finished_at": finished_at or iso_utc(utc_now()), **result.to_json()}
    path = spec.crawl_log_path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
    except OSError:
        pass


def last_crawl(spec: StoreSpec) -> dict[str, Any] | None:
    """The latest entry, or None when there is no readable log."""
    entries = crawl_entries(spec)
    return entries[-1] if entries else None


def crawl_entries(spec: StoreSpec) -> list[dict[str, Any]]:
    """Every readable entry, oldest first ([] without a log; unreadable lines are left out)."""
    try:
        lines = spec.crawl_log_path.read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError):
        return []
    entries = []
    for line in lines:
        try:
            entry = json.loads(line) if line.strip() else None
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries
