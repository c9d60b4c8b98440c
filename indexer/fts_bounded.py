"""The top-k of an FTS5 OR query by bm25 without scoring every match: candidate tiers that are provably enough.

FTS5's bm25() costs a docsize lookup and a walk of the position lists per matching row; `count(*)` of the
same MATCH walks only the doclists (measured at 1M documents: 171 ms vs 12 ms for a 208k-row query). So
the score is computed only on a candidate set, and the answer is exact:

- A phrase of idf `w` adds less than `w * (k1 + 1)` to any row's score (its tf part saturates below
  k1 + 1), so a row that matches the phrases S scores below `bound(S)`, the sum of their ceilings.
- A tier picks a threshold `t` and the rows that match some set S with `bound(S) >= t` (an FTS5 expression
  of AND groups, used only as a row filter; the scoring MATCH stays the OR of every phrase, so scores are
  the unbounded query's own). Every row outside the tier scores below `t`.
- The first tier is the narrowest that holds `limit` rows (probed with counts). If its k-th best score
  is at least `t`, no row outside it can enter the top-k: done. Otherwise its k-th score, a real score
  (so the true k-th is at least as high), is the threshold of a second, wider tier that holds the answer.
- A single phrase, few matches, long queries, or tiers nearly as wide as every match: every match is
  scored (the unbounded query), up to MAX_SCORED_ROWS of them: a query with more matches than that (one
  word in 10 % of 1M documents) scores only its MAX_SCORED_ROWS newest matches (the highest rowids, the
  latest indexed; found by a doclist walk from the end). That answer is not provably the exact top-k,
  it is the exact top-k of the newest matches; its cost is bounded (~1 us of bm25 per row scored).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# FTS5's bm25 constants (ext/fts5/fts5_aux.c); the bounds below are only valid for these.
BM25_K1 = 1.2
# FTS5 clamps a non-positive idf (a phrase in more than half of the rows) to this.
MIN_IDF = 1e-6
# Below this many matching rows (the phrases' row counts summed) every match is scored: planning and a
# second pass would cost more than the few milliseconds that scoring them all takes.
DIRECT_ROWS = 5_000
# Tiers are built from the subsets of the phrases (2^n of them): longer queries (pasted paragraphs, long
# CJK runs) are scored unbounded rather than planned.
MAX_PLANNED_PHRASES = 10
# A tier written as more AND groups than this is widened to "any phrase outside the weakest ones" (a
# superset, so still exact): FTS5 parses the filter expression once per query, but hundreds of groups
# cost more than they save.
MAX_GROUPS = 24
# The first tier aims at this many estimated rows per wanted result (the phrases are not independent:
# the estimate is rough, and a first tier with too few rows costs a second pass).
FIRST_TIER_ROWS_PER_RESULT = 2
# Thresholds probed with a row count before one is scored.
MAX_PROBES = 3
# A tier estimated to hold this share of every match is not worth its filter: every match is scored.
WIDE_SHARE = 0.4
# The most rows a query that cannot be planned scores (see the module's docstring): ~20 ms of bm25.
MAX_SCORED_ROWS = 20_000
# Scores are compared with this relative slack (FTS5 and Python compute the same logarithms in doubles).
EPSILON = 1e-9


@dataclass(frozen=True)
class Tier:
    """Rows matching `expression` (an FTS5 filter) hold every row that can score `threshold` or more."""

    threshold: float
    expression: str
    estimated_rows: float


def phrase_ceiling(rows_with_phrase: int, total_rows: int) -> float:
    """The most one phrase can add to a row's bm25: idf x (k1 + 1), with FTS5's idf and its clamp."""
    idf = math.log((total_rows - rows_with_phrase + 0.5) / (rows_with_phrase + 0.5))
    return (idf if idf > 0 else MIN_IDF) * (BM25_K1 + 1)


class Planner:
    """The bounds of one query's phrases: the tier of rows that can reach any threshold, and its size."""

    def __init__(self, phrases: Sequence[str], counts: Sequence[int], total_rows: int) -> None:
        # A phrase no row matches adds nothing to any row: it stays in the scoring MATCH, not in the tiers.
        keep = [i for i, c in enumerate(counts) if c > 0]
        self.phrases = [phrases[i] for i in keep]
        counts = [counts[i] for i in keep]
        n = len(self.phrases)
        total = max(total_rows, max(counts, default=0), 1)
        self.ceilings = [phrase_ceiling(c, total) for c in counts]
        share = [min(c / total, 1.0) for c in counts]
        self.masks = range(1, 1 << n)
        self.sums = {m: sum(self.ceilings[i] for i in range(n) if m >> i & 1) for m in self.masks}
        # Expected rows whose set of matched phrases is exactly m (phrases taken as independent): the rows
        # of the tier at threshold t are estimated as the sum over every m with sums[m] >= t.
        self.exact = {
            m: total * math.prod(share[i] if m >> i & 1 else 1.0 - share[i] for i in range(n))
            for m in self.masks
        }
        self.matches = float(sum(counts))

    def plannable(self) -> bool:
        return 2 <= len(self.phrases) <= MAX_PLANNED_PHRASES and self.matches > DIRECT_ROWS

    def estimate(self, threshold: float) -> float:
        return sum(self.exact[m] for m in self.masks if self.sums[m] >= threshold)

    def first_threshold(self, wanted_rows: float) -> float | None:
        """The highest threshold whose tier is estimated to hold `wanted_rows` rows, or None when even
        the widest tier is not much narrower than every match."""
        estimate = 0.0
        ordered = sorted(self.masks, key=lambda m: -self.sums[m])
        for index, mask in enumerate(ordered):
            estimate += self.exact[mask]
            if index + 1 < len(ordered) and self.sums[ordered[index + 1]] == self.sums[mask]:
                continue  # a tier takes every set of the same bound
            if estimate >= self.matches * WIDE_SHARE:
                return None
            if estimate >= wanted_rows:
                return self.sums[mask]
        return None

    def lower_threshold(self, threshold: float) -> float | None:
        """The next threshold below `threshold` (the next wider tier), or None."""
        return max((s for s in self.sums.values() if s < threshold), default=None)

    def tier(self, threshold: float) -> Tier | None:
        """The rows that can score `threshold` or more, as an FTS5 filter; None when that is not much
        narrower than every match (then scoring every match is as cheap)."""
        estimate = self.estimate(threshold)
        if estimate >= self.matches * WIDE_SHARE:
            return None
        n = len(self.phrases)
        groups = [
            m
            for m in self.masks
            if self.sums[m] >= threshold
            and all(self.sums[m] - self.ceilings[i] < threshold for i in range(n) if m >> i & 1)
        ]
        if not groups:
            return None
        return Tier(threshold, _expression(self.phrases, self.ceilings, groups, threshold), estimate)


def _expression(
    phrases: Sequence[str], ceilings: Sequence[float], groups: list[int], threshold: float
) -> str:
    n = len(phrases)
    if len(groups) <= MAX_GROUPS:
        parts = []
        for mask in groups:
            members = [phrases[i] for i in range(n) if mask >> i & 1]
            parts.append(members[0] if len(members) == 1 else "(" + " AND ".join(members) + ")")
        return " OR ".join(parts)
    # Widened: a row reaching the threshold matches at least one phrase outside the weakest ones whose
    # ceilings together stay below it.
    order = sorted(range(n), key=lambda i: ceilings[i])
    weak, acc = set(), 0.0
    for i in order:
        if acc + ceilings[i] >= threshold:
            break
        acc += ceilings[i]
        weak.add(i)
    return " OR ".join(phrases[i] for i in range(n) if i not in weak)


def bounded_top(
    phrases: Sequence[str],
    count_rows: Callable[[str], int],
    total_rows: int,
    run: Callable[..., list[tuple[object, float]]],
    limit: int,
    newest_floor: Callable[[str, int], int | None] | None = None,
) -> list[tuple[object, float]]:
    """The `limit` best `(key, bm25)` rows of the OR of `phrases`, bm25 as FTS5 gives it (lower is better).

    `count_rows(phrase)` counts the rows matching one phrase; `run(filter_expression, limit)` runs the
    scoring query (MATCH of every phrase OR-ed, ORDER BY bm25 then rowid) restricted to the rows matching
    `filter_expression` (None: no restriction). The answer equals `run(None, limit)`, except for a query
    that cannot be planned and matches more than MAX_SCORED_ROWS rows when `newest_floor` is given:
    `newest_floor(expression, n)` is the rowid of the n-th newest row matching `expression` (None: fewer),
    and `run(None, limit, floor)` scores only the rows from that rowid on.

    First a narrow tier (about FIRST_TIER_ROWS_PER_RESULT x limit rows) is scored; its k-th score is a
    real score, so the true k-th is at least that: the tier at that threshold then holds the whole answer.
    A first tier with fewer than `limit` rows gives no threshold: every match is scored."""
    known: dict[str, int] = {}

    def every_match() -> list[tuple[object, float]]:
        if newest_floor is None or limit <= 0 or not phrases:
            return run(None, limit)
        expression = " OR ".join(phrases)
        if expression not in known:
            known[expression] = count_rows(expression)
        floor = newest_floor(expression, MAX_SCORED_ROWS) if known[expression] > MAX_SCORED_ROWS else None
        if floor is None:
            return run(None, limit)
        rows = run(None, limit, floor)
        return rows if len(rows) >= limit else run(None, limit)  # a filter kept too few of the newest

    if limit <= 0 or not 2 <= len(phrases) <= MAX_PLANNED_PHRASES:
        return every_match()
    planner = Planner(phrases, [count_rows(p) for p in phrases], total_rows)
    if not planner.plannable():
        return run(None, limit) if planner.matches <= DIRECT_ROWS else every_match()
    matching = count_rows(" OR ".join(planner.phrases))  # the phrases of one CJK run match the same rows
    known[" OR ".join(phrases)] = matching
    if matching <= DIRECT_ROWS:
        return run(None, limit)
    # Probe thresholds with counts (doclist merges, no scoring) until a tier holds `limit` rows: the
    # estimate takes the phrases as independent, and words that go together (a CJK word's bigrams, a
    # brand and its product) or never do (two languages) make it wrong.
    threshold = planner.first_threshold(FIRST_TIER_ROWS_PER_RESULT * limit)
    tier = None
    for _ in range(MAX_PROBES):
        tier = planner.tier(threshold) if threshold is not None else None
        if tier is None:
            return every_match()
        rows_in_tier = count_rows(tier.expression)
        if rows_in_tier >= matching * WIDE_SHARE:
            return every_match()
        if rows_in_tier >= limit:
            break
        threshold = planner.lower_threshold(tier.threshold)
    else:
        return every_match()
    rows = run(tier.expression, limit)
    if len(rows) < limit:
        return every_match()
    kth = -rows[-1][1] * (1 - EPSILON) - EPSILON  # a little lower: FTS5 and Python round differently
    if kth >= tier.threshold:
        return rows  # every row outside the tier scores below its threshold, so below the k-th
    wider = planner.tier(kth)
    if wider is not None and wider.expression == tier.expression:
        return rows  # the same rows reach the k-th score: nothing outside can
    if wider is None:
        return every_match()
    return run(wider.expression, limit)
