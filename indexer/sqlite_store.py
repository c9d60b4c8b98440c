"""SqliteStore: the embedded default store (SQLite WAL, FTS5 BM25 with CJK bigrams, exact numpy cosine)."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from crawler.items import Snapshot, is_count
from indexer import sqlite_reindex, vector_log
from indexer.ann import (
    ANN_MIN_VECTORS,
    MERGE_AFTER,
    MERGE_AT_LOAD_END,
    AnnFiles,
    AnnIndex,
    BuildProgress,
    ann_mode,
)
from indexer.batch_search import SearchRequest
from indexer.crosslingual import NO_EXPANSION, expand
from indexer.documents import filter_number, filter_time, lower_key, platform_kind, prepare_document
from indexer.fts_bounded import bounded_top
from indexer.sqlite_reindex import SqliteReindexResult
from indexer.store import (
    HYBRID_CANDIDATES,
    Hit,
    InvalidDocument,
    ModelMismatch,
    SearchFilters,
    SearchMode,
    StoreError,
    StoreStats,
    StoreUnavailable,
    UpsertResult,
    WindowStat,
    floor_cosines_of,
    fused_hits,
    resolve_mode,
    search_settings,
    to_iso,
)
from indexer.textsearch import BM25_WEIGHTS, TEXT_FIELDS, fts_phrases
from indexer.vector_matrix import VectorMatrix
from indexer.vectors import document_vectors, unit_vector

# SQLite waits this long for another writer (a crawl indexing while the CLI searches) before failing.
BUSY_TIMEOUT_MS = 10_000
# bm25()'s column weights, in the FTS table's column order (every scoring query passes the same ones).
BM25_SQL_WEIGHTS = ", ".join(str(BM25_WEIGHTS[f]) for f in TEXT_FIELDS)
# The vector cache beside the store (docs/INDEXER.md, "Vector cache"): written for stores with at least this
# many vectors (below it, reading the blobs takes a few milliseconds anyway).
VECTOR_CACHE_MIN_ROWS = 2000
# A filtered vector search above the ANN threshold scores the allowed documents exactly (their blobs) when
# they are at most this many (~40 MB of 512-d blobs, tens of ms); more go through the graph, oversampled.
FILTERED_EXACT_MAX = 20_000
# The most graph candidates a filtered search asks for before it falls back to the exact allowed set.
FILTERED_ANN_MAX = 4096
# Blobs read per query when rescoring a candidate set exactly (SQLite's json_each keeps one query cheap).
RESCORE_CHUNK = 5000
# get_many reads the whole table instead of looking each id up when asked for at least SCAN_MIN_IDS ids
# that are at least 1 / SCAN_SHARE of the rows (a scan costs about half a lookup per row).
SCAN_MIN_IDS = 5000
SCAN_SHARE = 2

# Numbered migrations: schema_version holds the last one applied. Append, never edit.
MIGRATIONS: list[str] = [
    # 1: documents, vectors, full-text index, snapshots
    f"""
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE documents (
        pk INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        platform TEXT NOT NULL,
        published_at TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        views INTEGER,
        likes INTEGER,
        price_low REAL,
        price_high REAL,
        product_count INTEGER NOT NULL DEFAULT 0,
        creator_id TEXT,
        creator_name TEXT,
        creator_handle TEXT,
        fts_hash TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX documents_kind_platform ON documents (kind, platform);
    CREATE INDEX documents_last_seen ON documents (last_seen);
    CREATE INDEX documents_published_at ON documents (published_at);
    CREATE TABLE vectors (
        doc_pk INTEGER PRIMARY KEY REFERENCES documents (pk) ON DELETE CASCADE,
        text_hash TEXT NOT NULL,
        vector BLOB NOT NULL
    );
    CREATE VIRTUAL TABLE documents_fts USING fts5 (
        {", ".join(TEXT_FIELDS)}, tokenize = 'porter unicode61 remove_diacritics 2'
    );
    CREATE TABLE snapshots (
        entity_id TEXT NOT NULL,
        metric TEXT NOT NULL,
        observed_at TEXT NOT NULL,
        value INTEGER NOT NULL,
        platform TEXT,
        kind TEXT,
        PRIMARY KEY (entity_id, metric, observed_at)
    ) WITHOUT ROWID;
    CREATE INDEX snapshots_metric_time ON snapshots (metric, observed_at);
    """,
    # 2: a random token that every change to the vectors table replaces (triggers, so that no writer can
    # forget it); it names the vector cache file beside the store, so a stale cache is never read.
    """
    INSERT OR REPLACE INTO meta (key, value) VALUES ('vectors_token', lower(hex(randomblob(16))));
    CREATE TRIGGER vectors_token_insert AFTER INSERT ON vectors BEGIN
        UPDATE meta SET value = lower(hex(randomblob(16))) WHERE key = 'vectors_token';
    END;
    CREATE TRIGGER vectors_token_update AFTER UPDATE ON vectors BEGIN
        UPDATE meta SET value = lower(hex(randomblob(16))) WHERE key = 'vectors_token';
    END;
    CREATE TRIGGER vectors_token_delete AFTER DELETE ON vectors BEGIN
        UPDATE meta SET value = lower(hex(randomblob(16))) WHERE key = 'vectors_token';
    END;
    """,
    # 3: the vectors' change log (indexer/vector_log.py): a warm reader applies what changed since its
    # position instead of reloading every vector.
    vector_log.MIGRATION,
]


class SqliteStore:
    """The Store contract on one SQLite file. Safe to share between threads (one lock around the
    connection); several processes may use the same file (WAL: readers never block the writer)."""

    backend = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        try:
            if str(self.path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._migrate()
            self._model: tuple[str, int] | None = self._read_model()
        except (sqlite3.Error, OSError, ValueError) as exc:
            raise StoreUnavailable(f"cannot open SQLite store {str(self.path)!r}: {_reason(exc)}") from exc
        self._lock = threading.RLock()
        # The vector side: the exact matrix below the ANN threshold, the ANN index above it (one of them),
        # and the PRAGMA data_version they were last checked against the log at (None: check at next use).
        self._exact: VectorMatrix | None = None
        self._ann: AnnIndex | None = None
        self._vectors_version: int | None = None

    # ------------------------------------------------------------------------------ schema and plumbing

    def _migrate(self) -> None:
        conn = self._conn
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        current = row[0] or 0
        if current > len(MIGRATIONS):
            raise StoreUnavailable(
                f"{self.path} has schema version {current}, newer than this trendcart knows "
                f"({len(MIGRATIONS)}); upgrade trendcart"
            )
        for version in range(current + 1, len(MIGRATIONS) + 1):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _split_sql(MIGRATIONS[version - 1]):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"cannot write to {self.path}: {exc}") from exc
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as exc:
                _rollback(
                    self._conn
                )  # SQLite may have rolled back already (a full disk): then nothing to undo
                if isinstance(
                    exc, (sqlite3.IntegrityError, sqlite3.DataError)
                ):  # about the rows, not the store
                    raise InvalidDocument(f"refused by {self.path}: {_reason(exc)}") from exc
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"cannot write to {self.path}: {_reason(exc)}") from exc
                raise

    def _query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"SQLite error on {self.path}: {_reason(exc)}") from exc

    def _read_model(self) -> tuple[str, int] | None:
        rows = dict(
            self._conn.execute("SELECT key, value FROM meta WHERE key IN ('model', 'dim')").fetchall()
        )
        if "model" in rows and "dim" in rows:
            return rows["model"], int(rows["dim"])
        return None

    def close(self) -> None:
        with self._lock:
            self._exact = self._ann = None
            self._conn.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

    # ----------------------------------------------------------------------------------------- model

    def model_info(self) -> tuple[str, int] | None:
        return self._model

    def set_model(self, name: str, dim: int) -> None:
        if self._model is not None:
            if self._model != (name, int(dim)):
                raise ModelMismatch(self._model, (name, int(dim)))
            return
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('model', ?), ('dim', ?)",
                (name, str(int(dim))),
            )
        self._model = (name, int(dim))

    # -------------------------------------------------------------------------------------- metadata
    # HasMetadata: in the meta table under `meta.KEY`, apart from the store's own keys (model, dim, tokens).

    def get_meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (f"meta.{key}",))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str | None) -> None:
        with self._tx() as conn:
            if value is None:
                conn.execute("DELETE FROM meta WHERE key = ?", (f"meta.{key}",))
            else:
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (f"meta.{key}", value))

    # ----------------------------------------------------------------------------------------- writes

    def upsert(
        self,
        docs: Sequence[Mapping[str, Any]],
        vectors: Sequence[Any] | None = None,
        text_hashes: Sequence[str | None] | None = None,
    ) -> UpsertResult:
        rows = [prepare_document(doc) for doc in docs]
        vecs = self._check_vectors(vectors, len(rows))
        hashes = list(text_hashes) if text_hashes is not None else [None] * len(rows)
        if len(hashes) != len(rows):
            raise StoreError(f"{len(rows)} documents but {len(hashes)} text hashes")
        try:
            return self._upsert_rows(rows, vecs, hashes)
        except OverflowError as exc:  # defence in depth: check_item keeps every count far inside 64 bits
            raise InvalidDocument(f"a value does not fit SQLite's 64-bit integers: {exc}") from None

    def _upsert_rows(
        self, rows: list[dict[str, Any]], vecs: list[np.ndarray | None], hashes: list[str | None]
    ) -> UpsertResult:
        result = UpsertResult()
        vectors_changed = False
        with self._tx() as conn:
            existing = self._existing(conn, [r["id"] for r in rows])
            for row, vec, text_hash in zip(rows, vecs, hashes, strict=False):
                old = existing.get(row["id"])
                if old is None:
                    pk = conn.execute(
                        "INSERT INTO documents (id, kind, platform, published_at, first_seen, last_seen, views, "
                        "likes, price_low, price_high, product_count, creator_id, creator_name, creator_handle, "
                        "fts_hash, doc) VALUES (:id, :kind, :platform, :published_at, :observed_at, :observed_at, "
                        ":views, :likes, :price_low, :price_high, :product_count, :creator_id, :creator_name, "
                        ":creator_handle, :fts_hash, :doc)",
                        row,
                    ).lastrowid
                    conn.execute(
                        f"INSERT INTO documents_fts (rowid, {', '.join(TEXT_FIELDS)}) VALUES (?{', ?' * len(TEXT_FIELDS)})",
                        (pk, *row["fts"]),
                    )
                    old = {
                        "pk": pk,
                        "first_seen": row["observed_at"],
                        "last_seen": row["observed_at"],
                        "fts_hash": row["fts_hash"],
                        "text_hash": None,
                    }
                    existing[row["id"]] = old
                    result.added += 1
                else:
                    pk = old["pk"]
                    if row["observed_at"] >= old["last_seen"]:
                        conn.execute(
                            "UPDATE documents SET kind = :kind, platform = :platform, published_at = :published_at, "
                            "last_seen = :observed_at, views = :views, likes = :likes, price_low = :price_low, "
                            "price_high = :price_high, product_count = :product_count, creator_id = :creator_id, "
                            "creator_name = :creator_name, creator_handle = :creator_handle, fts_hash = :fts_hash, "
                            "doc = :doc WHERE pk = :pk",
                            {**row, "pk": pk},
                        )
                        if row["fts_hash"] != old["fts_hash"]:
                            conn.execute("DELETE FROM documents_fts WHERE rowid = ?", (pk,))
                            conn.execute(
                                f"INSERT INTO documents_fts (rowid, {', '.join(TEXT_FIELDS)}) "
                                f"VALUES (?{', ?' * len(TEXT_FIELDS)})",
                                (pk, *row["fts"]),
                            )
                            old["fts_hash"] = row["fts_hash"]
                        old["last_seen"] = row["observed_at"]
                    if row["observed_at"] < old["first_seen"]:
                        conn.execute(
                            "UPDATE documents SET first_seen = ? WHERE pk = ?", (row["observed_at"], pk)
                        )
                        old["first_seen"] = row["observed_at"]
                    result.updated += 1
                if vec is not None:
                    conn.execute(
                        "INSERT OR REPLACE INTO vectors (doc_pk, text_hash, vector) VALUES (?, ?, ?)",
                        (pk, text_hash or "", vec.astype("<f4").tobytes()),
                    )
                    old["text_hash"] = text_hash or ""
                    vectors_changed = True
                elif (
                    text_hash is not None
                    and old.get("text_hash") is not None
                    and old["text_hash"] != text_hash
                ):
                    conn.execute("DELETE FROM vectors WHERE doc_pk = ?", (pk,))  # text changed, vector stale
                    old["text_hash"] = None
                    vectors_changed = True
                conn.executemany(
                    "INSERT OR REPLACE INTO snapshots (entity_id, metric, observed_at, value, platform, kind) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    row["snapshots"],
                )
        if vectors_changed:
            self._vectors_version = None  # own writes do not move data_version: read the log next search
        return result

    def _existing(self, conn: sqlite3.Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        rows = conn.execute(
            "SELECT d.id, d.pk, d.first_seen, d.last_seen, d.fts_hash, v.text_hash FROM documents d "
            "LEFT JOIN vectors v ON v.doc_pk = d.pk WHERE d.id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(dict.fromkeys(ids))),),
        ).fetchall()
        for doc_id, pk, first_seen, last_seen, fts_hash, text_hash in rows:
            found[doc_id] = {
                "pk": pk,
                "first_seen": first_seen,
                "last_seen": last_seen,
                "fts_hash": fts_hash,
                "text_hash": text_hash,
            }
        return found

    def _check_vectors(self, vectors: Sequence[Any] | None, n: int) -> list[np.ndarray | None]:
        return document_vectors(vectors, n, self._model)  # the store layer's rule: a zero vector is none

    def add_snapshots(self, snapshots: Sequence[Snapshot]) -> int:
        rows: list[tuple] = []
        for snap in snapshots:
            observed = to_iso(snap.observed_at, "observed_at")
            platform, kind = platform_kind(snap.entity_id)
            for metric, value in (snap.metrics or {}).items():
                if is_count(value):
                    rows.append((snap.entity_id, metric, observed, int(value), platform, kind))
        with self._tx() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO snapshots (entity_id, metric, observed_at, value, platform, kind) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def delete(self, ids: Sequence[str]) -> int:
        payload = json.dumps(list(dict.fromkeys(ids)))
        with self._tx() as conn:
            pks = [
                r[0]
                for r in conn.execute(
                    "SELECT pk FROM documents WHERE id IN (SELECT value FROM json_each(?))", (payload,)
                )
            ]
            pk_payload = json.dumps(pks)
            conn.execute(
                "DELETE FROM documents_fts WHERE rowid IN (SELECT value FROM json_each(?))", (pk_payload,)
            )
            conn.execute(
                "DELETE FROM vectors WHERE doc_pk IN (SELECT value FROM json_each(?))", (pk_payload,)
            )
            conn.execute("DELETE FROM documents WHERE pk IN (SELECT value FROM json_each(?))", (pk_payload,))
            conn.execute(
                "DELETE FROM snapshots WHERE entity_id IN (SELECT value FROM json_each(?))", (payload,)
            )
        self._vectors_version = None
        return len(pks)

    def prune(self, before: str | datetime) -> int:
        cutoff = to_iso(before, "before")
        with self._tx() as conn:
            return conn.execute("DELETE FROM snapshots WHERE observed_at < ?", (cutoff,)).rowcount

    # ------------------------------------------------------------------------------------------ reads

    def get(self, doc_id: str) -> dict[str, Any] | None:
        return self.get_many([doc_id]).get(doc_id)

    def get_many(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        wanted = set(ids)
        if len(wanted) >= SCAN_MIN_IDS and len(wanted) * SCAN_SHARE >= self._fts_rows_bound():
            # Most of the table (a ranking's active documents): one scan beats an index lookup per id
            # (measured at 100k documents: 0.19 s against 0.39 s for 91k ids); only the wanted rows decode.
            with self._lock:
                try:
                    rows = [
                        row
                        for row in self._conn.execute("SELECT id, doc, first_seen, last_seen FROM documents")
                        if row[0] in wanted
                    ]
                except sqlite3.Error as exc:
                    raise StoreError(f"SQLite error on {self.path}: {_reason(exc)}") from exc
        else:
            rows = self._query(
                "SELECT id, doc, first_seen, last_seen FROM documents "
                "WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(list(ids)),),
            )
        return {row[0]: _load_doc(row[1], row[2], row[3]) for row in rows}

    def count(self, filters: SearchFilters | None = None) -> int:
        where, params = _filter_sql(filters)
        return self._query(f"SELECT COUNT(*) FROM documents d WHERE {where}", params)[0][0]

    def iter_documents(
        self, filters: SearchFilters | None = None, batch: int = 500
    ) -> Iterator[dict[str, Any]]:
        where, params = _filter_sql(filters)
        last_pk = 0
        while True:
            rows = self._query(
                f"SELECT pk, doc, first_seen, last_seen FROM documents d WHERE d.pk > :after AND {where} "
                "ORDER BY d.pk LIMIT :batch",
                {**params, "after": last_pk, "batch": batch},
            )
            if not rows:
                return
            for _, doc, first_seen, last_seen in rows:
                yield _load_doc(doc, first_seen, last_seen)
            last_pk = rows[-1][0]

    def known_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        rows = self._query(
            "SELECT d.id, v.text_hash FROM documents d JOIN vectors v ON v.doc_pk = d.pk "
            "WHERE d.id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(ids)),),
        )
        return dict(rows)

    def snapshots(
        self,
        entity_id: str,
        metric: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
    ) -> list[Snapshot]:
        sql = "SELECT observed_at, metric, value FROM snapshots WHERE entity_id = :id"
        params: dict[str, Any] = {"id": entity_id}
        if metric is not None:
            sql += " AND metric = :metric"
            params["metric"] = metric
        if since is not None:
            sql += " AND observed_at >= :since"
            params["since"] = to_iso(since, "since")
        if until is not None:
            sql += " AND observed_at <= :until"
            params["until"] = to_iso(until, "until")
        grouped: dict[str, dict[str, int]] = {}
        for observed_at, name, value in self._query(sql + " ORDER BY observed_at", params):
            grouped.setdefault(observed_at, {})[name] = value
        return [Snapshot(entity_id=entity_id, observed_at=at, metrics=m) for at, m in grouped.items()]

    def window_stats(
        self,
        metric: str,
        start: str | datetime,
        end: str | datetime,
        kind: str | None = None,
        platform: str | None = None,
        ids: Sequence[str] | None = None,
    ) -> dict[str, WindowStat]:
        conditions = ["metric = :metric", "observed_at >= :start", "observed_at <= :end"]
        params: dict[str, Any] = {
            "metric": metric,
            "start": to_iso(start, "start"),
            "end": to_iso(end, "end"),
        }
        if kind is not None:
            conditions.append("kind = :kind")
            params["kind"] = kind
        if platform is not None:
            conditions.append("platform = :platform")
            params["platform"] = platform
        if ids is not None:
            conditions.append("entity_id IN (SELECT value FROM json_each(:ids))")
            params["ids"] = json.dumps(list(ids))
        rows = self._query(
            f"""
            WITH w AS (
                SELECT entity_id, MIN(observed_at) AS first_at, MAX(observed_at) AS last_at, COUNT(*) AS n
                FROM snapshots WHERE {" AND ".join(conditions)} GROUP BY entity_id
            )
            SELECT w.entity_id, w.first_at, f.value, w.last_at, l.value, w.n FROM w
            JOIN snapshots f ON f.entity_id = w.entity_id AND f.metric = :metric AND f.observed_at = w.first_at
            JOIN snapshots l ON l.entity_id = w.entity_id AND l.metric = :metric AND l.observed_at = w.last_at
            """,
            params,
        )
        return {
            r[0]: WindowStat(
                entity_id=r[0],
                metric=metric,
                first_at=r[1],
                first_value=r[2],
                last_at=r[3],
                last_value=r[4],
                count=r[5],
            )
            for r in rows
        }

    def window_stats_by_kind(
        self,
        metric: str,
        windows: Sequence[tuple[str | datetime, str | datetime]],
        platform: str | None = None,
    ) -> list[dict[str, dict[str, WindowStat]]]:
        """window_stats of every kind for several windows from ONE query over their union (the trend rankings
        of one evaluation share it): per window, {snapshot kind: {entity id: WindowStat}}, the same stats
        window_stats(metric, start, end, kind=kind, platform=platform) gives."""
        bounds = [(to_iso(a, "start"), to_iso(b, "end")) for a, b in windows]
        if not bounds:
            return []
        sql = (
            "SELECT entity_id, kind, observed_at, value FROM snapshots "
            "WHERE metric = :metric AND observed_at >= :start AND observed_at <= :end"
        )
        params: dict[str, Any] = {
            "metric": metric,
            "start": min(a for a, _ in bounds),
            "end": max(b for _, b in bounds),
        }
        if platform is not None:
            sql += " AND platform = :platform"
            params["platform"] = platform
        # The rows come by entity, then time: one entity's rows are summed together and become its stats
        # (per window: kind -> [first_at, first_value, last_at, last_value, count]) when the next begins.
        out: list[dict[str, dict[str, WindowStat]]] = [{} for _ in bounds]
        spans = [(start, end, {}) for start, end in bounds]
        current: str | None = None

        def flush(entity_id: str) -> None:
            for (_, _, found), by_kind in zip(spans, out, strict=True):
                for kind, (first_at, first, last_at, last, n) in found.items():
                    by_kind.setdefault(kind, {})[entity_id] = WindowStat(
                        entity_id=entity_id,
                        metric=metric,
                        first_at=first_at,
                        first_value=first,
                        last_at=last_at,
                        last_value=last,
                        count=n,
                    )
                found.clear()

        for entity_id, kind, at, value in self._query(sql + " ORDER BY entity_id, observed_at", params):
            if entity_id != current:
                if current is not None:
                    flush(current)
                current = entity_id
            for start, end, found in spans:  # ~1 us a row and window: a ranking reads every active row
                if start <= at <= end:
                    row = found.get(kind)
                    if row is None:
                        found[kind] = [at, value, at, value, 1]
                    else:
                        row[2], row[3], row[4] = at, value, row[4] + 1
        if current is not None:
            flush(current)
        return out

    def stats(self) -> StoreStats:
        by_kind = dict(self._query("SELECT kind, COUNT(*) FROM documents GROUP BY kind"))
        by_platform = dict(self._query("SELECT platform, COUNT(*) FROM documents GROUP BY platform"))
        first, last = self._query("SELECT MIN(first_seen), MAX(last_seen) FROM documents")[0]
        vectors = self._query("SELECT COUNT(*) FROM vectors")[0][0]
        snapshots = self._query("SELECT COUNT(*) FROM snapshots")[0][0]
        size = None
        if self.path.exists():
            size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())
        model = self._model
        return StoreStats(
            backend=self.backend,
            location=str(self.path),
            documents=sum(by_kind.values()),
            by_kind=by_kind,
            by_platform=by_platform,
            vectors=vectors,
            snapshots=snapshots,
            model=model[0] if model else None,
            dim=model[1] if model else None,
            first_observed=first,
            last_observed=last,
            size_bytes=size,
        )

    # ---------------------------------------------------------------------------------------- reindex

    def reindex(
        self,
        embedder: Any = None,
        *,
        batch: int = 256,
        keep_old: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> SqliteReindexResult:
        """Re-embed every document with `embedder` and record its model (indexer.sqlite_reindex): staged
        aside, then swapped in one transaction; `keep_old` first copies the store beside it. Snapshots and
        documents are untouched. Pause writers meanwhile (a crawl would write vectors of the old model)."""
        return sqlite_reindex.reindex(self, embedder, batch=batch, keep_old=keep_old, progress=progress)

    def _model_changed(self, model: tuple[str, int]) -> None:
        """After a reindex: the new model, and no cached matrix of the old vectors."""
        with self._lock:
            self._model = model
            self._exact = self._ann = None

    # ----------------------------------------------------------------------------------------- search

    def search(
        self,
        query_text: str,
        query_vector: Any | None = None,
        mode: SearchMode | str = SearchMode.hybrid,
        filters: SearchFilters | None = None,
        limit: int = 10,
        min_similarity: float | None = None,
        floor_vector: Any | None = None,
    ) -> list[Hit]:
        mode = resolve_mode(mode, query_text, query_vector, has_vectors=self._model is not None, limit=limit)
        if mode is None:
            return []
        where, params = _filter_sql(filters)
        candidates = max(limit, HYBRID_CANDIDATES) if mode is SearchMode.hybrid else limit
        keyword: list[tuple[str, float]] = []
        vector: list[tuple[str, float]] = []
        expansion, expanded = expand(query_text) if mode is not SearchMode.semantic else NO_EXPANSION, []
        if mode is not SearchMode.semantic:
            keyword = self._keyword(query_text, where, params, candidates)
            if expansion:  # the query's words in the other language (indexer.crosslingual), searched alike
                expanded = self._keyword(expansion.text, where, params, candidates)
        if mode is not SearchMode.keyword:
            vector = self._vector(query_vector, where, params, filters, candidates)
        settings = search_settings(self._model[0] if self._model else None, min_similarity)
        floor_cosines = self._floor_cosines(floor_vector, mode)
        return fused_hits(
            mode, keyword, vector, limit, self.get_many, settings, expanded, expansion, floor_cosines
        )

    def _floor_cosines(
        self, floor_vector: Any | None, mode: SearchMode
    ) -> Callable[[list[str]], dict[str, float]] | None:
        """fused_hits' `floor_cosines` (store.floor_cosines_of) on this store's vectors."""
        return floor_cosines_of(mode, floor_vector, lambda v: unit_vector(v, self._model), self._cosines)

    def _cosines(self, unit: np.ndarray, ids: list[str]) -> dict[str, float]:
        """The exact cosine of each document's vector with `unit`, by id (documents without one are absent)."""
        pk_rows = self._query(
            "SELECT pk, id FROM documents WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(ids),)
        )
        id_of = dict(pk_rows)
        return {id_of[pk]: score for pk, score in self._rescore(list(id_of), unit, None)}

    def search_many(
        self,
        requests: Sequence[SearchRequest],
        meanwhile: Callable[[], None] | None = None,
        documents: Callable[[list[str]], Mapping[str, dict[str, Any]]] | None = None,
    ) -> list[list[Hit]]:
        """search() of each request, the same hits, with what the requests share done once
        (indexer.sqlite_batch.search_many; the BatchSearching ability of indexer.batch_search)."""
        from indexer import sqlite_batch  # it builds on this module

        return sqlite_batch.search_many(self, requests, meanwhile, documents)

    def _fts_run(self, phrases: Sequence[str]) -> Callable[..., list[tuple[Any, float]]]:
        """The scoring query of the OR of `phrases` over the FTS table alone (bounded_top's `run`)."""
        match = " OR ".join(phrases)

        def run(candidates: str | None, k: int, floor: int = 0) -> list[tuple[Any, float]]:
            return self._query(
                f"SELECT rowid, bm25(documents_fts, {BM25_SQL_WEIGHTS}) AS s FROM documents_fts "
                f"WHERE documents_fts MATCH :match AND rowid >= :floor{_tier_sql('rowid', candidates)} "
                "ORDER BY s, rowid LIMIT :limit",
                {"match": match, "candidates": candidates, "limit": k, "floor": floor},
            )

        return run

    def _keyword_ranked(
        self, phrases: Sequence[str], limit: int, total: int | None = None
    ) -> list[tuple[Any, float]]:
        """The `limit` best (pk, bm25) rows of the OR of `phrases` over the FTS table alone (bounded_top)."""
        total = self._fts_rows_bound() if total is None else total
        return bounded_top(
            phrases, self._phrase_rows, total, self._fts_run(phrases), limit, self._newest_floor
        )

    def _ids_of(self, pks: Iterable[int]) -> dict[int, str]:
        """Document ids by pk (pks without a document are absent)."""
        return dict(
            self._query(
                "SELECT pk, id FROM documents WHERE pk IN (SELECT value FROM json_each(?))",
                (json.dumps(list(pks)),),
            )
        )

    def _keyword(self, text: str, where: str, params: dict[str, Any], limit: int) -> list[tuple[str, float]]:
        """The `limit` best rows by FTS5 bm25, scoring only a candidate tier that provably holds them
        (indexer/fts_bounded.py): the same answer as scoring every match, ties by rowid."""
        phrases = fts_phrases(text)
        if not phrases:
            return []
        match = " OR ".join(phrases)

        if where == "1":
            # No filter: rank inside the FTS table alone, then look the ids up (2-3x faster than ranking
            # through a join: measured 17 vs 45 ms for a term in 24k of 100k documents).
            ranked = self._keyword_ranked(phrases, limit)
            id_of = self._ids_of(pk for pk, _ in ranked)
            rows = [(id_of[pk], score) for pk, score in ranked if pk in id_of]
        else:

            def run(candidates: str | None, k: int, floor: int = 0) -> list[tuple[Any, float]]:
                return self._query(
                    f"SELECT d.id, bm25(documents_fts, {BM25_SQL_WEIGHTS}) AS s FROM documents_fts "
                    f"JOIN documents d ON d.pk = documents_fts.rowid "
                    f"WHERE documents_fts MATCH :match AND documents_fts.rowid >= :floor AND {where}"
                    f"{_tier_sql('documents_fts.rowid', candidates)} ORDER BY s, d.pk LIMIT :limit",
                    {**params, "match": match, "candidates": candidates, "limit": k, "floor": floor},
                )

            rows = bounded_top(
                phrases, self._phrase_rows, self._fts_rows_bound(), run, limit, self._newest_floor
            )
        return [(doc_id, -float(score)) for doc_id, score in rows]  # bm25() is lower-is-better

    def _phrase_rows(self, phrase: str) -> int:
        """Rows matching one FTS5 phrase (a doclist walk: no positions, no scoring)."""
        return int(
            self._query("SELECT count(*) FROM documents_fts WHERE documents_fts MATCH ?", (phrase,))[0][0]
        )

    def _newest_floor(self, expression: str, n: int) -> int | None:
        """The rowid of the n-th newest row matching an FTS5 expression (a doclist walk from the end), or
        None when fewer match."""
        row = self._query(
            "SELECT rowid FROM documents_fts WHERE documents_fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
            (expression, n - 1),
        )
        return int(row[0][0]) if row else None

    def _fts_rows_bound(self) -> int:
        """At least the number of rows of the FTS table (its rowids are document pks): an index lookup."""
        return int(self._query("SELECT coalesce(max(pk), 0) FROM documents")[0][0])

    def _vector(
        self, query_vector: Any, where: str, params: dict[str, Any], filters: SearchFilters | None, limit: int
    ) -> list[tuple[str, float]]:
        q = unit_vector(query_vector, self._model)
        if q is None:
            return []  # no direction: nothing is similar to it
        allowed: np.ndarray | None = None
        if filters is not None and not filters.is_empty():
            allowed = np.fromiter(
                (r[0] for r in self._query(f"SELECT pk FROM documents d WHERE {where}", params)),
                dtype=np.int64,
            )
        side = self._vector_side()
        if isinstance(side, AnnIndex):
            scored = self._ann_top(side, q, allowed, limit)
        else:
            scored = _exact_top(side, q, allowed, limit)
        id_of = self._ids_of(pk for pk, _ in scored)
        return [(id_of[pk], score) for pk, score in scored if pk in id_of]

    def _ann_top(
        self, ann: AnnIndex, q: np.ndarray, allowed: np.ndarray | None, limit: int
    ) -> list[tuple[int, float]]:
        """The `limit` best (pk, exact cosine) through the graph: its candidates rescored from the blobs, so
        every score is the exact one; a filter keeping few documents scores them all exactly instead."""
        k = limit
        if allowed is not None:
            if allowed.shape[0] <= FILTERED_EXACT_MAX:
                return self._rescore(allowed.tolist(), q, limit)
            share = allowed.shape[0] / max(len(ann), 1)
            k = min(int(limit / share) + limit, FILTERED_ANN_MAX)
        graph, changed = ann.candidates(q, k)
        if allowed is not None:
            keep = set(allowed.tolist())
            graph = [pk for pk in graph if pk in keep]
            changed = [(pk, s) for pk, s in changed if pk in keep]
        scored = _best(self._rescore(graph, q, None) + changed, limit)
        if allowed is not None and len(scored) < min(limit, allowed.shape[0]):
            return self._rescore(allowed.tolist(), q, limit)  # the graph's share missed: all allowed, exactly
        return scored

    def _rescore(
        self, pks: list[int], q: np.ndarray, limit: int | None, blobs: Mapping[int, bytes] | None = None
    ) -> list[tuple[int, float]]:
        """(pk, exact cosine) of `pks` from their blobs (read now, or from `blobs`: read before, by pk),
        the `limit` best (all when None)."""
        scored: list[tuple[int, float]] = []
        dim = q.shape[0]
        for at in range(0, len(pks), RESCORE_CHUNK):
            chunk = pks[at : at + RESCORE_CHUNK]
            if blobs is not None:
                rows = [(pk, blobs[pk]) for pk in chunk if pk in blobs]
            else:
                rows = self._query(
                    "SELECT doc_pk, vector FROM vectors WHERE doc_pk IN (SELECT value FROM json_each(?))",
                    (json.dumps(chunk),),
                )
            if not rows:
                continue
            matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(len(rows), dim)
            scores = np.einsum("ij,j->i", matrix, q)
            scored.extend(zip((r[0] for r in rows), scores.tolist(), strict=True))
            if limit is not None and len(scored) > 4 * limit:
                scored = _best(scored, limit)
        return scored if limit is None else _best(scored, limit)

    def prefetch(self) -> None:
        """Load the vector side now (search() calls this in a thread while the model loads)."""
        if self._model is not None:
            self._vector_side()

    def build_vector_index(self, progress: BuildProgress | None = None) -> bool:
        """At the end of a load: build the ANN index (or fold at least MERGE_AT_LOAD_END pending changes into
        its file) when TRENDCART_ANN and ANN_MIN_VECTORS want one, so that no search waits for it;
        `progress(added, total)` while vectors are added. True when the store now has an index file."""
        files = self._ann_files()
        if self._model is None or files is None or ann_mode() == "off":
            return False
        with self._lock:
            if self._ann is None and not files.meta.exists() and not self._enough_for_ann():
                return False
            side = self._vector_side(progress)
            if isinstance(side, VectorMatrix) and self._enough_for_ann():  # loaded before it grew
                self._ann, self._exact = self._build_ann(side, progress), None
            elif isinstance(side, AnnIndex) and side.pending >= MERGE_AT_LOAD_END:
                self._ann = side.merged(self._model[0], progress)
            return self._ann is not None

    def _enough_for_ann(self) -> bool:
        """TRENDCART_ANN wants the index for this many vectors (the largest pk bounds the count cheaply)."""
        if ann_mode() == "on":
            return True
        if (self._query("SELECT MAX(doc_pk) FROM vectors")[0][0] or 0) < ANN_MIN_VECTORS:
            return False
        return _wants_ann(ann_mode(), self._query("SELECT COUNT(*) FROM vectors")[0][0])

    def _vector_side(self, progress: BuildProgress | None = None) -> VectorMatrix | AnnIndex:
        """The exact matrix or the ANN index, brought up to date with the vectors table: the changes since
        its position in the log (indexer/vector_log.py) when this or another connection wrote."""
        with self._lock:
            try:
                version = self._conn.execute("PRAGMA data_version").fetchone()[0]
                if self._vectors_version != version or (self._exact is None and self._ann is None):
                    self._sync_vectors(progress)
                    self._vectors_version = version
            except (sqlite3.Error, ValueError) as exc:  # a damaged file: blobs of the wrong size, bad pages
                raise StoreError(f"cannot read the vectors of {self.path}: {_reason(exc)}") from exc
            side = self._ann if self._ann is not None else self._exact
            assert side is not None
            return side

    def _sync_vectors(self, progress: BuildProgress | None = None) -> None:
        """Apply the log to the side in use; load or open one when there is none, or the log no longer
        reaches back to it. Switches to the ANN index by TRENDCART_ANN and ANN_MIN_VECTORS. Caller holds
        the lock."""
        assert self._model is not None
        model, dim = self._model
        mode = ann_mode()
        if mode == "off":
            self._ann = None
        side: VectorMatrix | AnnIndex | None = self._ann if self._ann is not None else self._exact
        if side is not None and self._catch_up(side):
            if self._ann is not None and self._ann.pending > MERGE_AFTER:
                self._ann = self._ann.merged(model)
            elif self._ann is None and self._exact is not None and _wants_ann(mode, len(self._exact)):
                self._ann, self._exact = self._build_ann(self._exact, progress), None
            return
        files = self._ann_files()
        if mode != "off" and files is not None:
            opened = AnnIndex.open(files, model, dim)
            if opened is not None and self._catch_up(opened):
                self._ann, self._exact = opened, None
                return
        exact = self._load_vectors(dim)
        if mode != "off" and _wants_ann(mode, len(exact)):
            self._ann, self._exact = self._build_ann(exact, progress), None
        else:
            self._ann, self._exact = None, exact

    def _catch_up(self, side: VectorMatrix | AnnIndex) -> bool:
        """Apply the changes after `side.seq`; False when the log no longer holds them."""
        assert self._model is not None
        self._conn.execute("BEGIN")  # the log position and the vectors from one snapshot
        try:
            changes = vector_log.changes_since(self._conn, side.seq, self._model[1])
        finally:
            _rollback(self._conn)
        if changes is None:
            return False
        side.apply(changes)
        return True

    def _build_ann(self, exact: VectorMatrix, progress: BuildProgress | None = None) -> AnnIndex:
        assert self._model is not None
        pks, matrix = exact.vectors()
        return AnnIndex.build(pks, matrix, exact.seq, self._model[0], self._ann_files(), progress)

    def _ann_files(self) -> AnnFiles | None:
        if str(self.path) == ":memory:" or not str(self.path):
            return None
        return AnnFiles(self.path)

    def _load_vectors(self, dim: int) -> VectorMatrix:
        """All vectors: from the cache file of the current vectors token if there is one, else from the
        blobs (then the cache file is written). Caller holds the lock."""
        rows: list[tuple] = []
        self._conn.execute("BEGIN")  # the token, the log position and the blobs from one snapshot
        try:
            token = self._vectors_token()
            seq = vector_log.current_seq(self._conn)
            cached = self._read_vector_cache(token, dim)
            if cached is None:
                rows = self._conn.execute("SELECT doc_pk, vector FROM vectors ORDER BY doc_pk").fetchall()
        finally:
            _rollback(self._conn)  # a read-only transaction: ending it commits nothing
        if cached is not None:
            return VectorMatrix(cached[1], cached[0], seq)
        pks = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        # A bytearray, so that the matrix is writable (changes are applied in place, no copy).
        matrix = np.frombuffer(bytearray().join(r[1] for r in rows), dtype="<f4").reshape(len(rows), dim)
        del rows
        if token is not None and len(pks) >= VECTOR_CACHE_MIN_ROWS:
            self._write_vector_cache(token, matrix, pks)
        return VectorMatrix(pks, matrix, seq)

    def _vectors_token(self) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'vectors_token'").fetchone()
        return row[0] if row and isinstance(row[0], str) and row[0].isalnum() else None

    def _vector_cache_paths(self, token: str) -> tuple[Path, Path] | None:
        if str(self.path) == ":memory:" or not str(self.path):
            return None
        base = self.path.with_name(f"{self.path.name}.vectors-{token}")
        return base.with_name(base.name + ".npy"), base.with_name(base.name + ".pks.npy")

    def _read_vector_cache(self, token: str | None, dim: int) -> tuple[np.ndarray, np.ndarray] | None:
        paths = self._vector_cache_paths(token) if token else None
        if paths is None:
            return None
        matrix_path, pks_path = paths
        try:
            pks = np.load(pks_path, allow_pickle=False)
            # Copy-on-write: a later change writes its row in place, copying only that page.
            matrix = np.asarray(np.load(matrix_path, mmap_mode="c", allow_pickle=False))
        except (OSError, ValueError, EOFError):
            return None  # missing, unreadable or cut short: the blobs are the truth
        if (
            matrix.ndim != 2
            or matrix.shape[1] != dim
            or matrix.dtype != np.dtype("<f4")
            or pks.ndim != 1
            or pks.dtype != np.dtype("<i8")
            or pks.shape[0] != matrix.shape[0]
        ):
            return None
        return matrix, pks

    def _write_vector_cache(self, token: str, matrix: np.ndarray, pks: np.ndarray) -> None:
        """Best effort: a read-only folder, a full disk or a concurrent writer only mean no cache. Each
        file appears whole (written aside, then renamed); the pks file first, so a matrix implies its pks."""
        paths = self._vector_cache_paths(token)
        if paths is None:
            return
        for path, array in ((paths[1], pks), (paths[0], matrix)):
            tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
            try:
                with open(tmp, "wb") as fh:
                    np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
                os.replace(tmp, path)
            except OSError:
                try:
                    tmp.unlink()
                except OSError:
                    pass
                return
        # Files of older tokens are stale for good: remove them (a reader that mapped one keeps its copy).
        try:
            prefix, current = f"{self.path.name}.vectors-", paths[0].name[: -len(".npy")]
            for name in os.listdir(self.path.parent):
                if not name.startswith(prefix) or name.startswith(current):
                    continue
                old = self.path.parent / name
                if ".tmp-" in old.name and time.time() - old.stat().st_mtime < 600:
                    continue  # another process may be writing it right now
                old.unlink()
        except OSError:
            pass


# ------------------------------------------------------------------------------------------- helpers


def _tier_sql(rowid: str, candidates: str | None) -> str:
    """The condition of bounded_top's candidate tier on `rowid` ("" for none). `+rowid`: a plain filter, so
    FTS5 is not asked to seek each candidate with its own MATCH."""
    if candidates is None:
        return ""
    return f" AND +{rowid} IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH :candidates)"


def _wants_ann(mode: str, vectors: int) -> bool:
    """TRENDCART_ANN=on, or auto with at least ANN_MIN_VECTORS vectors."""
    return mode == "on" or (mode == "auto" and vectors >= ANN_MIN_VECTORS)


def _best(scored: list[tuple[int, float]], limit: int) -> list[tuple[int, float]]:
    """The `limit` highest scores, ties by pk (the exact scan's order)."""
    return sorted(scored, key=lambda pair: (-pair[1], pair[0]))[:limit]


def _exact_top(
    exact: VectorMatrix, q: np.ndarray, allowed: np.ndarray | None, limit: int
) -> list[tuple[int, float]]:
    """The `limit` best (pk, cosine) of every vector (of the `allowed` pks only, when given)."""
    scores = exact.scores(q)
    pks = exact.pks
    if scores.shape[0] == 0:
        return []
    if allowed is not None:
        scores = np.where(np.isin(pks, allowed, assume_unique=True), scores, -np.inf)
    valid = int(np.isfinite(scores).sum())
    k = min(limit, valid)
    if k <= 0:
        return []
    top = np.argpartition(-scores, k - 1)[:k] if k < scores.shape[0] else np.arange(scores.shape[0])
    top = top[np.lexsort((pks[top], -scores[top]))]
    top = top[np.isfinite(scores[top])]
    return [(int(pks[i]), float(scores[i])) for i in top]


def _rollback(conn: sqlite3.Connection) -> None:
    """End the open transaction, if SQLite has not ended it already (it does on SQLITE_FULL, SQLITE_IOERR):
    a failed ROLLBACK must never hide the error that caused it."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass


def _reason(exc: BaseException) -> str:
    """The one-line reason of an SQLite error ("database or disk is full", "file is not a database")."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _split_sql(script: str) -> list[str]:
    """Complete statements (a trigger body's own semicolons do not end its CREATE TRIGGER)."""
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n\t;"):
                statements.append(pending.strip())
            pending = ""
    if pending.strip(" \n\t;"):
        statements.append(pending.strip())
    return statements


def _load_doc(doc: str, first_seen: str, last_seen: str) -> dict[str, Any]:
    # orjson gives json.loads's dict 2-4x faster (a trend ranking loads 100k documents). It differs only on
    # integers past 64 bits (a float), which no stored document holds: check_item bounds every number.
    try:
        data = orjson.loads(doc)
    except orjson.JSONDecodeError:  # what only the standard parser reads (NaN, lone surrogates)
        data = json.loads(doc)
    data["first_seen"] = first_seen
    data["last_seen"] = last_seen
    return data


def _filter_sql(filters: SearchFilters | None) -> tuple[str, dict[str, Any]]:
    """A WHERE clause over `documents d` (always valid SQL; "1" when there is no filter)."""
    if filters is None:
        return "1", {}
    conditions: list[str] = []
    params: dict[str, Any] = {}

    def add(sql: str, name: str, value: Any) -> None:
        conditions.append(sql)
        params[name] = value

    if filters.platform is not None:
        add("d.platform = :f_platform", "f_platform", filters.platform)
    if filters.kind is not None:
        add("d.kind = :f_kind", "f_kind", filters.kind)
    if filters.published_from is not None:
        add(
            "d.published_at >= :f_pub_from",
            "f_pub_from",
            filter_time(filters.published_from, "published_from"),
        )
    if filters.published_to is not None:
        add("d.published_at <= :f_pub_to", "f_pub_to", filter_time(filters.published_to, "published_to"))
    if filters.observed_from is not None:
        add("d.last_seen >= :f_obs_from", "f_obs_from", filter_time(filters.observed_from, "observed_from"))
    if filters.observed_to is not None:
        add("d.last_seen <= :f_obs_to", "f_obs_to", filter_time(filters.observed_to, "observed_to"))
    if filters.min_views is not None:
        add("d.views >= :f_views", "f_views", filter_number(filters.min_views, "min_views"))
    if filters.min_likes is not None:
        add("d.likes >= :f_likes", "f_likes", filter_number(filters.min_likes, "min_likes"))
    if filters.price_min is not None:
        add("d.price_high >= :f_price_min", "f_price_min", filter_number(filters.price_min, "price_min"))
    if filters.price_max is not None:
        add("d.price_low <= :f_price_max", "f_price_max", filter_number(filters.price_max, "price_max"))
    if filters.has_products is True:
        conditions.append("d.product_count > 0")
    elif filters.has_products is False:
        conditions.append("d.product_count = 0")
    if filters.creator is not None:
        add(
            ":f_creator IN (d.creator_id, d.creator_name, d.creator_handle)",
            "f_creator",
            lower_key(filters.creator),
        )
    return (" AND ".join(conditions) or "1"), params
