"""The `watch` command group and `health`: saved watches, breakouts, crawl health, where alerts go (docs/ALERTS.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from indexer.cli import common
from indexer.cli.common import FormatOption, JsonAlias, NowOption, PlatformOption, as_of, handled, spec, state
from indexer.terminal import emit, lines, say
from indexer.trends import TrendBy
from indexer.workflows.errors import BadRequest
from indexer.workflows.views import choose_format

watch_app = typer.Typer(
    help="Saved watches over trend rankings: add, list, rm, check for breakouts (docs/ALERTS.md).",
    no_args_is_help=True,
)

# Where alerts go, besides the terminal: the same options on `watch check` and `health`; crawl and live
# watch read TRENDCART_ALERT_JSONL / TRENDCART_WEBHOOK / TRENDCART_SMTP, a schedule its [alerts] table.
AlertJsonl = Annotated[
    list[Path],
    typer.Option("--alert-jsonl", metavar="PATH", help="Append each alert as a JSON line to this file."),
]
Webhook = Annotated[
    list[str],
    typer.Option(
        "--webhook", metavar="URL", help="POST the alerts as JSON to this URL (repeatable; retried)."
    ),
]
Smtp = Annotated[
    str | None,
    typer.Option(
        "--smtp", metavar="HOST[:PORT]", help="E-mail the alerts through this SMTP server, HOST[:PORT]."
    ),
]
MailTo = Annotated[
    list[str], typer.Option("--mail-to", metavar="ADDR", help="E-mail recipient (repeatable; with --smtp).")
]
MailFrom = Annotated[
    str | None,
    typer.Option("--mail-from", metavar="ADDR", help="E-mail sender (default trendcart@localhost)."),
]


def alert_options(
    jsonl: list[Path], webhook: list[str], smtp: str | None, mail_to: list[str], mail_from: str | None
) -> Any:
    from indexer.alerts import AlertConfigError, config_from_options

    try:
        return config_from_options(jsonl, webhook, smtp, mail_to, mail_from)
    except AlertConfigError as exc:
        raise BadRequest(str(exc)) from exc


def say_after_run(result: Any) -> None:
    """The after-run hook of crawl and live watch: new alerts, failed sinks, an evaluation error on stderr."""
    for line in result.messages():
        say(line)


@watch_app.command("add")
@handled
def watch_add(
    query: str = typer.Argument(..., help="What to watch for: a text, searched semantically and by keyword."),
    by: TrendBy = typer.Option(
        TrendBy.product, "--by", help="Which ranking: product, video, live, creator, hashtag."
    ),
    platform: PlatformOption = None,
    min_score: float | None = typer.Option(
        None, "--min-score", help="A breakout needs at least this trend score."
    ),
    name: str | None = typer.Option(None, "--name", help="The watch's name (default: the query)."),
    top: int = typer.Option(10, "--top", min=1, help="A breakout is a row entering the watch's top N."),
    window: str = typer.Option("24h", "--window", callback=common.check_window, help=common.WINDOW_HELP),
    now: NowOption = None,
    fmt: FormatOption = None,
    as_json: JsonAlias = False,
) -> None:
    """Save a watch; what is in its top N now is its baseline (alerts come when something new enters).

    Example: trendcart watch add "口红" --by product --min-score 1.5
    """
    from indexer.workflows.watches import add_watch

    output = choose_format(fmt, as_json)
    added = add_watch(
        spec(),
        query,
        by=by.value,
        platform=platform.value if platform else None,
        min_score=min_score,
        name=name,
        top=top,
        window=window,
        now=as_of(now),
        model_name=state.model,
        embedder=common.get_embedder(),
    )
    base = added["baseline"]
    shown = [
        f"watch {added['watch']['name']!r} added: {by.value}s like {query!r}, top {top}, window {window}"
        + (f", min score {min_score:g}" if min_score is not None else ""),
        f"baseline: {len(base['rows'])} rows in its top {top} now (noted, not alerted)"
        if base is not None
        else "no store yet: its baseline is empty, so what the first crawl brings into its top are breakouts",
    ]
    emit(output, added, lambda: lines(shown))


@watch_app.command("list")
@handled
def watch_list(fmt: FormatOption = None, as_json: JsonAlias = False) -> None:
    """The saved watches of the store, with their settings and how many breakouts each has alerted."""
    from indexer.workflows.watches import list_watches

    output = choose_format(fmt, as_json)
    found = list_watches(spec())
    shown = [
        f"{w['name']}: {w['by']}s like {w['query']!r}"
        + (f" on {w['platform']}" if w["platform"] else "")
        + f", top {w['top']}, window {w['window']}"
        + (f", min score {w['min_score']:g}" if w["min_score"] is not None else "")
        + f"; {w['breakouts']} breakouts; last checked {w['checked_at'] or 'never'}"
        for w in found
    ] or ["no watches yet: trendcart watch add QUERY"]
    emit(output, found, lambda: lines(shown))


@watch_app.command("rm")
@handled
def watch_rm(
    name: str = typer.Argument(..., help="The watch's name (see `watch list`)."),
    fmt: FormatOption = None,
    as_json: JsonAlias = False,
) -> None:
    """Forget a watch (its past alerts stay in the history). Exit 5 when there is no such watch."""
    from indexer.workflows.watches import remove_watch

    output = choose_format(fmt, as_json)
    removed = remove_watch(spec(), name)
    emit(output, removed, lambda: lines([f"watch {removed['name']!r} removed"]))


@watch_app.command("check")
@handled
def watch_check(
    names: list[str] = typer.Argument(None, metavar="[NAME]...", help="Only these watches (default: all)."),
    now: NowOption = None,
    alert_jsonl: AlertJsonl = [],  # noqa: B006 - Typer reads the default
    webhook: Webhook = [],  # noqa: B006
    smtp: Smtp = None,
    mail_to: MailTo = [],  # noqa: B006
    mail_from: MailFrom = None,
    fmt: FormatOption = None,
    as_json: JsonAlias = False,
) -> None:
    """Check the watches now: each one's top rows, and its breakouts, alerted once (terminal, --alert-jsonl,
    --webhook, --smtp). Exit 5 when there are no watches.

    Example: trendcart watch check --json --webhook http://127.0.0.1:9000/hook
    """
    from indexer.workflows.errors import NothingFound
    from indexer.workflows.watches import check_now, list_watches

    output = choose_format(fmt, as_json)
    config = alert_options(alert_jsonl, webhook, smtp, mail_to, mail_from)
    if not names and not list_watches(spec()):
        raise NothingFound("no watches yet: trendcart watch add QUERY")
    result = check_now(
        spec(),
        crawl_health=False,
        names=names or (),
        config=config,
        now=as_of(now),
        model_name=state.model,
        embedder=common.get_embedder(),
    )
    emit(output, result.to_json(), lambda: lines(check_lines(result)))
    for line in result.messages()[len(result.alerts) :]:  # failed sinks, on stderr in every format
        say(line)


def check_lines(result: Any) -> list[str]:
    """The table view of `watch check`: per watch its top rows, then its breakouts."""
    out: list[str] = []
    for check in result.checks:
        w = check.watch
        out.append(
            f"{w.name}: {w.by}s like {w.query!r} — {'baseline noted' if check.baseline else ''}".rstrip(" —")
        )
        for row in check.rows:
            if row.qualifies:
                r = row.result
                mark = "  BREAKOUT" if row.breakout else ""
                before = f"(was #{row.previous_rank})" if row.previous_rank else "(new)"
                out.append(f"  #{r.rank:<3} {r.score:>7.2f}  {(r.title or r.key)[:70]}  {before}{mark}")
        if not any(r.qualifies for r in check.rows):
            out.append("  nothing in its top yet")
    out += [f"alert: {a.message}" for a in result.alerts]
    return out


def health(
    now: NowOption = None,
    alert_jsonl: AlertJsonl = [],  # noqa: B006 - Typer reads the default
    webhook: Webhook = [],  # noqa: B006
    smtp: Smtp = None,
    mail_to: MailTo = [],  # noqa: B006
    mail_from: MailFrom = None,
    fmt: FormatOption = None,
    as_json: JsonAlias = False,
) -> None:
    """Crawl health per platform and spider: blocked / empty / error rates today against the 7 days before,
    with a trend; a sudden rise is alerted once (docs/ALERTS.md "Crawl health"). Exit 5 with no crawls logged.

    Example: trendcart health --json
    """
    from indexer.workflows.health import check_health, health_json, health_lines

    output = choose_format(fmt, as_json)
    config = alert_options(alert_jsonl, webhook, smtp, mail_to, mail_from)
    result = check_health(spec(), now=as_of(now), config=config)
    assert result.health is not None
    emit(output, health_json(result), lambda: lines(health_lines(result.health)))
    say_after_run(result)


health_command = handled(health)
