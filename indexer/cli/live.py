"""The `live` command group: watch live rooms over time, show one (docs/CLI.md "live watch", "live show")."""

from __future__ import annotations

import typer

from indexer.cli import common
from indexer.cli.common import FormatOption, JsonAlias, handled, spec, state
from indexer.cli.watch import say_after_run
from indexer.terminal import emit, err, lines, say
from indexer.workflows.errors import ExitCode
from indexer.workflows.views import choose_format

live_app = typer.Typer(
    help="Live rooms: watch them over time (viewers, products), show one.", no_args_is_help=True
)


@live_app.command("watch")
@handled
def live_watch(
    sources: list[str] = typer.Argument(
        ..., metavar="URL_OR_FILE...", help="Room URLs, or saved pages re-read."
    ),
    every: str = typer.Option("60s", "--every", help="Sample every room this often (30s, 5m)."),
    for_: str | None = typer.Option(None, "--for", help="Stop after this long (3h)."),
    samples: int | None = typer.Option(None, "--samples", min=1, help="Stop a room after N samples."),
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
        spec(),
        sources,
        every,
        for_=for_,
        samples=samples,
        until_ended=until_ended,
        model_name=state.model,
        embedder=common.get_embedder(),
        on_sample=lambda room: say(progress_line(room)),
        after_run=say_after_run,
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
    detail = show_live(spec(), live_id, state.model)
    emit(output, detail, lambda: lines(live_show_lines(detail)))
