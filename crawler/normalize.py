"""Pure functions that turn the many spellings of counts, prices, durations, dates and tags into plain values."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from crawler import times

# The bounds live in crawler.bounds (docs/RELIABILITY.md); beyond them a value is unknown (None), never stored.
from crawler.bounds import MAX_COUNT as MAX_COUNT
from crawler.bounds import MAX_DURATION_S as MAX_DURATION_S
from crawler.bounds import MAX_PRICE as MAX_PRICE

# Time helpers live in crawler.times; these names stay importable from here for the parsers.
from crawler.language import latin_language
from crawler.times import iso_utc as iso_utc
from crawler.times import parse_datetime as parse_datetime
from crawler.times import utc_now as utc_now

_MULTIPLIERS = {
    "": 1,
    "k": 10**3,
    "千": 10**3,
    "w": 10**4,
    "万": 10**4,
    "萬": 10**4,
    "m": 10**6,
    "百万": 10**6,
    "千万": 10**7,
    "亿": 10**8,
    "億": 10**8,
    "b": 10**9,
    "bn": 10**9,
    "thousand": 10**3,
    "million": 10**6,
    "billion": 10**9,
}
# A Latin unit letter counts only as a whole word: `1.2k likes` and `4.5M` are scaled, but the `w` of
# `1,234 watching` and the `m` of `12 mins` are not units (YouTube's live counters read "N watching").
_COUNT_RE = re.compile(
    r"(?P<num>\d+(?:[.,]\d+)*)\s*(?P<unit>千万|百万|thousand|million|billion|bn|[kmbw](?![a-z])|[千万萬亿億])?\s*\+?",
    re.IGNORECASE,
)


def parse_count(value: Any) -> int | None:
    """`1.2万` -> 12000, `3.4w`, `10万+`, `1.5亿`, `12.3K`, `4.5M`, `1,234`, `1.2k likes`; None if unknown."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _bounded_count(value)
    if not isinstance(value, str):
        return None
    text = value.strip().replace("\u00a0", " ").replace("，", ",")
    if not text:
        return None
    if _SCIENTIFIC_RE.fullmatch(text):  # `1e30`, `-3.0`: a plain number written as a string
        return parse_count(float(text))
    match = _COUNT_RE.search(text)
    if match is None:
        return None
    if _is_negated(text, match.start()):
        return None
    raw, unit = match.group("num"), (match.group("unit") or "").lower()
    raw = _normalise_separators(raw)
    try:
        number = float(raw)
    except ValueError:
        return None
    return _bounded_count(number * _MULTIPLIERS[unit])


def _bounded_count(number: float) -> int | None:
    """The nearest int when finite and inside [0, MAX_COUNT] (`1e400` is infinity, not a count); else None."""
    if not 0 <= number <= MAX_COUNT:  # False for NaN and infinities too
        return None
    return int(round(number))


# A number in scientific or signed notation; such strings come from serialised floats, never from
# page text, so they are read as numbers (and then range-checked) rather than digit by digit.
_SCIENTIFIC_RE = re.compile(r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


def _is_negated(text: str, start: int) -> bool:
    """True when the number at `start` carries a minus sign (`-5`, `- 1,234`, `−3`): a negative count or price."""
    before = text[:start].rstrip()
    return before.endswith(("-", "\u2212"))


def _normalise_separators(raw: str) -> str:
    """`1,234` and `1.234.567` group thousands; `1.5` and `1,5` (not three digits after) are decimals."""
    if "," in raw and "." in raw:
        return raw.replace(",", "")
    for sep in (",", "."):
        if raw.count(sep) > 1:
            return raw.replace(sep, "")
    if "," in raw:
        whole, frac = raw.split(",")
        return whole + frac if len(frac) == 3 else f"{whole}.{frac}"
    return raw


@dataclass(frozen=True)
class Price:
    amount: float
    amount_max: float | None
    currency: str | None


_CURRENCY_SYMBOLS = [
    ("US$", "USD"),
    ("HK$", "HKD"),
    ("NT$", "TWD"),
    ("S$", "SGD"),
    ("A$", "AUD"),
    ("C$", "CAD"),
    ("RMB", "CNY"),
    ("RM", "MYR"),
    ("Rp", "IDR"),
    ("¥", "CNY"),
    ("￥", "CNY"),
    ("元", "CNY"),
    ("块", "CNY"),
    ("$", "USD"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("₩", "KRW"),
    ("₫", "VND"),
    ("฿", "THB"),
    ("₱", "PHP"),
    ("₹", "INR"),
    ("円", "JPY"),
]
_ISO_CODE_RE = re.compile(r"\b([A-Z]{3})\b")
_KNOWN_CODES = {
    "CNY",
    "USD",
    "EUR",
    "GBP",
    "JPY",
    "KRW",
    "HKD",
    "TWD",
    "SGD",
    "MYR",
    "IDR",
    "THB",
    "VND",
    "PHP",
    "INR",
    "AUD",
    "CAD",
    "BRL",
    "MXN",
    "RUB",
}
_PRICE_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
_PRICE_RE = re.compile(rf"(?P<lo>{_PRICE_NUM})(?:\s*(?:-|~|–|—|至|to)\s*\D{{0,3}}?(?P<hi>{_PRICE_NUM}))?")


def parse_price(value: Any, default_currency: str | None = None) -> Price | None:
    """`¥59.9`, `59.90元`, `$12.99`, `€5`, `¥39-59`, `券后¥29` -> Price; None if there is no number."""
    if value is None or isinstance(value, bool):
        return None
    default_currency = default_currency if isinstance(default_currency, str) else None
    if isinstance(value, (int, float)):
        if not _is_price(value):
            return None
        return Price(float(value), None, default_currency)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _SCIENTIFIC_RE.fullmatch(text):  # `1e400`, `-3.5`: a plain number written as a string
        return parse_price(float(text), default_currency)
    match = _PRICE_RE.search(text)
    if match is None or _is_negated(text, match.start()):
        return None
    lo = float(match.group("lo").replace(",", ""))
    hi = float(match.group("hi").replace(",", "")) if match.group("hi") else None
    if not _is_price(lo) or (hi is not None and (not _is_price(hi) or hi < lo)):
        return None
    return Price(lo, hi, parse_currency(text) or default_currency)


def _is_price(amount: float) -> bool:
    """A finite amount in [0, MAX_PRICE]: NaN, infinities and `1e400` are never prices."""
    return 0 <= amount <= MAX_PRICE  # False for NaN; an int of 400 digits compares without becoming a float


def parse_currency(text: str | None) -> str | None:
    """An ISO 4217 code from a code (`CNY`, `usd`) or a symbol (`¥`, `$`, `元`)."""
    if not text or not isinstance(text, str):
        return None
    upper = text.strip().upper()
    if upper in _KNOWN_CODES:
        return upper
    code = _ISO_CODE_RE.search(text.upper())
    if code and code.group(1) in _KNOWN_CODES:
        return code.group(1)
    for symbol, iso in _CURRENCY_SYMBOLS:
        if symbol in text:
            return iso
    return None


def parse_duration(value: Any) -> int | None:
    """`PT1M30S` -> 90, `01:30` -> 90, `1:02:03` -> 3723, `90` -> 90; None if unknown or over MAX_DURATION_S."""
    seconds = times.parse_duration(value)
    return seconds if seconds is not None and seconds <= MAX_DURATION_S else None


_HASHTAG_ZH_RE = re.compile(r"#([^#\s]{1,40})#")  # `#话题#`: no blanks inside, else `#a #b` would read as one
# URLs are removed before looking for tags (`/page#section` is a fragment, not a tag); entities (`&#39;`)
# are skipped; glued tags (`#ootd#fashion`) are two tags; all-digit tags (`#1 best seller`) are ranks.
_HASHTAG_RE = re.compile(r"(?<![&/])#([\w\u4e00-\u9fff\u3040-\u30ff\uac00-\ud7af]+)", re.UNICODE)
_URL_RE = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)


def extract_hashtags(text: str | None) -> list[str]:
    """`#tag` and Weibo-style `#话题#` -> tags without `#`, in order, de-duplicated case-insensitively."""
    if not text or not isinstance(text, str):
        return []
    found: list[tuple[int, str]] = []
    text = _URL_RE.sub(" ", text)
    remaining = text
    for match in _HASHTAG_ZH_RE.finditer(text):
        inner = match.group(1)
        if _is_cjk_heavy(inner):
            found.append((match.start(), inner))
            remaining = remaining[: match.start()] + " " * len(match.group(0)) + remaining[match.end() :]
    found.extend((m.start(), m.group(1)) for m in _HASHTAG_RE.finditer(remaining) if not m.group(1).isdigit())
    return normalise_hashtags([tag for _, tag in sorted(found)])


def normalise_hashtags(tags: Any) -> list[str]:
    """Strip `#`, blanks and duplicates from a list (or comma-separated string) of tags."""
    if isinstance(tags, str):
        tags = re.split(r"[,，]", tags)
    if not isinstance(tags, (list, tuple)):
        return []
    seen: set[str] = set()
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            continue
        clean = tag.strip().strip("#").strip()
        if clean and clean.lower() not in seen:
            seen.add(clean.lower())
            out.append(clean)
    return out


# In a Python string a surrogate code point is always a lone one (a pair is one code point above U+FFFF).
_LONE_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _is_cjk_heavy(text: str) -> bool:
    return sum(1 for ch in text if _is_cjk(ch)) * 2 >= len(text)


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff"


# Below this many letters lingua has too little to go on (`OK`, `4K`): such texts keep the plain guess.
LANGUAGE_MIN_LETTERS = 8


def guess_language(text: str | None) -> str | None:
    """'ja' for kana, 'zh' when Han characters dominate the letters; for Latin-script text the language lingua
    finds (crawler/language.py: en, de, fr, es, ...), 'en' when it cannot tell; None when there is too little."""
    if not text or not isinstance(text, str):
        return None
    han = sum(1 for ch in text if _is_cjk(ch))
    kana = sum(1 for ch in text if "\u3040" <= ch <= "\u30ff")
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    if kana >= 2 and kana * 4 >= han:
        return "ja"
    if han >= 2 and han * 2 >= latin / 3:
        return "zh"
    if latin >= 3:
        letters = sum(1 for ch in text if ch.isalpha())
        return (latin_language(text) or "en") if letters >= LANGUAGE_MIN_LETTERS else "en"
    return None


def clean_text(value: Any, max_length: int = 5000) -> str | None:
    """Collapse whitespace, drop control characters, replace lone surrogates (half of a JSON `\\ud83d\\ude00`
    pair, cut) with U+FFFD as a decoder would; None for empty or non-strings."""
    if not isinstance(value, str):
        return None
    text = _LONE_SURROGATE_RE.sub("\ufffd", value)
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:max_length] or None
