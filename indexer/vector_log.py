"""The vectors table's change log: which documents' vectors changed after a sequence number (SQLite triggers)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np

# The log keeps this many recent changes; a reader further behind loads all vectors again (at 1M vectors a
# change is ~24 bytes of log, so the log stays under ~5 MB; replaying 200k changes costs about what a full
# load costs anyway).
LOG_KEEP = 200_000
# The trigger prunes once every this many changes (one DELETE of a range, not one per write).
PRUNE_EVERY = 10_000

# Migration 3 of indexer/sqlite_store.py: every insert, update and delete on `vectors` appends the document's
# pk (triggers, so that no writer can forget it, reindex included); `vector_log_start` is the last pruned seq.
MIGRATION = f"""
CREATE TABLE vector_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, doc_pk INTEGER NOT NULL);
INSERT OR REPLACE INTO meta (key, value) VALUES ('vector_log_start', '0');
CREATE TRIGGER vector_log_insert AFTER INSERT ON vectors BEGIN
    INSERT INTO vector_log (doc_pk) VALUES (NEW.doc_pk);
END;
CREATE TRIGGER vector_log_update AFTER UPDATE ON vectors BEGIN
    INSERT INTO vector_log (doc_pk) VALUES (OLD.doc_pk);
    INSERT INTO vector_log (doc_pk) SELECT NEW.doc_pk WHERE NEW.doc_pk != OLD.doc_pk;
END;
CREATE TRIGGER vector_log_delete AFTER DELETE ON vectors BEGIN
    INSERT INTO vector_log (doc_pk) VALUES (OLD.doc_pk);
END;
CREATE TRIGGER vector_log_prune AFTER INSERT ON vector_log WHEN NEW.seq % {PRUNE_EVERY} = 0 BEGIN
    DELETE FROM vector_log WHERE seq <= NEW.seq - {LOG_KEEP};
    UPDATE meta SET value = CAST(MAX(0, NEW.seq - {LOG_KEEP}) AS TEXT) WHERE key = 'vector_log_start';
END;
"""


@dataclass
class Changes:
    """The vectors as they are now for every pk changed after a seq: `pks` with a vector (`matrix` rows,
    float32 unit length), `deleted` pks without one now; `seq` is the log position they bring a reader to."""

    seq: int
    pks: np.ndarray
    matrix: np.ndarray
    deleted: np.ndarray

    def __len__(self) -> int:
        return int(self.pks.shape[0] + self.deleted.shape[0])


def current_seq(conn: sqlite3.Connection) -> int:
    """The last change's seq (0 for none). Read it in the transaction that reads the vectors it stands for."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'vector_log'").fetchone()
    return int(row[0]) if row else 0


def log_start(conn: sqlite3.Connection) -> int:
    """Changes at or below this seq are pruned: a reader at an older seq must load everything again."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'vector_log_start'").fetchone()
    try:
        return int(row[0]) if row else 0
    except ValueError:
        return 1 << 62  # a damaged value: trust no reader's position


def changes_since(conn: sqlite3.Connection, seq: int, dim: int) -> Changes | None:
    """What changed after `seq`, or None when the log no longer reaches back that far (or `seq` is from the
    future, as after restoring an older copy of the file): then the reader loads everything again.
    Run it inside a read transaction so that the seq and the vectors agree."""
    now = current_seq(conn)
    if seq > now or seq < log_start(conn):
        return None
    if seq == now:
        empty = np.zeros(0, dtype=np.int64)
        return Changes(now, empty, np.zeros((0, dim), dtype=np.float32), empty)
    rows = conn.execute(
        "SELECT l.pk, v.vector FROM (SELECT DISTINCT doc_pk AS pk FROM vector_log WHERE seq > ?) l "
        "LEFT JOIN vectors v ON v.doc_pk = l.pk ORDER BY l.pk",
        (seq,),
    ).fetchall()
    live = [r for r in rows if r[1] is not None]
    pks = np.fromiter((r[0] for r in live), dtype=np.int64, count=len(live))
    matrix = np.frombuffer(b"".join(r[1] for r in live), dtype="<f4").reshape(len(live), dim)
    deleted = np.fromiter((r[0] for r in rows if r[1] is None), dtype=np.int64)
    return Changes(now, pks, matrix, deleted)
