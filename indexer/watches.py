"""Saved watches: queries over trend rankings kept beside a store, checked for breakouts (docs/ALERTS.md)."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from crawler.times import iso_utc, parse_iso
from indexer.alerts import Alert
from indexer.batch_search import SearchRequest, search_many, search_one
from indexer.models import floor_from_env
from indexer.querytext import clean_query
from indexer.store import Hit, SearchMode, Store
from indexer.trend_cache import TrendCache, gc_paused
from indexer.trend_query import QUERY_HITS, creator_keys, row_members
from indexer.trends import TrendBy, TrendEngine, TrendReport, TrendResult, parse_window

DEFAULT_TOP = 10
DEFAULT_WINDOW = "24h"
# A breakout stays "out" (no second alert) until its row falls below the top RELEASE_FACTOR × N of the
# watch, below the min score, or out of the ranking: a row that wobbles between #10 and #11 alerts once.
RELEASE_FACTOR = 2
# The alert history kept in the watch file (oldest dropped first): reports and the API read the recent ones.
MAX_ALERTS_KEPT = 10_000
# Names are what `watch rm` and the API take: short, printable.
MAX_NAME = 80

_SCHEMA = """
CREATE TABLE IF NOT EXISTS watches (
    name TEXT PRIMARY KEY, query TEXT NOT NULL, by_ TEXT NOT NULL, platform TEXT, min_score REAL,
    top INTEGER NOT NULL, window TEXT NOT NULL, created_at TEXT NOT NULL, checked_at TEXT
);
CREATE TABLE IF NOT EXISTS members (
    watch TEXT NOT NULL, key TEXT NOT NULL, rank INTEGER, score REAL, out INTEGER NOT NULL,
    PRIMARY KEY (watch, key)
);
CREATE TABLE IF NOT EXISTS alerts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
    body TEXT NOT NULL, delivery TEXT
);
CREATE INDEX IF NOT EXISTS alerts_at ON alerts (at);
CREATE TABLE IF NOT EXISTS health_state (key TEXT PRIMARY KEY, since TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS query_vectors (
    model TEXT NOT NULL, query TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, query)
);
"""


class WatchError(ValueError):
    """A watch that cannot be added or found (a duplicate name, a bad window, no such watch)."""


class WatchFileError(Exception):
    """The watch file cannot be opened or written (its reason in the message)."""


@dataclass
class SavedWatch:
    """A saved query over a trend ranking: `by` rows like `query`, on `platform`, in `window`; a row breaks
    out when it enters the watch's `top` with at least `min_score`."""

    name: str
    query: str
    by: str = TrendBy.product.value
    platform: str | None = None
    min_score: float | None = None
    top: int = DEFAULT_TOP
    window: str = DEFAULT_WINDOW
    created_at: str = ""
    checked_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "query": self.query,
            "by": self.by,
            "platform": self.platform,
            "min_score": self.min_score,
            "top": self.top,
            "window": self.window,
            "created_at": self.created_at,
            "checked_at": self.checked_at,
        }

    def check(self) -> SavedWatch:
        """Itself, or WatchError naming what is wrong."""
        if not clean_query(self.query):
            raise WatchError("a watch needs a query with something to search")
        if not self.name.strip() or len(self.name) > MAX_NAME or not self.name.isprintable():
            raise WatchError(f"a watch name is 1 to {MAX_NAME} printable characters, got {self.name!r}")
        try:
            TrendBy(self.by)
            parse_window(self.window)
        except ValueError as exc:
            raise WatchError(str(exc)) from None
        if self.top < 1:
            raise WatchError("--top must be at least 1")
        return self


@dataclass
class WatchRow:
    """One row of a watch's ranking with its standing before this check."""

    result: TrendResult
    qualifies: bool  # in the top N with at least the min score
    previous_rank: int | None
    previous_score: float | None
    breakout: bool
    # Broken out (alerted, or noted at the baseline) and not yet released: no new alert while it holds.
    held: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            **self.result.to_json(),
            "qualifies": self.qualifies,
            "previous_rank": self.previous_rank,
            "previous_score": self.previous_score,
            "breakout": self.breakout,
        }


@dataclass
class WatchCheck:
    """One watch checked once: its rows (top N first, then the rest of the tracked depth), its breakouts."""

    watch: SavedWatch
    at: str
    rows: list[WatchRow] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    baseline: bool = False  # the watch's first check: its rows are noted, not alerted

    def to_json(self) -> dict[str, Any]:
        return {
            "watch": self.watch.to_json(),
            "at": self.at,
            "baseline": self.baseline,
            "rows": [r.to_json() for r in self.rows if r.qualifies],
            "breakouts": [a.to_json() for a in self.alerts],
        }


class WatchBook:
    """The watch file beside a store (SQLite): the watches, each one's rows at its last check, the alert
    history (breakouts and crawl-health alerts), the open health episodes and the queries' vectors."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(self.path), timeout=30)
            self.db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise WatchFileError(f"cannot open the watch file {self.path}: {exc}") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> WatchBook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- watches ------------------------------------------------------------------------------------
    def add(self, watch: SavedWatch) -> SavedWatch:
        watch.check()
        try:
            with self.db:
                self.db.execute(
                    "INSERT INTO watches (name, query, by_, platform, min_score, top, window, created_at) "
                    "VALUES (?,?,?,?,?,?,?,?)",
                    (
                        watch.name,
                        watch.query,
                        watch.by,
                        watch.platform,
                        watch.min_score,
                        watch.top,
                        watch.window,
                        watch.created_at,
                    ),
                )
        except sqlite3.IntegrityError:
            raise WatchError(f"a watch named {watch.name!r} exists: choose another --name") from None
        return watch

    def watches(self) -> list[SavedWatch]:
        rows = self.db.execute(
            "SELECT name, query, by_, platform, min_score, top, window, created_at, checked_at FROM watches "
            "ORDER BY created_at, name"
        )
        return [SavedWatch(*row) for row in rows]

    def get(self, name: str) -> SavedWatch:
        found = [w for w in self.watches() if w.name == name]
        if not found:
            known = ", ".join(w.name for w in self.watches()) or "none yet"
            raise WatchError(f"no watch named {name!r} (watches: {known})")
        return found[0]

    def remove(self, name: str) -> SavedWatch:
        watch = self.get(name)
        with self.db:
            self.db.execute("DELETE FROM watches WHERE name = ?", (name,))
            self.db.execute("DELETE FROM members WHERE watch = ?", (name,))
        return watch

    def mark_checked(self, name: str, at: str) -> None:
        """Record a check with no rows (a watch added before its store exists: an empty baseline)."""
        with self.db:
            self.db.execute("UPDATE watches SET checked_at = ? WHERE name = ?", (at, name))

    # -- a watch's rows at its last check --------------------------------------------------------------
    def members(self, name: str) -> dict[str, tuple[int | None, float | None, bool]]:
        rows = self.db.execute("SELECT key, rank, score, out FROM members WHERE watch = ?", (name,))
        return {key: (rank, score, bool(out)) for key, rank, score, out in rows}

    def save_checks(self, checks: Sequence[WatchCheck]) -> None:
        """Each watch's rows and check time, all in one transaction."""
        with self.db:
            for check in checks:
                self.db.execute("DELETE FROM members WHERE watch = ?", (check.watch.name,))
                self.db.executemany(
                    "INSERT INTO members (watch, key, rank, score, out) VALUES (?,?,?,?,?)",
                    [
                        (check.watch.name, r.result.key, r.result.rank, r.result.score, int(r.held))
                        for r in check.rows
                    ],
                )
                self.db.execute(
                    "UPDATE watches SET checked_at = ? WHERE name = ?", (check.at, check.watch.name)
                )

    # -- the alert history -------------------------------------------------------------------------------
    def record_alerts(self, alerts: Sequence[Alert]) -> list[int]:
        """Append alerts to the history; their sequence numbers."""
        seqs = []
        with self.db:
            for alert in alerts:
                cur = self.db.execute(
                    "INSERT INTO alerts (at, kind, key, body) VALUES (?,?,?,?)",
                    (alert.at, alert.kind, alert.key, json.dumps(alert.to_json(), ensure_ascii=False)),
                )
                seqs.append(int(cur.lastrowid or 0))
            self.db.execute(
                "DELETE FROM alerts WHERE seq <= (SELECT MAX(seq) FROM alerts) - ?", (MAX_ALERTS_KEPT,)
            )
        return seqs

    def record_delivery(self, seqs: Sequence[int], delivery: Mapping[str, Any]) -> None:
        with self.db:
            self.db.executemany(
                "UPDATE alerts SET delivery = ? WHERE seq = ?", [(json.dumps(delivery), s) for s in seqs]
            )

    def alerts(
        self, since: str | datetime | None = None, kind: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """The recent alerts, newest first: Alert.to_json with `seq` and `delivery` (None before delivery)."""
        where, params = ["1=1"], []
        if since is not None:
            where.append("at >= ?")
            params.append(iso_utc(since) if isinstance(since, datetime) else str(since))
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        rows = self.db.execute(
            f"SELECT seq, body, delivery FROM alerts WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ?",
            [*params, int(limit)],
        )
        return [
            {"seq": seq, **json.loads(body), "delivery": json.loads(delivery) if delivery else None}
            for seq, body, delivery in rows
        ]

    # -- open health episodes ------------------------------------------------------------------------------
    def open_episodes(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, since FROM health_state"))

    def set_episodes(self, opened: Mapping[str, str], closed: Iterable[str]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO health_state (key, since) VALUES (?,?)", list(opened.items())
            )
            self.db.executemany("DELETE FROM health_state WHERE key = ?", [(k,) for k in closed])

    # -- query vectors ----------------------------------------------------------------------------------
    def query_vector(self, model: str, query: str) -> np.ndarray | None:
        row = self.db.execute(
            "SELECT vector FROM query_vectors WHERE model = ? AND query = ?", (model, query)
        ).fetchone()
        return None if row is None else np.frombuffer(row[0], dtype=np.float32)

    def save_query_vector(self, model: str, query: str, vector: Any) -> None:
        blob = np.asarray(vector, dtype=np.float32).tobytes()
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO query_vectors (model, query, vector) VALUES (?,?,?)",
                (model, query, blob),
            )


# -- evaluation --------------------------------------------------------------------------------------
QueryVector = Callable[[str], Any]


class HitIndex:
    """Search hits indexed by what they name (linked products, creator keys, hashtags), so that the hits
    standing for a ranked row are found without scanning them all: the rule of trend_query._matches."""

    def __init__(self, hits: Sequence[Hit]) -> None:
        self.ids = [h.id for h in hits]
        self.scores = {h.id: h.score for h in hits}
        self.refs: dict[str, list[int]] = {}
        self.creators: dict[str, list[int]] = {}
        self.tags: dict[str, list[int]] = {}
        for i, hit in enumerate(hits):
            doc = hit.doc
            refs = {r.get("id") or r.get("url") for r in doc.get("products") or [] if isinstance(r, dict)}
            tags = {str(t).strip().lower() for t in doc.get("hashtags") or []}
            for table, keys in ((self.refs, refs), (self.creators, creator_keys(doc)), (self.tags, tags)):
                for key in keys:
                    if key:
                        table.setdefault(key, []).append(i)

    def related(self, result: TrendResult) -> list[str]:
        """The ids of the hits that stand for `result`, in the order trend_query._matches gives them."""
        own = row_members(result) if result.by == "product" else set()
        found = [k for k in [result.key, *sorted(own - {result.key})] if k in self.scores]
        positions: set[int] = set()
        if result.by == "product":
            positions = {i for member in own for i in self.refs.get(member, ())}
        elif result.by == "creator":
            positions = set(self.creators.get(result.key.strip().lower().lstrip("@"), ()))
            if result.title:
                positions |= set(self.creators.get(result.title.strip().lower(), ()))
        elif result.by == "hashtag":
            positions = set(self.tags.get(result.key, ()))
        seen = set(found)
        return found + [self.ids[i] for i in sorted(positions) if self.ids[i] not in seen]

    @property
    def names(self) -> set[str]:
        """Every key a hit names: its id, linked products, creator keys, hashtags."""
        return set(self.scores) | set(self.refs) | set(self.creators) | set(self.tags)


def row_names(results: Sequence[TrendResult]) -> dict[str, list[int]]:
    """For a ranking: each name a hit could match (a row's key, a creator row's key and title as creator
    keys, a canonical product's members) -> the positions of the rows it may stand for."""
    names: dict[str, list[int]] = {}
    for i, result in enumerate(results):
        canonical = result.extra.get("canonical")
        keys = {result.key, *((canonical.get("members") or []) if isinstance(canonical, dict) else [])}
        keys |= {result.key.strip().lower().lstrip("@"), (result.title or "").strip().lower()}
        for key in keys:
            if key:
                names.setdefault(key, []).append(i)
    return names


def related_rows(
    results: Sequence[TrendResult],
    hits: Sequence[Hit],
    limit: int,
    names: Mapping[str, list[int]] | None = None,
    index: HitIndex | None = None,
) -> list[TrendResult]:
    """indexer.trend_query.narrow over a whole ranking at once: the rows related to the hits, in ranking
    order, each with `query` {hits, best_score}, ranks renumbered. Only the rows a hit names are tested
    (`names`: row_names of `results`, computed once per ranking), each against indexed hits (`index`:
    HitIndex of `hits`, made here when not given)."""
    index = HitIndex(hits) if index is None else index
    names = row_names(results) if names is None else names
    candidates = sorted({i for name in index.names for i in names.get(name, ())})
    kept: list[TrendResult] = []
    for result in (results[i] for i in candidates):
        related = index.related(result)
        if related:
            best = max(index.scores[i] for i in related)
            extra = {**result.extra, "query": {"hits": related[:10], "best_score": best}}
            kept.append(replace(result, extra=extra, rank=len(kept) + 1))
            if len(kept) >= limit:
                break
    return kept


RankingKey = tuple[str, str | None, str]


def ranking_key(watch: SavedWatch) -> RankingKey:
    """Watches with the same key share one ranking: by, platform, window."""
    return (watch.by, watch.platform, watch.window)


class Evaluator:
    """Checks watches against one store as of `now`: each ranking (by, platform, window) is computed once
    however many watches share it, and each query's vectors come from `query_vector` (cached by the caller:
    a vector, or the pair hybrid search ranks and floors by, indexer.workflows.watches.query_vectors).
    Its rankings share one TrendCache (documents and snapshots read once). After `prepare(watches)`, each
    ranking scores only the rows their hits name (TrendEngine.trending restrict_to: the same rows)."""

    def __init__(
        self,
        store: Store,
        now: datetime,
        query_vector: QueryVector | None = None,
        engine: TrendEngine | None = None,
        cache: TrendCache | None = None,
    ) -> None:
        """`engine`: rank with this one instead of a TrendEngine on `cache` (default: one of its own)."""
        self.store, self.now = store, now
        self.query_vector = query_vector
        # The rankings' cache when they use one: the hits' documents go into it (TrendCache.add_docs).
        self.cache = None if engine is not None else (cache or TrendCache(store))
        self.engine = engine or TrendEngine(store, now=now, cache=self.cache)
        self._rankings: dict[RankingKey, TrendReport] = {}
        self._hits: dict[str, list[Hit]] = {}
        self._indexes: dict[str, HitIndex] = {}
        self._restrict: dict[RankingKey, set[str]] = {}
        self._names: dict[tuple[str, str | None, str], dict[str, list[int]]] = {}
        self._floor = floor_from_env(os.environ)
        self._has_vectors = store.model_info() is not None
        self.timings = {"rankings_s": 0.0, "searches_s": 0.0, "matching_s": 0.0}  # where the time went

    def prepare(self, watches: Sequence[SavedWatch]) -> None:
        """Search every watch's query now, in one batch (batch_search.search_many: the hits each search
        gives alone), so that each ranking is computed once for the names all its watches' hits give
        (HitIndex.names) instead of for every entity in the store. Meanwhile (while the store's helper
        process reads the queries' phrases) the rankings' cache reads what they rank (TrendEngine.warm),
        and the hits take their documents from it: each document is read once."""
        queries = [q for q in dict.fromkeys(clean_query(w.query) for w in watches) if q not in self._hits]
        requests = [self._request(q) for q in queries]
        warmed = 0.0

        def warm() -> None:  # the rankings' reads, while the store's helper reads the searches' phrases
            nonlocal warmed
            began = time.perf_counter()
            for by, platform, window in dict.fromkeys(ranking_key(w) for w in watches):
                self.engine.warm(by, window, platform=platform)
            warmed = time.perf_counter() - began

        start = time.perf_counter()
        cache = self.cache
        found = search_many(
            self.store,
            requests,
            warm if cache is not None else None,
            cache.held if cache is not None else None,  # the hits' documents the warm-up read already
        )
        self.timings["searches_s"] += time.perf_counter() - start - warmed
        self.timings["rankings_s"] += warmed
        self._hits.update(zip(queries, found, strict=True))
        for watch in watches:
            names = self.hit_index(watch).names
            self._restrict.setdefault(ranking_key(watch), set()).update(names)
        if self.cache is not None:  # read once: the rankings need most of the hits' documents too
            self.cache.add_docs(hit.doc for hits in self._hits.values() for hit in hits)

    def ranking(self, watch: SavedWatch) -> TrendReport:
        key = ranking_key(watch)
        if key not in self._rankings:
            start = time.perf_counter()
            restrict = {"restrict_to": self._restrict[key]} if key in self._restrict else {}
            self._rankings[key] = self.engine.trending(
                by=watch.by, window=watch.window, limit=0, platform=watch.platform, **restrict
            )
            self._names[key] = row_names(self._rankings[key].results)
            self.timings["rankings_s"] += time.perf_counter() - start
        return self._rankings[key]

    def hit_index(self, watch: SavedWatch) -> HitIndex:
        """HitIndex of the watch's hits, made once per query (prepare and check both read it)."""
        query = clean_query(watch.query)
        if query not in self._indexes:
            self._indexes[query] = HitIndex(self.hits(watch))
        return self._indexes[query]

    def hits(self, watch: SavedWatch) -> list[Hit]:
        query = clean_query(watch.query)
        if query in self._hits:
            return self._hits[query]
        request = self._request(query)  # its vectors (maybe embedded now) are not the search's time
        start = time.perf_counter()
        found = search_one(self.store, request)
        self.timings["searches_s"] += time.perf_counter() - start
        self._hits[query] = found
        return found

    def _request(self, query: str) -> SearchRequest:
        """A watch query's search: hybrid with the query's vector (keyword without one), QUERY_HITS deep."""
        found = self.query_vector(query) if self._has_vectors and self.query_vector is not None else None
        # A pair (ranking vector, floor vector: indexer.search.query_vectors) or a vector alone.
        vector, floor = found if isinstance(found, tuple) else (found, None)
        mode = SearchMode.hybrid if vector is not None else SearchMode.keyword
        return SearchRequest(query, vector, mode, None, QUERY_HITS, self._floor, floor)

    def check(
        self, watch: SavedWatch, previous: Mapping[str, tuple[int | None, float | None, bool]]
    ) -> WatchCheck:
        """The watch's rows now and its breakouts against `previous` (WatchBook.members): see breakout_rows."""
        depth = watch.top * RELEASE_FACTOR
        ranking, hits = self.ranking(watch), self.hits(watch)
        start = time.perf_counter()
        names = self._names[ranking_key(watch)]
        rows = related_rows(ranking.results, hits, depth, names, self.hit_index(watch))
        self.timings["matching_s"] += time.perf_counter() - start
        at = iso_utc(self.now)
        check = WatchCheck(watch=watch, at=at, baseline=watch.checked_at is None)
        for result in rows:
            qualifies = result.rank <= watch.top and (
                watch.min_score is None or result.score >= watch.min_score
            )
            before = previous.get(result.key)
            was_out = bool(before and before[2])
            breakout = qualifies and not was_out and not check.baseline
            # Held from when it qualifies until it falls below the tracked depth (then it is not kept here
            # at all) or under the min score.
            held = qualifies or (was_out and (watch.min_score is None or result.score >= watch.min_score))
            row = WatchRow(
                result,
                qualifies,
                before[0] if before else None,
                before[1] if before else None,
                breakout,
                held,
            )
            check.rows.append(row)
            if breakout:
                check.alerts.append(breakout_alert(watch, row, at, self.ranking(watch).metric))
        return check


def breakout_alert(watch: SavedWatch, row: WatchRow, at: str, metric: str = "views") -> Alert:
    """The alert of one breakout, its message saying the numbers (docs/ALERTS.md "Breakouts")."""
    r, c = row.result, row.result.components
    numbers = [f"score {r.score:.2f}" + (f" ≥ {watch.min_score:g}" if watch.min_score is not None else "")]
    if c.get("velocity") is not None:
        numbers.append(f"{c['velocity']:,.0f} {metric}/h")
    if c.get("growth") is not None:
        numbers.append(f"growth {c['growth'] * 24 * 100:+,.0f} %/day")
    if c.get("acceleration") is not None:
        numbers.append(f"acceleration {c['acceleration'] * 100:+,.0f} %")
    if c.get("creators") is not None:
        numbers.append(f"{c['creators']} creators")
    if row.previous_rank is None:
        before = "not in its ranking at the last check"
    elif row.previous_rank > watch.top:
        before = f"#{row.previous_rank} at the last check"
    else:
        before = f"#{row.previous_rank} with score {row.previous_score:.2f} at the last check"
    where = f"{watch.by}s" + (f" on {watch.platform}" if watch.platform else "")
    title = (r.title or r.key)[:80]
    message = (
        f"watch {watch.name!r} ({where} like {watch.query!r}, {watch.window}): {title} broke out at "
        f"#{r.rank} of the top {watch.top} ({', '.join(numbers)}); {before}"
    )
    detail = {
        "watch": watch.name,
        "query": watch.query,
        "by": watch.by,
        "platform": watch.platform,
        "window": watch.window,
        "top": watch.top,
        "min_score": watch.min_score,
        "row": r.to_json(),
        "previous_rank": row.previous_rank,
        "previous_score": row.previous_score,
    }
    return Alert(kind="breakout", key=f"watch:{watch.name}:{r.key}", at=at, message=message, detail=detail)


def check_watches(
    store: Store,
    book: WatchBook,
    now: datetime,
    query_vector: QueryVector | None,
    names: Sequence[str] | None = None,
    timings: dict[str, float] | None = None,
    cache: TrendCache | None = None,
) -> list[WatchCheck]:
    """Check every watch (or the named ones) and save each one's rows: the breakouts are in the checks'
    `alerts` (not yet recorded or delivered: indexer.workflows.watches does that). `timings` gets the
    seconds spent ranking, searching and matching. `cache`: the TrendCache to rank from (default: one of
    its own; the caller may rank more from it while `store` is open)."""
    watches = [book.get(n) for n in names] if names else book.watches()
    evaluator = Evaluator(store, now, query_vector, cache=cache)
    checks = []
    with gc_paused():  # the rankings share one cache of every active document: no collector walks over it
        evaluator.prepare(watches)
        for watch in watches:
            checks.append(evaluator.check(watch, book.members(watch.name)))
    book.save_checks(checks)
    if timings is not None:
        timings.update({k: round(v, 3) for k, v in evaluator.timings.items()})
    return checks


def parse_time(value: str | datetime) -> datetime:
    parsed = parse_iso(value) if isinstance(value, str) else value
    if parsed is None:
        raise WatchError(f"not an ISO 8601 time: {value!r}")
    return parsed
