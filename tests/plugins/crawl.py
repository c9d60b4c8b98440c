"""Real Scrapy crawls for the tests, through the launcher users run (`crawler.run.run_spider`), read back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from crawler.run import run_spider

# Fast, still-polite settings for crawls of our own local server.
TEST_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "DOWNLOAD_TIMEOUT": "5",
    "RETRY_TIMES": "1",
    "LOG_LEVEL": "INFO",
    "TELNETCONSOLE_ENABLED": "False",
}
# A test crawl of the local server takes seconds; past this it is stuck.
CRAWL_TIMEOUT_S = 120


@dataclass
class CrawlOutcome:
    items: list[dict[str, Any]]
    stats: dict[str, Any]
    returncode: int
    log: str

    def stat(self, key: str, default: int = 0) -> Any:
        return self.stats.get(key, default)

    def by_id(self) -> dict[str, dict[str, Any]]:
        return {item["id"]: item for item in self.items}


def run_crawl(
    spider: str,
    workdir: Path,
    args: dict[str, str] | None = None,
    settings: dict[str, str] | None = None,
    timeout: float = CRAWL_TIMEOUT_S,
) -> CrawlOutcome:
    out = workdir / f"{spider}-items.jsonl"
    result = run_spider(
        spider,
        args,
        out=out,
        workdir=workdir,
        settings={**TEST_SETTINGS, **(settings or {})},
        timeout=timeout,
        check_spider=False,  # an unknown name fails the child, which the test sees in returncode and log
        check=False,
    )
    log_file = Path(result.log_file) if result.log_file else None
    log = log_file.read_text(encoding="utf-8", errors="replace") if log_file and log_file.exists() else ""
    items = []
    if out.exists():
        items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
    return CrawlOutcome(
        items=items, stats=result.stats, returncode=result.returncode, log=log + result.stderr
    )


@pytest.fixture
def crawl(tmp_path):
    """`crawl("jsonld", args={"urls": ...})` runs a real crawl and returns a CrawlOutcome."""

    def _run(
        spider: str, args: dict[str, str] | None = None, settings: dict[str, str] | None = None
    ) -> CrawlOutcome:
        outcome = run_crawl(spider, tmp_path, args, settings)
        # Bad input must be counted, never crash: no traceback may reach the crawl's log.
        assert "Traceback (most recent call last)" not in outcome.log, outcome.log[-4000:]
        return outcome

    return _run
