"""Every CLI command has help text and is shown in README.md; the reference docs exist and name every command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from search_cli import app

REPO = Path(__file__).resolve().parents[1]
COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def test_the_app_has_the_documented_commands():
    expected = {"extract", "index", "search", "trending", "crawl", "report", "schedule", "stats", "demo"}
    assert expected <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help_text(name):
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    assert (command.help or "").strip(), f"`{name}` has no help text (write its docstring)"
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output
    for param in command.params:
        if param.param_type_name == "option" and param.name != "help":
            assert (getattr(param, "help", None) or "").strip(), f"`{name} {param.opts[0]}` has no help text"


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_in_the_readme(name):
    readme = REPO / "README.md"
    assert readme.is_file(), "README.md is missing"
    text = readme.read_text(encoding="utf-8")
    pattern = rf"(trendcart|search_cli\.py)(\s+--?[\w-]+(\s+[^\s-][^\s]*)?)*\s+{re.escape(name)}\b"
    assert re.search(pattern, text), (
        f"README.md never shows `trendcart {name}` (or `python search_cli.py {name}`)"
    )


@pytest.mark.parametrize(
    "doc,names",
    [
        ("docs/CLI.md", ["crawl", "trending", "report", "schedule", "stats", "demo"]),
        ("docs/TRENDS.md", ["velocity", "growth", "acceleration", "since_published", "breadth"]),
        ("docs/SCHEDULE.md", ["cron", "systemd", "--once", "lock"]),
    ],
)
def test_reference_docs(doc, names):
    text = (REPO / doc).read_text(encoding="utf-8")
    for name in names:
        assert name in text, f"{doc} does not mention {name}"


def test_exit_codes_are_documented():
    from search_cli import ExitCode

    text = (REPO / "docs" / "CLI.md").read_text(encoding="utf-8")
    for code in ExitCode:
        assert re.search(rf"\|\s*{code.value}\s*\|", text), f"exit code {code.value} missing from docs/CLI.md"


def _readme_bash_lines() -> list[tuple[int, str]]:
    """The lines of README.md's ```bash blocks, with their line numbers."""
    shown, in_bash = [], False
    for number, line in enumerate((REPO / "README.md").read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("```"):
            in_bash = line.strip() == "```bash"
        elif in_bash and shown and shown[-1][1].endswith("\\"):  # a continued line joins the one above
            shown[-1] = (shown[-1][0], shown[-1][1][:-1] + line)
        elif in_bash:
            shown.append((number, line))
    return shown


def _readme_commands() -> list[tuple[int, list[str]]]:
    """Every `trendcart ...` command in README.md's bash blocks: (line number, argv after `trendcart`)."""
    import shlex

    commands = []
    for number, line in _readme_bash_lines():
        words = shlex.split(line.split(" > ")[0].split(" | ")[0], comments=True)
        starts = [
            i for i, w in enumerate(words) if w == ".venv/bin/trendcart" or (i == 0 and w == "trendcart")
        ]
        commands += [(number, words[i + 1 :]) for i in starts]
    return commands


def _parse_like_the_shell(argv: list[str]) -> None:
    """Parse `argv` with the app's own Click tree (options, choices, callbacks) without running anything."""
    command = typer.main.get_command(app)
    ctx = command.make_context("trendcart", list(argv))
    while hasattr(command, "commands"):  # a group: its subcommand parses the rest
        rest = [*getattr(ctx, "_protected_args", []), *ctx.args]  # click 9 keeps them all in args
        name, command, rest = command.resolve_command(ctx, rest)
        ctx = command.make_context(name, rest, parent=ctx)


def test_every_readme_command_parses_as_written():
    commands = _readme_commands()
    assert len(commands) >= 20, "README's usage block was not found"
    for number, argv in commands:
        try:
            _parse_like_the_shell(argv)
        except Exception as exc:  # click's UsageError and BadParameter, with the line to fix
            raise AssertionError(f"README.md:{number}: `trendcart {' '.join(argv)}`: {exc}") from exc


def test_readme_puts_trendcart_on_path_before_using_it():
    """A fresh clone has no `trendcart` on PATH: the first bare `trendcart` line comes after the venv is
    activated (the install lines say `.venv/bin/trendcart`)."""
    lines = _readme_bash_lines()
    bare = [n for n, line in lines if re.match(r"\s*trendcart\s", line)]
    activate = [n for n, line in lines if line.startswith("source .venv/bin/activate")]
    assert bare and activate and activate[0] < bare[0], "activate .venv before the first `trendcart` line"
