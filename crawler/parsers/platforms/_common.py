"""Helpers shared by the platform adapters: find embedded state blobs, read loose values, spot block pages."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlparse

from crawler.normalize import parse_count, parse_duration
from crawler.parsers.base import BadJson, Page, loads_json, loads_lenient, raw_decode_json


def host(url: str) -> str:
    """Lower-case host without `www.` and without a port; '' when the URL has none (or bad `[` brackets)."""
    try:
        name = (urlparse(url).hostname or "").lower()
    except ValueError:  # `http://[oops/`: urllib refuses unbalanced IPv6 brackets
        return ""
    return name[4:] if name.startswith("www.") else name


def host_matches(url: str, domains: Iterable[str]) -> bool:
    name = host(url)
    return any(name == d or name.endswith("." + d) for d in domains)


# The end of a script block, matched as the one-pattern reader matched it (case-insensitive, so the same
# Unicode case folding applies). Every match starts with the two non-letters `</`, so only the places
# where they occur are tried (a state blob of 270 KB holds a handful), instead of every character.
_SCRIPT_END_RE = re.compile(r"</script>", re.I)


@functools.lru_cache(maxsize=64)
def _script_open_re(script_id: str) -> re.Pattern[str]:
    """The opening tag `<script ... id="ID" ...>` (case-insensitive), compiled once."""
    return re.compile(rf'<script[^>]*\bid=["\']{re.escape(script_id)}["\'][^>]*>', re.I)


def _script_end(html: str, start: int) -> int:
    """Where the first `</script>` (any case) at or after `start` begins; -1 when there is none."""
    at = html.find("</", start)
    while at != -1:
        if _SCRIPT_END_RE.match(html, at):
            return at
        at = html.find("</", at + 2)
    return -1


def script_text(html: str, script_id: str) -> str | None:
    """The text of `<script id="ID" ...>...</script>`, or None.

    The same text as the one pattern `<tag>(.*?)</script>` (re.S | re.I), read in steps that skip most of
    a big page: the first opening tag (the pattern's own prefix; sre skips to each `<`, 0.4 ms on a
    500 KB page, where a case-insensitive search for the bare id took 5 ms), then the first `</script>`
    after it. A tag ends at the first `>` after `<script`, so the first matching tag is the pattern's
    match whenever a `</script>` follows it, and none follows a later tag when none follows it."""
    opening = _script_open_re(script_id).search(html)
    if opening is None:
        return None
    end = _script_end(html, opening.end())
    return html[opening.end() : end] if end != -1 else None


def script_json(html: str, script_id: str, url_encoded: bool = False) -> Any:
    """The JSON inside `<script id="ID">`; URL-decoded first when the platform stores it so (Douyin's
    RENDER_DATA). None when the script is absent or does not parse."""
    text = script_text(html, script_id)
    if text is None or not text.strip():
        return None
    if url_encoded:
        text = unquote(text.strip())
    try:
        return loads_lenient(text)
    except BadJson:
        return None


@functools.lru_cache(maxsize=64)
def _assignment_re(name: str) -> re.Pattern[str]:
    """`window.NAME =`, `window['NAME'] =` or `var NAME =`, compiled once per name."""
    escaped = re.escape(name)
    return re.compile(rf"""(?:window\.{escaped}|window\[["']{escaped}["']\]|var\s+{escaped})\s*=\s*""")


def assigned_json(html: str, name: str) -> Any:
    """The JSON value assigned to a global: `window.NAME = {...}`, `window['NAME']={...}` or `var NAME = {...}`.
    Reads exactly one JSON value with a streaming decoder, so trailing script (`;(function(){...}())`)
    does not matter. None when absent, malformed or nested too deep (the next assignment is tried)."""
    if name not in html:  # every form names the global literally: no need to scan a page without it
        return None
    for match in _assignment_re(name).finditer(html):
        start = match.end()
        try:
            value, _ = raw_decode_json(html, start)
        except BadJson as exc:
            if exc.reason == "too_deep":
                continue
            # JS-only literals (`undefined`) are the one tolerated deviation; retry on a cleaned slice.
            end = html.find("</script>", start)
            try:
                value = loads_lenient(html[start : end if end > 0 else None])
            except BadJson:
                continue
        return value
    return None


def first(*values: Any) -> Any:
    """The first value that is not None and not an empty string."""
    for value in values:
        if value is not None and value != "":
            return value
    return None


def text(value: Any) -> str | None:
    """A non-empty stripped string, or None (numbers are turned into strings: ids often arrive as ints).

    The typed accessor for every JSON value used as a string - an id, a code, a status, a key to look up
    (a dict or a list there is None, never an unhashable key); NaN and infinities are None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def integer(value: Any) -> int | None:
    """An int (not a bool) as it is - a status or error code to look up; None for any other type."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def count(value: Any) -> int | None:
    """A counter from an int, a float, or a display string such as `1.2万`; None when unknown."""
    return parse_count(value)


def count_positive(value: Any) -> int | None:
    """A counter where the platform writes 0 for "hidden" (Douyin's play_count for visitors): 0 -> None."""
    number = parse_count(value)
    return number if number else None


def duration_ms(value: Any) -> int | None:
    """Seconds from a duration in milliseconds (Douyin, Kuaishou: 12000 is 12 s); 0 ("not shown") and
    durations beyond MAX_DURATION_S are None."""
    number = parse_count(value)
    return parse_duration(round(number / 1000)) if number else None


def boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    return None


def dict_or_empty(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def list_or_empty(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def json_in_string(value: Any) -> Any:
    """Platforms nest JSON documents in string fields (TikTok anchors' `extra`, Douyin `simple_promotions`)."""
    if isinstance(value, (dict, list)):
        return value
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return loads_json(value)
        except BadJson:
            return None
    return None


# How much of a page's start is looked at for its first non-blank character before the whole text is stripped.
_LEAD_CHARS = 256


def first_char(text: str) -> str:
    """The first non-whitespace character of `text` ('' when blank), without copying a big page to find it."""
    head = text[:_LEAD_CHARS].lstrip()
    return head[:1] if head or len(text) <= _LEAD_CHARS else text.lstrip()[:1]


def body_json(page: Page) -> Any:
    """The body as JSON when it is a JSON document (API responses), else None."""
    if first_char(page.text) not in ("{", "["):
        return None
    try:
        return loads_lenient(page.text.lstrip())
    except BadJson:
        return None


def html_title(html: str) -> str | None:
    match = re.search(r"<title[^>]*>(.*?)</title>", html, re.S | re.I)
    return match.group(1).strip() if match else None


# A block page is a small document (TikTok's WAF page is ~1.4 KB, Douyin's captcha page a few KB); content
# sniffing trusts block signals only on pages below this size, since full pages mention the same words.
BLOCK_PAGE_MAX_BYTES = 64 * 1024


def sniff_block_page(page: Page, signals: Iterable[tuple[str, str]]) -> bool:
    """True for a small page carrying one of a platform's own block signals (used by `sniff`)."""
    return len(page.body) <= BLOCK_PAGE_MAX_BYTES and find_signal(page.text, signals) is not None


def find_signal(html: str, signals: Iterable[tuple[str, str]]) -> str | None:
    """The reason of the first (needle, reason) whose needle occurs in the page (case-insensitive)."""
    lowered = html.lower()
    for needle, reason in signals:
        if needle.lower() in lowered:
            return reason
    return None


# Query parameters that only track a click (campaign tags, Google's srsltid, ad click ids): two links that
# differ only in these name the same product.
TRACKING_PARAMS = ("utm_", "srsltid", "gclid", "fbclid", "si", "feature", "ref_src")


def strip_tracking(url: str | None) -> str | None:
    """The URL without tracking query parameters (utm_*, srsltid, gclid, ...), for comparing links."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    kept = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not any(k == p or (p.endswith("_") and k.startswith(p)) for p in TRACKING_PARAMS)
    ]
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path, urlencode(kept), ""))


def dedupe_products(products: Iterable[Any]) -> list[Any]:
    """Products listed twice on one page (a merch shelf and a product list, links differing only in utm_*
    tags) kept once: the same URL without tracking parameters, or the same title and price, is the same
    product. The first keeps its place; empty fields are filled from the later copies."""
    kept: list[Any] = []
    index: dict[tuple[Any, ...], Any] = {}
    for product in products:
        keys = []
        url = strip_tracking(getattr(product, "url", None))
        if url:
            keys.append(("url", url))
        title = (getattr(product, "title", None) or "").strip().casefold()
        if title:
            keys.append(("title", title, getattr(product, "price", None)))
        same = next((index[k] for k in keys if k in index), None)
        if same is None:
            kept.append(product)
            same = product
        else:
            for name, value in vars(product).items():
                if getattr(same, name, None) is None and value is not None:
                    setattr(same, name, value)
        for key in keys:
            index.setdefault(key, same)
    return kept
