"""Platform campaigns (618, 双11, 双12, 年货节, Black Friday ...): a bundled dated calendar, extendable in TOML."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class CampaignFileError(ValueError):
    """A campaign TOML file that cannot be read or holds a bad entry (the message says which)."""


@dataclass(frozen=True)
class Campaign:
    """A named window [start, end) in UTC and the hashtags or title words that mark content of it."""

    name: str
    start: datetime
    end: datetime
    tags: tuple[str, ...] = ()

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


# Dates as the platforms announce them (presales included), in China time rounded to whole UTC days.
# 年货节 runs the weeks before the Lunar New Year (2025-01-29, 2026-02-17, 2027-02-06); Black Friday runs
# to Cyber Monday (the Monday after). Add or correct entries with a TOML file (docs/PRODUCTS.md "FACT").
_TAGS = {
    "618": ("618", "618大促", "年中大促"),
    "双11": ("双11", "双十一", "1111", "11.11"),
    "双12": ("双12", "双十二", "1212", "12.12"),
    "年货节": ("年货节", "年货"),
    "Black Friday": ("blackfriday", "black friday", "cybermonday", "cyber monday"),
}
BUNDLED: tuple[Campaign, ...] = tuple(
    Campaign(name, _utc(start), _utc(end), _TAGS[name])
    for name, start, end in (
        ("年货节", "2025-01-02", "2025-01-27"),
        ("618", "2025-05-13", "2025-06-19"),
        ("双11", "2025-10-07", "2025-11-12"),
        ("Black Friday", "2025-11-28", "2025-12-02"),
        ("双12", "2025-12-01", "2025-12-13"),
        ("年货节", "2026-01-10", "2026-02-15"),
        ("618", "2026-05-13", "2026-06-19"),
        ("双11", "2026-10-13", "2026-11-12"),
        ("Black Friday", "2026-11-27", "2026-12-01"),
        ("双12", "2026-12-01", "2026-12-13"),
        ("年货节", "2026-12-28", "2027-02-04"),
        ("618", "2027-05-13", "2027-06-19"),
        ("双11", "2027-10-12", "2027-11-12"),
        ("Black Friday", "2027-11-26", "2027-11-30"),
        ("双12", "2027-12-01", "2027-12-13"),
    )
)


def load_campaigns(path: str | Path | None = None) -> list[Campaign]:
    """The bundled calendar plus the `[[campaign]]` entries of a TOML file (name, start, end, tags)."""
    found = list(BUNDLED)
    if path is None:
        return found
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CampaignFileError(f"cannot read campaign file {path}: {exc}") from None
    for i, entry in enumerate(data.get("campaign") or []):
        try:
            start, end = (_utc(str(entry[k])[:10]) for k in ("start", "end"))
            found.append(
                Campaign(str(entry["name"]), start, end, tuple(str(t) for t in entry.get("tags", ())))
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise CampaignFileError(
                f"{path}: campaign #{i + 1} needs name, start and end dates ({exc})"
            ) from None
    return found


def _norm(text: str) -> str:
    return re.sub(r"[\s#_-]+", " ", text.lower()).strip()


def tagged(campaigns: Sequence[Campaign], hashtags: Iterable[str], title: str | None) -> str | None:
    """The first campaign whose tag is one of the hashtags or appears in the title, else None."""
    tags = {_norm(h) for h in hashtags}
    text = _norm(title or "")
    for campaign in campaigns:
        for tag in campaign.tags:
            if _norm(tag) in tags or (len(tag) >= 3 and _norm(tag) in text):
                return campaign.name
    return None


def window_of(campaigns: Sequence[Campaign], moment: datetime) -> str | None:
    """The name of the campaign whose window holds `moment`, else None."""
    return next((c.name for c in campaigns if c.covers(moment)), None)
