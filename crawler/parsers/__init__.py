"""Parser registry: pick the parser for a page by its URL's site, else by its content, and run it safely."""

from __future__ import annotations

import importlib
import logging
import traceback

from crawler.parsers.base import Page, Parser, ParseResult

logger = logging.getLogger(__name__)

# Order matters: platform adapters claim their hosts first; standards parsers sniff content last.
# A module listed here that does not exist yet is skipped, so adapters can land one at a time.
PARSER_MODULES = (
    "crawler.parsers.platforms.tiktok",
    "crawler.parsers.platforms.douyin",
    "crawler.parsers.platforms.youtube",
    "crawler.parsers.platforms.bilibili",
    "crawler.parsers.platforms.kuaishou",
    "crawler.parsers.sitemap",
    "crawler.parsers.feed",
    "crawler.parsers.jsonld",
)

_registry: list[Parser] | None = None


def registry() -> list[Parser]:
    """Every available parser, each module exposing a module-level `PARSER` instance."""
    global _registry
    if _registry is None:
        parsers: list[Parser] = []
        for name in PARSER_MODULES:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:
                    raise
                continue
            parsers.append(module.PARSER)
        _registry = parsers
    return _registry


def get_parser(name: str) -> Parser:
    for parser in registry():
        if parser.name == name:
            return parser
    known = ", ".join(p.name for p in registry())
    raise KeyError(f"no parser named {name!r}; known: {known}")


def choose_parser(page: Page) -> Parser | None:
    """The parser that owns the URL's site, else the first whose sniff recognises the content."""
    for parser in registry():
        if parser.matches_url(page.url):
            return parser
    for parser in registry():
        if parser.sniff(page):
            return parser
    return None


def parse_page(page: Page, parser: Parser | str | None = None) -> ParseResult:
    """Run one parser (named, given, or chosen) on one page. Never raises: a crashing parser becomes
    an error reason `NAME/crash` with the traceback logged, so one bad page cannot stop a crawl."""
    if isinstance(parser, str):
        parser = get_parser(parser)
    parser = parser or choose_parser(page)
    if parser is None:
        return ParseResult(errors=["unrecognised_page"], parser=None)
    try:
        result = parser.parse(page)
    except Exception as exc:  # noqa: BLE001 - the boundary that keeps crawls alive
        logger.error("parser %s crashed on %s: %s\n%s", parser.name, page.url, exc, traceback.format_exc())
        result = ParseResult(errors=[f"{parser.name}/crash"])
    result.parser = parser.name
    return result


__all__ = ["Page", "ParseResult", "Parser", "registry", "get_parser", "choose_parser", "parse_page"]
