"""What every command of the terminal face shares: global state, error handling, option types and checks."""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import sys
from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any

import typer

from crawler.items import KINDS, PLATFORMS
from crawler.times import iso_utc, parse_iso, resolve_time, utc_now
from indexer import terminal
from indexer.stores import StoreSpec
from indexer.terminal import err
from indexer.trends import METRICS, parse_window
from indexer.workflows.errors import HANDLED, ExitCode, StoreMissing, exit_code_for
from indexer.workflows.views import OutputFormat

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


@dataclasses.dataclass
class State:
    """The global options, set by main_options before any command runs."""

    store: str | None = None
    model: str | None = None
    debug: bool = False


state = State()


def fail(message: str, code: ExitCode = ExitCode.ERROR) -> None:
    """One line on stderr and a non-zero exit; the traceback only with --debug."""
    if state.debug and sys.exc_info()[0] is not None:
        err.print_exception()
    terminal.error(message)
    raise typer.Exit(int(code))


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


def spec() -> StoreSpec:
    """The store named by --store/TRENDCART_STORE (or the default)."""
    return StoreSpec.parse(state.store)


def check_time(value: str | None) -> str | None:
    """--since/--until: ISO times, `24h`/`7d`/`2w` ago and the relative forms pages use (`3天前`), as ISO UTC."""
    if value is not None and (resolved := resolve_time(value)) is None:
        raise typer.BadParameter(f"cannot read {value!r} as a time (try 2026-11-20, 7d or 24h)")
    return None if value is None else resolved


def check_window(value: str) -> str:
    try:
        parse_window(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


def check_now(value: str | None) -> str | None:
    if value is not None and parse_iso(value) is None:
        raise typer.BadParameter(f"not an ISO 8601 time: {value!r} (e.g. 2026-11-25T12:00:00Z)")
    return value


def as_of(value: str | None) -> Any:
    """--now as a time; without it the clock, or for a store made by `demo` the demo's own clock (said on
    stderr), so that the demo's suggested commands still find its trends days later."""
    if value:
        return parse_iso(value)
    from indexer.workflows.clock import demo_clock

    clock = demo_clock(spec(), state.model)
    if clock is None:
        return utc_now()
    terminal.say(f"as of {iso_utc(clock)}, the demo's clock (this store was made by `demo`; --now to change)")
    return clock


def program() -> str:
    """How to type this program in the messages that suggest commands: `trendcart` when that is on PATH
    (or when run as `python search_cli.py`/in tests), else the path it was started by (`.venv/bin/trendcart`)."""
    started = sys.argv[0] if sys.argv else ""
    if os.path.basename(started) != "trendcart":
        return "trendcart"
    found = shutil.which("trendcart")
    try:
        same = found is not None and os.path.samefile(found, started)
    except OSError:
        same = False
    return "trendcart" if same else started


def get_embedder() -> Any:
    """The embedder for commands that write vectors (one per process; tests substitute theirs)."""
    from indexer.embedder import Embedder

    return Embedder(state.model)


# Options shared by several commands, declared once; --json and --csv stay as aliases of --format.
FormatOption = Annotated[
    OutputFormat | None,
    typer.Option(
        "--format",
        help="Output on stdout: table (default), json, or csv where the output has rows "
        "(search, trending, stats).",
    ),
]
JsonAlias = Annotated[bool, typer.Option("--json", help="Same as --format json.")]
CsvAlias = Annotated[bool, typer.Option("--csv", help="Same as --format csv.")]
PlatformOption = Annotated[PlatformChoice | None, typer.Option("--platform", help="Only this platform.")]
WindowOption = Annotated[str, typer.Option("--window", callback=check_window, help=WINDOW_HELP)]
NowOption = Annotated[
    str | None,
    typer.Option("--now", callback=check_now, help="As of this ISO 8601 time (default: the clock)."),
]
