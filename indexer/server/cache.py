"""Rankings remembered until the store changes: a SQLite store's files (size, mtime) are its version."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from indexer.stores import StoreSpec

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
    version = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            version.append(None)
            continue
        version.append((stat.st_size, stat.st_mtime_ns))
    return tuple(version)


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
