"""The one set of time helpers: now, canonical ISO UTC, strict ISO reading, durations and relative times."""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from crawler.bounds import believable_time

# Epoch values at or above this are milliseconds, not seconds (1e11 s is the year 5138, 1e11 ms is 1973);
# what either reading leaves outside bounds.believable_time is refused, never guessed.
EPOCH_MS_THRESHOLD = 10**11
# The most digits a clock part (`01:30`) may have: more is no clock, and Python refuses to read over 4,300
# digits as an int.
MAX_CLOCK_DIGITS = 6
# The most digits of a relative time's count (`3天前`); twelve digits of years already reach before the year 1.
MAX_AGO_DIGITS = 12
# The canonical stored form: ISO 8601 in UTC with a Z, to the second, so that stored times compare as strings
# (iso_utc writes it, the year always in four digits).
ISO_UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# The forms parse_duration reads; a caller that accepts fewer (a trend window needs a unit) names them.
DURATION_FORMS = frozenset({"iso", "clock", "compact", "number"})
# Seconds per unit of a compact duration (`90s`, `30m`, `24h`, `7d`, `2w`, combinable as `1d12h`).
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

_ISO_DURATION_RE = re.compile(
    r"P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?",
    re.IGNORECASE,
)
_CLOCK_RE = re.compile(
    rf"\d{{1,{MAX_CLOCK_DIGITS}}}(?::[0-5]?\d){{1,2}}"
)  # `01:30`, `1:02:03`; `1:75` is not one
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
_COMPACT_PART_RE = re.compile(r"(\d+(?:\.\d+)?)([smhdw])", re.IGNORECASE)
_COMPACT_RE = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+", re.IGNORECASE)


def utc_now() -> datetime:
    """The current time, aware UTC, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, to the second; a naive time is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    utc = moment.astimezone(timezone.utc).replace(microsecond=0)
    # strftime's %Y does not pad years before 1000 on every platform: write the four digits ourselves.
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S}Z"


def parse_iso(value: str | datetime | None) -> datetime | None:
    """A strict ISO 8601 time (Z or an offset; naive = UTC) as aware UTC; None when unreadable."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith("z"):
            text = text[:-1] + "Z"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    return as_utc(moment)


def as_utc(moment: datetime, default_tz: timezone = timezone.utc) -> datetime | None:
    """The same moment in aware UTC (naive = `default_tz`); None when it has no UTC form (year 1 at +01:00)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=default_tz)
    try:
        return moment.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None


def to_iso(value: str | datetime | None) -> str | None:
    """The canonical form of a time (None stays None); raises ValueError with the reason when unreadable."""
    if value is None:
        return None
    if not isinstance(value, (str, datetime)):
        raise ValueError(f"expected an ISO 8601 string, got {type(value).__name__}")
    moment = parse_iso(value)
    if moment is None:
        raise ValueError(f"not an ISO 8601 time: {value!r}")
    return iso_utc(moment)


def parse_duration(text: str | int | float | None, forms: Collection[str] = DURATION_FORMS) -> int | None:
    """Seconds from `PT1M30S`, `01:30`, `1:02:03`, `90s`, `24h`, `7d`, `2w`, `1d12h` or a plain number.

    None when unreadable or negative. `forms` narrows what is read (see DURATION_FORMS); callers keep their
    own bounds (a video's longest duration, a window longer than zero).
    """
    if text is None or isinstance(text, bool):
        return None
    seconds: float | None = None
    if isinstance(text, (int, float)):
        seconds = _finite(text) if "number" in forms else None
    elif isinstance(text, str):
        seconds = _duration_seconds(text.strip(), forms)
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return None
    return int(round(seconds))


def _finite(number: float) -> float | None:
    """The number as a finite float; None for NaN, infinities and ints beyond any float (400 digits)."""
    try:
        value = float(number)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def _duration_seconds(text: str, forms: Collection[str]) -> float | None:
    if "iso" in forms:
        iso = _ISO_DURATION_RE.fullmatch(text)
        if iso and any(iso.groupdict().values()):
            parts = {k: float(v) if v else 0.0 for k, v in iso.groupdict().items()}
            return sum(parts[unit] * DURATION_UNITS[unit] for unit in parts)
    if "clock" in forms and _CLOCK_RE.fullmatch(text):
        seconds = 0.0
        for part in text.split(":"):
            seconds = seconds * 60 + int(part)
        return seconds
    if "number" in forms and _NUMBER_RE.fullmatch(text):
        return float(text)
    if "compact" in forms:
        compact = re.sub(r"\s+", "", text)
        if _COMPACT_RE.fullmatch(compact):
            return sum(float(n) * DURATION_UNITS[u.lower()] for n, u in _COMPACT_PART_RE.findall(compact))
    return None


def resolve_time(value: str, now: datetime | None = None) -> str | None:
    """What `--since/--until` accept: ISO dates and times, `24h`/`7d`/`2w` ago, `3天前`; canonical ISO UTC or None."""
    if not isinstance(value, str):
        return None
    now = now or utc_now()
    ago = parse_duration(value, forms=("compact",))
    if ago is not None:
        moment = _ago(now, ago)
    else:
        moment = read_datetime(value, now=now)
    return iso_utc(moment) if moment is not None else None


def _ago(now: datetime, seconds: float) -> datetime | None:
    """`now` minus `seconds`; None when that is before the year 1 (`999999999999h` ago)."""
    try:
        return now - timedelta(seconds=seconds)
    except (OverflowError, ValueError):
        return None


# -- times as pages write them ---------------------------------------------------------------------
_RELATIVE_UNITS = {
    "second": 1,
    "sec": 1,
    "s": 1,
    "秒": 1,
    "minute": 60,
    "min": 60,
    "m": 60,
    "分钟": 60,
    "分": 60,
    "hour": 3600,
    "hr": 3600,
    "h": 3600,
    "小时": 3600,
    "小時": 3600,
    "時間": 3600,
    "day": 86400,
    "d": 86400,
    "天": 86400,
    "日": 86400,
    "week": 604800,
    "w": 604800,
    "周": 604800,
    "週": 604800,
    "星期": 604800,
    "month": 30 * 86400,
    "个月": 30 * 86400,
    "月": 30 * 86400,
    "year": 365 * 86400,
    "y": 365 * 86400,
    "年": 365 * 86400,
}
_EN_AGO_RE = re.compile(r"^(?P<n>\d+|an?|one)\s*(?P<unit>[a-z]+?)s?\s+ago$", re.IGNORECASE)
_ZH_AGO_RE = re.compile(r"^(?P<n>\d+)\s*(?P<unit>秒|分钟|分|小时|小時|天|日|周|週|星期|个月|月|年)前$")
_ZH_DAY_RE = re.compile(r"^(?P<day>今天|昨天|前天|today|yesterday)\s*(?P<hm>\d{1,2}:\d{2})?$", re.IGNORECASE)
_MONTH_DAY_RE = re.compile(
    r"^(?:(?P<y>\d{4})[-/年])?(?P<mo>\d{1,2})[-/月](?P<d>\d{1,2})日?(?:\s+(?P<hm>\d{1,2}:\d{2}))?$"
)


def parse_datetime(
    value: Any, now: datetime | None = None, default_tz: timezone = timezone.utc
) -> str | None:
    """ISO strings, epoch s/ms, `3天前`, `昨天 12:30`, `2 hours ago` (relative to `now`) -> ISO 8601 UTC.

    None when unreadable, out of range (`今天 25:00`, `11-20 99:99`, `0001-01-01T00:00:00+01:00`) or not
    believable (bounds.believable_time against `now`: a tiny epoch, 1e11 read as seconds, the year 2099).
    Never raises."""
    now = now or utc_now()
    moment = read_datetime(value, now, default_tz)
    if moment is None or not believable_time(moment, now):
        return None
    return iso_utc(moment)


def read_datetime(
    value: Any, now: datetime | None = None, default_tz: timezone = timezone.utc
) -> datetime | None:
    """What parse_datetime reads, as aware UTC, without the believable bound (`--since 1999-01-01` is a fine
    filter); None when unreadable or out of range. Never raises."""
    if value is None or isinstance(value, bool):
        return None
    now = now or utc_now()
    if isinstance(value, (int, float)):
        return _from_epoch(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if re.fullmatch(r"\d{9,14}(?:\.\d+)?", text):
        return _from_epoch(float(text))
    lowered = text.lower()
    if lowered in ("just now", "刚刚", "now"):
        return now
    ago = _EN_AGO_RE.match(lowered) or _ZH_AGO_RE.match(text)
    if ago:
        n = ago.group("n")
        unit = _RELATIVE_UNITS.get(ago.group("unit").lower())
        if unit is None or len(n) > MAX_AGO_DIGITS:
            return None
        return _ago(now, (1 if n in ("a", "an", "one") else int(n)) * unit)
    day = _ZH_DAY_RE.match(text)
    if day:
        offset = {"今天": 0, "today": 0, "昨天": 1, "yesterday": 1, "前天": 2}[day.group("day").lower()]
        local = _ago(now.astimezone(default_tz), offset * 86400)
        return _at_clock(local, day.group("hm")) if local is not None else None
    md = _MONTH_DAY_RE.match(text)
    if md and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        year = int(md.group("y")) if md.group("y") else now.astimezone(default_tz).year
        try:
            moment = datetime(year, int(md.group("mo")), int(md.group("d")), tzinfo=default_tz)
        except ValueError:
            return None
        return _at_clock(moment, md.group("hm"))
    return _from_iso(text, default_tz)


def _at_clock(moment: datetime, hm: str | None) -> datetime | None:
    """`moment` at the wall-clock time `HH:MM` (kept when None); None for `25:00` or `11:99`."""
    if hm:
        hour, minute = (int(x) for x in hm.split(":"))
        try:
            moment = moment.replace(hour=hour, minute=minute, second=0, microsecond=0)
        except ValueError:
            return None
    return as_utc(moment)


def _from_epoch(number: float) -> datetime | None:
    value = _finite(number)
    if value is None or value <= 0:
        return None
    if value >= EPOCH_MS_THRESHOLD:
        value = value / 1000.0
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _from_iso(text: str, default_tz: timezone) -> datetime | None:
    candidate = text.replace("Z", "+00:00").replace("z", "+00:00")
    candidate = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", candidate)  # +0800 -> +08:00
    candidate = re.sub(r"\s+", " ", candidate)
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)  # RFC 822 dates in RSS
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return as_utc(moment, default_tz)
