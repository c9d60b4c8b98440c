"""CrawlSummary: log what a crawl did (items, errors, blocked pages) and optionally write its stats as JSON."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from scrapy import signals

logger = logging.getLogger(__name__)


class CrawlSummary:
    def __init__(self, stats: Any, stats_file: str | None) -> None:
        self.stats = stats
        self.stats_file = stats_file or None

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlSummary:
        ext = cls(crawler.stats, crawler.settings.get("TRENDCART_STATS_FILE"))
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Any, reason: str) -> None:
        stats = self.stats.get_stats()
        ours = {k: v for k, v in stats.items() if k.startswith("trendcart/")}
        blocked = {k.split("/", 2)[2]: v for k, v in ours.items() if k.startswith("trendcart/blocked/")}
        items = sum(v for k, v in ours.items() if k.startswith("trendcart/items/"))
        errors = sum(
            v
            for k, v in ours.items()
            if k.startswith(("trendcart/parse_error/", "trendcart/request_failed/"))
        )
        logger.info(
            "trendcart summary: %d items, %d errors, blocked pages: %s", items, errors, blocked or "none"
        )
        for key in sorted(ours):
            logger.info("  %s = %s", key, ours[key])
        if self.stats_file:
            path = Path(self.stats_file)
            path.parent.mkdir(parents=True, exist_ok=True)
            data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in stats.items()}
            data["finish_reason"] = reason
            path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str), encoding="utf-8")
