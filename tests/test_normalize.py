"""Normalisation, case by case: counts, prices, the duration bound, hashtags, language (times: test_times.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from crawler.normalize import (
    MAX_COUNT,
    MAX_DURATION_S,
    MAX_PRICE,
    Price,
    clean_text,
    extract_hashtags,
    guess_language,
    normalise_hashtags,
    parse_count,
    parse_currency,
    parse_duration,
    parse_price,
)

NOW = datetime(2026, 11, 25, 10, 0, 0, tzinfo=timezone.utc)
BEIJING = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.2万", 12_000),
        ("3.4w", 34_000),
        ("3.4W", 34_000),
        ("10万+", 100_000),
        ("1.5亿", 150_000_000),
        ("12.3K", 12_300),
        ("4.5M", 4_500_000),
        ("1,234", 1_234),
        ("1.2k likes", 1_200),
        ("1.5 万", 15_000),
        ("3.2万次播放", 32_000),
        ("播放量 5,678", 5_678),
        ("12,345,678", 12_345_678),
        ("1.234.567", 1_234_567),
        ("2.1千", 2_100),
        ("1.1億", 110_000_000),
        ("1,5", 2),
        ("0", 0),
        (1234, 1234),
        (12.6, 13),
        ("999+", 999),
    ],
)
def test_counts(raw, expected):
    assert parse_count(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "N/A",
        "--",
        True,
        [],
        float("nan"),
        float("inf"),
        -3,
        "-5",
        "-1,234",
        "−7",
        1e30,
        "1e30",
        str(MAX_COUNT * 10),
        "99999亿",
    ],
)
def test_counts_unknown_or_absurd_are_none(raw):
    assert parse_count(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("¥59.9", Price(59.9, None, "CNY")),
        ("59.90元", Price(59.9, None, "CNY")),
        ("$12.99", Price(12.99, None, "USD")),
        ("€5", Price(5.0, None, "EUR")),
        ("¥39-59", Price(39.0, 59.0, "CNY")),
        ("券后¥29", Price(29.0, None, "CNY")),
        ("¥39~¥59", Price(39.0, 59.0, "CNY")),
        ("USD 12", Price(12.0, None, "USD")),
        ("1,299.00 元", Price(1299.0, None, "CNY")),
        ("￥88", Price(88.0, None, "CNY")),
        ("HK$120", Price(120.0, None, "HKD")),
        ("£3.50", Price(3.5, None, "GBP")),
        (19.9, Price(19.9, None, None)),
    ],
)
def test_prices(raw, expected):
    assert parse_price(raw) == expected


def test_price_default_currency_and_bad_values():
    assert parse_price("59.90", default_currency="CNY") == Price(59.9, None, "CNY")
    for raw in (None, "", "free", "-5", -1, float("nan"), 1e12, "¥59-39"):
        assert parse_price(raw) is None, raw


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("CNY", "CNY"),
        ("usd", "USD"),
        ("¥", "CNY"),
        ("元", "CNY"),
        ("$", "USD"),
        ("€", "EUR"),
        ("RMB", "CNY"),
        ("XYZ", None),
        (None, None),
    ],
)
def test_currency(raw, code):
    assert parse_currency(raw) == code


def test_durations_over_a_week_are_unknown():
    # The forms themselves are read by crawler.times.parse_duration (tests/test_times.py); this is the bound.
    assert parse_duration("P1DT1H") == 90_000 and parse_duration(MAX_DURATION_S) == MAX_DURATION_S
    assert parse_duration("P30D") is None and parse_duration(MAX_DURATION_S + 1) is None
    assert parse_duration("abc") is None


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("好物 #tag #话题# #口红推荐 more", ["tag", "话题", "口红推荐"]),
        ("#a #A #b", ["a", "b"]),
        ("今年值得买 #口红 #双十一\n链接", ["口红", "双十一"]),
        ("see https://x.example/page#section and &#39;quoted&#39;", []),
        ("#1 best seller, C# tips", []),
        ("#OOTD#fashion", ["OOTD", "fashion"]),
        (None, []),
    ],
)
def test_hashtags(text, tags):
    assert extract_hashtags(text) == tags


def test_normalise_hashtags():
    assert normalise_hashtags("口红, 试色，#好物 ,,") == ["口红", "试色", "好物"]
    assert normalise_hashtags(["#A", "a", 3, " b "]) == ["A", "b"]
    assert normalise_hashtags(None) == []


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("这是一个口红推荐视频", "zh"),
        ("This is a video about lipstick", "en"),
        ("秋冬口红 lipstick 试色", "zh"),
        ("日本語のテキストです", "ja"),
        ("ab", None),
        ("12345", None),
        (None, None),
    ],
)
def test_language(text, lang):
    assert guess_language(text) == lang


def test_clean_text():
    assert clean_text("  a\n\tb\x00c  ") == "a bc"
    assert clean_text("   ") is None and clean_text(5) is None
    assert clean_text("x" * 10, max_length=3) == "xxx"


@pytest.mark.parametrize(
    "raw",
    [
        "1" * 400,
        "1" * 400 + "万",
        "9" * 400 + ".5亿",
        10**400,
        "9" * 5000,
        MAX_COUNT + 1,
        float("-inf"),
    ],
)
def test_counts_beyond_any_float_or_the_bound_are_none(raw):
    assert parse_count(raw) is None


@pytest.mark.parametrize(
    "raw", [float("inf"), float("nan"), 10**400, "¥" + "9" * 400, "1e400", "¥39-" + "9" * 400, MAX_PRICE + 1]
)
def test_prices_not_finite_or_beyond_the_bound_are_none(raw):
    assert parse_price(raw) is None


def test_price_ignores_a_default_currency_that_is_not_a_string():
    assert parse_price(5, default_currency={"code": "CNY"}) == Price(5.0, None, None)


def test_bounds_come_from_crawler_bounds():
    from crawler import bounds

    assert (MAX_COUNT, MAX_DURATION_S, MAX_PRICE) == (
        bounds.MAX_COUNT,
        bounds.MAX_DURATION_S,
        bounds.MAX_PRICE,
    )


def test_clean_text_replaces_lone_surrogates():
    # A cut JSON escape pair (`\\ud83d` without its `\\ude00`) is not Unicode text: the JSON-form check refuses it.
    assert clean_text("ok \ud83d cut \udc00") == "ok \ufffd cut \ufffd"
    assert clean_text("emoji \U0001f600 kept") == "emoji \U0001f600 kept"
