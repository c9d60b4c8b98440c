"""Many FTS5 OR queries ranked from one read of each distinct phrase: the rows and bm25 values SQLite gives.

FTS5's bm25() of a row for the OR of phrases p1..pn is `-1.0 * score`, where `score` starts at 0.0 and adds
each phrase's term in phrase order (ext/fts5/fts5_aux.c, fts5Bm25Function):

    score += idf(p) * (freq(p) * (k1 + 1)) / (freq(p) + k1 * (1 - b + b * D / avgdl))

`idf(p)` counts the rows that match p in the whole table, `freq(p)` sums the column weights of p's
instances in the row, `D` is the row's token count and `avgdl` the table's: none of them depends on the
other phrases of the query. So a phrase's term in a row is the same in every query that has it, and the
one-phrase query gives it back exactly (its bm25 is `-1.0 * (0.0 + term)`); a phrase a row lacks adds 0.0,
which changes no double. Summing the terms of a query's phrases in its order, in doubles, gives the very
numbers SQLite computes: `PhraseTable` holds each distinct phrase's (rowid, term) pairs once and answers
the count, newest-row and scoring calls of indexer.fts_bounded.bounded_top from them, so that the batch
takes exactly the plan and the rows that each query takes alone (tests/test_search_batch.py compares them).

It pays when queries share phrases and each phrase matches few rows (the bench's 100 watches: 160 distinct
texts with 337 distinct phrases, 652k rows in all at 100k documents, read in ~0.7 s against ~2 s for the
queries one by one); `worth_sharing` says when. A build of SQLite whose compiler fused the multiply-add of that sum
would round differently: `PhraseTable.agrees` compares one query with SQLite's own scores before the batch
relies on the table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from indexer.fts_bounded import MAX_SCORED_ROWS, bounded_top

# A batch reads every row of its distinct phrases when they hold at most this many rows per query it
# answers (summed over the distinct phrases): one query alone scores at most MAX_SCORED_ROWS of its
# matches, and usually a tier of a few hundred, plus its counts.
SHARED_ROWS_PER_QUERY = MAX_SCORED_ROWS // 2

# (rowids ascending, each row's term of the phrase) of one phrase.
PhraseRows = tuple[np.ndarray, np.ndarray]
Ranked = list[tuple[int, float]]


def worth_sharing(rows_per_phrase: Iterable[int], queries: int) -> bool:
    """Whether reading these distinct phrases' rows once beats running `queries` queries one by one."""
    return queries >= 2 and sum(rows_per_phrase) <= SHARED_ROWS_PER_QUERY * queries


class PhraseTable:
    """The rows of some FTS5 phrases with their bm25 terms (from `load(phrase)`: every matching rowid,
    ascending, and the bm25 SQLite gives that row for the phrase alone), answering queries over them."""

    def __init__(self, phrases: Iterable[str], load: Callable[[str], PhraseRows]) -> None:
        self._rows: dict[str, np.ndarray] = {}
        self._terms: dict[str, np.ndarray] = {}
        for phrase in dict.fromkeys(phrases):
            rowids, bm25 = load(phrase)
            self._rows[phrase] = np.asarray(rowids, dtype=np.int64)
            self._terms[phrase] = -np.asarray(bm25, dtype=np.float64)  # bm25 is -1.0 x the term: exact
        top = max((int(r[-1]) for r in self._rows.values() if len(r)), default=-1)
        self._size = top + 1  # dense arrays over every rowid seen
        self._matches: dict[str, np.ndarray] = {}
        self._scored: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}

    @property
    def rows(self) -> int:
        """(rowid, term) pairs held."""
        return sum(len(r) for r in self._rows.values())

    # -- what bounded_top asks ------------------------------------------------------------------------
    def matching(self, expression: str) -> np.ndarray:
        """The rowids (ascending) matching an expression bounded_top writes: phrases and parenthesised
        AND groups of them, OR-ed (`"a" OR ("b" AND "c")`); its phrases must be in the table."""
        if expression not in self._matches:
            parts = []
            for part in expression.split(" OR "):
                if part.startswith("(") and part.endswith(")"):
                    members = part[1:-1].split(" AND ")
                    rows = self._rows[members[0]]
                    for member in members[1:]:
                        rows = np.intersect1d(rows, self._rows[member], assume_unique=True)
                    parts.append(rows)
                else:
                    parts.append(self._rows[part])
            if len(parts) == 1:
                found = parts[0]
            else:
                mask = np.zeros(self._size, dtype=bool)
                for rows in parts:
                    mask[rows] = True
                found = np.flatnonzero(mask).astype(np.int64)
            self._matches[expression] = found
        return self._matches[expression]

    def count(self, expression: str) -> int:
        """Rows matching `expression` (what `SELECT count(*) ... MATCH expression` gives)."""
        return int(len(self.matching(expression)))

    def newest_floor(self, expression: str, n: int) -> int | None:
        """The rowid of the n-th newest row matching `expression`, or None when fewer match."""
        rows = self.matching(expression)
        return int(rows[-n]) if 0 < n <= len(rows) else None

    def scored(self, phrases: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Every row matching the OR of `phrases` (ascending rowids) and its bm25 for that query."""
        key = tuple(phrases)
        if key not in self._scored:
            score = np.zeros(self._size, dtype=np.float64)
            mask = np.zeros(self._size, dtype=bool)
            for phrase in key:  # in the query's order: the order FTS5 adds the terms in
                rows = self._rows[phrase]
                score[rows] += self._terms[phrase]
                mask[rows] = True
            rowids = np.flatnonzero(mask).astype(np.int64)
            self._scored[key] = (rowids, -1.0 * score[rowids])
        return self._scored[key]

    def run(self, phrases: Sequence[str], candidates: str | None, limit: int, floor: int = 0) -> Ranked:
        """`SELECT rowid, bm25 ... MATCH <OR of phrases> AND rowid >= floor [AND rowid IN <candidates>]
        ORDER BY bm25, rowid LIMIT limit`."""
        rowids, bm25 = self.scored(phrases)
        keep = rowids >= floor
        if candidates is not None:
            allowed = np.zeros(self._size, dtype=bool)
            allowed[self.matching(candidates)] = True
            keep &= allowed[rowids]
        rowids, bm25 = rowids[keep], bm25[keep]
        if limit <= 0 or not len(rowids):
            return []
        if limit < len(rowids):  # only rows at or under the limit-th score can be in the answer
            kth = np.partition(bm25, limit - 1)[limit - 1]
            near = bm25 <= kth
            rowids, bm25 = rowids[near], bm25[near]
        order = np.lexsort((rowids, bm25))[:limit]
        return list(zip(rowids[order].tolist(), bm25[order].tolist(), strict=True))

    def top(self, phrases: Sequence[str], total_rows: int, limit: int) -> Ranked:
        """bounded_top of the OR of `phrases` as SqliteStore runs it (its counts, tiers, newest-row floor),
        every step answered from the table: the (rowid, bm25) rows the store's own query gives."""
        return bounded_top(
            phrases,
            self.count,
            total_rows,
            lambda candidates, k, floor=0: self.run(phrases, candidates, k, floor),
            limit,
            self.newest_floor,
        )

    def agrees(
        self, phrases: Sequence[str], limit: int, sql_run: Callable[[str | None, int], Ranked]
    ) -> bool:
        """Whether the table ranks the OR of `phrases` as SQLite does (`sql_run(None, limit)`: its scoring
        query): the same rows, the same bm25 to the last bit."""
        return self.run(phrases, None, limit) == sql_run(None, limit)
