"""One number format per quantity, for every face (terminal tables, plain views, reports): counts, rates, percents."""

from __future__ import annotations

import math
from typing import Any

# What a missing value shows as, everywhere.
MISSING = "–"
# Relevance words from a hit's fused score as a share of the best hit's (search tables): at or above each floor.
RELEVANCE_WORDS = ((80, "strong"), (50, "good"), (0, "weak"))


def _number(value: Any) -> float | None:
    """`value` as a finite float, or None (None, NaN, infinities, non-numbers, booleans)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def count(value: Any) -> str:
    """A count (views, likes, members, documents, viewers, minutes): a whole number with thousands separators."""
    n = _number(value)
    return MISSING if n is None else f"{round(n):,}"


def rate(value: Any) -> str:
    """A rate (views per hour, viewers per minute): thousands separators and one decimal."""
    n = _number(value)
    return MISSING if n is None else f"{n:,.1f}"


def percent(value: Any, signed: bool = False) -> str:
    """A value already in percent (growth %/day, acceleration %): one decimal and `%`; `signed`: always + or -."""
    n = _number(value)
    if n is None:
        return MISSING
    return f"{n:+,.1f}%" if signed else f"{n:,.1f}%"


def share(value: Any) -> str:
    """A fraction 0..1 (FACT shares, a part of a whole) as a percent with one decimal."""
    n = _number(value)
    return MISSING if n is None else percent(n * 100)


def score(value: Any) -> str:
    """A trend score (docs/TRENDS.md: log-scaled, usually 0-20): two decimals."""
    n = _number(value)
    return MISSING if n is None else f"{n:,.2f}"


def confidence(value: Any) -> str:
    """A match confidence or a cosine (-1..1): two decimals."""
    n = _number(value)
    return MISSING if n is None else f"{n:.2f}"


def price(amount: Any, currency: str | None = None) -> str:
    """A price or an amount of money: two decimals with thousands separators, then its currency code."""
    n = _number(amount)
    if n is None:
        return MISSING
    return f"{n:,.2f} {currency}" if currency else f"{n:,.2f}"


def megabytes(size_bytes: Any) -> str:
    """A file size in MB (10^6 bytes), one decimal."""
    n = _number(size_bytes)
    return MISSING if n is None else f"{n / 1e6:,.1f} MB"


def relevance(value: Any, best: Any) -> int | None:
    """A hit's fused score as 0-100 of the best hit's score (the best is 100); None without a positive best."""
    n, top = _number(value), _number(best)
    if n is None or top is None or top <= 0:
        return None
    return max(0, min(100, round(100 * n / top)))


def relevance_word(points: int | None) -> str:
    """strong / good / weak for a relevance of 0-100 (RELEVANCE_WORDS)."""
    if points is None:
        return MISSING
    return next(word for floor, word in RELEVANCE_WORDS if points >= floor)
