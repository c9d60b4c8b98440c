"""The parser contract: a pure function from one page (body + URL) to items, links and reasons."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from w3lib.encoding import html_to_unicode

from crawler.items import BaseItem
from crawler.normalize import iso_utc, utc_now


@dataclass
class Page:
    """One fetched or saved response, as a parser sees it."""

    url: str
    body: bytes
    content_type: str | None = None
    observed_at: datetime = field(default_factory=utc_now)
    status: int = 200
    _text: str | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        """The body decoded like a browser would (header, BOM, meta charset, then a guess); never raises."""
        if self._text is None:
            header = (
                f"charset={self.content_type.split('charset=')[-1]}"
                if self.content_type and "charset=" in self.content_type
                else None
            )
            _, self._text = html_to_unicode(header, self.body)
        return self._text

    @property
    def observed_iso(self) -> str:
        return iso_utc(self.observed_at)

    @classmethod
    def from_text(cls, url: str, text: str, **kwargs: Any) -> Page:
        return cls(url=url, body=text.encode("utf-8"), content_type="text/html; charset=utf-8", **kwargs)


@dataclass
class ParseResult:
    """What a parser found. `blocked` is set (with a reason) for captcha, login or verification pages:
    such a page yields no items, so that nothing empty ever looks like data."""

    items: list[BaseItem] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    # Pages the parser found that a spider fetches only when asked (a plain sitemap's <loc>s with
    # `-a pages=1`); unlike `links` they are never followed by default.
    pages: list[str] = field(default_factory=list)
    errors: list[str] = field(
        default_factory=list
    )  # short machine-readable reasons, e.g. "jsonld/malformed_json"
    blocked: str | None = None
    parser: str | None = None

    def extend(self, other: ParseResult) -> None:
        self.items.extend(other.items)
        self.links.extend(other.links)
        self.pages.extend(other.pages)
        self.errors.extend(other.errors)
        self.blocked = self.blocked or other.blocked


class Parser(Protocol):
    """One module per syntax or site. `name` doubles as the item's `source` and the stats key.

    `domains` are the hosts the parser owns (subdomains included): a platform's one list of domains, from
    which its spider takes its default scope; empty for the standards parsers, which read any site.
    """

    name: str
    domains: tuple[str, ...]

    def matches_url(self, url: str) -> bool:
        """True when this parser owns pages of this URL (a platform's host, say)."""

    def sniff(self, page: Page) -> bool:
        """True when the content looks like this parser's (used when the URL does not decide)."""

    def parse(self, page: Page) -> ParseResult:
        """Items, follow-up links and reasons; must not raise on bad input."""


def loads_lenient(text: str) -> Any:
    """json.loads, then one documented fallback: strip a trailing `;` and JS-style `undefined` values,
    as seen in state blobs embedded by several platforms. Raises ValueError when both fail."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError):
        pass
    cleaned = text.strip().rstrip(";").replace(":undefined", ":null")
    try:
        return json.loads(cleaned)
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"malformed JSON: {exc}") from exc


def dig(data: Any, *path: Any, default: Any = None) -> Any:
    """Follow keys/indices through nested dicts/lists; `default` as soon as a step is missing or of the wrong type."""
    current = data
    for step in path:
        if isinstance(step, int) and isinstance(current, list) and -len(current) <= step < len(current):
            current = current[step]
        elif isinstance(current, dict) and step in current:
            current = current[step]
        else:
            return default
    return current
