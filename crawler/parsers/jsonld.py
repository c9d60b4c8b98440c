"""The `jsonld` parser: schema.org JSON-LD, with microdata and then OpenGraph as fallbacks (docs/CRAWLING.md)."""

from __future__ import annotations

import json
import re
from typing import Any

from crawler.parsers import microdata, opengraph
from crawler.parsers.base import Page, ParseResult
from crawler.parsers.schema_org import Graph, SchemaOrgMapper
from crawler.parsers.web import block_reason, canonical_url, looks_binary, parse_html

NAME = "jsonld"
# Wrappers some CMSs put around JSON-LD (HTML comments, CDATA sections for XHTML).
_WRAPPER_RE = re.compile(r"^\s*(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)|(?:-->|//\s*\]\]>|\]\]>)\s*$")
# Cheap look at raw bytes for `sniff`: structured data of one of the three syntaxes.
_SNIFF_RE = re.compile(rb"application/ld\+json|itemtype\s*=|property\s*=\s*[\"']og:", re.IGNORECASE)
_HAS_MICRODATA_RE = re.compile(rb"itemscope", re.IGNORECASE)


def json_ld_blocks(root: Any) -> tuple[list[Any], int]:
    """The parsed value of every `<script type="application/ld+json">`, and how many were malformed."""
    blocks: list[Any] = []
    malformed = 0
    for script in root.iter("script"):
        kind = (script.get("type") or "").split(";")[0].strip().lower()
        if kind != "application/ld+json":
            continue
        text = _WRAPPER_RE.sub("", script.text or "").strip()
        if not text:
            continue
        try:
            # strict=False: raw newlines and tabs inside strings, as hand-written templates emit them.
            blocks.append(json.loads(text, strict=False))
        except ValueError:
            try:
                blocks.append(json.loads(text.rstrip(";").strip(), strict=False))
            except ValueError:
                malformed += 1
    return blocks, malformed


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

        blocks, malformed = json_ld_blocks(root)
        result.errors.extend([f"{NAME}/malformed_json"] * malformed)
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
