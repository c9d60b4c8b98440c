"""Scrapy extensions: CrawlSummary (log and write a crawl's stats), ParentWatch (die with the parent)."""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from scrapy import signals

logger = logging.getLogger(__name__)
# linux/prctl.h: deliver a signal to this process when its parent dies.
PR_SET_PDEATHSIG = 1
# How often ParentWatch checks that the parent still lives (s), and the finish reason when it does not.
PARENT_POLL_S = 1.0
PARENT_GONE_STAT = "trendcart/parent_gone"
# The signal the kernel sends when the parent dies: one Scrapy does not use (SIGUSR2/SIGQUIT dump stacks).
PARENT_DEATH_SIGNAL = signal.SIGUSR1


class CrawlSummary:
    """Log the trendcart counters when the spider closes; write every stat (and the reason) as JSON."""

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


class ParentWatch:
    """Close the crawl when the process that started it is gone (`kill -9` of `trendcart crawl` or
    `schedule`), so that no orphan keeps crawling and writing while the next run starts.

    On Linux the kernel sends PARENT_DEATH_SIGNAL when the parent dies (PR_SET_PDEATHSIG); everywhere, the
    parent pid is also checked every TRENDCART_PARENT_POLL_S. Either way the spider is closed once, cleanly
    (as after one SIGINT: a job dir keeps its queue and stays resumable). Not SIGTERM: the kernel sends the
    signal again each time the child is handed to another thread of the dying parent, and a second SIGTERM
    makes Scrapy force an unclean stop. The stat `trendcart/parent_gone` says why it stopped. Off unless TRENDCART_PARENT_PID is set (crawler/run.py sets it).
    """

    def __init__(self, crawler: Any, parent_pid: int, interval: float) -> None:
        self.crawler = crawler
        self.parent_pid = parent_pid
        self.interval = interval
        self.task: Any = None
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> ParentWatch:
        from scrapy.exceptions import NotConfigured

        pid = crawler.settings.getint("TRENDCART_PARENT_PID", 0)
        if pid <= 0:
            raise NotConfigured("TRENDCART_PARENT_PID not set")
        ext = cls(crawler, pid, crawler.settings.getfloat("TRENDCART_PARENT_POLL_S", PARENT_POLL_S))
        signal.signal(PARENT_DEATH_SIGNAL, ext.on_parent_death)  # before asking for it
        die_with_parent(PARENT_DEATH_SIGNAL)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def parent_alive(self) -> bool:
        return os.getppid() == self.parent_pid

    def spider_opened(self, spider: Any) -> None:
        from twisted.internet import task

        self.task = task.LoopingCall(self.check)
        self.task.start(self.interval, now=True)  # now: the parent may have died before we set the signal

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()

    def on_parent_death(self, signum: int, frame: Any) -> None:
        from twisted.internet import reactor

        reactor.callFromThread(self.check)  # no logging or closing inside a signal handler

    def check(self) -> None:
        if self.closing or self.parent_alive() or self.crawler.engine is None:
            return
        self.closing = True
        logger.warning("the parent process %d is gone: closing the crawl", self.parent_pid)
        if self.task is not None and self.task.running:
            self.task.stop()
        self.crawler.stats.set_value(PARENT_GONE_STAT, 1)
        # The path of one SIGINT (a graceful stop of the engine), so that what was in flight is finished
        # and the job dir's queue is written; the finish reason is then `shutdown`, the stat says why.
        from scrapy.utils.defer import deferred_from_coro

        if hasattr(self.crawler, "stop_async"):
            deferred_from_coro(self.crawler.stop_async())
        else:  # pragma: no cover - Scrapy < 2.14
            self.crawler.stop()


def die_with_parent(signum: int) -> bool:
    """Ask Linux to send `signum` to this process when its parent dies (prctl PR_SET_PDEATHSIG); False
    where that is not available (then only ParentWatch's polling notices)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
