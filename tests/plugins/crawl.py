"""Run a real Scrapy crawl (`scrapy crawl`, in a subprocess: Twisted's reactor cannot restart) and read
back its items and stats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
# Fast, still-polite settings for crawls of our own local server.
TEST_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "DOWNLOAD_TIMEOUT": "5",
    "RETRY_TIMES": "1",
    "LOG_LEVEL": "INFO",
    "TELNETCONSOLE_ENABLED": "False",
}


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
    timeout: float = 120,
) -> CrawlOutcome:
    out = workdir / f"{spider}-items.jsonl"
    stats_file = workdir / f"{spider}-stats.json"
    log_file = workdir / f"{spider}.log"
    cmd = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        spider,
        "-O",
        str(out),
        "-s",
        f"TRENDCART_STATS_FILE={stats_file}",
        "-s",
        f"LOG_FILE={log_file}",
    ]
    for key, value in {**TEST_SETTINGS, **(settings or {})}.items():
        cmd += ["-s", f"{key}={value}"]
    for key, value in (args or {}).items():
        cmd += ["-a", f"{key}={value}"]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.settings", "PYTHONPATH": str(REPO)}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    log = (log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else "") + proc.stderr
    items = []
    if out.exists():
        items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
    stats = json.loads(stats_file.read_text(encoding="utf-8")) if stats_file.exists() else {}
    return CrawlOutcome(items=items, stats=stats, returncode=proc.returncode, log=log)


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
