"""Fuzzing: every fixture page, mutated, never crashes a parser nor lets an absurd value through normalisation.

Seeded (hypothesis derandomized) and bounded to about a minute in CI. The long run sets the total number of
fuzzed pages, e.g. `TRENDCART_FUZZ_EXAMPLES=100000 pytest -q tests/test_fuzz_parsers.py`, and with
TRENDCART_FUZZ_REPORT=path writes its figures (pages, crashes, absurd values, drops, seconds) as JSON there.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler import normalize, times
from crawler.bounds import EARLIEST_TIME, FUTURE_SLACK, MAX_COUNT, MAX_DURATION_S, MAX_PRICE
from crawler.parsers import parse_page
from crawler.parsers.base import Page
from crawler.times import parse_iso
from tests.fuzzing import (
    HOSTILE_NUMBERS,
    HOSTILE_STRINGS,
    Outcome,
    check_page,
    deep_value,
    fuzzed_pages,
    seeds,
)

# Fuzzed pages in all, spread over the seed pages; the CI default keeps the file near a minute on 2 cores.
CI_PAGES = 1_500
PAGES = int(os.environ.get("TRENDCART_FUZZ_EXAMPLES") or CI_PAGES)
SEEDS = seeds()
PER_SEED = max(1, math.ceil(PAGES / len(SEEDS)))
# Examples of each property test of the normaliser and the time parser.
PROPERTY_EXAMPLES = max(300, PAGES // 20)
REPORT_ENV = "TRENDCART_FUZZ_REPORT"
# Fuzzed pages are observed now, as a crawl observes them: the bounds on times are relative to that.
OBSERVED_AT = datetime.now(timezone.utc).replace(microsecond=0)

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)
STATS: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def fuzz_report():
    """The run's figures, written to TRENDCART_FUZZ_REPORT (when set) after the last test of the module."""
    started = time.monotonic()
    yield
    if os.environ.get(REPORT_ENV):
        figures = {"seeds": len(SEEDS), "seconds": round(time.monotonic() - started, 1), **dict(STATS)}
        with open(os.environ[REPORT_ENV], "w", encoding="utf-8") as out:
            json.dump(figures, out, indent=2, sort_keys=True)


def record(outcome: Outcome) -> None:
    STATS["pages"] += 1
    STATS["crashes"] += len(outcome.crashes)
    STATS["absurd_values"] += len(outcome.absurd)
    STATS["items_kept"] += outcome.kept
    for reason, n in outcome.dropped.items():
        STATS[f"items_dropped/{reason}"] += n


def test_every_fixture_page_is_a_seed():
    names = {str(seed) for seed in SEEDS}
    assert {
        "platforms/bilibili/popular-pn1.json",
        "platforms/youtube/watch-live.html",
        "standards/atom.xml",
    } <= names
    assert len(names) == len(SEEDS)
    assert all(seed.spans for seed in SEEDS if seed.path.suffix == ".json")


@pytest.mark.parametrize("seed", SEEDS, ids=str)
@settings(FUZZ, max_examples=PER_SEED)
@given(data=st.data())
def test_fuzzed_pages_never_crash_a_parser_nor_pass_absurd_values(seed, data):
    page, parser = data.draw(fuzzed_pages(seed, OBSERVED_AT), label="page")
    outcome = check_page(page, parser)
    record(outcome)
    assert not outcome.crashes, f"{seed}: {outcome.crashes}"
    assert not outcome.absurd, f"{seed}: {outcome.absurd}"


# -- the hostile values of the issue, each on its own, in the simplest page that reaches them -------------
def bilibili_view(**fields) -> Page:
    data = {"bvid": "BV1fuzz", "title": "t", "stat": {"view": 5}, "owner": {"mid": 1}, **fields}
    body = json.dumps({"code": 0, "message": "0", "ttl": 1, "data": data}, allow_nan=True)
    return Page(url="https://api.bilibili.com/x/web-interface/view?bvid=BV1fuzz", body=body.encode())


@pytest.mark.parametrize("raw", HOSTILE_NUMBERS + tuple(json.dumps(s) for s in HOSTILE_STRINGS))
def test_hostile_scalars_in_every_bilibili_field(raw):
    for name in ("pubdate", "duration", "title", "bvid", "owner", "stat"):
        page = bilibili_view()
        body = page.body.decode().replace('"title": "t"', f'"title": "t", "{name}": {raw}', 1)
        if name in ("bvid", "owner", "stat"):
            body = page.body.decode().replace(f'"{name}": ', f'"{name}": {raw}, "_was": ', 1)
        outcome = check_page(Page(url=page.url, body=body.encode(), observed_at=OBSERVED_AT), None)
        assert not outcome.crashes and not outcome.absurd, (name, raw, outcome)


def test_deep_nesting_is_a_reason_and_good_json_ld_blocks_survive():
    good = '{"@context": "https://schema.org", "@type": "VideoObject", "name": "Good", "url": "https://a.example/v"}'
    html = (
        f'<html><head><script type="application/ld+json">{deep_value(5_000, "list")}</script>'
        f'<script type="application/ld+json">{good}</script></head><body></body></html>'
    )
    result = parse_page(Page.from_text("https://a.example/v", html), "jsonld")
    assert result.errors == ["jsonld/too_deep"]
    assert [item.title for item in result.items] == ["Good"]
    deep_api = '{"code": 0, "ttl": 1, "data": ' + deep_value(50_000, "dict") + "}"
    page = Page(url="https://api.bilibili.com/x/web-interface/popular?pn=1", body=deep_api.encode())
    assert not parse_page(page).errors[0].endswith("/crash")


# -- the normaliser and the time parser on arbitrary values ------------------------------------------------
NUMBERISH = st.from_regex(
    r"\A[-+−]?[0-9０-９]{0,420}(?:[.,][0-9]{0,30})?(?:[eE][-+]?[0-9]{1,5})?\s?(?:万|亿|k|M|w|千万|元|¥)?\Z"
)
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([10**400, -(10**400), 2**63, 2**64]),
    st.floats(allow_nan=True, allow_infinity=True),
    NUMBERISH,
    st.sampled_from(HOSTILE_STRINGS + HOSTILE_NUMBERS),
    st.text(max_size=60),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)


@settings(FUZZ, max_examples=PROPERTY_EXAMPLES)
@given(VALUES)
def test_parse_count_never_raises_and_stays_in_bounds(value):
    count = normalize.parse_count(value)
    assert count is None or (type(count) is int and 0 <= count <= MAX_COUNT)


@settings(FUZZ, max_examples=PROPERTY_EXAMPLES)
@given(VALUES, st.one_of(st.none(), st.text(max_size=5), st.integers()))
def test_parse_price_never_raises_and_stays_in_bounds(value, currency):
    price = normalize.parse_price(value, default_currency=currency)
    if price is not None:
        for amount in (price.amount, price.amount_max):
            assert amount is None or (math.isfinite(amount) and 0 <= amount <= MAX_PRICE)
        assert price.currency is None or isinstance(price.currency, str)


@settings(FUZZ, max_examples=PROPERTY_EXAMPLES)
@given(
    st.one_of(
        VALUES,
        st.from_regex(r"\AP?T?(?:[0-9]{0,400}[.]?[0-9]{0,3}[WDHMS]){0,4}\Z"),
        st.from_regex(r"\A[0-9]{0,9}(?::[0-9]{0,3}){0,3}\Z"),
    )
)
def test_parse_duration_never_raises_and_stays_in_bounds(value):
    seconds = normalize.parse_duration(value)
    assert seconds is None or (type(seconds) is int and 0 <= seconds <= MAX_DURATION_S)
    raw = times.parse_duration(value)
    assert raw is None or (type(raw) is int and raw >= 0)


DATEISH = st.one_of(
    st.from_regex(
        r"\A[0-9]{1,5}-[0-9]{1,2}-[0-9]{1,2}(?:[T ][0-9]{1,2}:[0-9]{1,2}(?::[0-9]{1,2})?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?\Z"
    ),
    st.from_regex(r"\A(?:今天|昨天|前天|today)\s?[0-9]{1,2}:[0-9]{2}\Z"),
    st.from_regex(r"\A[0-9]{1,2}-[0-9]{1,2}\s[0-9]{1,2}:[0-9]{2}\Z"),
    st.from_regex(r"\A[0-9]{1,20}\s?(?:天|小时|分钟|年|个月)前\Z"),
    st.from_regex(r"\A[0-9]{1,20} (?:hours?|days?|years?) ago\Z"),
    st.floats(min_value=-1e20, max_value=1e20),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.datetimes(
        timezones=st.sampled_from(
            [timezone.utc, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))]
        )
    ).map(lambda d: d.isoformat()),
)


@settings(FUZZ, max_examples=PROPERTY_EXAMPLES)
@given(st.one_of(VALUES, DATEISH))
def test_parse_datetime_never_raises_and_stays_believable(value):
    iso = times.parse_datetime(value, NOW)
    if iso is not None:
        moment = parse_iso(iso)
        assert moment is not None and EARLIEST_TIME <= moment <= NOW + FUTURE_SLACK
    resolved = times.resolve_time(value, now=NOW) if isinstance(value, str) else None
    assert resolved is None or parse_iso(resolved) is not None
