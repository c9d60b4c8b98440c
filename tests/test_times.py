"""The one set of time helpers: now, canonical ISO UTC, strict ISO reading, durations, --since/--until times."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from crawler import normalize
from crawler.times import iso_utc, parse_datetime, parse_duration, parse_iso, resolve_time, to_iso, utc_now

NOW = datetime(2026, 11, 25, 10, 0, 0, tzinfo=timezone.utc)
BEIJING = timezone(timedelta(hours=8))


def test_utc_now_is_aware_utc_to_the_second():
    now = utc_now()
    assert now.tzinfo is timezone.utc and now.microsecond == 0


def test_iso_utc_is_canonical_and_naive_means_utc():
    assert iso_utc(datetime(2026, 11, 20, 8, 0, 0, 999_999)) == "2026-11-20T08:00:00Z"
    assert iso_utc(datetime(2026, 11, 20, 8, 0, tzinfo=BEIJING)) == "2026-11-20T00:00:00Z"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-20T08:00:00Z", datetime(2026, 11, 20, 8, tzinfo=timezone.utc)),
        ("2026-11-20T08:00:00z", datetime(2026, 11, 20, 8, tzinfo=timezone.utc)),
        ("2026-11-20T08:00:00+08:00", datetime(2026, 11, 20, 0, tzinfo=timezone.utc)),
        ("2026-11-20T08:00:00+0800", datetime(2026, 11, 20, 0, tzinfo=timezone.utc)),
        ("2026-11-20 08:00:00", datetime(2026, 11, 20, 8, tzinfo=timezone.utc)),
        (" 2026-11-20 ", datetime(2026, 11, 20, tzinfo=timezone.utc)),
        (datetime(2026, 11, 20, 8), datetime(2026, 11, 20, 8, tzinfo=timezone.utc)),
        (datetime(2026, 11, 20, 8, tzinfo=BEIJING), datetime(2026, 11, 20, 0, tzinfo=timezone.utc)),
    ],
)
def test_parse_iso_reads_strict_iso_as_aware_utc(raw, expected):
    parsed = parse_iso(raw)
    assert parsed == expected and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("raw", [None, "", "garbage", "3天前", "24h", 1_700_000_000, "2026-13-01"])
def test_parse_iso_is_none_when_unreadable(raw):
    assert parse_iso(raw) is None


def test_to_iso_is_canonical_or_raises_with_the_reason():
    assert to_iso("2026-11-20T08:00:00.123+08:00") == "2026-11-20T00:00:00Z"
    assert to_iso(None) is None
    with pytest.raises(ValueError, match="not an ISO 8601 time: 'yesterday'"):
        to_iso("yesterday")
    with pytest.raises(ValueError, match="expected an ISO 8601 string, got int"):
        to_iso(5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("PT1M30S", 90),
        ("P1W", 604_800),
        ("01:30", 90),
        ("1:02:03", 3723),
        ("90s", 90),
        ("30m", 1800),
        ("24h", 86_400),
        ("7d", 604_800),
        ("2w", 1_209_600),
        ("1d12h", 129_600),
        ("1d 12h", 129_600),
        ("1.5H", 5400),
        ("90", 90),
        (90, 90),
        (1.4, 1),
        ("P30D", 2_592_000),  # no bound here: callers keep their own
    ],
)
def test_one_duration_parser_reads_every_form(raw, seconds):
    assert parse_duration(raw) == seconds


@pytest.mark.parametrize(
    "raw", [None, True, "", "PT", "1:75", "abc", "-1d", "1y", "24h junk", -5, float("nan")]
)
def test_durations_unreadable(raw):
    assert parse_duration(raw) is None


def test_duration_forms_narrow_what_is_read():
    assert parse_duration("24", forms=("compact",)) is None
    assert parse_duration("01:30", forms=("compact",)) is None
    assert parse_duration("PT1H", forms=("compact",)) is None
    assert parse_duration("24h", forms=("compact",)) == 86_400
    assert parse_duration(24, forms=("compact",)) is None


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("24h", "2026-11-24T10:00:00Z"),
        ("7d", "2026-11-18T10:00:00Z"),
        ("2w", "2026-11-11T10:00:00Z"),
        (" 30m ", "2026-11-25T09:30:00Z"),
        ("2026-11-20", "2026-11-20T00:00:00Z"),
        ("2026-11-20T08:00:00+08:00", "2026-11-20T00:00:00Z"),
        ("3天前", "2026-11-22T10:00:00Z"),
        ("2 hours ago", "2026-11-25T08:00:00Z"),
    ],
)
def test_resolve_time_reads_what_since_and_until_accept(raw, iso):
    assert resolve_time(raw, now=NOW) == iso


@pytest.mark.parametrize("raw", ["whenever", "", "24", "P1D"])
def test_resolve_time_is_none_when_unreadable(raw):
    assert resolve_time(raw, now=NOW) is None


def test_resolve_time_defaults_to_now():
    resolved = parse_iso(resolve_time("1h"))
    assert abs((utc_now() - timedelta(hours=1) - resolved).total_seconds()) < 5


# -- moved from tests/test_normalize.py: durations and page times are read here now ---------------
@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("PT1M30S", 90),
        ("01:30", 90),
        ("1:02:03", 3723),
        ("PT00H00M44S", 44),
        ("P1DT1H", 90_000),
        ("90", 90),
        (90, 90),
        ("PT1.5S", 2),
        ("pt2m", 120),
    ],
)
def test_durations(raw, seconds):
    assert parse_duration(raw) == seconds
    assert normalize.parse_duration(raw) == seconds  # within its bound, normalize reads the same


@pytest.mark.parametrize("raw", [None, "", "PT", "1:75", "abc", -5, float("inf")])
def test_durations_unknown(raw):
    assert parse_duration(raw) is None
    assert normalize.parse_duration(raw) is None


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2026-11-20T08:00:00+08:00", "2026-11-20T00:00:00Z"),
        ("2026-11-20T08:00:00Z", "2026-11-20T08:00:00Z"),
        ("2026-11-20T08:00:00.123Z", "2026-11-20T08:00:00Z"),
        ("2026-11-20T08:00:00+0800", "2026-11-20T00:00:00Z"),
        ("2026-11-20", "2026-11-20T00:00:00Z"),
        ("2026-11-20 08:00:00", "2026-11-20T08:00:00Z"),
        (1_700_000_000, "2023-11-14T22:13:20Z"),
        (1_700_000_000_000, "2023-11-14T22:13:20Z"),
        ("1700000000", "2023-11-14T22:13:20Z"),
        ("1700000000000", "2023-11-14T22:13:20Z"),
        ("3天前", "2026-11-22T10:00:00Z"),
        ("5分钟前", "2026-11-25T09:55:00Z"),
        ("2小时前", "2026-11-25T08:00:00Z"),
        ("昨天 12:30", "2026-11-24T12:30:00Z"),
        ("2 hours ago", "2026-11-25T08:00:00Z"),
        ("an hour ago", "2026-11-25T09:00:00Z"),
        ("3 days ago", "2026-11-22T10:00:00Z"),
        ("刚刚", "2026-11-25T10:00:00Z"),
        ("Wed, 02 Oct 2002 13:00:00 GMT", "2002-10-02T13:00:00Z"),
        ("Mon, 23 Nov 2026 09:30:00 +0800", "2026-11-23T01:30:00Z"),
        ("2026年11月20日", "2026-11-20T00:00:00Z"),
        ("11-20", "2026-11-20T00:00:00Z"),
    ],
)
def test_datetimes_relative_to_crawl_time(raw, iso):
    assert parse_datetime(raw, NOW) == iso


def test_local_day_words_use_the_given_zone():
    # 昨天 12:30 in Beijing is 04:30 UTC.
    assert parse_datetime("昨天 12:30", NOW, default_tz=BEIJING) == "2026-11-24T04:30:00Z"
    assert parse_datetime("2026-11-20 08:00", NOW, default_tz=BEIJING) == "2026-11-20T00:00:00Z"


@pytest.mark.parametrize("raw", [None, "", "garbage", "yesterdayish", 0, -5, float("nan"), True, "13-45"])
def test_datetimes_unknown(raw):
    assert parse_datetime(raw, NOW) is None


# -- out of range and not believable: None, never an exception (issue 10) ---------------------------------
@pytest.mark.parametrize(
    "raw",
    [
        "今天 25:00",
        "昨天 23:60",
        "11-20 99:99",
        "0001-01-01T00:00:00+01:00",  # no UTC form: before the year 1
        "9999-12-31T23:59:59-01:00",  # after the year 9999
        "99999999999999天前",
        "999999999999 hours ago",
        "1" * 400,
        10**400,
        float("inf"),
        "Mon, 99 Foo 2026 99:99:99 +9999",
    ],
)
def test_datetimes_out_of_range_are_none(raw):
    assert parse_datetime(raw, NOW) is None


@pytest.mark.parametrize(
    "raw",
    [
        1e11,  # read as seconds: the year 5138; as milliseconds: 1973
        100_000_000_000,
        1e13,  # milliseconds of the year 2286
        5,  # a tiny epoch: 1970
        "123456789",  # 1973
        "1970-01-01T00:00:00Z",
        "1999-12-31T23:59:59Z",  # before bounds.EARLIEST_TIME
        "2099-01-01",  # past now + bounds.FUTURE_SLACK
        4_102_444_800,  # 2100 in epoch seconds
        "30年前",
    ],
)
def test_datetimes_outside_the_believable_range_are_none(raw):
    assert parse_datetime(raw, NOW) is None


def test_believable_range_is_relative_to_now():
    assert parse_datetime("2027-06-01", NOW) == "2027-06-01T00:00:00Z"  # a scheduled live, months ahead
    assert parse_datetime("2000-01-01T00:00:00Z", NOW) == "2000-01-01T00:00:00Z"
    assert parse_datetime("2028-06-01", NOW) is None


def test_resolve_time_keeps_old_dates_and_never_raises():
    assert resolve_time("1999-01-01", now=NOW) == "1999-01-01T00:00:00Z"  # a filter, not a page value
    for raw in ("999999999999h", "今天 25:00", "0001-01-01T00:00:00+01:00", "9" * 5000 + "d"):
        assert resolve_time(raw, now=NOW) is None


def test_iso_utc_pads_the_year():
    assert iso_utc(datetime(1, 10, 1)) == "0001-10-01T00:00:00Z"


@pytest.mark.parametrize(
    "raw", ["P" + "9" * 400 + "D", "PT1" + "0" * 400 + "S", "9" * 400, "9" * 5000 + ":30", 10**400]
)
def test_durations_beyond_any_float_are_none(raw):
    assert parse_duration(raw) is None
