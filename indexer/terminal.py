"""The one output layer of the terminal face: data on stdout (tables, lines, JSON, CSV), messages on stderr.

Every line and cell passes through indexer.safetext.safe_text (escape sequences removed, control characters
shown visibly) and is printed as a rich Text, so that scraped text is never read as Rich markup."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.text import Text

from indexer.safetext import safe_text
from indexer.workflows.views import (
    OutputFormat,
    TableView,
    column_width,
    csv_text,
    fit,
    json_text,
    left_out_note,
)

# Width of tables when stdout is not a terminal (rich would otherwise wrap at 80 columns): the hit table
# keeps its one-line rows whole, the others fold.
HIT_PIPE_WIDTH, PIPE_WIDTH = 200, 160

# markup=False: a string printed on these consoles is shown as it is, never parsed for `[...]` markup.
err = Console(stderr=True, markup=False, highlight=False)


def out_console(pipe_width: int = PIPE_WIDTH) -> Console:
    """A console on stdout: the terminal's width, or `pipe_width` when stdout is piped."""
    return Console(
        soft_wrap=False, markup=False, highlight=False, width=None if sys.stdout.isatty() else pipe_width
    )


def text(value: object, multiline: bool = False) -> Text:
    """Scraped or user text as a rich Text: made safe (safe_text), never markup."""
    return Text(safe_text(value, multiline=multiline))


def say(message: str) -> None:
    """A progress message on stderr, unwrapped (so commands in it can be copied)."""
    err.print(text(message, multiline=True), soft_wrap=True)


def error(message: str) -> None:
    """The one-line `error: ...` of a failed command, on stderr (the message is text, never markup)."""
    err.print(Text.assemble(("error:", "red"), " ", text(message)), soft_wrap=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json_text(data))


def print_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    sys.stdout.write(csv_text(rows, columns))


def lines(lines_of_text: Sequence[str], console: Console | None = None) -> None:
    """Plain lines (stdout by default), never wrapped: paths and commands in them stay copyable."""
    shown = Text("\n").join(text(line) for line in lines_of_text)
    (console or out_console()).print(shown, soft_wrap=True)


def show(view: TableView, console: Console | None = None, **options: Any) -> None:
    """Print a workflows TableView as a Rich table (stdout by default), fitted to the console's width
    (views.fit): every column but the title keeps its header and cells whole, optional columns are left out
    when they do not fit (said on stderr), and the view's notes follow on stderr."""
    from rich.table import Table

    console = console or out_console()
    view, left_out, flex_width = fit(view, console.width)
    table = Table(title=text(view.title) if view.title else None, title_justify="left", **options)
    for name in view.columns:
        justify = "right" if name in view.right else "left"
        if flex_width is not None:  # the others whole (never cut, wrapped or squeezed), the title the rest
            cut = name in view.no_wrap or name != view.flex
            width = flex_width if name == view.flex else column_width(view, name)
            table.add_column(name, justify=justify, no_wrap=cut, overflow="ellipsis", width=width)
            continue
        cut = name in view.no_wrap
        table.add_column(
            name, justify=justify, no_wrap=cut, overflow="ellipsis" if cut or view.no_wrap else "fold"
        )
    for row in view.rows:
        table.add_row(*(text(cell) for cell in row))
    console.print(table)
    for note in [*view.notes, *([left_out_note(left_out, console.width)] if left_out else [])]:
        say(note)


def show_hits(view: TableView) -> None:
    """The hit table: one line per hit, at the terminal's width or HIT_PIPE_WIDTH when piped."""
    show(view, out_console(HIT_PIPE_WIDTH), show_lines=False, pad_edge=False)


def emit(
    output: OutputFormat,
    data: Any,
    table: Callable[[], None] | None = None,
    rows: Sequence[dict[str, Any]] | None = None,
    columns: Sequence[str] = (),
) -> None:
    """A command's data in the chosen format: `data` as JSON, `rows` as CSV, else `table()` draws it."""
    if output is OutputFormat.json:
        print_json(data)
    elif output is OutputFormat.csv:
        print_csv(rows or [], columns)
    elif table is not None:
        table()
