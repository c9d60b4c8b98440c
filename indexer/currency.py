"""Currency conversion at dated ECB reference rates (the CurrencyConverter package ships their history)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


class CurrencyError(ValueError):
    """A conversion that cannot be made: an unknown currency code, or no rate for it."""


@dataclass(frozen=True)
class Converted:
    """An amount in another currency and the ECB reference rate used, with that rate's date."""

    amount: float
    currency: str
    rate: float
    rate_date: str  # ISO date of the ECB rate used (the nearest earlier published rate)

    def to_json(self) -> dict[str, Any]:
        return {
            "amount": self.amount,
            "currency": self.currency,
            "rate": self.rate,
            "rate_date": self.rate_date,
        }


# How many days back a missing rate is looked for (weekends, holidays: the ECB publishes on working days).
MAX_RATE_GAP_DAYS = 14


@functools.lru_cache(maxsize=1)
def _converter() -> Any:
    # The bundled ECB history (eurofxref-hist.zip inside the wheel): nothing is fetched. No fallback inside
    # the package: a day without a published rate takes the nearest earlier one, found here, so that the
    # rate's own date can be shown.
    from currency_converter import CurrencyConverter

    return CurrencyConverter(fallback_on_missing_rate=False, fallback_on_wrong_date=False)


def currencies() -> frozenset[str]:
    """The ISO 4217 codes with ECB rates."""
    return frozenset(_converter().currencies)


def _day(when: date | datetime | str | None) -> date:
    last = max(b.last_date for b in _converter().bounds.values())
    if when is None:
        return last
    if isinstance(when, str):
        when = datetime.fromisoformat(when.replace("Z", "+00:00"))
    day = when.date() if isinstance(when, datetime) else when
    return min(day, last)


def _rate_on(source: str, target: str, day: date) -> tuple[float, date]:
    """The rate source -> target published on `day` or the nearest earlier day, and that day."""
    from currency_converter import RateNotFoundError

    probe = day
    for _ in range(MAX_RATE_GAP_DAYS):
        try:
            return _converter().convert(1.0, source, target, date=probe), probe
        except RateNotFoundError:
            probe = date.fromordinal(probe.toordinal() - 1)
    raise CurrencyError(f"no ECB reference rate {source}->{target} within {MAX_RATE_GAP_DAYS} days of {day}")


def convert(amount: float, source: str, target: str, when: date | datetime | str | None = None) -> Converted:
    """`amount` in `source` as `target` at the ECB rate of `when` (default: the latest bundled rate)."""
    source, target = (source or "").upper(), (target or "").upper()
    known = currencies()
    for code in (source, target):
        if code not in known:
            raise CurrencyError(f"no ECB reference rate for currency {code!r}")
    day = _day(when)
    if source == target:
        return Converted(round(float(amount), 2), target, 1.0, day.isoformat())
    rate, rate_day = _rate_on(source, target, day)
    return Converted(round(float(amount) * rate, 2), target, round(rate, 6), rate_day.isoformat())


def convert_or_none(amount: float, source: str, target: str, when: Any = None) -> float | None:
    """The converted amount, or None when there is no rate (the form product matching takes)."""
    try:
        return convert(amount, source, target, when).amount
    except CurrencyError:
        return None
