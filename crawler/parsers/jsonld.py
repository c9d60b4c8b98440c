"""The `jsonld` parser: schema.org JSON-LD, with microdata and then OpenGraph as fallbacks (docs/CRAWLING.md)."""

from __future__ import annotations

import re
from typing import Any

from crawler.parsers import microdata, opengraph
from crawler.parsers.base import BadJson, Page, ParseResult, loads_json
from crawler.parsers.schema_org import Graph, SchemaOrgMapper
from crawler.parsers.web import block_reason, canonical_url, looks_binary, parse_html

NAME = "jsonld"
# Wrappers some CMSs put around JSON-LD (HTML comments, CDATA sections for XHTML).
_WRAPPER_RE = re.compile(r"^\s*(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)|(?:-->|//\s*\]\]>|\]\]>)\s*$")
# Cheap look at raw bytes for `sniff`: structured data of one of the three syntaxes.
_SNIFF_RE = re.compile(rb"application/ld\+json|itemtype\s*=|property\s*=\s*[\"']og:", re.IGNORECASE)
_HAS_MICRODATA_RE = re.compile(rb"itemscope", re.IGNORECASE)


def json_ld_blocks(root: Any) -> tuple[list[Any], list[str]]:
    """The parsed value of every `<script type="application/ld+json">`, and the reason (`malformed_json`,
    `too_deep`) of each block that could not be read; one bad block never costs the page its good ones."""
    blocks: list[Any] = []
    reasons: list[str] = []
    for script in root.iter("script"):
        kind = (script.get("type") or "").split(";")[0].strip().lower()
        if kind != "application/ld+json":
            continue
        text = _WRAPPER_RE.sub("", script.text or "").strip()
        if not text:
            continue
        try:
            blocks.append(_read_block(text))
        except BadJson as exc:
            reasons.append(exc.reason)
    return blocks, reasons


def _read_block(text: str) -> Any:
    """One block's JSON, then once more without a trailing `;`; strict=False lets raw newlines and tabs
    stand inside strings, as hand-written templates emit them."""
    try:
        return loads_json(text, strict=False)
    except BadJson as exc:
        if exc.reason == "too_deep":
            raise
    return loads_json(text.rstrip(";").strip(), strict=False)


class JsonLdParser:
    name = NAME
    domains: tuple[str, ...] = ()  # any site

    def matches_url(self, url: str) -> bool:
        return False  # any site: chosen by content

    def sniff(self, page: Page) -> bool:
        return bool(_SNIFF_RE.search(page.body[:2_000_000]))

    def parse(self, page: Page) -> ParseResult:
        result = ParseResult(parser=NAME)
        if not page.body.strip():
            result.errors.append(f"{NAME}/empty_body")
            return result
        if looks_binary(page.body):
            result.errors.append(f"{NAME}/not_html")
            return result
        root = parse_html(page.text)
        if root is None:
            result.errors.append(f"{NAME}/not_html")
            return result
        canonical = canonical_url(root, page.url)

        blocks, reasons = json_ld_blocks(root)
        result.errors.extend(f"{NAME}/{reason}" for reason in reasons)
        mapper = SchemaOrgMapper(Graph(blocks), page.url, canonical, page.observed_at, NAME)
        if mapper.videos() or mapper.products():
            result.items.extend(mapper.items())
        elif _HAS_MICRODATA_RE.search(page.body):
            micro = SchemaOrgMapper(
                Graph(microdata.extract(root, page.url)), page.url, canonical, page.observed_at, NAME
            )
            result.items.extend(micro.items())
        if not result.items:
            result.items.extend(
                opengraph.items(opengraph.extract(root), page.url, canonical, page.observed_at, NAME)
            )
        if not result.items:
            result.blocked = block_reason(root)
        return result


PARSER = JsonLdParser()
