"""Rankings remembered until the store changes (a SQLite store's files are its version), the warm stores
of searches, and the dashboard's rankings served from their snapshot."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from crawler.times import iso_utc, parse_iso, utc_now
from indexer.store import Store
from indexer.stores import StoreSpec
from indexer.trend_cache import (
    DASHBOARD_RANKINGS,
    dashboard_key,
    dashboard_path,
    data_state,
    file_state,
    read_dashboard,
)

LOG = logging.getLogger(__name__)

# Distinct rankings kept (window, platform, query, now, ...): the dashboard's few, with room for the API's.
CACHE_SIZE = 64
# The files whose change means new data: the database, its write-ahead log, and the product file beside it.
SUFFIXES = ("", "-wal")


def store_version(spec: StoreSpec, extra: tuple[Path, ...] = ()) -> tuple | None:
    """(size, mtime_ns) of each file of a SQLite store (and `extra` files); None for a server store, whose
    changes cannot be seen this cheaply (nothing is cached for it)."""
    if spec.path is None:
        return None
    files = [Path(f"{spec.path}{suffix}") for suffix in SUFFIXES] + list(extra)
    return tuple(None if state is None else tuple(state) for state in file_state(files))  # hashable: a key


class ResultCache:
    """LRU of computed results by (key, store version); thread-safe; a miss computes outside the lock."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, version: tuple | None, compute: Callable[[], Any]) -> Any:
        if version is None:
            return compute()
        full = (key, version)
        with self._lock:
            if full in self._items:
                self._items.move_to_end(full)
                self.hits += 1
                return self._items[full]
        value = compute()
        with self._lock:
            self.misses += 1
            self._items[full] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


class WarmStores:
    """One open store per (spec, model) for the server's searches, kept open between requests so that its
    vector side (the exact matrix or the ANN index, kept current through the vector log) stays loaded:
    opening a 100k store per request read the ANN index file again each time. A SQLite file replaced on
    disk (another inode) is opened again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stores: dict[tuple[StoreSpec, str | None], tuple[Any, Store]] = {}

    def get(self, spec: StoreSpec, model_name: str | None) -> Store | None:
        """The warm store, or None when there is no store yet (the caller's open says so)."""
        if not spec.exists():
            return None
        identity = None
        if spec.path is not None:
            try:
                stat = spec.path.stat()
            except OSError:
                return None
            identity = (stat.st_dev, stat.st_ino)
        key = (spec, model_name)
        with self._lock:
            held = self._stores.get(key)
            if held is not None and held[0] == identity:
                return held[1]
            store = spec.open(model_name)  # a replaced store is dropped, not closed: a request may hold it
            self._stores[key] = (identity, store)
            return store


WARM_STORES = WarmStores()

# The first ranking of a store without a snapshot: a page waits this long for it, then says it is coming.
FIRST_WAIT_S = 10.0
# A snapshot of an unchanged store is ranked again (in the background) once it is this old.
MAX_AGE = timedelta(hours=1)


class DashboardRankings:
    """The dashboard's main-page rankings served from the snapshot beside the store (indexer.trend_cache,
    written after each crawl, index, scheduled run or live-watch batch): a page never ranks. When the
    store's data state differs from the snapshot's (or it is over MAX_AGE old), the last snapshot is
    served, marked `stale`, while one background thread ranks again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._snapshots: dict[Path, tuple[Any, dict[str, Any] | None]] = {}  # path -> (file state, read)
        self.rankings_started = 0
        self.last_error: str | None = None

    def report(
        self,
        spec: StoreSpec,
        model_name: str | None,
        by: str,
        window: str,
        metric: str,
        now: datetime,
        explicit: bool = False,
    ) -> dict[str, Any] | None:
        """The ranking of the snapshot with `ranked_at`, `stale` and `pending`, or None where the snapshot
        does not hold it (another ranking: the caller ranks it as before). `explicit`: `now` was asked
        for, so only a fresh snapshot ranked as of exactly `now` answers."""
        key = dashboard_key(by, window, metric)
        if key not in {dashboard_key(*r) for r in DASHBOARD_RANKINGS}:
            return None
        snapshot = self._snapshot(spec, model_name)
        if explicit:
            if snapshot is None or snapshot.get("as_of") != iso_utc(now):
                return None
            if snapshot.get("state") != self._state(spec, model_name):
                return None
            report = snapshot["rankings"].get(key)
            return None if report is None else {**report, "ranked_at": snapshot.get("ranked_at"),
                                                "stale": False, "pending": False}  # fmt: skip
        if snapshot is None:
            self._start(spec, model_name, now)
            with self._lock:
                thread = self._thread
            if thread is not None:
                thread.join(FIRST_WAIT_S)
            snapshot = self._snapshot(spec, model_name)
            if snapshot is None:
                return None if self.last_error else self._pending(by, window, metric, now)
        fresh = snapshot.get("state") == self._state(spec, model_name)
        ranked = parse_iso(snapshot.get("ranked_at") or "")
        if ranked is None or utc_now() - ranked > MAX_AGE:
            fresh = False
        if not fresh:
            self._start(spec, model_name, now)
        report = snapshot["rankings"].get(key)
        if report is None:
            return None
        return {**report, "ranked_at": snapshot.get("ranked_at"), "stale": not fresh, "pending": False}

    def _pending(self, by: str, window: str, metric: str, now: datetime) -> dict[str, Any]:
        return {
            "by": by, "window": window, "metric": metric, "now": iso_utc(now), "considered": 0,
            "results": [], "ranked_at": None, "stale": True, "pending": True,
        }  # fmt: skip

    def _snapshot(self, spec: StoreSpec, model_name: str | None) -> dict[str, Any] | None:
        path = dashboard_path(spec)
        state = file_state([path])
        with self._lock:
            held = self._snapshots.get(path)
            if held is not None and held[0] == state:
                return held[1]
        snapshot = read_dashboard(path)
        store = WARM_STORES.get(spec, model_name)
        if snapshot is not None and (store is None or snapshot.get("store") != repr(store)):
            snapshot = None  # ./trendcart-data/ is shared by every server store: another store's snapshot
        with self._lock:
            self._snapshots[path] = (state, snapshot)
        return snapshot

    def _state(self, spec: StoreSpec, model_name: str | None) -> Any:
        """The store's data state now (trend_cache.data_state: a few stat calls for SQLite)."""
        from indexer.workflows.products import book_path

        store = WARM_STORES.get(spec, model_name) if spec.path is None else None
        return data_state(spec, store, (book_path(spec),))

    def _start(self, spec: StoreSpec, model_name: str | None, now: datetime) -> None:
        """Rank again in a background thread, unless one is ranking already."""
        from indexer.workflows.watches import rank_dashboard

        def run() -> None:
            try:
                rank_dashboard(spec, now, model_name)
                self.last_error = None
            except Exception as exc:  # noqa: BLE001 - a page says what it has; the log says why
                self.last_error = f"{type(exc).__name__}: {exc}"
                LOG.warning("dashboard ranking failed: %s", self.last_error)

        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self.rankings_started += 1
            self._thread = threading.Thread(target=run, name="dashboard-ranking", daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the background ranking, if one runs (tests, benchmarks)."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)


DASHBOARD = DashboardRankings()
