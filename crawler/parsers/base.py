"""The parser contract: a pure function from one page (body + URL) to items, links and reasons."""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from w3lib.encoding import html_body_declared_encoding, html_to_unicode, http_content_type_encoding, read_bom

from crawler.items import BaseItem
from crawler.normalize import iso_utc, utc_now

# Byte order marks of the wide Unicode encodings, UTF-32 first (UTF-32 LE's mark starts with UTF-16 LE's).
WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_XML_DECL_ENCODING_RE = re.compile(r"""^(\s*<\?xml[^>]*?\bencoding\s*=\s*["'])[^"']*(["'])""")
_CHARSET_RE = re.compile(r"charset=[^;]*", re.IGNORECASE)


@dataclass
class Page:
    """One fetched or saved response, as a parser sees it.

    A UTF-16 or UTF-32 body with a byte order mark is re-encoded as UTF-8 on construction (its XML
    declaration and charset saying so), so that every parser's byte-level sniffing reads one encoding."""

    url: str
    body: bytes
    content_type: str | None = None
    observed_at: datetime = field(default_factory=utc_now)
    status: int = 200
    _text: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        text = decode_wide(self.body)
        if text is not None:
            text = _XML_DECL_ENCODING_RE.sub(r"\g<1>utf-8\g<2>", text, count=1)
            self.body = text.encode("utf-8")
            self._text = text
            if self.content_type:
                self.content_type = _CHARSET_RE.sub("charset=utf-8", self.content_type)

    @property
    def text(self) -> str:
        """The body decoded like a browser would (header, BOM, meta charset, then a guess); never raises."""
        if self._text is None:
            _, self._text = html_to_unicode(self._charset_header(), self.body)
        return self._text

    def _charset_header(self) -> str | None:
        """What `text` hands w3lib as the Content-Type: the header's charset parameter, if any."""
        if self.content_type and "charset=" in self.content_type:
            return f"charset={self.content_type.split('charset=')[-1]}"
        return None

    def declared_encoding(self) -> str | None:
        """The codec `text` decodes the body with when a charset declares it (the Content-Type's, else a
        meta tag's or XML declaration's in the first 4 KB) and no byte order mark leads the body; None
        otherwise (an undeclared body is decoded as UTF-8, a marked one by its mark). Nothing is decoded:
        these are the first steps of w3lib's html_to_unicode, which `text` calls."""
        if read_bom(self.body)[0] is not None:
            return None
        header = http_content_type_encoding(self._charset_header())
        return _decoding_codec(header or html_body_declared_encoding(self.body))

    def adopt_text(self, text: str, encoding: str) -> bool:
        """Take `text` as this page's text, without decoding the body again, when it is the body decoded by
        w3lib with `encoding` (Scrapy's `response.text` and `response.encoding`) and `text` would decode
        the body with the same codec: the same bytes through the same codec and error handler are the
        same string. Returns False, keeping nothing, otherwise (`text` then decodes the body itself)."""
        if self._text is not None:
            return False
        declared = self.declared_encoding()
        # Scrapy's text is html_to_unicode(f"charset={encoding}", body): the same path, from that label.
        if declared is None or _decoding_codec(http_content_type_encoding(f"charset={encoding}")) != declared:
            return False
        self._text = text
        return True

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


def _decoding_codec(encoding: str | None) -> str | None:
    """The codec w3lib's html_to_unicode decodes a body with once it has chosen `encoding` (a resolved
    name; utf-16/32 without a mark are read big-endian there), by its canonical name; None for none."""
    if encoding in {"utf-16", "utf-32"}:
        encoding += "-be"
    try:
        return codecs.lookup(encoding).name if encoding else None
    except LookupError:
        return None


def decode_wide(body: bytes) -> str | None:
    """The text of a body that starts with a UTF-16/32 byte order mark (mark dropped); None for any other."""
    for bom, encoding in WIDE_BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, "replace")
    return None


class BadJson(ValueError):
    """JSON a parser cannot read. `reason`: `malformed_json`, or `too_deep` when it nests past what the
    decoder can follow (a hostile `[[[[...` thousands deep) - one bad block, never a crashed page."""

    def __init__(self, message: str, reason: str = "malformed_json") -> None:
        super().__init__(message)
        self.reason = reason


_DECODER = json.JSONDecoder()
_LOOSE_DECODER = json.JSONDecoder(strict=False)
_JSON_WHITESPACE = " \t\n\r"  # what JSON allows around a value (RFC 8259)


def loads_json(text: str, strict: bool = True) -> Any:
    """json.loads that raises only BadJson: malformed text, nesting past the recursion limit (RecursionError)
    and integers of over 4,300 digits (Python refuses to read them) are all reasons, not crashes.
    strict=False lets raw newlines and tabs stand inside strings, as hand-written templates emit them."""
    text = text.strip(_JSON_WHITESPACE)
    value, end = raw_decode_json(text, 0, strict)
    if end != len(text):
        raise BadJson(f"malformed JSON: extra data at {end}")
    return value


def raw_decode_json(text: str, start: int = 0, strict: bool = True) -> tuple[Any, int]:
    """One JSON value at `start` of `text` and where it ends (trailing script is left alone); BadJson else."""
    decoder = _DECODER if strict else _LOOSE_DECODER
    try:
        return decoder.raw_decode(text, start)
    except RecursionError:
        raise BadJson("JSON nested too deep to read", "too_deep") from None
    except (ValueError, TypeError) as exc:  # JSONDecodeError, int digit limit
        raise BadJson(f"malformed JSON: {exc}") from None


def loads_lenient(text: str) -> Any:
    """loads_json, then one documented fallback: strip a trailing `;` and JS-style `undefined` values,
    as seen in state blobs embedded by several platforms. Raises BadJson (a ValueError) when both fail."""
    try:
        return loads_json(text)
    except BadJson as exc:
        if exc.reason == "too_deep":
            raise
    return loads_json(text.strip().rstrip(";").replace(":undefined", ":null"))


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
