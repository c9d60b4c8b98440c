"""The `index` and `search` commands through Typer's CliRunner (exit codes, JSON on stdout)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from search_cli import ExitCode, app
from tests.store_contract import make_doc

pytestmark = pytest.mark.model
REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "fixtures" / "relevance" / "corpus.jsonl"


# Settings that would change what the commands under test do; every test runs without them.
ENV = ("TRENDCART_STORE", "TRENDCART_MODEL", "TRENDCART_QUERY_PROMPT", "TRENDCART_DOCUMENT_PROMPT")


@pytest.fixture
def runner(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, embedder):
    """The corpus indexed once per module through the CLI; tests only read it (writers use `indexed_copy`)."""
    db = tmp_path_factory.mktemp("indexed") / "cli.db"
    with pytest.MonkeyPatch.context() as env:
        for name in ENV:
            env.delenv(name, raising=False)
        result = CliRunner().invoke(app, ["--store", str(db), "index", str(CORPUS), "--json"])
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture
def indexed_copy(indexed, tmp_path):
    """A private copy of the module's store (the database and the files beside it) for a test that writes."""
    for path in indexed.parent.glob(indexed.name + "*"):
        shutil.copy2(path, tmp_path / path.name)
    return tmp_path / indexed.name


def test_index_prints_a_json_summary(tmp_path, runner, embedder):
    db = tmp_path / "cli.db"
    result = runner.invoke(app, ["--store", str(db), "index", str(CORPUS), "--json"])
    assert result.exit_code == ExitCode.OK, result.output
    summary = json.loads(result.stdout)
    assert summary["total"]["added"] == 44 and summary["files"][0]["path"] == str(CORPUS)
    again = json.loads(runner.invoke(app, ["--store", str(db), "index", str(CORPUS), "--json"]).stdout)
    assert again["total"]["unchanged_text"] == 44 and again["total"]["embedded"] == 0


def test_index_reports_invalid_lines_and_exits_4(tmp_path, runner, embedder):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps(make_doc("a", title="口红")) + "\n{broken\n", encoding="utf-8")
    result = runner.invoke(app, ["--store", str(tmp_path / "x.db"), "index", str(feed)])
    assert result.exit_code == ExitCode.INPUT
    assert f"{feed}:2: invalid JSON" in result.stderr
    assert "1 added" in result.stderr
    as_json = runner.invoke(app, ["--store", str(tmp_path / "x.db"), "index", str(feed), "--json"])
    assert as_json.exit_code == ExitCode.INPUT
    assert json.loads(as_json.stdout)["files"][0]["errors"][0]["line"] == 2


def test_index_missing_file_is_an_input_error(tmp_path, runner):
    result = runner.invoke(app, ["--store", str(tmp_path / "x.db"), "index", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == ExitCode.INPUT
    assert "no such file" in result.stderr


def test_search_json_hits_have_id_score_fields_and_explain(indexed, runner):
    result = runner.invoke(app, ["--store", str(indexed), "search", "口红", "--json", "--limit", "3"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert len(hits) == 3
    top = hits[0]
    # Both lipstick videos match 口红; lip2 also says 唇膏, which the query's translation adds (口红 -> 唇膏).
    assert top["id"] in {"douyin:video:lip1", "douyin:live:lip2"}
    assert {"id", "score", "title", "platform", "kind", "metrics", "explain", "first_seen"} <= set(top)
    assert top["explain"]["mode"] == "hybrid" and top["explain"]["keyword_rank"] in (1, 2)


@pytest.mark.parametrize(
    ("args", "check"),
    [
        (["--mode", "keyword", "--platform", "youtube"], lambda h: h["platform"] == "youtube"),
        (["--kind", "live"], lambda h: h["kind"] == "live"),
        (["--min-views", "100000"], lambda h: h["metrics"]["views"] >= 100000),
        (["--has-products", "--mode", "semantic"], lambda h: len(h["products"]) > 0),
        (["--no-products"], lambda h: h["products"] == []),
        (
            ["--price-max", "30"],
            lambda h: any(p["price"] <= 30 for p in h["products"]) or (h.get("price") or 99) <= 30,
        ),
        (["--creator", "数码老张"], lambda h: h["creator"]["name"] == "数码老张"),
        (
            ["--since", "2026-11-19", "--until", "2026-11-21"],
            lambda h: h["published_at"].startswith("2026-11-20"),
        ),
    ],
)
def test_search_filters(indexed, runner, args, check):
    # No floor: the filters, not the similarity, decide which documents come back here.
    query = ["search", "recommend 推荐 review", "--json", "--min-similarity", "-1"]
    result = runner.invoke(app, ["--store", str(indexed), *query, *args])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert hits
    assert all(check(h) for h in hits)


def test_search_table_output(indexed, runner):
    result = runner.invoke(app, ["--store", str(indexed), "search", "earbuds", "--mode", "keyword"])
    assert result.exit_code == 0
    assert "tiktok:video:ear1" in result.stdout and "Wireless earbuds" in result.stdout


def test_search_formats(indexed, runner):
    base = ["--store", str(indexed), "search", "口红", "--limit", "3", "--mode", "keyword"]
    as_json = runner.invoke(app, [*base, "--format", "json"])
    assert as_json.exit_code == 0 and json.loads(as_json.stdout) == json.loads(
        runner.invoke(app, [*base, "--json"]).stdout
    )
    as_csv = runner.invoke(app, [*base, "--format", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["id"] for r in rows] == [h["id"] for h in json.loads(as_json.stdout)]
    assert rows[0]["id"] == "douyin:video:lip1" and rows[0]["rank"] == "1" and rows[0]["keyword_rank"] == "1"
    both = runner.invoke(app, [*base, "--json", "--format", "csv"])
    assert both.exit_code == ExitCode.USAGE and "disagree" in both.stderr


def test_search_with_nothing_found(indexed, runner):
    result = runner.invoke(app, ["--store", str(indexed), "search", "💄", "--mode", "keyword", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == []


@pytest.mark.parametrize("query", ['"', "AND OR NOT", "NEAR(", "*", '口红" OR 1=1 --', "", "🔥🔥"])
def test_search_never_fails_on_query_text(indexed, runner, query):
    result = runner.invoke(app, ["--store", str(indexed), "search", query, "--json", "--mode", "keyword"])
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.stdout), list)


def test_bad_options_are_usage_errors(indexed, runner):
    bad_mode = runner.invoke(app, ["--store", str(indexed), "search", "x", "--mode", "fuzzy"])
    assert bad_mode.exit_code == ExitCode.USAGE
    assert "keyword" in bad_mode.output and "semantic" in bad_mode.output
    assert (
        runner.invoke(app, ["--store", str(indexed), "search", "x", "--platform", "myspace"]).exit_code == 2
    )
    bad_time = runner.invoke(app, ["--store", str(indexed), "search", "x", "--since", "whenever"])
    assert bad_time.exit_code == ExitCode.USAGE and "--since" in bad_time.stderr


def test_store_problems_exit_3_with_one_message(tmp_path, indexed_copy, runner):
    indexed = indexed_copy  # `index` with another model must be refused: it gets a store of its own
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 50)
    result = runner.invoke(app, ["--store", str(junk), "search", "x"])
    assert result.exit_code == ExitCode.STORE
    assert "cannot open SQLite store" in result.stderr
    mismatch = runner.invoke(
        app,
        [
            "--store",
            str(indexed),
            "--model",
            "intfloat/multilingual-e5-small",
            "search",
            "x",
            "--mode",
            "semantic",
        ],
    )
    assert mismatch.exit_code == ExitCode.STORE
    assert "reindex" in mismatch.stderr
    refused = runner.invoke(
        app, ["--store", str(indexed), "--model", "intfloat/multilingual-e5-small", "index", str(CORPUS)]
    )
    assert refused.exit_code == ExitCode.STORE


def test_keyword_search_never_imports_the_model_stack(indexed):
    code = (
        "import sys, search_cli\n"
        "sys.argv = ['trendcart', '--store', sys.argv[1], 'search', '口红', '--mode', 'keyword', '--json']\n"
        "try:\n    search_cli.main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('sentence_transformers', 'torch', 'transformers') if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(indexed)], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert "HEAVY []" in done.stderr, done.stderr
    assert json.loads(done.stdout)[0]["id"] == "douyin:video:lip1"


def test_commands_have_help(runner):
    for command in ("index", "search"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output
