"""Saved watches and alerts as one call each: add / list / remove / check, and evaluate_after_run after crawls."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.times import iso_utc, utc_now
from indexer.alerts import Alert, AlertConfig, AlertConfigError, Delivery, config_from_env, deliver
from indexer.health import HealthReport, health, health_alerts, read_runs
from indexer.store import SearchMode, Store
from indexer.stores import StoreSpec
from indexer.trend_cache import TrendCache, gc_paused
from indexer.watches import (
    DEFAULT_TOP,
    DEFAULT_WINDOW,
    SavedWatch,
    WatchBook,
    WatchCheck,
    WatchError,
    WatchFileError,
    check_watches,
)
from indexer.workflows.errors import BadInput, BadRequest, NothingFound
from indexer.workflows.opening import opened

WATCHES_FILE = "watches.sqlite"
OnAlert = Callable[[Alert], None]


def watch_book_path(spec: StoreSpec) -> Path:
    """The watch file beside the store, where the crawl log is: `<db>.watches.sqlite`, or `watches.sqlite`
    in a store's folder (./trendcart-data/ for an Elasticsearch store)."""
    return spec.beside(WATCHES_FILE)


@contextmanager
def watch_book(spec: StoreSpec) -> Iterator[WatchBook]:
    try:
        book = WatchBook(watch_book_path(spec))
    except WatchFileError as exc:
        raise BadInput(str(exc)) from exc
    try:
        yield book
    finally:
        book.close()


def query_vectors(
    book: WatchBook, store: Store, embedder: Any = None
) -> Callable[[str], tuple[Any, Any | None] | None]:
    """The vectors of a watch's query on the store's model, as `trendcart search` and `trending --query` ask
    them (indexer.search.query_vectors: the one hybrid ranks by, and the one it keeps vector-only hits by,
    None when the same): from the watch file when they were embedded once, else embedded now (the model is
    loaded only then) and kept. Kept per model and per translation setting (TRENDCART_TRANSLATE)."""
    from indexer import crosslingual
    from indexer.embedder import Embedder, embedder_for
    from indexer.search import query_vectors as search_vectors

    stored = store.model_info()
    state: dict[str, Any] = {"embedder": embedder}

    def vectors(query: str) -> tuple[Any, Any | None] | None:
        if stored is None:
            return None
        # A key of its own: the watch file of an older trendcart holds the query's own vector under the
        # model's name, which hybrid search no longer ranks by.
        key = f"{stored[0]}|hybrid|{'translated' if crosslingual.enabled() else 'own'}"
        ranked, floor = book.query_vector(key, query), book.query_vector(f"{key}|floor", query)
        if ranked is not None and floor is not None:
            return ranked, (floor if floor.size else None)
        if state["embedder"] is None or state["embedder"].model_name != stored[0]:
            state["embedder"] = embedder_for(stored, state["embedder"] or Embedder())
        ranked, floor = search_vectors(stored[0], query, SearchMode.hybrid, state["embedder"])
        book.save_query_vector(key, query, ranked)
        book.save_query_vector(f"{key}|floor", query, floor if floor is not None else ())  # empty: the same
        return ranked, floor

    return vectors


def add_watch(
    spec: StoreSpec,
    query: str,
    *,
    by: str = "product",
    platform: str | None = None,
    min_score: float | None = None,
    name: str | None = None,
    top: int = DEFAULT_TOP,
    window: str = DEFAULT_WINDOW,
    now: datetime | None = None,
    model_name: str | None = None,
    embedder: Any = None,
) -> dict[str, Any]:
    """Save a watch; when the store exists, check it once as its baseline (what is in its top now is noted,
    not alerted; without a store the baseline is empty). Returns {watch, baseline: WatchCheck.to_json or None}. BadRequest for a bad watch or a
    name in use."""
    now = now or utc_now()
    watch = SavedWatch(
        name=(name or query).strip(),
        query=query,
        by=by,
        platform=platform,
        min_score=min_score,
        top=top,
        window=window,
        created_at=iso_utc(now),
    )
    with watch_book(spec) as book:
        try:
            book.add(watch)
        except WatchError as exc:
            raise BadRequest(str(exc)) from exc
        baseline = None
        if spec.exists():
            with opened(spec, model_name) as store:
                checks = check_watches(store, book, now, query_vectors(book, store, embedder), [watch.name])
            baseline = checks[0].to_json()
        else:  # no store yet: its baseline is empty, and what the first crawl brings into its top breaks out
            book.mark_checked(watch.name, iso_utc(now))
        return {"watch": book.get(watch.name).to_json(), "baseline": baseline}


def list_watches(spec: StoreSpec) -> list[dict[str, Any]]:
    """The saved watches (SavedWatch.to_json), each with `breakouts`: how many it has alerted."""
    path = watch_book_path(spec)
    if not path.is_file():
        return []
    with watch_book(spec) as book:
        counts: dict[str, int] = {}
        for alert in book.alerts(kind="breakout", limit=1_000_000):
            name = (alert.get("detail") or {}).get("watch")
            counts[name] = counts.get(name, 0) + 1
        return [{**w.to_json(), "breakouts": counts.get(w.name, 0)} for w in book.watches()]


def remove_watch(spec: StoreSpec, name: str) -> dict[str, Any]:
    """Forget a watch and its rows (its past alerts stay in the history); NothingFound when unknown."""
    if not watch_book_path(spec).is_file():
        raise NothingFound(f"no watch named {name!r}: no watches yet (trendcart watch add QUERY)")
    with watch_book(spec) as book:
        try:
            return book.remove(name).to_json()
        except WatchError as exc:
            raise NothingFound(str(exc)) from exc


def recent_alerts(spec: StoreSpec, since: datetime | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The alert history, newest first (WatchBook.alerts): what reports and the API show."""
    if not watch_book_path(spec).is_file():
        return []
    with watch_book(spec) as book:
        return book.alerts(since=since, limit=limit)


@dataclass
class AfterRun:
    """What one evaluation did: the watches checked, crawl health, the new alerts and their delivery, and
    the errors met (an evaluation never fails the run it follows)."""

    at: str
    checks: list[WatchCheck] = field(default_factory=list)
    health: HealthReport | None = None
    alerts: list[Alert] = field(default_factory=list)
    delivery: Delivery = field(default_factory=Delivery)
    errors: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds: rankings, searches, matching

    def messages(self) -> list[str]:
        """One line each: the new alerts, the sinks that failed, an evaluation error (for stderr or a log)."""
        out = [f"alert: {a.message}" for a in self.alerts]
        out += [f"alert sink failed: {s.error}" for s in self.delivery.sinks if s.error]
        return out + [f"alerts not evaluated: {e}" for e in self.errors]

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "watches": [c.to_json() for c in self.checks],
            "health": self.health.to_json() if self.health else None,
            "alerts": [a.to_json() for a in self.alerts],
            "delivery": self.delivery.to_json(),
            "errors": self.errors,
            "timings": self.timings,
        }


def alert_config(config: AlertConfig | None = None, environ: Mapping[str, str] = os.environ) -> AlertConfig:
    """`config` merged with the sinks named in the environment (TRENDCART_ALERT_JSONL, ...)."""
    try:
        from_env = config_from_env(environ)
    except AlertConfigError as exc:
        raise BadRequest(str(exc)) from exc
    return (config or AlertConfig()).merged(from_env)


def _raise(book: WatchBook, result: AfterRun, config: AlertConfig, on_alert: OnAlert | None) -> None:
    """Record the new alerts in the history first (never lost), then tell the terminal and every sink."""
    if not result.alerts:
        return
    seqs = book.record_alerts(result.alerts)
    for alert in result.alerts:
        if on_alert is not None:
            on_alert(alert)
    result.delivery = deliver(result.alerts, config.sinks())
    book.record_delivery(seqs, result.delivery.to_json())


def check_now(
    spec: StoreSpec,
    *,
    watches: bool = True,
    crawl_health: bool = True,
    names: Sequence[str] = (),
    config: AlertConfig | None = None,
    now: datetime | None = None,
    model_name: str | None = None,
    embedder: Any = None,
    on_alert: OnAlert | None = None,
    dashboard: bool = False,
) -> AfterRun:
    """Check the watches (or the named ones) and crawl health as of `now`, record and deliver the new
    alerts; errors of the store or the watch file are raised (a command asked for this). `dashboard`: then
    rank the dashboard from the watches' TrendCache while it is open (_dashboard_into), when watches ran."""
    now = now or utc_now()
    config = alert_config(config)
    result = AfterRun(at=iso_utc(now))
    if crawl_health:
        result.health = health(read_runs(spec.crawl_log_path), now)
    if not watch_book_path(spec).is_file() and not names and not (result.health and result.health.firing):
        return result  # nothing watched and nothing to alert: no watch file is made
    with watch_book(spec) as book:
        if result.health is not None:
            new, opened_, closed = health_alerts(result.health, book.open_episodes())
            book.set_episodes(opened_, closed)
            result.alerts += new
        if watches and (names or book.watches()):
            # The cyclic collector stays off until the cache of every active document is freed: turned on
            # with it alive, its first pass would walk the million objects the evaluation made (~0.3 s).
            with gc_paused(), opened(spec, model_name) as store:
                cache = TrendCache(store)
                try:
                    result.checks = check_watches(
                        store,
                        book,
                        now,
                        query_vectors(book, store, embedder),
                        list(names) or None,
                        result.timings,
                        cache,
                    )
                except WatchError as exc:
                    raise NothingFound(str(exc)) from exc
                result.alerts += [a for c in result.checks for a in c.alerts]
                _raise(book, result, config, on_alert)
                if dashboard:  # from what the watches' rankings read: documents, snapshots, member facts
                    _dashboard_into(result, spec, now, model_name, cache)
                del cache  # freed by reference counts, the collector still off
            return result
        _raise(book, result, config, on_alert)
    return result


def _dashboard_into(
    result: AfterRun, spec: StoreSpec, now: datetime, model_name: str | None, cache: TrendCache | None = None
) -> None:
    """rank_dashboard, its seconds in `timings["dashboard_s"]`, an error in `errors` (never raised)."""
    start = time.perf_counter()
    try:
        rank_dashboard(spec, now, model_name, cache)
    except Exception as exc:  # noqa: BLE001 - the dashboard is not worth the run: the server ranks it later
        result.errors.append(f"dashboard not ranked: {type(exc).__name__}: {exc}")
    result.timings["dashboard_s"] = round(time.perf_counter() - start, 3)


def rank_dashboard(
    spec: StoreSpec, now: datetime, model_name: str | None = None, cache: TrendCache | None = None
) -> dict[str, Any]:
    """Rank what the dashboard's main page shows (trend_cache.DASHBOARD_RANKINGS) as of `now` and write
    the snapshot beside the store (trend_cache.dashboard_path) with the store's data state it was ranked
    for: the server serves pages from it and ranks again only when that state changes. `cache`: an open
    evaluation's TrendCache of the same store to rank from. The snapshot."""
    from indexer.trend_cache import (
        DASHBOARD_RANKINGS,
        DASHBOARD_ROWS,
        dashboard_key,
        dashboard_path,
        data_state,
        write_dashboard,
    )
    from indexer.workflows.products import book_path
    from indexer.workflows.queries import rank_trending

    extra = (book_path(spec),)
    with opened(spec, model_name) as store:
        before = data_state(spec, store, extra)
        rankings = {
            dashboard_key(by, window, metric): rank_trending(
                spec, by, window, metric, DASHBOARD_ROWS, None, now, model_name, cache=cache
            ).to_json()
            for by, window, metric in DASHBOARD_RANKINGS
        }
    # SQLite: the state once this process's connections are closed (the last one folds the log into the
    # file); a write seen during the ranking (the file moved under an empty log) leaves no state, so the
    # server ranks again.
    state = data_state(spec, None, extra) if spec.path is not None else before
    if before[0][1] is None and before != state:
        state = None
    snapshot = {
        "store": repr(store),  # an Elasticsearch store's indices too: ./trendcart-data/ is shared
        "state": state,
        "as_of": iso_utc(now),
        "ranked_at": iso_utc(utc_now()),
        "rankings": rankings,
    }
    write_dashboard(dashboard_path(spec), snapshot)
    return snapshot


def evaluate_after_run(
    spec: StoreSpec,
    *,
    config: AlertConfig | None = None,
    now: datetime | None = None,
    model_name: str | None = None,
    embedder: Any = None,
    on_alert: OnAlert | None = None,
    dashboard: bool = True,
) -> AfterRun:
    """After a crawl, a live-watch tick batch or a scheduled run: check every watch and crawl health, and
    deliver new alerts; then (`dashboard`) rank the dashboard's main page for the new data (rank_dashboard,
    `timings["dashboard_s"]`). Never raises: what went wrong is in `errors` (and a failing sink in
    `delivery`)."""
    at = now or utc_now()
    try:
        if not watch_book_path(spec).is_file() and not spec.crawl_log_path.is_file():
            return AfterRun(at=iso_utc(at))  # nothing watched, nothing crawled: not even a file is made
        result = check_now(
            spec,
            watches=spec.exists(),
            config=config,
            now=at,
            model_name=model_name,
            embedder=embedder,
            on_alert=on_alert,
            dashboard=dashboard,
        )
    except Exception as exc:  # noqa: BLE001 - alerts are never worth the crawl they follow
        return AfterRun(at=iso_utc(at), errors=[f"{type(exc).__name__}: {exc}"])
    if dashboard and spec.exists() and "dashboard_s" not in result.timings:  # no watches ranked before it
        _dashboard_into(result, spec, at, model_name)
    return result


# A long live watch evaluates the watches at most this often (and once when it ends): a ranking over a big
# store takes seconds, and the rooms' samples must not wait for it at every 30-second tick.
BATCH_EVERY_S = 300.0


class BatchEvaluator:
    """evaluate_after_run for a run made of tick batches (live watch): `tick()` after each batch evaluates
    when BATCH_EVERY_S have passed since the last evaluation, `close()` once at the end."""

    def __init__(
        self,
        spec: StoreSpec,
        *,
        config: AlertConfig | None = None,
        model_name: str | None = None,
        after_run: Callable[[AfterRun], None] | None = None,
        every_s: float = BATCH_EVERY_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spec, self.config, self.model_name, self.after_run = spec, config, model_name, after_run
        self.every_s, self.monotonic = every_s, monotonic
        self.last = monotonic()
        self.runs = 0

    def tick(self) -> None:
        if self.monotonic() - self.last >= self.every_s:
            self.close()

    def close(self) -> None:
        self.last = self.monotonic()
        self.runs += 1
        result = evaluate_after_run(self.spec, config=self.config, model_name=self.model_name)
        if self.after_run is not None:
            self.after_run(result)
