"""A shared crawl frontier in Redis (scrapy-redis): several crawler processes share one queue and seen-set.

Enabled by the setting TRENDCART_FRONTIER (or scrapy-redis's own REDIS_URL) = `redis://HOST:PORT/DB`,
through FrontierAddon (in the project's ADDONS): it puts FrontierScheduler, scrapy-redis's dupefilter and
FrontierAckMiddleware in place. Every worker (one `scrapy crawl` process) pops requests from the shared
priority queue; the shared seen-set (request fingerprints) lets each URL in once, whoever found it.

At least once, never lost: a popped request moves atomically (one Lua script) into the worker's in-flight
set; it leaves it when its callback has run and its items are stored (after the IndexPipeline's next
flush, announced by the `items_stored` signal; at once when nothing is indexed). A worker renews a lease
(a key with a time to live) while it lives; the in-flight requests of a worker whose lease ran out
(killed, machine gone) go back to the queue, moved by whichever worker sees it first, and are fetched
again: a page in flight when a crawler died may be fetched twice, never lost; the store upserts by id,
so its items are not duplicated. A worker stops when the queue is empty and no other worker has
requests in flight (they may still yield links); the last one out deletes the queue and the seen-set,
so the same command crawls afresh next time. Throttling and robots.txt stay per process (each worker
has its own AutoThrottle and download slots): N workers make up to N times the requests per second.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy_redis.scheduler import Scheduler

logger = logging.getLogger(__name__)

# Sent by the IndexPipeline after each write to the store, with `written`: how many of the items it was
# handed are now written (or refused). A request done when the pipeline had been handed N items is safe
# once `written` reaches N (the ingestor may hold a batch or two, embedding while the one before is written).
items_stored = object()

# How long a worker's lease lives without renewal (s). A killed worker's requests go back to the queue
# this long after its last renewal; a thread renews it every third of it, so one late renewal is harmless.
LEASE_S = 30.0
# How often the other workers' in-flight counts are asked for while this one has nothing to do (s): the
# engine asks "anything pending?" many times a second; the answer may be this old.
PENDING_CHECK_S = 0.5
# Key prefix of every frontier key; `{name}` is TRENDCART_FRONTIER_NAME (default: the spider's name).
KEY_PREFIX = "trendcart:frontier:{name}"

# Pop the highest-priority request (lowest score) into this worker's in-flight set, atomically.
_POP = """
local got = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #got == 0 then return false end
redis.call('ZREM', KEYS[1], got[1])
redis.call('ZADD', KEYS[2], got[2], got[1])
return got[1]
"""
# A worker's requests back to the queue (in flight and done-but-not-stored), unless its lease still lives.
_REQUEUE = """
if ARGV[2] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
local moved = 0
for _, key in ipairs({KEYS[1], KEYS[2]}) do
  local items = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  for i = 1, #items, 2 do redis.call('ZADD', KEYS[4], items[i + 1], items[i]); moved = moved + 1 end
  redis.call('DEL', key)
end
redis.call('SREM', KEYS[5], ARGV[1])
return moved
"""
# The crawl is over for everyone: no queued request, no worker registered; then forget it.
_CLEANUP = """
if redis.call('ZCARD', KEYS[1]) == 0 and redis.call('SCARD', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[1], KEYS[3])
  return 1
end
return 0
"""


def frontier_url(settings: Any) -> str:
    """The frontier's Redis URL from TRENDCART_FRONTIER or REDIS_URL; '' when the crawl runs alone."""
    return settings.get("TRENDCART_FRONTIER") or settings.get("REDIS_URL") or ""


class FrontierAddon:
    """Turns the shared frontier on when TRENDCART_FRONTIER or REDIS_URL is set; does nothing otherwise."""

    def update_settings(self, settings: Any) -> None:
        url = frontier_url(settings)
        if not url:
            return
        if settings.get("JOBDIR"):
            raise ValueError("a shared frontier (TRENDCART_FRONTIER) keeps the queue in Redis: drop JOBDIR")
        settings.set("REDIS_URL", url, priority="addon")
        settings.set("SCHEDULER", "crawler.frontier.FrontierScheduler", priority="addon")
        settings.set("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter", priority="addon")
        settings.set("SCHEDULER_PERSIST", True, priority="addon")  # the others still use the queue
        settings.set_in_component_priority_dict("SPIDER_MIDDLEWARES", FrontierAckMiddleware, 10)
        name = settings.get("TRENDCART_FRONTIER_NAME") or "%(spider)s"
        prefix = KEY_PREFIX.format(name=name)
        settings.set("SCHEDULER_QUEUE_KEY", f"{prefix}:requests", priority="addon")
        settings.set("SCHEDULER_DUPEFILTER_KEY", f"{prefix}:seen", priority="addon")


class FrontierScheduler(Scheduler):
    """scrapy-redis's scheduler with in-flight sets, leases and requeueing (see the module docstring)."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> FrontierScheduler:
        instance = super().from_crawler(crawler)
        instance.crawler = crawler
        instance.lease_s = crawler.settings.getfloat("TRENDCART_FRONTIER_LEASE_S", LEASE_S)
        crawler.trendcart_frontier = instance
        crawler.signals.connect(instance._stored, signal=items_stored)
        return instance

    # -- life cycle --------------------------------------------------------------------------------
    def open(self, spider: Any) -> None:
        super().open(spider)
        # lingua loads its language models on the first guess, holding the GIL for seconds (tens on a busy
        # machine), so that not even the lease thread runs: load them before the lease exists.
        from crawler.language import latin_language

        latin_language("load the language models before taking a lease")
        self.prefix = self.queue.key.rsplit(":", 1)[0]
        self.worker = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.inflight_key = f"{self.prefix}:inflight:{self.worker}"
        self.unstored_key = f"{self.prefix}:unstored:{self.worker}"
        self.workers_key = f"{self.prefix}:workers"
        self._pop = self.server.register_script(_POP)
        self._requeue = self.server.register_script(_REQUEUE)
        self._cleanup = self.server.register_script(_CLEANUP)
        self._entries: dict[int, bytes] = {}  # token (request.meta) -> the queue entry, while in flight
        self._unstored: list[tuple[int, bytes]] = []  # (items handed to the index by then, entry), done
        self._next_token = 0
        self._others_checked = 0.0
        self._others_busy = False
        self._renew()
        self.server.sadd(self.workers_key, self.worker)
        self.requeue_dead()
        # The lease is renewed by a thread, not the event loop: a loop blocked for seconds (the model's first
        # load inside the IndexPipeline) is a live worker, and its requests must not be handed out again.
        self._leaving = threading.Event()
        self._lease_thread = threading.Thread(target=self._keep_lease, name="frontier-lease", daemon=True)
        self._lease_thread.start()
        from twisted.internet import task

        self._recover_loop = task.LoopingCall(self._recover)
        self._recover_loop.start(self.lease_s / 3, now=False)
        logger.info("frontier %s: worker %s joined (%d queued)", self.prefix, self.worker, len(self.queue))

    def close(self, reason: str) -> None:
        if getattr(self, "_recover_loop", None) is not None and self._recover_loop.running:
            self._recover_loop.stop()
        self._leaving.set()
        self._lease_thread.join(timeout=self.lease_s)
        self.server.delete(self._lease_key(self.worker))
        if reason == "finished":  # every request ran and the pipelines have flushed (they close first)
            self.server.delete(self.inflight_key, self.unstored_key)
            self.server.srem(self.workers_key, self.worker)
        else:  # stopped early: what it held goes back for the others (or the next run)
            self._requeue(keys=self._requeue_keys(self.worker), args=[self.worker, "0"], client=self.server)
        if self._cleanup(keys=[self.queue.key, self.workers_key, self.df.key], client=self.server):
            logger.info("frontier %s: crawl complete, queue and seen-set removed", self.prefix)
        super().close(reason)

    # -- requests ----------------------------------------------------------------------------------
    def next_request(self) -> Any:
        data = self._pop(keys=[self.queue.key, self.inflight_key], client=self.server)
        if not data:
            return None
        request = self.queue._decode_request(data)
        self._next_token += 1
        request.meta["frontier_token"] = self._next_token
        self._entries[self._next_token] = data
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def done(self, request: Any) -> None:
        """The request's callback has run: its entry leaves the in-flight set (once its items are stored)."""
        data = self._entries.pop(request.meta.get("frontier_token", -1), None)
        if data is None:
            return
        index = getattr(self.crawler, "trendcart_index", None)  # the IndexPipeline, when indexing
        if index is None or index.ingestor is None:  # nothing is indexed: done is safe
            self.server.zrem(self.inflight_key, data)
            return
        pipe = self.server.pipeline()
        pipe.zrem(self.inflight_key, data).zadd(self.unstored_key, {data: 0})
        pipe.execute()
        self._unstored.append((index.accepted, data))

    def _stored(self, written: int) -> None:
        safe = [data for mark, data in self._unstored if mark <= written]
        if safe:
            self.server.zrem(self.unstored_key, *safe)
            self._unstored = [(mark, data) for mark, data in self._unstored if mark > written]

    def has_pending_requests(self) -> bool:
        if len(self.queue) > 0:
            return True
        now = time.monotonic()
        if now - self._others_checked >= PENDING_CHECK_S:
            self._others_checked = now
            self.requeue_dead()
            self._others_busy = len(self.queue) > 0 or self.others_in_flight() > 0
        return self._others_busy

    # -- the other workers -------------------------------------------------------------------------
    def others_in_flight(self) -> int:
        """Requests the other workers hold in flight (they may yield more links)."""
        others = [w for w in self._members() if w != self.worker]
        if not others:
            return 0
        pipe = self.server.pipeline()
        for worker in others:
            pipe.zcard(f"{self.prefix}:inflight:{worker}")
        return sum(pipe.execute())

    def requeue_dead(self) -> int:
        """Put back the requests of every worker whose lease has run out; how many went back."""
        moved = 0
        for worker in self._members():
            if worker == self.worker:
                continue
            count = self._requeue(keys=self._requeue_keys(worker), args=[worker, "1"], client=self.server)
            if count > 0:
                logger.warning(
                    "frontier %s: worker %s is gone; %d requests requeued", self.prefix, worker, count
                )
                if self.stats:
                    self.stats.inc_value("trendcart/frontier/requeued", count)
                moved += count
        return moved

    def _members(self) -> list[str]:
        return [m.decode() if isinstance(m, bytes) else m for m in self.server.smembers(self.workers_key)]

    def _requeue_keys(self, worker: str) -> list[str]:
        return [
            f"{self.prefix}:inflight:{worker}",
            f"{self.prefix}:unstored:{worker}",
            self._lease_key(worker),
            self.queue.key,
            self.workers_key,
        ]

    def _lease_key(self, worker: str) -> str:
        return f"{self.prefix}:lease:{worker}"

    def _renew(self) -> None:
        self.server.set(self._lease_key(self.worker), "1", px=int(self.lease_s * 1000))

    def _keep_lease(self) -> None:
        while not self._leaving.wait(self.lease_s / 3):
            try:
                self._renew()
            except Exception as exc:  # noqa: BLE001 - a Redis hiccup must not end the renewals
                logger.warning("frontier %s: lease renewal failed: %s", self.prefix, exc)

    def _recover(self) -> None:
        try:
            self.requeue_dead()
        except Exception as exc:  # noqa: BLE001 - nor stop the event loop's checks
            logger.warning("frontier %s: requeue check failed: %s", self.prefix, exc)


class FrontierAckMiddleware:
    """Tells the frontier when a response's callback has run to its end (all its items passed the pipelines)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> FrontierAckMiddleware:
        return cls(crawler)

    def _done(self, response: Any) -> None:
        frontier = getattr(self.crawler, "trendcart_frontier", None)
        if frontier is not None and response.request is not None:
            frontier.done(response.request)

    def process_spider_output(
        self, response: Any, result: Iterable[Any], spider: Any = None
    ) -> Iterator[Any]:
        yield from result
        self._done(response)

    async def process_spider_output_async(
        self, response: Any, result: AsyncIterator[Any], spider: Any = None
    ) -> AsyncIterator[Any]:
        async for value in result:
            yield value
        self._done(response)


def stored(crawler: Any, written: int) -> None:
    """Announce a write to the store: `written` of the items handed to the IndexPipeline are written."""
    crawler.signals.send_catch_log(signal=items_stored, written=written)


__all__ = [
    "FrontierAddon",
    "FrontierScheduler",
    "FrontierAckMiddleware",
    "frontier_url",
    "items_stored",
    "stored",
]
