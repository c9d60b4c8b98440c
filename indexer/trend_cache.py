"""What the trend rankings of one evaluation share: documents, window stats and member observations."""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.times import iso_utc
from indexer.store import BulkWindowStats, Store
from indexer.stores import StoreSpec

Window = tuple[datetime, datetime]


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a bulk load builds many dicts (it would walk every one of
    them again and again: about half the time of decoding 100k documents), restored afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class TrendCache:
    """Made for one evaluation (a watch check after a crawl, a report) and dropped after it: every ranking
    computed with it reads each document and each window's snapshots from the store once. It never sees
    writes made after it loaded something, so it must not outlive the evaluation."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._docs: dict[str, dict[str, Any]] = {}
        self._missing: set[str] = set()
        self._bulk: dict[tuple[Any, ...], list[dict[str, dict[str, Any]]]] = {}
        self._stats: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._scans: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        self.memo: dict[tuple[Any, ...], Any] = {}  # (what, ...) -> a value computed from cached data

    def docs(self, ids: Iterable[str], convert: Callable[[Any], dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The documents of these ids that exist, by id, in the order of `ids` (`convert` turns what the store
        returns into a dict)."""
        wanted = list(dict.fromkeys(ids))
        todo = [i for i in wanted if i not in self._docs and i not in self._missing]
        if todo:
            with gc_paused():  # one call: each store pages its own reads (SQLite may scan the table)
                found = self.store.get_many(todo)
                values = found.values() if isinstance(found, dict) else found
                for doc in (convert(d) for d in values if d is not None):
                    if doc.get("id"):
                        self._docs[doc["id"]] = doc
                self._missing.update(i for i in todo if i not in self._docs)
        return {i: self._docs[i] for i in wanted if i in self._docs}

    def held(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The documents of these ids read already (no store read): a batch of searches takes its hits'
        documents from here (indexer.batch_search.search_many `documents`)."""
        return {i: self._docs[i] for i in ids if i in self._docs}

    def add_docs(self, docs: Iterable[dict[str, Any]]) -> None:
        """Keep documents this evaluation already read from the store (search hits' `doc`: what get_many
        gives), so that docs() does not read and decode them again; a document held already stays."""
        for doc in docs:
            doc_id = doc.get("id") if isinstance(doc, dict) else None
            if doc_id and doc_id not in self._docs:
                self._docs[doc_id] = doc
                self._missing.discard(doc_id)

    def window_stats(
        self, metric: str, windows: tuple[Window, ...], index: int, kind: str, platform: str | None
    ) -> dict[str, Any]:
        """store.window_stats(metric, *windows[index], kind=kind, platform=platform), from one bulk query for
        all the windows and kinds where the store has one (window_stats_by_kind), else one call each."""
        spans = tuple((iso_utc(a), iso_utc(b)) for a, b in windows)
        if isinstance(self.store, BulkWindowStats):
            bulk = self.store.window_stats_by_kind
            key = (metric, spans, platform)
            if key not in self._bulk:
                with gc_paused():
                    self._bulk[key] = bulk(metric, list(spans), platform=platform)
            return dict(self._bulk[key][index].get(kind, {}))
        key = (metric, spans[index], kind, platform)
        if key not in self._stats:
            start, end = spans[index]
            self._stats[key] = dict(self.store.window_stats(metric, start, end, kind=kind, platform=platform))
        return dict(self._stats[key])

    def scan(
        self, key: tuple[Any, ...], load: Callable[[], Iterable[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """The documents `load` yields (a store.iter_documents scan), read once per `key`."""
        if key not in self._scans:
            with gc_paused():
                self._scans[key] = list(load())
        return self._scans[key]


# -- the dashboard's rankings, computed when the data changes (never inside a page request) ----------------
DASHBOARD_FILE = "dashboard.json"
# The rankings the dashboard's main page shows (by, window, metric) and how many rows each keeps.
DASHBOARD_RANKINGS = (("product", "24h", "views"),)
DASHBOARD_ROWS = 20


def dashboard_key(by: str, window: str, metric: str) -> str:
    return f"{by}/{window}/{metric}"


def dashboard_path(spec: StoreSpec) -> Path:
    """The snapshot file beside the store, where the crawl log is: `<db>.dashboard.json`, or
    `dashboard.json` in a store's folder (./trendcart-data/ for an Elasticsearch store)."""
    return spec.beside(DASHBOARD_FILE)


def file_state(paths: Sequence[Path]) -> list[Any]:
    """(size, mtime_ns) of each file, None where there is none."""
    out: list[Any] = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            out.append(None)
            continue
        out.append([stat.st_size, stat.st_mtime_ns])
    return out


def data_state(spec: StoreSpec, store: Store | None = None, extra: Sequence[Path] = ()) -> list[Any]:
    """What the rankings are a function of, cheaply. SQLite: the (size, mtime_ns) of the database and of a
    non-empty write-ahead log (an empty one, made or removed as connections open and close, is none; reads
    never change either). A server store (`store` open on it): its counts and observation span
    (store.stats; a value changed in place is seen only when those move). Then `extra` files (the product
    file)."""
    if spec.path is not None:
        wal = file_state([Path(f"{spec.path}-wal")])[0]
        own = [file_state([spec.path])[0], wal if wal and wal[0] > 0 else None]
    else:
        assert store is not None, "a server store's state is read through an open store"
        stats = store.stats()
        own = [stats.documents, stats.vectors, stats.snapshots, stats.first_observed, stats.last_observed]
    return [own, file_state(extra)]


def read_dashboard(path: Path) -> dict[str, Any] | None:
    """The snapshot written by write_dashboard, or None (none yet, or unreadable: it is recomputed)."""
    try:
        snapshot = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return snapshot if isinstance(snapshot, dict) and isinstance(snapshot.get("rankings"), dict) else None


def write_dashboard(path: Path, snapshot: dict[str, Any]) -> None:
    """Write the snapshot whole or not at all (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(snapshot, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
