"""Golden-file tests: a saved page + its original URL + a parser -> the expected JSON, checked field by field.

Use from a test module:

    CASES = [GoldenCase(FIXTURES / "page.html", url="https://example.com/v/1", parser="jsonld")]

    @pytest.mark.parametrize("case", CASES, ids=str)
    def test_golden(case):
        check_golden(case)

The expected output lives beside the page, in `expected/<page name>.json`. After a deliberate
change, regenerate with `TRENDCART_UPDATE_GOLDEN=1 pytest -q -k golden` or
`python -m tests.golden --update [pytest args]`, then review the diff of the expected files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from crawler.parsers import parse_page
from crawler.parsers.base import Page

UPDATE_ENV = "TRENDCART_UPDATE_GOLDEN"
# Every golden case observes its page at this moment, so `observed_at` and relative dates are stable.
FIXED_OBSERVED_AT = datetime(2026, 11, 25, 10, 0, 0, tzinfo=timezone.utc)
CONTENT_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".xml": "application/xml",
    ".json": "application/json",
    ".gz": "application/gzip",
    ".txt": "text/plain",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
}
MAX_DIFF_LINES = 60


@dataclass(frozen=True)
class GoldenCase:
    page: Path
    url: str
    parser: str | None  # None: the registry chooses, as `extract` does
    content_type: str | None = None
    observed_at: datetime = field(default=FIXED_OBSERVED_AT)
    expected: Path | None = None

    @property
    def expected_path(self) -> Path:
        return self.expected or self.page.parent / "expected" / f"{self.page.name}.json"

    def __str__(self) -> str:
        return self.page.name


def run_case(case: GoldenCase) -> dict[str, Any]:
    """The parser's whole answer for the page, as JSON: items, links, pages, errors, blocked."""
    content_type = case.content_type or CONTENT_TYPES.get(case.page.suffix.lower())
    page = Page(
        url=case.url, body=case.page.read_bytes(), content_type=content_type, observed_at=case.observed_at
    )
    result = parse_page(page, case.parser)
    return {
        "url": case.url,
        "parser": result.parser,
        "items": [item.to_json() for item in result.items],
        "links": result.links,
        "pages": result.pages,
        "errors": result.errors,
        "blocked": result.blocked,
    }


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """`{"items": [{"id": "a", "metrics": {"views": 1}}]}` -> `{"items[a].metrics.views": 1, ...}`.
    Items are keyed by their id (when ids are unique) so that a reordering reads as such."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        if not value:
            out[prefix] = {}
        for key, child in value.items():
            out.update(flatten(child, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list):
        if not value:
            out[prefix] = []
        ids = [c.get("id") for c in value if isinstance(c, dict)]
        keyed = len(ids) == len(value) and all(isinstance(i, str) for i in ids) and len(set(ids)) == len(ids)
        for index, child in enumerate(value):
            out.update(flatten(child, f"{prefix}[{ids[index] if keyed else index}]"))
    else:
        out[prefix] = value
    return out


def diff(expected: Any, actual: Any) -> list[str]:
    """One line per differing field: `path: expected X, got Y`."""
    want, got = flatten(expected), flatten(actual)
    lines = []
    for key in sorted(set(want) | set(got)):
        if key not in got:
            lines.append(f"- {key}: expected {want[key]!r}, missing")
        elif key not in want:
            lines.append(f"+ {key}: unexpected {got[key]!r}")
        elif want[key] != got[key] or type(want[key]) is not type(got[key]):
            lines.append(f"~ {key}: expected {want[key]!r}, got {got[key]!r}")
    return lines


def check_golden(case: GoldenCase) -> None:
    """Compare (or, with TRENDCART_UPDATE_GOLDEN=1, rewrite) the case's expected JSON."""
    actual = run_case(case)
    path = case.expected_path
    if os.environ.get(UPDATE_ENV) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(actual, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(
            f"no expected output {path}; create it with {UPDATE_ENV}=1 (python -m tests.golden --update) and review it"
        )
    expected = json.loads(path.read_text(encoding="utf-8"))
    lines = diff(expected, actual)
    if lines:
        shown = "\n".join(lines[:MAX_DIFF_LINES]) + (
            f"\n... {len(lines) - MAX_DIFF_LINES} more" if len(lines) > MAX_DIFF_LINES else ""
        )
        pytest.fail(
            f"{case.page.name} differs from {path.name} in {len(lines)} field(s):\n{shown}\n"
            f"(after a deliberate change: python -m tests.golden --update)",
            pytrace=False,
        )


def main(argv: list[str]) -> int:
    """`python -m tests.golden [--update] [pytest args]`: run the golden tests, regenerating with --update."""
    env = dict(os.environ)
    args = list(argv)
    if "--update" in args:
        args.remove("--update")
        env[UPDATE_ENV] = "1"
    return subprocess.call(
        [sys.executable, "-m", "pytest", "-q", "-k", "golden", *(args or ["tests"])], env=env
    )


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
