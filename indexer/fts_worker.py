"""A helper process that reads FTS5 phrases' rows and bm25 terms (fts_shared.PhraseTable's input) from a store.

indexer.sqlite_batch (SqliteStore.search_many) starts it (`python -I -S fts_worker.py`: the standard library only, so that it starts
in a few tens of milliseconds) while the process that asked goes on with other work (the watch evaluation
loads its rankings' documents meanwhile): SQLite scores the rows in the helper, on the machine's other
core. It reads one JSON object on stdin, {"path", "weights", "phrases", "out"}, opens the database read-only
(query_only), reads every phrase in one transaction with the statement indexer.sqlite_batch._phrase_terms runs, and
writes to the file `out`, for each phrase in order: its row count (8 bytes, little-endian), the rowids (int64) and the bm25
values (float64), native byte order. Any failure exits non-zero; the store then reads the phrases itself.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from array import array

BUSY_TIMEOUT_MS = 10_000


def main() -> int:
    request = json.loads(sys.stdin.buffer.read())
    conn = sqlite3.connect(request["path"], isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA query_only = 1")
    sql = (
        f"SELECT rowid, bm25(documents_fts, {request['weights']}) FROM documents_fts "
        "WHERE documents_fts MATCH ? ORDER BY rowid"
    )
    out = open(request["out"], "wb")  # noqa: SIM115 - closed below, after the transaction
    conn.execute("BEGIN")  # every phrase from one snapshot
    try:
        for phrase in request["phrases"]:
            rows = conn.execute(sql, (phrase,)).fetchall()
            out.write(len(rows).to_bytes(8, "little"))
            out.write(array("q", [r[0] for r in rows]).tobytes())
            out.write(array("d", [r[1] for r in rows]).tobytes())
    finally:
        conn.execute("ROLLBACK")
        conn.close()
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
