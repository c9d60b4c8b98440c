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
