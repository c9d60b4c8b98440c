"""SqliteStore.search_many: several searches of one SQLite store at once, each giving the hits its own
search() gives, with what they share done once (indexer.batch_search).

Each distinct keyword query (the text, its filter, its depth) runs once; the unfiltered ones, when their
phrases match few enough rows (fts_shared.worth_sharing), are ranked from one read of each distinct phrase
(fts_shared.PhraseTable: the plan and the bm25 values of the query alone), read by a helper process when
they are many (indexer/fts_worker.py); the vector candidates' blobs, the pks' ids and the hits' documents
are read once. The watch evaluation asks it for the queries of every watch (indexer.watches.Evaluator)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from indexer.ann import AnnIndex
from indexer.batch_search import SearchRequest
from indexer.crosslingual import NO_EXPANSION, Expansion, expand
from indexer.fts_shared import PhraseTable, worth_sharing
from indexer.models import search_settings
from indexer.sqlite_store import BM25_SQL_WEIGHTS, _best, _exact_top, _filter_sql, _reason, _rollback
from indexer.store import (
    HYBRID_CANDIDATES,
    Hit,
    SearchFilters,
    SearchMode,
    StoreError,
    fused_hits,
    resolve_mode,
)
from indexer.textsearch import fts_phrases
from indexer.vectors import unit_vector

if TYPE_CHECKING:
    from indexer.sqlite_store import SqliteStore

# Blobs read per query when a batch of searches reads its candidates' blobs once (search_many).
RESCORE_BATCH_CHUNK = 20_000
# search_many has a helper process read its queries' phrases (indexer/fts_worker.py, on another core while
# this process goes on) when they hold at least this many rows (fewer take this process ~0.1 s itself);
# it waits at most HELPER_TIMEOUT_S for it, then reads them itself.
HELPER_MIN_ROWS = 100_000
HELPER_TIMEOUT_S = 120.0
# A phrase's rows as PhraseTable reads them (search_many): rowid and its bm25 for the phrase alone.
_ROW_SCORE = np.dtype([("rowid", "<i8"), ("bm25", "<f8")])


def search_many(
    store: SqliteStore,
    requests: Sequence[SearchRequest],
    meanwhile: Callable[[], None] | None = None,
    documents: Callable[[list[str]], Mapping[str, dict[str, Any]]] | None = None,
) -> list[list[Hit]]:
    """search() of each request (indexer.batch_search): the same hits, with what the requests share
    done once. Each distinct keyword query (the text, its filter, its depth) runs once; the unfiltered
    ones, when their phrases match few enough rows (fts_shared.worth_sharing), are ranked from one
    read of each distinct phrase (fts_shared.PhraseTable: the plan and the bm25 values of the query
    alone), read by a helper process when they are many (indexer/fts_worker.py) while this one runs
    the vector side and `meanwhile` (the caller's own work, called once); the vector candidates'
    blobs, the pks' ids and the hits' documents are read once (those `documents` holds, the caller's
    copies of what get_many gave it, are taken from it)."""
    plans = [_plan_of(store, r) for r in requests]
    jobs: dict[tuple[Any, ...], tuple[str, str, dict[str, Any], int]] = {}
    for plan in plans:
        if plan is not None:
            for key, job in plan.keyword_jobs():
                jobs.setdefault(key, job)
    # The unfiltered keyword queries' ranked pks (their phrases read first, maybe by the helper), then
    # every other keyword query by itstore.
    plain = {k: job for k, job in jobs.items() if job[1] == "1"}
    phrases = {key: found for key, (text, _, _, _) in plain.items() if (found := fts_phrases(text))}
    reading = _read_phrases(store, phrases)
    try:
        keyword: dict[tuple[Any, ...], list[tuple[str, float]]] = {}
        for key, (text, where, params, limit) in jobs.items():
            if key not in plain:
                keyword[key] = store._keyword(text, where, params, limit)
        vector_plans = [p for p in plans if p is not None and p.mode is not SearchMode.keyword]
        vectors = _vector_batch(store, [p for p in vector_plans if p.filters_empty])
        if meanwhile is not None:
            meanwhile()
        ranked = _keyword_batch(store, plain, phrases, reading)
    finally:
        if reading is not None:
            reading.close()
    id_of = store._ids_of(
        {pk for rows in ranked.values() for pk, _ in rows}
        | {pk for rows in vectors.values() for pk, _ in rows}
    )
    for key in plain:  # a query without a searchable phrase ranks nothing, as _keyword gives
        keyword[key] = [(id_of[pk], -float(score)) for pk, score in ranked.get(key, []) if pk in id_of]
    docs: dict[str, dict[str, Any]] = {}

    def get_many(ids: list[str]) -> dict[str, dict[str, Any]]:
        missing = [i for i in ids if i not in docs]
        if missing and documents is not None:
            docs.update(documents(missing))
            missing = [i for i in missing if i not in docs]
        if missing:
            docs.update(store.get_many(missing))
        return {i: docs[i] for i in ids if i in docs}

    out: list[list[Hit]] = []
    for plan in plans:
        if plan is None:
            out.append([])
            continue
        vector: list[tuple[str, float]] = []
        if plan.mode is not SearchMode.keyword:
            if plan.filters_empty:
                vector = [(id_of[pk], s) for pk, s in vectors[id(plan)] if pk in id_of]
            else:
                vector = store._vector(plan.query_vector, plan.where, plan.params, plan.filters, plan.depth)
        own, translated = plan.keyword_keys()
        settings = search_settings(store._model[0] if store._model else None, plan.min_similarity)
        out.append(
            fused_hits(
                plan.mode,
                keyword[own] if own is not None else [],
                vector,
                plan.limit,
                get_many,
                settings,
                keyword[translated] if translated is not None else [],
                plan.expansion,
                store._floor_cosines(plan.floor_vector, plan.mode),
            )
        )
    return out


def _plan_of(store: SqliteStore, request: SearchRequest) -> Plan | None:
    """What search() would run for `request` (None: nothing, it gives [])."""
    mode = resolve_mode(
        request.mode,
        request.query_text,
        request.query_vector,
        has_vectors=store._model is not None,
        limit=request.limit,
    )
    if mode is None:
        return None
    where, params = _filter_sql(request.filters)
    return Plan(
        mode=mode,
        text=request.query_text,
        query_vector=request.query_vector,
        filters=request.filters,
        where=where,
        params=params,
        limit=request.limit,
        depth=max(request.limit, HYBRID_CANDIDATES) if mode is SearchMode.hybrid else request.limit,
        expansion=expand(request.query_text) if mode is not SearchMode.semantic else NO_EXPANSION,
        min_similarity=request.min_similarity,
        floor_vector=request.floor_vector,
    )


def _read_phrases(store: SqliteStore, phrases: Mapping[tuple[Any, ...], list[str]]) -> PhraseRead | None:
    """The read of the queries' distinct phrases when fts_shared.worth_sharing (None: each query runs
    alone): begun now in a helper process when they hold at least HELPER_MIN_ROWS rows, else done here
    when asked for (PhraseRead.rows)."""
    if not phrases:
        return None
    distinct = list(dict.fromkeys(p for found in phrases.values() for p in found))
    counts = [store._phrase_rows(p) for p in distinct]
    if not worth_sharing(counts, len(phrases)):
        return None
    reading = PhraseRead(store, distinct)
    on_disk = str(store.path) not in (":memory:", "")
    if on_disk and sum(counts) >= HELPER_MIN_ROWS and (os.cpu_count() or 1) > 1:
        reading.start()
    return reading


def _keyword_batch(
    store: SqliteStore,
    jobs: Mapping[tuple[Any, ...], tuple[str, str, dict[str, Any], int]],
    phrases: Mapping[tuple[Any, ...], list[str]],
    reading: PhraseRead | None,
) -> dict[tuple[Any, ...], list[tuple[int, float]]]:
    """The (pk, bm25) rows of unfiltered keyword queries (`phrases`: each one's, none empty), what
    _keyword ranks for each: from a PhraseTable of the phrases `reading` read, else one query after
    another."""
    if not phrases:
        return {}
    total = store._fts_rows_bound()
    table = None
    if reading is not None:
        rows = reading.rows()
        table = PhraseTable(rows, rows.__getitem__)
        multi = [key for key, found in phrases.items() if len(found) > 1]
        if multi:  # a build of SQLite that sums otherwise (fts_shared), or a write since the read
            key = max(multi, key=lambda k: len(phrases[k]))
            if not table.agrees(phrases[key], jobs[key][3], store._fts_run(phrases[key])):
                table = None
    return {
        key: table.top(found, total, jobs[key][3])
        if table is not None
        else store._keyword_ranked(found, jobs[key][3], total)
        for key, found in phrases.items()
    }


def _phrase_terms(store: SqliteStore, phrase: str) -> tuple[np.ndarray, np.ndarray]:
    """Every row matching one FTS5 phrase, by rowid, with its bm25 for that phrase alone."""
    with store._lock:
        try:
            cursor = store._conn.execute(
                f"SELECT rowid, bm25(documents_fts, {BM25_SQL_WEIGHTS}) FROM documents_fts "
                "WHERE documents_fts MATCH ? ORDER BY rowid",
                (phrase,),
            )
            rows = np.fromiter(cursor, dtype=_ROW_SCORE)
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite error on {store.path}: {_reason(exc)}") from exc
    return rows["rowid"], rows["bm25"]


def _vector_batch(store: SqliteStore, plans: Sequence[Plan]) -> dict[int, list[tuple[int, float]]]:
    """The (pk, cosine) rows _vector scores for each unfiltered plan (by id(plan)): through the graph,
    the candidates' blobs read once for every plan; else the exact matrix, one plan after another."""
    out: dict[int, list[tuple[int, float]]] = {}
    queries = [(plan, unit_vector(plan.query_vector, store._model)) for plan in plans]
    if not queries:
        return out
    side = store._vector_side()
    if not isinstance(side, AnnIndex):
        for plan, q in queries:
            out[id(plan)] = [] if q is None else _exact_top(side, q, None, plan.depth)
        return out
    found: dict[int, tuple[list[int], list[tuple[int, float]]]] = {}
    for depth in sorted({plan.depth for plan, q in queries if q is not None}):
        same = [(plan, q) for plan, q in queries if q is not None and plan.depth == depth]
        answers = side.candidates_many([q for _, q in same], depth)
        found.update((id(plan), answer) for (plan, _), answer in zip(same, answers, strict=True))
    wanted = sorted({pk for graph, _ in found.values() for pk in graph})
    blobs: dict[int, bytes] = {}
    for at in range(0, len(wanted), RESCORE_BATCH_CHUNK):
        blobs.update(
            store._query(
                "SELECT doc_pk, vector FROM vectors WHERE doc_pk IN (SELECT value FROM json_each(?))",
                (json.dumps(wanted[at : at + RESCORE_BATCH_CHUNK]),),
            )
        )
    for plan, q in queries:
        if q is None:
            out[id(plan)] = []  # no direction: nothing is similar to it
            continue
        graph, changed = found[id(plan)]
        out[id(plan)] = _best(store._rescore(graph, q, None, blobs) + changed, plan.depth)
    return out


class PhraseRead:
    """Every row of some FTS5 phrases with its bm25 for the phrase alone (_phrase_terms), read in
    one snapshot: by the helper process (indexer/fts_worker.py) once `start` has run, else here; what the
    helper could not do (it failed, or gave what does not parse) is read here."""

    def __init__(self, store: SqliteStore, phrases: list[str]) -> None:
        self.store, self.phrases = store, phrases
        self._process: subprocess.Popen[bytes] | None = None
        self._out: Path | None = None

    def start(self) -> None:
        try:
            fd, name = tempfile.mkstemp(prefix="trendcart-fts-", suffix=".bin")
            os.close(fd)
            self._out = Path(name)
            request = {
                "path": str(self.store.path.resolve()),
                "weights": BM25_SQL_WEIGHTS,
                "phrases": self.phrases,
                "out": name,
            }
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-S", str(Path(__file__).with_name("fts_worker.py"))],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            assert self._process.stdin is not None
            self._process.stdin.write(json.dumps(request).encode())
            self._process.stdin.close()
        except (OSError, ValueError):  # no interpreter to start (an embedded one), no temporary folder
            self.close()

    def rows(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Each phrase's (rowids ascending, bm25 of each)."""
        found = self._helper_rows()
        if found is not None:
            return found
        with self.store._lock:
            self.store._conn.execute("BEGIN")  # every phrase from one snapshot
            try:
                return {p: _phrase_terms(self.store, p) for p in self.phrases}
            finally:
                _rollback(self.store._conn)

    def _helper_rows(self) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
        if self._process is None or self._out is None:
            return None
        try:
            if self._process.wait(timeout=HELPER_TIMEOUT_S) != 0:
                return None
            data = self._out.read_bytes()
        except (OSError, subprocess.TimeoutExpired):
            return None
        finally:
            self.close()
        found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        at = 0
        for phrase in self.phrases:
            if at + 8 > len(data):
                return None
            n = int.from_bytes(data[at : at + 8], "little")
            if at + 8 + 16 * n > len(data):
                return None
            rowids = np.frombuffer(data, dtype="=i8", count=n, offset=at + 8)
            bm25 = np.frombuffer(data, dtype="=f8", count=n, offset=at + 8 + 8 * n)
            found[phrase] = (rowids, bm25)
            at += 8 + 16 * n
        return found if at == len(data) else None

    def close(self) -> None:
        """Stop the helper if it still runs and remove its file."""
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
            self._process = None
        if self._out is not None:
            self._out.unlink(missing_ok=True)
            self._out = None


@dataclass
class Plan:
    """What SqliteStore.search runs for one request (search_many gathers and shares the plans' work)."""

    mode: SearchMode
    text: str
    query_vector: Any
    filters: SearchFilters | None
    where: str
    params: dict[str, Any]
    limit: int
    depth: int  # candidates each side ranks
    expansion: Expansion
    min_similarity: float | None
    floor_vector: Any = None

    @property
    def filters_empty(self) -> bool:
        return self.filters is None or self.filters.is_empty()

    def _key(self, text: str) -> tuple[Any, ...]:
        return (text, self.where, tuple(sorted(self.params.items())), self.depth)

    def keyword_keys(self) -> tuple[tuple[Any, ...] | None, tuple[Any, ...] | None]:
        """The keys of its own keyword query and of its translation's (None: not searched)."""
        if self.mode is SearchMode.semantic:
            return None, None
        return self._key(self.text), self._key(self.expansion.text) if self.expansion else None

    def keyword_jobs(self) -> list[tuple[tuple[Any, ...], tuple[str, str, dict[str, Any], int]]]:
        """(key, (text, where, params, depth)) of each keyword query it runs."""
        own, translated = self.keyword_keys()
        jobs = []
        if own is not None:
            jobs.append((own, (self.text, self.where, self.params, self.depth)))
        if translated is not None:
            jobs.append((translated, (self.expansion.text, self.where, self.params, self.depth)))
        return jobs
