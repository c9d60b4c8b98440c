"""load_page: one saved page or response for `extract` (a file, gzip included, or a URL fetched once)."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.parsers.base import Page
from indexer.workflows.errors import BadInput, BadRequest

# Sources with these schemes are fetched (once, robots.txt obeyed); anything else is a file path.
FETCHED_SCHEMES = ("http", "https")
# Content types of saved files that the parsers cannot guess from the body alone.
CONTENT_TYPES = {".json": "application/json", ".xml": "application/xml", ".gz": "application/xml"}


def load_page(source: str, url: str | None = None) -> Page:
    """The page at `source`; `url` is its original address (it chooses the parser by site). BadInput when
    the file is missing, the gzip is broken, or the fetch fails (robots.txt refusal included)."""
    if urlsplit(source).scheme.lower() in FETCHED_SCHEMES:
        from crawler.fetch import fetch_once

        try:
            status, content_type, body = fetch_once(source)
        except OSError as exc:
            raise BadInput(f"could not fetch {source}: {exc}") from exc
        return Page(url=url or source, body=body, content_type=content_type, status=status)
    path = Path(source)
    if not path.is_file():
        raise BadInput(f"no such file: {source}")
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {source}: {exc}") from exc
    if path.suffix == ".gz":
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError) as exc:
            raise BadInput(f"{source} is not valid gzip: {exc}") from exc
    return Page(url=url or path.resolve().as_uri(), body=body, content_type=CONTENT_TYPES.get(path.suffix))


def extract_page(source: str, url: str | None = None, parser_name: str | None = None) -> dict[str, Any]:
    """What `extract` prints: the chosen parser's items, links, errors and block reason for one page.
    BadRequest for an unknown parser name, BadInput for an unreadable source."""
    from crawler.parsers import get_parser, parse_page

    page = load_page(source, url)
    try:
        chosen = get_parser(parser_name) if parser_name else None
    except KeyError as exc:
        raise BadRequest(str(exc.args[0])) from None
    result = parse_page(page, chosen)
    return {
        "url": page.url,
        "parser": result.parser,
        "blocked": result.blocked,
        "errors": result.errors,
        "items": [item.to_json() for item in result.items],
        "links": result.links,
    }
