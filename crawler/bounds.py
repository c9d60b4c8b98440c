"""The documented bounds of believable values (docs/RELIABILITY.md): the normaliser nulls what lies outside, the
JSON-form check refuses it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

# The largest count we believe (views, likes, followers, sales, viewers...). The most-viewed video anywhere
# has ~1.6e10 views; anything beyond 1e12 is a parsing accident or a hostile page. Also keeps every count far
# inside SQLite's and Elasticsearch's signed 64-bit integers (2^63 ~ 9.2e18).
MAX_COUNT = 10**12
# Prices above this (in any currency) are garbage, not a product; NaN and infinities are never prices.
MAX_PRICE = 10**9
# The longest duration we believe for a video or a live room: a week (24/7 "live" channels restart streams).
MAX_DURATION_S = 7 * 24 * 3600
# No public video platform predates this; an earlier publication time is an epoch misread (0, tiny numbers).
EARLIEST_TIME = datetime(2000, 1, 1, tzinfo=timezone.utc)
# Scheduled lives are announced weeks ahead; a time further past the observation than this is absurd.
FUTURE_SLACK = timedelta(days=400)

# The highest rating scale we believe: schema.org's bestRating defaults to 5, shops use 10 and 100 as well; a
# rating is never above its own bestRating (the parser's rule) and never above this (the JSON-form check's).
MAX_RATING = 100
# The longest string we keep in one field (a title, a description, a URL): the longest platform descriptions
# are ~5,000 characters; a field of 100,000 is a page dumped into a field or a hostile line.
MAX_TEXT_CHARS = 100_000
# The most elements of one list (hashtags, linked products, featured_in) in one item.
MAX_LIST_ITEMS = 10_000
# The longest trend window: ten years. Rankings compare a window with the one before it; longer windows
# reach before any platform's data and, far enough, past the calendar (`999999999999h`).
MAX_WINDOW_S = 3653 * 86400


def believable_time(moment: datetime, observed: datetime | None = None) -> bool:
    """Inside [EARLIEST_TIME, observed (default: now) + FUTURE_SLACK]."""
    ceiling = (observed or datetime.now(timezone.utc)) + FUTURE_SLACK
    return EARLIEST_TIME <= moment <= ceiling
