"""SqliteStore.reindex: re-embed every document with another model, staged aside, swapped in one transaction."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from indexer.store import StoreError
from indexer.vectors import unit_vector

if TYPE_CHECKING:
    from indexer.sqlite_store import SqliteStore

# The staging table: a TEMP table of this connection, so a reindex that fails or is killed leaves nothing
# behind and the store as it was (the old vectors and model until the swap commits).
STAGE = "temp.reindex_vectors"


@dataclass
class SqliteReindexResult:
    """What a SQLite reindex did. `backup` is the copy of the store taken before the swap (`keep_old`)."""

    path: str
    documents: int
    vectors: int
    model: str
    dim: int
    old_model: str | None
    old_dim: int | None
    backup: str | None = None


def reindex(
    store: SqliteStore,
    embedder: Any,
    *,
    batch: int = 256,
    keep_old: bool = False,
    progress: Callable[[int], None] | None = None,
) -> SqliteReindexResult:
    """Embed every document with `embedder` (its `embed_documents`, `model_name`, `dim`, `text_hash`) into
    a staging table, `batch` documents at a time, without holding the write lock; then, in one write
    transaction, embed what changed meanwhile (documents added, or whose text changed), replace every
    vector and record the new model. Readers see the old vectors and model until that commit, the new
    ones after it; a failure anywhere before it leaves the store unchanged. With `keep_old`, a copy of the
    store as it was is written beside it first (`<db>.before-reindex-<time>`)."""
    if embedder is None:
        raise StoreError("reindex needs an embedder (the model to re-embed with)")
    model = (embedder.model_name, int(embedder.dim))
    old = store.model_info()
    conn = store._conn
    with store._lock:
        conn.execute(f"DROP TABLE IF EXISTS {STAGE}")
        conn.execute(
            f"CREATE TABLE {STAGE} (doc_pk INTEGER PRIMARY KEY, fts_hash TEXT NOT NULL, "
            "text_hash TEXT, vector BLOB)"
        )
    try:
        done, last_pk = 0, 0
        while True:
            with store._lock:
                page = conn.execute(
                    "SELECT pk, fts_hash, doc FROM documents WHERE pk > ? ORDER BY pk LIMIT ?",
                    (last_pk, max(1, int(batch))),
                ).fetchall()
            if not page:
                break
            _stage(store, embedder, model, page)
            last_pk = page[-1][0]
            done += len(page)
            if progress is not None:
                progress(done)
        backup = _backup(store) if keep_old else None
        with store._tx() as tx:
            changed = tx.execute(
                f"SELECT d.pk, d.fts_hash, d.doc FROM documents d LEFT JOIN {STAGE} r ON r.doc_pk = d.pk "
                "WHERE r.doc_pk IS NULL OR r.fts_hash != d.fts_hash"
            ).fetchall()
            if changed:
                _stage(store, embedder, model, changed)
            tx.execute("DELETE FROM vectors")
            tx.execute(
                f"INSERT INTO vectors (doc_pk, text_hash, vector) SELECT r.doc_pk, r.text_hash, r.vector "
                f"FROM {STAGE} r JOIN documents d ON d.pk = r.doc_pk WHERE r.vector IS NOT NULL"
            )
            vectors = tx.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
            documents = tx.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('model', ?), ('dim', ?)",
                (model[0], str(model[1])),
            )
    finally:
        with store._lock:
            try:
                conn.execute(f"DROP TABLE IF EXISTS {STAGE}")
            except sqlite3.Error:
                pass  # the connection is gone: so is its TEMP table
    store._model_changed(model)
    return SqliteReindexResult(
        path=str(store.path),
        documents=documents,
        vectors=vectors,
        model=model[0],
        dim=model[1],
        old_model=old[0] if old else None,
        old_dim=old[1] if old else None,
        backup=backup,
    )


def _stage(store: SqliteStore, embedder: Any, model: tuple[str, int], rows: list[tuple]) -> None:
    """Embed `rows` (pk, fts_hash, doc JSON) and write them to the staging table."""
    from indexer.embedder import document_text

    texts = [document_text(json.loads(doc)) for _pk, _hash, doc in rows]
    vectors = np.asarray(embedder.embed_documents(texts), dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape != (len(texts), model[1]):
        raise StoreError(
            f"the embedder gave vectors of shape {vectors.shape}, expected ({len(texts)}, {model[1]})"
        )
    staged = []
    for (pk, fts_hash, _doc), text, raw in zip(rows, texts, vectors, strict=True):
        vec = unit_vector(raw, model)  # a zero vector means no vector: keyword search only
        blob = vec.astype("<f4").tobytes() if vec is not None else None
        staged.append((pk, fts_hash, embedder.text_hash(text) if vec is not None else None, blob))
    with store._lock:
        store._conn.executemany(f"INSERT OR REPLACE INTO {STAGE} VALUES (?, ?, ?, ?)", staged)


def _backup(store: SqliteStore) -> str:
    """A consistent copy of the store beside it (VACUUM INTO), before the swap."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = Path(f"{store.path}.before-reindex-{stamp}")
    with store._lock:
        try:
            store._conn.execute("VACUUM INTO ?", (str(target),))
        except sqlite3.Error as exc:
            raise StoreError(f"cannot keep a copy of {store.path} in {target}: {exc}") from exc
    return str(target)
