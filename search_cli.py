"""trendcart command line: parse options, make one workflow or library call, print (reference: docs/CLI.md)."""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from crawler.bounds import MAX_COUNT, MAX_PRICE
from crawler.items import KINDS, PLATFORMS
from crawler.run import CrawlResult
from crawler.times import parse_iso, resolve_time, utc_now
from indexer import terminal
from indexer.models import DEFAULT
from indexer.store import HasOutbox, Reindexable, SearchMode
from indexer.stores import StoreSpec
from indexer.terminal import emit, err, lines, print_json, say, show
from indexer.trends import METRICS, TrendBy, parse_window
from indexer.workflows.errors import HANDLED, ExitCode, StoreMissing, exit_code_for
from indexer.workflows.views import OutputFormat, choose_format

app = typer.Typer(
    name="trendcart",
    help="Find the merchandise that short videos and livestreams are making popular.\n\n"
    "Crawl public video/live metadata, index it, search it, and rank what is trending.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
PlatformChoice = Enum("PlatformChoice", {p: p for p in PLATFORMS}, type=str)  # type: ignore[misc]
KindChoice = Enum("KindChoice", {k: k for k in KINDS}, type=str)  # type: ignore[misc]
Metric = Enum("Metric", {name: name for name in METRICS}, type=str)  # type: ignore[misc]
STORE_HELP = (
    "Where documents live: a SQLite file path (default ./trendcart-data/trendcart.db) "
    "or an Elasticsearch URL (http://127.0.0.1:9200)."
)
MODEL_HELP = (
    "Sentence-transformers model name or path (default: use-multilingual-v3, Chinese and English, offline; "
    "a store keeps the model it was built with; others: minilm, multilingual-e5-small)."
)
WINDOW_HELP = "Time window: a number and a unit m/h/d/w (24h, 7d, 1d12h); compared with the window before it."
# Errors shown per file after `index`; the --json summary has them all (up to the ingest limit).
SHOWN_INDEX_ERRORS = 10


@dataclasses.dataclass
class State:
    """The global options, set by main_options before any command runs."""

    store: Optional[str] = None
    model: Optional[str] = None
    debug: bool = False


state = State()


def fail(message: str, code: ExitCode = ExitCode.ERROR) -> None:
    """One line on stderr and a non-zero exit; the traceback only with --debug."""
    if state.debug and sys.exc_info()[0] is not None:
        err.print_exception()
    terminal.error(message)
    raise typer.Exit(int(code))


def command(func: Callable[..., None]) -> Callable[..., None]:
    """`app.command()` whose library errors become one line and their documented exit code."""
    return app.command()(handled(func))


def handled(func: Callable[..., None]) -> Callable[..., None]:
    """`func` with its library errors as one line and their documented exit code."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            func(*args, **kwargs)
        except HANDLED as exc:
            fail(
                str(exc) + (" (or pass --store)" if isinstance(exc, StoreMissing) else ""), exit_code_for(exc)
            )

    return run


def _spec() -> StoreSpec:
    """The store named by --store/TRENDCART_STORE (or the default)."""
    return StoreSpec.parse(state.store)


def _check_time(value: Optional[str]) -> Optional[str]:
    """--since/--until: ISO times, `24h`/`7d`/`2w` ago and the relative forms pages use (`3天前`), as ISO UTC."""
    if value is not None and (resolved := resolve_time(value)) is None:
        raise typer.BadParameter(f"cannot read {value!r} as a time (try 2026-11-20, 7d or 24h)")
    return None if value is None else resolved


def _check_window(value: str) -> str:
    try:
        parse_window(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


def _check_now(value: Optional[str]) -> Optional[str]:
    if value is not None and parse_iso(value) is None:
        raise typer.BadParameter(f"not an ISO 8601 time: {value!r} (e.g. 2026-11-25T12:00:00Z)")
    return value


def _now(value: Optional[str]) -> Any:
    return parse_iso(value) if value else utc_now()


def _get_embedder() -> Any:
    """The embedder for commands that write vectors (one per process; tests substitute theirs)."""
    from indexer.embedder import Embedder

    return Embedder(state.model)


# Options shared by several commands, declared once; --json and --csv stay as aliases of --format.
FormatOption = Annotated[
    Optional[OutputFormat],
    typer.Option(
        "--format",
        help="Output on stdout: table (default), json, or csv where the output has rows "
        "(search, trending, stats).",
    ),
]
JsonAlias = Annotated[bool, typer.Option("--json", help="Same as --format json.")]
CsvAlias = Annotated[bool, typer.Option("--csv", help="Same as --format csv.")]
PlatformOption = Annotated[Optional[PlatformChoice], typer.Option("--platform", help="Only this platform.")]
WindowOption = Annotated[str, typer.Option("--window", callback=_check_window, help=WINDOW_HELP)]
NowOption = Annotated[
    Optional[str],
    typer.Option("--now", callback=_check_now, help="As of this ISO 8601 time (default: the clock)."),
]


@app.callback()
def main_options(
    store: Optional[str] = typer.Option(None, "--store", envvar="TRENDCART_STORE", help=STORE_HELP),
    model: Optional[str] = typer.Option(None, "--model", envvar="TRENDCART_MODEL", help=MODEL_HELP),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs."),
) -> None:
    state.store, state.model, state.debug = store, model, debug


@command
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
    from crawler.parsers import registry
    from indexer.workflows.pages import extract_page

    if list_parsers:
        typer.echo("\n".join(p.name for p in registry()))
        return
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
            _spec(),
            state.model,
            batch_size=batch_size,
            on_file=lambda path, size: tasks.update(
                {path: bar.add_task(f"indexing {path.name}", total=size)}
            ),
            on_progress=lambda path, done, size: bar.update(tasks[path], completed=done),
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
        callback=_check_time,
        help="Published at or after: ISO date/time, or relative: 24h, 7d, 2w, '3天前'.",
    ),
    until: Optional[str] = typer.Option(
        None, "--until", callback=_check_time, help="Published at or before (same forms as --since)."
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
    hits = search_store(
        _spec(), query, mode, filters, limit, model_name=state.model, min_similarity=min_similarity
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
    now: NowOption = None,
    fmt: FormatOption = None,
    as_json: JsonAlias = False,
    as_csv: CsvAlias = False,
) -> None:
    """Rank what is taking off: velocity, growth and acceleration of a metric inside a time window.

    Every row shows its components; basis "since_published (!)" marks a rate computed from a single
    snapshot (metric / hours since publication). Formulas: docs/TRENDS.md.

    Example: trendcart trending --by product --window 7d --metric likes --platform douyin
    """
    from indexer.reports import columns_of, rows_of
    from indexer.workflows.queries import rank_trending
    from indexer.workflows.views import trend_table

    output = choose_format(fmt, as_json, as_csv, rows=True)
    platform_name = platform.value if platform else None
    embedder = _get_embedder() if query else None
    report = rank_trending(
        _spec(), by, window, metric.value, limit, platform_name, _now(now), state.model, query, embedder
    )
    draw = (lambda: show(trend_table(report))) if report.results else None
    emit(output, report.to_json(), draw, rows_of(report), columns_of(report))
    if not report.results:
        members = by.value if by in (TrendBy.video, TrendBy.live) else "member"
        err.print(
            f"nothing trending: {report.considered} {members} entities observed in the last {window}, "
            f"{report.skipped_no_rate} without a rate. Crawl again later (trends need two snapshots or a "
            "publication time) or widen --window."
        )
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
        _spec(), out, _now(now), window, metric.value, title, limit, platform_name, state.model
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
    info = store_overview(_spec(), state.model)
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
        callback=_check_now,
        help="A fixed observation time (replays only; default: the clock).",
    ),
    job_dir: Optional[Path] = typer.Option(
        None,
        "--job-dir",
        "--resume",
        help="Make the crawl resumable (Scrapy's JOBDIR): stop it with one Ctrl-C, run the same command "
        "to continue; --out is then appended to.",
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
            spider, args, _spec(), index=not no_index, model_name=state.model, out=out, now=now,
            settings=settings, on_progress=on_progress, job_dir=job_dir,
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
        out_dir, days=days, small=small, seed=seed, spec=_spec() if named else None,
        model_name=state.model, embedder=_get_embedder(), say=say,
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
    say(demo_next_steps(result))


product_app = typer.Typer(
    help="Canonical products: one product across sources and platforms, grouped by evidence, with overrides.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(product_app, name="product")
CurrencyOption = Annotated[
    Optional[str],
    typer.Option(
        "--currency", help="Also show prices in this ISO 4217 currency (ECB reference rate, dated)."
    ),
]


def product_command(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """`product_app.command(name)` with the library errors mapped as `command` does."""

    def register(func: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> None:
            try:
                func(*args, **kwargs)
            except HANDLED as exc:
                fail(str(exc), exit_code_for(exc))

        return product_app.command(name)(run)

    return register


@product_command("list")
def product_list(fmt: FormatOption = None, as_json: JsonAlias = False) -> None:
    """List every canonical product: id, title, members (the source product ids), platforms, confidence.

    New or changed product offers are grouped first (incremental; the model embeds their titles).

    Example: trendcart product list --json
    """
    from indexer.workflows.products import list_products
    from indexer.workflows.views import products_table

    output = choose_format(fmt, as_json)
    found = list_products(_spec(), state.model, _get_embedder())
    emit(output, found, lambda: show(products_table(found)))


@product_command("show")
def product_show(
    ident: str = typer.Argument(..., help="A canonical product id (cp-...) or the id of one of its offers."),
    currency: CurrencyOption = None,
    window: WindowOption = "7d",
    now: NowOption = None,
    top_kol: int = typer.Option(
        1_000_000, "--top-kol-followers", min=1, help="FACT: followers from which a creator is a top KOL."
    ),
    field_account: Annotated[
        Optional[list[str]],
        typer.Option(
            "--field-account", help="FACT: a creator id or name that is the brand's own (repeatable)."
        ),
    ] = None,
    campaigns: Optional[Path] = typer.Option(
        None,
        "--campaigns",
        help="FACT: a TOML file of [[campaign]] name/start/end/tags added to the calendar.",
    ),
    fmt: FormatOption = None,
    as_json: JsonAlias = False,
) -> None:
    """Show one canonical product: members with match evidence, linking videos and lives with their share
    of the gain, prices, sales, and the FACT breakdown (field, alliance, top_kol; campaign) in the window.

    Example: trendcart product show douyin:product:777 --currency CNY --window 7d
    """
    from indexer.workflows.products import FactOptions, show_product
    from indexer.workflows.views import product_lines

    output = choose_format(fmt, as_json)
    options = FactOptions(top_kol, tuple(field_account or ()), str(campaigns) if campaigns else None)
    shown = show_product(
        _spec(),
        ident,
        state.model,
        _get_embedder(),
        currency.upper() if currency else None,
        window,
        _now(now),
        options,
    )
    emit(output, shown, lambda: lines(product_lines(shown)))


@product_command("merge")
def product_merge(
    first: str = typer.Argument(..., help="A canonical product id or an offer id."),
    second: str = typer.Argument(..., help="Another one, to join with the first for good."),
) -> None:
    """Merge two canonical products into one; the override survives re-crawls (kept beside the store).

    Example: trendcart product merge tiktok:product:555 douyin:product:777
    """
    from indexer.workflows.products import merge_products

    print_json(merge_products(_spec(), first, second, state.model, _get_embedder()))


@product_command("split")
def product_split(
    ident: str = typer.Argument(
        ..., help="An offer id (taken out of its product) or a canonical id (all apart)."
    ),
) -> None:
    """Split an offer out of its canonical product (or a whole product apart); it survives re-crawls.

    Example: trendcart product split youtube:product:shelf-1
    """
    from indexer.workflows.products import split_product

    print_json(split_product(_spec(), ident, state.model, _get_embedder()))


creator_app = typer.Typer(
    help="Creators: tier by followers, follower growth, the products they push, their videos and lives.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(creator_app, name="creator")


@creator_app.command("show")
def creator_show(
    ident: str = typer.Argument(..., help="The creator's id, name or handle (case-insensitive, @ ignored)."),
    fmt: FormatOption = None,
    as_json: JsonAlias = False,
) -> None:
    """Show one creator: tier (top >= 1M followers, mid, micro, nano), followers over time, their videos and
    lives, and the products they push.

    Example: trendcart creator show @lily --json
    """
    from indexer.workflows.creators import show_creator
    from indexer.workflows.views import creator_lines

    try:
        output = choose_format(fmt, as_json)
        shown = show_creator(_spec(), ident, state.model)
    except HANDLED as exc:
        fail(str(exc), exit_code_for(exc))
    emit(output, shown, lambda: lines(creator_lines(shown)))


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

    with opened(_spec(), state.model, must_exist=False) as store:
        queue = require(store, HasOutbox, "outbox")
        if action is OutboxAction.replay:
            say(f"replayed {queue.replay_outbox()} queued batch(es) into {_spec()}")
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

    with opened(_spec(), state.model, must_exist=True) as store:
        done = require(store, Reindexable, "reindex").reindex(
            _get_embedder(),
            batch=batch,
            keep_old=keep_old,
            progress=lambda n: say(f"reindex: {n} documents"),
        )
    print_json(dataclasses.asdict(done))


live_app = typer.Typer(
    help="Live rooms: watch them over time (viewers, products), show one.", no_args_is_help=True
)
app.add_typer(live_app, name="live", rich_help_panel=None)


@live_app.command("watch")
@handled
def live_watch(
    sources: list[str] = typer.Argument(
        ..., metavar="URL_OR_FILE...", help="Room URLs, or saved pages re-read."
    ),
    every: str = typer.Option("60s", "--every", help="Sample every room this often (30s, 5m)."),
    for_: Optional[str] = typer.Option(None, "--for", help="Stop after this long (3h)."),
    samples: Optional[int] = typer.Option(None, "--samples", min=1, help="Stop a room after N samples."),
    until_ended: bool = typer.Option(
        False, "--until-ended", help="Run until every room has ended (default)."
    ),
    fmt: FormatOption = None,
    as_json: JsonAlias = False,
) -> None:
    """Sample live rooms on a steady tick, indexing every sample as a snapshot (docs/CLI.md "live watch").

    Example: trendcart live watch https://live.douyin.com/123 --every 60s --for 3h
    """
    from indexer.workflows.live import progress_line, watch_rooms

    output = choose_format(fmt, as_json)
    report = watch_rooms(
        _spec(),
        sources,
        every,
        for_=for_,
        samples=samples,
        until_ended=until_ended,
        model_name=state.model,
        embedder=_get_embedder(),
        on_sample=lambda room: say(progress_line(room)),
    )
    summary = report.to_json()
    done = f"live watch: {report.stored} samples stored, {report.failed} failed, {report.ticks} ticks"
    emit(output, summary, lambda: lines([done, *(progress_line(r) for r in report.rooms)]))
    if report.interrupted:
        err.print("interrupted: every sample taken so far is stored")
        raise typer.Exit(int(ExitCode.INTERRUPTED))
    if report.stored == 0:
        raise typer.Exit(int(ExitCode.NOTHING))


@live_app.command("show")
@handled
def live_show(
    live_id: str = typer.Argument(..., help="The live's id, e.g. douyin:live:7300000000."),
    fmt: FormatOption = None,
    as_json: JsonAlias = False,
) -> None:
    """A live room: status, times, its viewer series and sparkline, peak / average / viewer-minutes, products.

    Example: trendcart live show douyin:live:7300000000 --json
    """
    from indexer.workflows.live import live_show_lines, show_live

    output = choose_format(fmt, as_json)
    detail = show_live(_spec(), live_id, state.model)
    emit(output, detail, lambda: lines(live_show_lines(detail)))


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


if __name__ == "__main__":
    main()
