"""trendcart command line: parse options, make one workflow or library call, print (reference: docs/CLI.md)."""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer

from crawler.bounds import MAX_COUNT, MAX_PRICE
from crawler.run import CrawlResult
from indexer import terminal
from indexer.cli import common
from indexer.cli.common import (
    MODEL_HELP,
    STORE_HELP,
    CsvAlias,
    FormatOption,
    JsonAlias,
    KindChoice,
    Metric,
    NowOption,
    PlatformOption,
    WindowOption,
    as_of,
    check_now,
    check_time,
    fail,
    handled,
    spec,
    state,
)
from indexer.cli.live import live_app
from indexer.cli.products import creator_app, product_app
from indexer.cli.serve import serve
from indexer.cli.watch import health_command, say_after_run, watch_app
from indexer.models import DEFAULT
from indexer.store import HasOutbox, Reindexable, SearchMode
from indexer.terminal import emit, err, lines, print_json, say, show
from indexer.trends import TrendBy
from indexer.workflows.errors import ExitCode
from indexer.workflows.views import OutputFormat, choose_format

app = typer.Typer(
    name="trendcart",
    help="Find the merchandise that short videos and livestreams are making popular.\n\n"
    "Crawl public video/live metadata, index it, search it, and rank what is trending.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
# Errors shown per file after `index`; the --json summary has them all (up to the ingest limit).
SHOWN_INDEX_ERRORS = 10


def command(func: Callable[..., None]) -> Callable[..., None]:
    """`app.command()` whose library errors become one line and their documented exit code."""
    return app.command()(handled(func))


app.add_typer(product_app, name="product")
app.add_typer(creator_app, name="creator")
app.add_typer(live_app, name="live", rich_help_panel=None)
app.add_typer(watch_app, name="watch")
app.command("health")(health_command)
app.command("serve")(handled(serve))


@app.callback()
def main_options(
    store: Optional[str] = typer.Option(None, "--store", envvar="TRENDCART_STORE", help=STORE_HELP),
    model: Optional[str] = typer.Option(None, "--model", envvar="TRENDCART_MODEL", help=MODEL_HELP),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs."),
) -> None:
    state.store, state.model, state.debug = store, model, debug


@command
def extract(
    source: Optional[str] = typer.Argument(
        None, help="A saved page/response file, or a URL fetched once (not needed with --list)."
    ),
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
    from crawler.parsers import registry
    from indexer.workflows.pages import extract_page

    if list_parsers:
        typer.echo("\n".join(p.name for p in registry()))
        return
    if source is None:
        raise typer.BadParameter("give a saved page or a URL (or --list)", param_hint="SOURCE")
    result = extract_page(source, url, parser)
    print_json(result)
    if result["blocked"]:
        err.print(f"blocked page: {result['blocked']}")
    if not result["items"] and not result["links"]:
        err.print("no items found" + (f" ({', '.join(result['errors'])})" if result["errors"] else ""))


@command
def index(
    paths: list[Path] = typer.Argument(
        ...,
        help="JSONL files, one item in the JSON form per line (what `scrapy crawl ... -O out.jsonl` writes).",
    ),
    fmt: FormatOption = None,
    as_json: JsonAlias = False,
    batch_size: Optional[int] = typer.Option(
        None, "--batch-size", min=1, help="Documents embedded and written per batch (default 512)."
    ),
) -> None:
    """Index JSONL items into the store: embed new or changed text only, keep every metric observation.

    Invalid lines are reported with their line numbers and skipped (exit code 4 when there were any).

    Example: trendcart index crawl-2026-11-25.jsonl
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from indexer.workflows.ingest import index_files
    from indexer.workflows.views import index_lines

    output = choose_format(fmt, as_json)
    columns = (
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        tasks: dict[Path, Any] = {}
        run = index_files(
            paths,
            spec(),
            state.model,
            batch_size=batch_size,
            on_file=lambda path, size: tasks.update(
                {path: bar.add_task(f"indexing {path.name}", total=size)}
            ),
            on_progress=lambda path, done, size: bar.update(tasks[path], completed=done),
            on_vector_index=lambda done, total: err.print(f"building the vector index: {done:,} / {total:,}"),
        )
    summary = run.to_json()
    emit(output, summary, table=lambda: lines(index_lines(summary["files"], SHOWN_INDEX_ERRORS), err))
    if run.total.skipped_invalid:
        raise typer.Exit(int(ExitCode.INPUT))


@command
def search(
    query: str = typer.Argument(..., help="What to look for, in any language; operators are plain text."),
    fmt: FormatOption = None,
    as_json: JsonAlias = False,
    limit: int = typer.Option(10, "--limit", "-n", min=1, max=1000, help="How many hits."),
    mode: SearchMode = typer.Option(
        SearchMode.hybrid,
        "--mode",
        help="keyword (BM25, never loads the model), semantic (vectors) or hybrid (both, fused by rank).",
    ),
    platform: PlatformOption = None,
    kind: Optional[KindChoice] = typer.Option(None, "--kind", help="Only this kind of document."),
    since: Optional[str] = typer.Option(
        None,
        "--since",
        callback=check_time,
        help="Published at or after: ISO date/time, or relative: 24h, 7d, 2w, '3天前'.",
    ),
    until: Optional[str] = typer.Option(
        None, "--until", callback=check_time, help="Published at or before (same forms as --since)."
    ),
    min_views: Optional[int] = typer.Option(
        None, "--min-views", min=0, max=MAX_COUNT, help="At least this many views."
    ),
    min_likes: Optional[int] = typer.Option(
        None, "--min-likes", min=0, max=MAX_COUNT, help="At least this many likes."
    ),
    price_min: Optional[float] = typer.Option(
        None, "--price-min", min=0, max=MAX_PRICE, help="Some price at or above this."
    ),
    price_max: Optional[float] = typer.Option(
        None, "--price-max", min=0, max=MAX_PRICE, help="Some price at or below this."
    ),
    has_products: Optional[bool] = typer.Option(
        None, "--has-products/--no-products", help="Only documents that link products (or that do not)."
    ),
    creator: Optional[str] = typer.Option(None, "--creator", help="Creator id, name or @handle."),
    min_similarity: Optional[float] = typer.Option(
        None,
        "--min-similarity",
        min=-1.0,
        max=1.0,
        envvar="TRENDCART_VECTOR_FLOOR",
        help="Cosine under which a hit that matched no keyword is left out (default: the model's "
        f"calibrated floor, {DEFAULT.vector_floor:g} for {DEFAULT.name}; -1: no floor).",
    ),
    no_translate: bool = typer.Option(
        False, "--no-translate", help="Search the query's own words only (as TRENDCART_TRANSLATE=off)."
    ),
) -> None:
    """Search indexed videos, lives, products and creators; every hit says why it ranked.

    Example: trendcart search "平价口红" --platform douyin --min-views 10000 --json
    """
    from indexer.store import SearchFilters
    from indexer.workflows.queries import HIT_FIELDS, hit_rows, search_store
    from indexer.workflows.views import hits_table

    output = choose_format(fmt, as_json, rows=True)
    filters = SearchFilters(
        platform=platform.value if platform else None,
        kind=kind.value if kind else None,
        published_from=since,
        published_to=until,
        min_views=min_views,
        min_likes=min_likes,
        price_min=price_min,
        price_max=price_max,
        has_products=has_products,
        creator=creator,
    )
    if no_translate:
        os.environ["TRENDCART_TRANSLATE"] = "off"  # indexer.crosslingual.expand reads it (this process only)
    if server := os.environ.get("TRENDCART_SERVER"):  # a running `trendcart serve`: its model is warm
        from indexer.server.client import search_remote

        hits = search_remote(server, query, mode, filters, limit, min_similarity)
    else:
        hits = search_store(
            spec(), query, mode, filters, limit, model_name=state.model, min_similarity=min_similarity
        )
    if output is OutputFormat.table and not hits:
        err.print("no results")
    rows = hit_rows(hits)
    draw = (lambda: terminal.show_hits(hits_table(rows))) if hits else None
    emit(output, [hit.to_json() for hit in hits], draw, rows, HIT_FIELDS)


@command
def trending(
    by: TrendBy = typer.Option(TrendBy.product, "--by", help="What to rank."),
    window: WindowOption = "24h",
    metric: Metric = typer.Option(
        Metric("views"),
        "--metric",
        help="The metric whose change is measured (products: "
        "their videos' and lives' metric; `sales`: the products' own sales).",
    ),
    limit: int = typer.Option(20, "--limit", min=1, help="How many to show."),
    platform: PlatformOption = None,
    query: Optional[str] = typer.Option(
        None, "--query", help="Only what is like this text (hybrid search: semantic + keyword)."
    ),
    listings: bool = typer.Option(
        False, "--listings", help="Products: one row per source listing, not per canonical product."
    ),
    mentions: bool = typer.Option(
        False, "--mentions", help="Products: FACT of content naming the product unlinked (loads the model)."
    ),
    now: NowOption = None,
    fmt: FormatOption = None,
    as_json: JsonAlias = False,
    as_csv: CsvAlias = False,
) -> None:
    """Rank what is taking off: velocity, growth and acceleration of a metric inside a time window.

    Every row shows its components; basis "since_published (!)" marks a rate computed from a single
    snapshot (metric / hours since publication), "partly once (!)" a group where some members were seen
    once. Formulas: docs/TRENDS.md.

    Example: trendcart trending --by product --window 7d --metric likes --platform douyin
    """
    from indexer.reports import columns_of, rows_of
    from indexer.workflows.queries import rank_trending
    from indexer.workflows.views import nothing_trending, trend_table

    output = choose_format(fmt, as_json, as_csv, rows=True)
    platform_name = platform.value if platform else None
    embedder = common.get_embedder() if query or mentions else None
    report = rank_trending(
        spec(), by, window, metric.value, limit, platform_name, as_of(now), state.model, query, embedder,
        listings=listings, mentions=mentions,
    )  # fmt: skip
    draw = (lambda: show(trend_table(report))) if report.results else None
    emit(output, report.to_json(), draw, rows_of(report), columns_of(report))
    if not report.results:
        say(nothing_trending(report))
        raise typer.Exit(int(ExitCode.NOTHING))


@command
def report(
    out: Path = typer.Option(..., "--out", help="Where to write: .html (charts embedded), .md or .csv."),
    window: WindowOption = "24h",
    metric: Metric = typer.Option(Metric("views"), "--metric", help="The metric whose change is measured."),
    title: Optional[str] = typer.Option(None, "--title", help="The report's title."),
    limit: int = typer.Option(10, "--limit", min=1, help="Rows per section."),
    platform: PlatformOption = None,
    now: NowOption = None,
    fmt: FormatOption = None,
    as_json: JsonAlias = False,
) -> None:
    """Write a trend report: products, videos, lives, hashtags and creators, with charts (HTML).

    The format comes from the extension. The same data and --now give the same file; --format json
    (or --json) also prints what the report shows.

    Example: trendcart report --out reports/today.html --window 24h --title "Beauty, daily"
    """
    from indexer.workflows.queries import write_store_report

    output = choose_format(fmt, as_json)
    platform_name = platform.value if platform else None
    shown = write_store_report(
        spec(), out, as_of(now), window, metric.value, title, limit, platform_name, state.model
    )
    err.print(
        f"wrote {out} ("
        + ", ".join(f"{len(r['results'])} {by}s" for by, r in shown["sections"].items())
        + ")"
    )
    emit(output, shown)


@command
def stats(fmt: FormatOption = None, as_json: JsonAlias = False) -> None:
    """Show what the store holds: documents by platform and kind, snapshots, model, last crawl.

    Example: trendcart --store trendcart-data/demo.db stats
    """
    from indexer.workflows.overview import MATRIX_COLUMNS, matrix_rows, store_overview
    from indexer.workflows.views import matrix_table, stats_lines

    output = choose_format(fmt, as_json, rows=True)
    info = store_overview(spec(), state.model)
    emit(
        output,
        info,
        lambda: (show(matrix_table(info)), lines(stats_lines(info))),
        matrix_rows(info),
        MATRIX_COLUMNS,
    )


@command
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
        callback=check_now,
        help="A fixed observation time (replays only; default: the clock).",
    ),
    job_dir: Optional[Path] = typer.Option(
        None,
        "--job-dir",
        "--resume",
        help="Make the crawl resumable (Scrapy's JOBDIR): stop it with one Ctrl-C, run the same command "
        "to continue; --out is then appended to.",
    ),
    frontier: Optional[str] = typer.Option(
        None,
        "--frontier",
        help="Share the queue and seen-set with other crawlers through Redis (redis://HOST:PORT/DB): "
        "run the same command on several processes or machines (docs/CRAWLING.md).",
    ),
    fmt: FormatOption = None,
    as_json: JsonAlias = False,
) -> None:
    """Crawl with a spider and index as it goes; shows progress, then a summary of items, errors and
    blocked pages. Exit 130 when interrupted, 5 when it found no items.

    Example: trendcart crawl jsonld --urls https://shop.example/videos/1 --out items.jsonl
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from indexer.workflows.crawl import crawl_and_index, key_values, spider_args
    from indexer.workflows.views import crawl_headline, crawl_note, crawl_progress, crawl_table

    output = choose_format(fmt, as_json)
    args = spider_args(key_values(arg, "--arg"), urls, urls_file)
    settings = key_values(setting, "--set")
    if state.debug:
        settings.setdefault("LOG_LEVEL", "DEBUG")
    columns = (SpinnerColumn(), TextColumn("{task.description}", markup=False), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task(f"crawl {spider}: starting", total=None)

        def on_progress(result: CrawlResult) -> None:
            progress.update(task, description=crawl_progress(result))

        result = crawl_and_index(
            spider, args, spec(), index=not no_index, model_name=state.model, out=out, now=now,
            settings=settings, on_progress=on_progress, job_dir=job_dir, after_run=say_after_run,
            frontier=frontier,
        )  # fmt: skip
    emit(output, result.to_json(), lambda: (lines([crawl_headline(result)]), show(crawl_table(result))))
    if out:
        err.print(f"items written to {out}")
    if note := crawl_note(result):
        say(note)
    if result.interrupted:
        raise typer.Exit(int(ExitCode.INTERRUPTED))
    if result.items_total == 0:
        raise typer.Exit(int(ExitCode.NOTHING))


@command
def schedule(
    config: Path = typer.Option(
        Path("schedule.toml"), "--config", help="The schedule file (TOML; see examples/schedule.toml)."
    ),
    once: bool = typer.Option(
        False, "--once", help="Run every job now, once, and exit (for cron or systemd timers)."
    ),
    job: list[str] = typer.Option([], "--job", help="Only this job (repeatable)."),
    fmt: FormatOption = None,
    as_json: JsonAlias = False,
) -> None:
    """Run crawl jobs on cron times: each run crawls, indexes and writes dated reports.

    Runs in the foreground until Ctrl-C; a lock file stops a second scheduler (or --once) from
    overlapping. Reference: docs/SCHEDULE.md.

    Example: trendcart schedule --config schedule.toml --once
    """
    from indexer.workflows.scheduled import run_schedule

    output = choose_format(fmt, as_json)
    runs = run_schedule(config, state.store, state.model, once=once, jobs=job, say=say)
    emit(output, [run.to_json() for run in runs])
    failed = [run for run in runs if run.error]
    if failed:
        reasons = "; ".join(f"{r.job}: {r.error}" for r in failed)
        fail(f"{len(failed)} of {len(runs)} job runs failed: {reasons}")


@command
def demo(
    days: int = typer.Option(4, "--days", min=2, max=14, help="Replayed days of snapshots (at least 2)."),
    small: bool = typer.Option(False, "--small", help="A smaller site (faster; used by the tests)."),
    seed: int = typer.Option(20261125, "--seed", help="Seed of the generated site (same seed, same site)."),
    out_dir: Path = typer.Option(
        Path("trendcart-data"), "--out-dir", help="Where the demo store, crawl files and report go."
    ),
    fmt: FormatOption = None,
    as_json: JsonAlias = False,
) -> None:
    """Run the whole tool offline on a generated sample site: crawl several days, index, rank, search, report.

    Serves the site on 127.0.0.1, crawls each replayed day with the real spiders (jsonld, sitemap, feed,
    tiktok, bilibili), indexes into ./trendcart-data/demo.db (or --store), prints the trending products
    and a few searches, and writes ./trendcart-data/demo-report.html.

    Example: trendcart demo
    """
    from indexer.workflows.demo import run_demo
    from indexer.workflows.views import demo_next_steps, product_lines, search_lines, trend_table

    output = choose_format(fmt, as_json)
    # The demo's own store starts afresh; a store you named (--store, TRENDCART_STORE) is only added to.
    named = state.store is not None or bool(os.environ.get("TRENDCART_STORE"))
    result = run_demo(
        out_dir, days=days, small=small, seed=seed, spec=spec() if named else None,
        model_name=state.model, embedder=common.get_embedder(), say=say,
    )  # fmt: skip
    emit(
        output,
        result.to_json(),
        lambda: (
            show(trend_table(result.trending)),
            lines(search_lines(result.searches)),
            lines(
                ["", "One product on several platforms:", *product_lines(result.product)]
                if result.product
                else []
            ),
        ),
    )
    say(demo_next_steps(result, common.program()))


class OutboxAction(str, Enum):
    status = "status"
    replay = "replay"


@command
def outbox(
    action: OutboxAction = typer.Argument(
        OutboxAction.status, help="status: count the queued batches; replay: write them to Elasticsearch now."
    ),
) -> None:
    """Batches an Elasticsearch store queued on disk while the cluster was unreachable: count or replay them.

    They are also replayed by the next write and the next time the store is opened.

    Example: trendcart --store http://127.0.0.1:9200 outbox replay
    """
    from indexer.workflows.opening import opened, require

    with opened(spec(), state.model, must_exist=False) as store:
        queue = require(store, HasOutbox, "outbox")
        if action is OutboxAction.replay:
            say(f"replayed {queue.replay_outbox()} queued batch(es) into {spec()}")
        print_json({"pending": queue.outbox_pending(), "outbox": queue.outbox_location()})


@command
def reindex(
    batch: int = typer.Option(256, "--batch", min=1, help="Documents embedded and written per bulk request."),
    keep_old: bool = typer.Option(
        False, "--keep-old", help="Keep the previous index (Elasticsearch) or a copy of the file (SQLite)."
    ),
) -> None:
    """Re-embed every document of a store with --model (default: the default model) and record it.

    SQLite: new vectors are staged aside, then swapped in one transaction (--keep-old: a copy of the
    file beside it first). Elasticsearch: a new index, then an atomic alias swap (--keep-old: the
    previous index stays). Pause crawls and `index` while it runs. Snapshots are kept.

    Example: trendcart --store trendcart-data/trendcart.db --model use-multilingual-v3 reindex
    """
    from indexer.workflows.opening import opened, require

    with opened(spec(), state.model, must_exist=True) as store:
        done = require(store, Reindexable, "reindex").reindex(
            common.get_embedder(),
            batch=batch,
            keep_old=keep_old,
            progress=lambda n: say(f"reindex: {n} documents"),
        )
    print_json(dataclasses.asdict(done))


def main() -> None:
    """Console-script entry point (`trendcart`): unexpected errors become one line (the traceback with --debug)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        raise SystemExit(int(ExitCode.INTERRUPTED)) from None
    except Exception as exc:  # noqa: BLE001 - the last line of defence for a one-line error
        if state.debug or "--debug" in sys.argv:
            raise
        terminal.error(f"{type(exc).__name__}: {exc} (run with --debug for the traceback)")
        raise SystemExit(int(ExitCode.ERROR)) from None


def run() -> None:
    """`main`, then exit without the interpreter's teardown (~1 s after torch and the model were imported:
    module and thread cleanup nobody waits for) once the output is flushed; the exit code is kept. Only the
    `trendcart` script and `python search_cli.py` take this path; callers of main() get SystemExit."""
    code: int | str | None = 0
    try:
        main()
    except SystemExit as done:
        code = done.code
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: nothing left to say
        pass
    os._exit(code or 0)


if __name__ == "__main__":
    run()
