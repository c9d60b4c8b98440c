"""The parser fuzzer's parts: the seed pages (every fixture), their mutations, and the checks on what comes out."""

from __future__ import annotations

import gzip
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from hypothesis import strategies as st

from crawler.bounds import MAX_COUNT, MAX_DURATION_S, MAX_PRICE, believable_time
from crawler.items import METRIC_NAMES, InvalidItem, check_item
from crawler.parsers import parse_page
from crawler.parsers.base import Page, ParseResult
from crawler.pipelines import normalise_item
from crawler.times import parse_iso
from tests import test_parsers_standards as standards_golden
from tests import (
    test_platform_bilibili,
    test_platform_douyin,
    test_platform_kuaishou,
    test_platform_tiktok,
    test_platform_youtube,
)

TESTS = Path(__file__).parent
# Where the seed pages live: the platform and standards fixtures, and the real captures in shared/ (beside
# the clone in CI, at ../shared; skipped when absent).
SEED_DIRS = (
    TESTS / "fixtures" / "platforms",
    TESTS / "fixtures" / "standards",
    TESTS.parent.parent / "shared" / "fixtures" / "real",
)
NOT_PAGES = {".md", ".py"}
# The URL a page is fetched from decides its parser; golden cases name one per fixture, the rest of a
# platform's pages take its default.
GOLDEN_MODULES = (
    test_platform_bilibili,
    test_platform_douyin,
    test_platform_kuaishou,
    test_platform_tiktok,
    test_platform_youtube,
    standards_golden,
)
DEFAULT_URLS = {
    "bilibili": "https://api.bilibili.com/x/web-interface/popular?ps=20&pn=2",
    "douyin": "https://www.douyin.com/video/7535852404919586100",
    "kuaishou": "https://www.kuaishou.com/short-video/3xk7gm9v3aq2bzu",
    "tiktok": "https://www.tiktok.com/@illojuan/video/7571863205253778710",
    "youtube": "https://www.youtube.com/watch?v=fJ9rUzIMcZQ",
    "web": "https://vimeo.com/311983548",
}
# A URL no parser owns: the registry then chooses by content, as `trendcart extract` does.
NEUTRAL_URL = "https://fuzz.example/page?id=1"


@dataclass
class Seed:
    """One fixture page, its URL and content type, and the JSON values embedded in it (found once)."""

    path: Path
    url: str
    content_type: str | None
    parser: str | None

    def __str__(self) -> str:
        for root in SEED_DIRS:
            if self.path.is_relative_to(root):
                return f"{root.name}/{self.path.relative_to(root)}"
        return self.path.name

    @cached_property
    def body(self) -> bytes:
        return self.path.read_bytes()

    @cached_property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @cached_property
    def spans(self) -> list[JsonSpan]:
        return list(find_json_spans(self.text))


@dataclass
class JsonSpan:
    """A JSON value at text[start:end]; `encoded` when the page stores it URL-encoded (Douyin's RENDER_DATA)."""

    start: int
    end: int
    encoded: bool
    tree: Any
    paths: list[tuple[Any, ...]] = field(default_factory=list)


def seeds() -> list[Seed]:
    """Every fixture page, each with the URL its golden case gives it (else its platform's default)."""
    known: dict[str, tuple[str, str | None, str | None]] = {}
    for module in GOLDEN_MODULES:
        for case in module.CASES:
            known[case.page.name] = (case.url, case.parser, case.content_type)
    found = []
    for root in SEED_DIRS:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix in NOT_PAGES or "expected" in path.parts:
                continue
            platform = path.parent.name if path.parent != root else "web"
            url, parser, content_type = known.get(
                path.name, (DEFAULT_URLS.get(platform, DEFAULT_URLS["web"]), None, None)
            )
            found.append(Seed(path, url, content_type or _content_type(path), parser))
    return found


def _content_type(path: Path) -> str:
    return {".json": "application/json", ".xml": "application/xml"}.get(path.suffix, "text/html")


# -- finding the JSON inside a page ------------------------------------------------------------------
_SCRIPT_RE = re.compile(r"<script\b[^>]*>(.*?)</script>", re.S | re.I)
_ASSIGN_RE = re.compile(r"""(?:window\.[\w$]+|window\[["'][\w$]+["']\]|var\s+[\w$]+)\s*=\s*""")
_DECODER = json.JSONDecoder(strict=False)
# Enough places to mutate in one JSON value; the biggest fixtures hold ~100k nodes.
MAX_PATHS = 50_000


def find_json_spans(text: str) -> Iterator[JsonSpan]:
    """The whole text when it is JSON, else every JSON value a <script> holds: a bare value (JSON-LD,
    state scripts), a value assigned to a global (`window.X = {...}`), a URL-encoded value."""
    if text.lstrip()[:1] in ("{", "["):
        span = _span_at(text, len(text) - len(text.lstrip()), False)
        if span:
            yield span
            return
    for script in _SCRIPT_RE.finditer(text):
        body, offset = script.group(1), script.start(1)
        stripped = body.lstrip()
        lead = len(body) - len(stripped)
        if stripped[:1] in ("{", "["):
            span = _span_at(text, offset + lead, False)
        elif stripped[:3].upper() == "%7B":
            span = _encoded_span(text, offset + lead, offset + len(body.rstrip()))
        else:
            assign = _ASSIGN_RE.search(body)
            span = _span_at(text, offset + assign.end(), False) if assign else None
        if span:
            yield span


def _span_at(text: str, start: int, encoded: bool) -> JsonSpan | None:
    try:
        tree, end = _DECODER.raw_decode(text, start)
    except ValueError:
        return None
    return _with_paths(JsonSpan(start, end, encoded, tree)) if isinstance(tree, (dict, list)) else None


def _encoded_span(text: str, start: int, end: int) -> JsonSpan | None:
    try:
        tree = json.loads(unquote(text[start:end]))
    except ValueError:
        return None
    return _with_paths(JsonSpan(start, end, True, tree)) if isinstance(tree, (dict, list)) else None


def _with_paths(span: JsonSpan) -> JsonSpan:
    stack: list[tuple[Any, tuple[Any, ...]]] = [(span.tree, ())]
    while stack and len(span.paths) < MAX_PATHS:
        node, path = stack.pop()
        if path:
            span.paths.append(path)
        children = (
            node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        )
        stack.extend((child, (*path, key)) for key, child in children)
    span.paths.sort(key=lambda p: [str(k) for k in p])  # a stable order, so that seeded runs repeat
    return span


# -- mutations -----------------------------------------------------------------------------------------
# Raw JSON text put in place of one value: what `json.dumps` cannot write (deep nesting, NaN, 400-digit
# numbers) goes in through a placeholder string replaced after serialisation.
DEEP = tuple(n for n in (64, 500, 990, 1_100, 5_000, 50_000))
HOSTILE_NUMBERS = (
    "1" * 400,  # a 400-digit integer (Python reads it; far beyond every bound)
    "9" * 5_000,  # over Python's 4,300-digit limit for int(): json.loads raises ValueError
    "1e400",  # infinity once read as a float
    "-1e400",
    "1.5e308",
    "NaN",
    "Infinity",
    "-Infinity",
    "9223372036854775808",  # 2^63: past SQLite's and Elasticsearch's integers
    "18446744073709551616",
    "-1",
    "-0.0",
    "1e11",  # epoch seconds of the year 5138
    "100000000000",
    "1e13",  # epoch milliseconds of the year 2286
    "10000000000000",
    "5",  # a tiny epoch: 1970
    "86400",
    "4102444800",  # 2100-01-01 in epoch seconds
    "4102444800000",
    "1e12",
    "1000000000001",
    "604801",
    "999999999999999",
    "0.5",
    "3.14e-300",
)
HOSTILE_STRINGS = (
    "今天 25:00",
    "昨天 24:60",
    "11-20 99:99",
    "2026-13-45",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "1970-01-01T00:00:00Z",
    "1999-12-31T23:59:59Z",
    "2099-01-01T00:00:00Z",
    "99999-01-01",
    "3000000000天前",
    "999999999999 hours ago",
    "1" * 400 + "天前",
    "Mon, 99 Foo 2026 99:99:99 +9999",
    "P99999999999999999999D",
    "PT" + "9" * 400 + "S",
    "9" * 400 + ":30",
    "99999:99",
    "1:75",
    "¥" + "9" * 400,
    "¥1e400",
    "1" * 400 + "万",
    "1.5" + "0" * 400 + "亿",
    "NaN",
    "Infinity",
    "-5",
    "http://[",
    "https://[::1/x",
    "//[abc]/x",
    "http://a[b].example/",
    "https://example.com/[x]?q=[1]",
    "[",
    "http://x.example:port/",
    "",
    " ",
    "\u0000\u001b[31m",
    "</script><script>alert(1)</script>",
    "x" * 100_000,
)
# JSON values of the wrong type for any field: a dict where a code or status string is expected, a list
# where a ref id is expected, and so on.
TYPE_SWAPS = ({}, [], {"id": [1]}, [["x"]], {"a": {"b": {}}}, "text", 0, 1, True, False, None, 1.5, -7)
MUTATION_KINDS = ("deep", "number", "string", "swap", "delete", "duplicate")
_PLACEHOLDER = "\u0000fuzz{}\u0000"


def deep_value(depth: int, kind: str) -> str:
    """`[[[...]]]` or `{"a":{"a":...}}` nested `depth` times, as raw JSON text."""
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def mutate_json(span: JsonSpan, choices: list[tuple[int, str, int]], ascii_only: bool = False) -> str:
    """The span's JSON with each (path index, mutation kind, variant) applied, as text to splice back.
    The shared tree is restored afterwards, key order included, so every example starts from the seed."""
    raw: dict[str, str] = {}
    undo: list[tuple[Any, list[Any]]] = []
    try:
        for path_index, kind, variant in choices:
            if not span.paths:
                break
            path = span.paths[path_index % len(span.paths)]
            parent = _node_at(span.tree, path[:-1])
            key = path[-1]
            if parent is None or not _holds(parent, key):
                continue
            undo.append((parent, list(parent.items()) if isinstance(parent, dict) else list(parent)))
            if kind == "delete" and isinstance(parent, dict):
                del parent[key]
            else:
                parent[key] = _replacement(kind, variant, parent[key], raw)
        text = json.dumps(span.tree, ensure_ascii=ascii_only, allow_nan=True)
    finally:
        for parent, saved in reversed(undo):
            if isinstance(parent, dict):
                parent.clear()
                parent.update(saved)
            else:
                parent[:] = saved
    for marker, value in raw.items():
        text = text.replace(json.dumps(marker, ensure_ascii=ascii_only), value)
    return quote(text, safe="") if span.encoded else text


def _node_at(tree: Any, path: tuple[Any, ...]) -> Any:
    node = tree
    for key in path:
        if not _holds(node, key):
            return None
        node = node[key]
    return node


def _holds(node: Any, key: Any) -> bool:
    if isinstance(node, dict):
        return key in node
    return isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)


def _replacement(kind: str, variant: int, old: Any, raw: dict[str, str]) -> Any:
    if kind == "deep":
        return _raw(raw, deep_value(DEEP[variant % len(DEEP)], "list" if variant % 3 else "dict"))
    if kind == "number":
        return _raw(raw, HOSTILE_NUMBERS[variant % len(HOSTILE_NUMBERS)])
    if kind == "string":
        return HOSTILE_STRINGS[variant % len(HOSTILE_STRINGS)]
    if kind == "swap":
        return TYPE_SWAPS[variant % len(TYPE_SWAPS)]
    if kind == "duplicate":
        return [old, old] if variant % 2 else {"0": old, "id": old}
    return old


def _raw(raw: dict[str, str], text: str) -> str:
    marker = _PLACEHOLDER.format(len(raw))
    raw[marker] = text
    return marker


# Byte-level damage: a cut, a hole, a copy, stray bytes.
STRAY_BYTES = (
    b"\x00",
    b"\xff\xfe",
    b"<",
    b'"',
    b"{",
    b"]",
    b"\\",
    b"%",
    b"\xe4\xb8",
    b"<!--",
    b"]]>",
    b"\r\n",
)
BYTE_KINDS = ("cut", "hole", "copy", "stray", "flip")


def mutate_bytes(body: bytes, kind: str, at: int, size: int, variant: int) -> bytes:
    if not body:
        return STRAY_BYTES[variant % len(STRAY_BYTES)]
    at %= len(body)
    size = 1 + size % max(1, len(body) // 4)
    if kind == "cut":
        return body[:at]
    if kind == "hole":
        return body[:at] + body[at + size :]
    if kind == "copy":
        return body[:at] + body[at : at + size] * (1 + variant % 3) + body[at:]
    if kind == "stray":
        return body[:at] + STRAY_BYTES[variant % len(STRAY_BYTES)] + body[at:]
    return body[:at] + bytes([body[at] ^ (1 << (variant % 8))]) + body[at + 1 :]


# Encodings the body is finally written in (with the content type said about it).
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-be-bom", "utf-32", "gb18030", "latin-1", "gzip")


def encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-16-be-bom":
        return b"\xfe\xff" + text.encode("utf-16-be", "surrogatepass")
    if encoding == "gzip":
        return gzip.compress(text.encode("utf-8", "surrogatepass"), mtime=0)
    if encoding in ("gb18030", "latin-1"):
        return text.encode(encoding, "replace")
    return text.encode(encoding, "surrogatepass")


CONTENT_TYPES = (
    None,
    "text/html",
    "application/json; charset=utf-16",
    "text/html; charset=bogus",
    "text/xml",
)


# -- the checks ----------------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What one fuzzed page gave: the parser's crash reasons, absurd values that passed normalisation, how
    many items were dropped by the JSON-form check (by reason) and how many were kept."""

    crashes: list[str] = field(default_factory=list)
    absurd: list[str] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    kept: int = 0


def check_page(page: Page, parser: str | None) -> Outcome:
    """Parse like a crawl does, normalise like the pipelines do, and list what went wrong."""
    outcome = Outcome()
    result = parse_page(page, parser)
    if not isinstance(result, ParseResult):
        outcome.crashes.append(f"parse_page returned {type(result).__name__}")
        return outcome
    outcome.crashes.extend(e for e in result.errors if e.endswith("/crash"))
    for item in result.items:
        try:
            normalise_item(item, now=page.observed_at)
            doc = check_item(item.to_json(), now=page.observed_at)
        except InvalidItem as exc:
            outcome.dropped[exc.reason] = outcome.dropped.get(exc.reason, 0) + 1
            continue
        except Exception as exc:  # noqa: BLE001 - what the fuzzer is looking for
            outcome.crashes.append(f"pipeline: {type(exc).__name__}: {exc}"[:300])
            continue
        outcome.kept += 1
        outcome.absurd.extend(absurd_values(doc, page.observed_at))
    return outcome


def absurd_values(doc: dict[str, Any], observed: datetime) -> list[str]:
    """Every value of one checked document outside the documented bounds (docs/RELIABILITY.md)."""
    found: list[str] = []

    def count(name: str, value: Any, ceiling: int = MAX_COUNT) -> None:
        if value is not None and not (
            isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= ceiling
        ):
            found.append(f"{doc['id']}: {name}={value!r}")

    def price(name: str, value: Any) -> None:
        if value is not None and not (
            isinstance(value, (int, float)) and math.isfinite(value) and 0 <= value <= MAX_PRICE
        ):
            found.append(f"{doc['id']}: {name}={value!r}")

    def moment(name: str, value: Any) -> None:
        if value is None:
            return
        parsed = parse_iso(value) if isinstance(value, str) else None
        if parsed is None or not believable_time(parsed, observed):
            found.append(f"{doc['id']}: {name}={value!r}")

    for name in METRIC_NAMES:
        count(f"metrics.{name}", (doc.get("metrics") or {}).get(name))
    count("duration_s", doc.get("duration_s"), MAX_DURATION_S)
    count("followers", doc.get("followers"))
    count("creator.followers", (doc.get("creator") or {}).get("followers"))
    for name in ("price", "price_max"):
        price(name, doc.get(name))
    for product in doc.get("products") or []:
        count("products[].sales", product.get("sales"))
        price("products[].price", product.get("price"))
        price("products[].price_max", product.get("price_max"))
    moment("published_at", doc.get("published_at"))
    moment("observed_at", doc.get("observed_at"))
    live = doc.get("live") or {}
    moment("live.started_at", live.get("started_at"))
    moment("live.ended_at", live.get("ended_at"))
    return found


# -- one fuzzed page, drawn by hypothesis --------------------------------------------------------------
@st.composite
def fuzzed_pages(draw: Any, seed: Seed, observed_at: datetime) -> tuple[Page, str | None]:
    """The seed with up to three JSON mutations, maybe byte damage, in one of ENCODINGS, at its URL (or
    a neutral one, or one with `[` in its query), parsed by its parser or the one the registry chooses."""
    text = seed.text
    edits: dict[int, list[tuple[int, str, int]]] = {}
    if seed.spans:
        for _ in range(draw(st.integers(0, 3))):
            span = draw(st.integers(0, len(seed.spans) - 1))
            edits.setdefault(span, []).append(
                (
                    draw(st.integers(0, MAX_PATHS)),
                    draw(st.sampled_from(MUTATION_KINDS)),
                    draw(st.integers(0, 999)),
                )
            )
    ascii_only = draw(st.booleans())
    for index in sorted(edits, reverse=True):  # from the end, so earlier offsets stay right
        span = seed.spans[index]
        text = text[: span.start] + mutate_json(span, edits[index], ascii_only) + text[span.end :]
    encoding = draw(st.sampled_from(("utf-8",) * 8 + ENCODINGS))
    body = encode(text, encoding)
    for _ in range(draw(st.integers(0, 2)) if draw(st.integers(0, 3)) == 0 else 0):
        body = mutate_bytes(
            body,
            draw(st.sampled_from(BYTE_KINDS)),
            draw(st.integers(0, len(body))),
            draw(st.integers(0, 4096)),
            draw(st.integers(0, 999)),
        )
    url = draw(
        st.sampled_from(
            (seed.url,) * 6 + (NEUTRAL_URL, seed.url + ("&" if "?" in seed.url else "?") + "q=[1]")
        )
    )
    if encoding == "gzip" and seed.path.suffix == ".xml":
        url = url.split("?")[0] + ".gz"
    content_type = draw(st.sampled_from((seed.content_type,) * 4 + CONTENT_TYPES))
    parser = draw(st.sampled_from((seed.parser, None)))
    return Page(url=url, body=body, content_type=content_type, observed_at=observed_at), parser
