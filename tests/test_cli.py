"""The tool commands through Typer's CliRunner: trending, report, stats, crawl, schedule (exit codes, JSON)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from search_cli import ExitCode, app
from tests.store_contract import make_doc
from tests.test_trends import make_scenario_store

NOW = "2026-11-25T12:00:00Z"


@pytest.fixture
def runner(monkeypatch):
    for name in ("TRENDCART_STORE", "TRENDCART_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "scenario.db"
    make_scenario_store(path).close()
    return str(path)


def invoke(runner, *args):
    return runner.invoke(app, [str(a) for a in args])


# -- trending -------------------------------------------------------------------------------------
def test_trending_json(runner, db):
    result = invoke(runner, "--store", db, "trending", "--by", "product", "--now", NOW, "--json")
    assert result.exit_code == ExitCode.OK, result.output
    data = json.loads(result.stdout)
    assert [r["id"] for r in data["results"]] == ["web:product:p2", "web:product:p1"]
    components = data["results"][1]["components"]
    assert components["velocity"] == 225.0 and components["creators"] == 2 and "factors" in components


def test_trending_table_and_csv(runner, db):
    table = invoke(runner, "--store", db, "trending", "--by", "video", "--now", NOW)
    assert table.exit_code == 0 and "tiktok:video:a" in table.stdout and "since_published (!)" in table.stdout
    result = invoke(
        runner, "--store", db, "trending", "--by", "hashtag", "--now", NOW, "--csv", "--limit", "1"
    )
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert result.exit_code == 0 and len(rows) == 1 and rows[0]["id"] == "口红"


def test_trending_filters(runner, db):
    result = invoke(
        runner,
        "--store",
        db,
        "trending",
        "--by",
        "video",
        "--platform",
        "youtube",
        "--metric",
        "views",
        "--window",
        "1d",
        "--now",
        NOW,
        "--json",
    )
    assert [r["id"] for r in json.loads(result.stdout)["results"]] == ["youtube:video:b"]


def test_trending_nothing_found_is_exit_5(runner, db):
    result = invoke(runner, "--store", db, "trending", "--now", "2030-01-01T00:00:00Z", "--json")
    assert result.exit_code == ExitCode.NOTHING
    assert json.loads(result.stdout)["results"] == [] and "nothing trending" in result.stderr


def test_a_demo_store_stays_explorable_days_later(runner, db, monkeypatch):
    """The demo records its clock in its store; two days later (a doubled clock) `trending` still ranks as of
    that clock and says so once on stderr; an explicit --now, or newer observations, bring the real clock."""
    from datetime import timedelta

    from crawler.times import parse_iso
    from indexer import sqlite_store
    from indexer.cli import common
    from indexer.workflows.clock import record_demo_clock

    two_days_later = parse_iso(NOW) + timedelta(days=2)
    monkeypatch.setattr(common, "utc_now", lambda: two_days_later)
    stale = invoke(runner, "--store", db, "trending", "--by", "video", "--json")
    assert stale.exit_code == ExitCode.NOTHING  # what a user met before the demo recorded its clock
    with sqlite_store.SqliteStore(db) as store:
        record_demo_clock(store, NOW)
    result = invoke(runner, "--store", db, "trending", "--by", "video", "--window", "24h", "--json")
    assert result.exit_code == ExitCode.OK, result.output
    assert json.loads(result.stdout)["now"] == NOW and result.stderr.count("demo's clock") == 1
    explicit = invoke(runner, "--store", db, "trending", "--by", "video", "--now", NOW, "--json")
    assert explicit.exit_code == ExitCode.OK and "demo's clock" not in explicit.stderr
    with sqlite_store.SqliteStore(
        db
    ) as store:  # a real crawl added later: the demo's clock no longer applies
        store.upsert([make_doc("late", observed_at="2026-11-27T00:00:00Z", views=5)])
    later = invoke(runner, "--store", db, "trending", "--by", "video", "--json")
    assert "demo's clock" not in later.stderr and json.loads(later.stdout)["now"] != NOW


@pytest.mark.parametrize(
    "args",
    [
        ["--by", "shop"],
        ["--window", "soon"],
        ["--metric", "hearts"],
        ["--now", "noon"],
        ["--json", "--csv"],
        ["--limit", "0"],
    ],
)
def test_trending_usage_errors(runner, db, args):
    result = invoke(runner, "--store", db, "trending", *args)
    assert result.exit_code == ExitCode.USAGE, result.output


def test_missing_store_is_exit_3_in_one_line(runner, tmp_path):
    result = invoke(runner, "--store", tmp_path / "none.db", "trending")
    assert result.exit_code == ExitCode.STORE
    assert "no store at" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "none.db").exists()  # reading never creates a store


# -- report ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["r.html", "r.md", "r.csv"])
def test_report_formats(runner, db, tmp_path, name):
    out = tmp_path / "out" / name
    result = invoke(
        runner, "--store", db, "report", "--out", out, "--now", NOW, "--title", "Daily", "--window", "24h"
    )
    assert result.exit_code == ExitCode.OK, result.output
    assert out.stat().st_size > 0 and f"wrote {out}" in result.stderr.replace("\n", "")


def test_report_json_and_errors(runner, db, tmp_path):
    result = invoke(runner, "--store", db, "report", "--out", tmp_path / "r.md", "--now", NOW, "--json")
    assert json.loads(result.stdout)["sections"]["product"]["results"][0]["id"] == "web:product:p2"
    assert invoke(runner, "--store", db, "report", "--out", tmp_path / "r.pdf").exit_code == ExitCode.USAGE
    empty = tmp_path / "empty.db"
    from indexer.sqlite_store import SqliteStore

    SqliteStore(empty).close()
    assert (
        invoke(runner, "--store", empty, "report", "--out", tmp_path / "r.html").exit_code == ExitCode.NOTHING
    )


# -- stats ----------------------------------------------------------------------------------------
def test_stats(runner, db):
    result = invoke(runner, "--store", db, "stats", "--json")
    assert result.exit_code == ExitCode.OK, result.output
    data = json.loads(result.stdout)
    assert (
        data["documents"] == 7 and data["by_platform_kind"]["web"]["product"] == 2 and data["snapshots"] > 0
    )
    assert data["last_crawl"] is None
    table = invoke(runner, "--store", db, "stats")
    assert table.exit_code == 0 and "snapshots" in table.stdout and "tiktok" in table.stdout
    assert data["crawls"] is None and "none logged" in table.stdout
    header = next(line for line in table.stdout.splitlines() if "platform" in line)  # no column of zeros:
    assert (
        "creator" not in header and "video" in header and data["by_kind"].get("creator", 0) == 0
    )  # kinds held


# -- crawl ----------------------------------------------------------------------------------------
VIDEO_PAGE = """<html><head><script type="application/ld+json">
{"@context": "https://schema.org", "@type": "VideoObject", "name": "CLI crawl test 口红",
 "url": "https://cli.example/v/1", "uploadDate": "2026-11-20T08:00:00Z",
 "interactionStatistic": {"@type": "InteractionCounter", "interactionType": "https://schema.org/WatchAction",
                          "userInteractionCount": 1234}}
</script></head><body></body></html>"""


def test_crawl_exports_and_summarises(runner, http_server, tmp_path):
    url = http_server.add("/cli/video-1.html", VIDEO_PAGE)
    missing = http_server.url("/status/404")
    urls_file = tmp_path / "urls.txt"
    urls_file.write_text(missing + "\n", encoding="utf-8")
    out = tmp_path / "items.jsonl"
    result = invoke(
        runner,
        "--store",
        tmp_path / "crawl.db",
        "crawl",
        "jsonld",
        "--urls",
        url,
        "--urls-file",
        urls_file,
        "--out",
        out,
        "--no-index",
        "--set",
        "AUTOTHROTTLE_ENABLED=False",
        "--set",
        "DOWNLOAD_DELAY=0",
        "--set",
        "RETRY_TIMES=0",
        "--json",
    )
    assert result.exit_code == ExitCode.OK, result.output
    summary = json.loads(result.stdout)
    assert summary["items"] == {"video": 1} and summary["errors"] == {"request_failed/http_404": 1}
    assert summary["blocked"] == {} and summary["items_total"] == 1
    assert json.loads(out.read_text(encoding="utf-8").splitlines()[0])["title"] == "CLI crawl test 口红"
    stats = (
        json.loads(invoke(runner, "--store", tmp_path / "crawl.db", "stats", "--json").stdout)
        if (tmp_path / "crawl.db").exists()
        else None
    )
    assert stats is None or stats["last_crawl"]["spider"] == "jsonld"


def test_crawl_errors(runner, tmp_path, http_server):
    unknown = invoke(
        runner, "--store", tmp_path / "c.db", "crawl", "nosuchspider", "--urls", "http://x.example/"
    )
    assert unknown.exit_code == ExitCode.USAGE and "no spider named" in unknown.stderr
    missing = invoke(
        runner, "--store", tmp_path / "c.db", "crawl", "jsonld", "--urls-file", tmp_path / "none.txt"
    )
    assert missing.exit_code == ExitCode.INPUT
    bad_arg = invoke(runner, "crawl", "jsonld", "--arg", "novalue")
    assert bad_arg.exit_code == ExitCode.USAGE
    nothing = invoke(
        runner,
        "--store",
        tmp_path / "c.db",
        "crawl",
        "jsonld",
        "--urls",
        http_server.url("/status/404"),
        "--no-index",
        "--out",
        tmp_path / "x.jsonl",
        "--set",
        "RETRY_TIMES=0",
    )
    assert nothing.exit_code == ExitCode.NOTHING, nothing.output


# -- schedule -------------------------------------------------------------------------------------
def test_schedule_once_and_lock(runner, http_server, tmp_path):
    from indexer.schedule import ScheduleLock

    url = http_server.add("/cli/sched-1.html", VIDEO_PAGE.replace("cli.example/v/1", "cli.example/v/2"))
    config = tmp_path / "schedule.toml"
    config.write_text(
        f"""
lock_file = "schedule.lock"
[[jobs]]
name = "local"
spider = "jsonld"
cron = "0 6 * * *"
args = {{ urls = "{url}" }}
settings = {{ AUTOTHROTTLE_ENABLED = "False", DOWNLOAD_DELAY = "0" }}
[jobs.report]
out_dir = "reports"
formats = ["md", "csv"]
""",
        encoding="utf-8",
    )
    db = tmp_path / "sched.db"
    with ScheduleLock(tmp_path / "schedule.lock"):
        locked = invoke(runner, "--store", db, "schedule", "--config", config, "--once")
    assert locked.exit_code == ExitCode.ERROR and "another scheduler is running" in locked.stderr
    result = invoke(runner, "--store", db, "schedule", "--config", config, "--once", "--json")
    assert result.exit_code == ExitCode.OK, result.output
    runs = json.loads(result.stdout)
    assert runs[0]["job"] == "local" and runs[0]["error"] is None and len(runs[0]["reports"]) == 2
    assert sorted(p.suffix for p in (tmp_path / "reports" / "local").iterdir()) == [".csv", ".md"]


def test_schedule_bad_config(runner, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[[jobs]]\nname = "x"\nspider = "jsonld"\ncron = "whenever"\n', encoding="utf-8")
    result = invoke(runner, "schedule", "--config", config, "--once")
    assert result.exit_code == ExitCode.INPUT and "bad cron expression" in result.stderr
    assert invoke(runner, "schedule", "--config", tmp_path / "none.toml").exit_code == ExitCode.INPUT


# -- the shared --format option -------------------------------------------------------------------
FORMAT_COMMANDS = ("index", "search", "trending", "report", "stats", "crawl", "schedule", "demo")


def test_every_data_command_has_the_one_format_option():
    import typer.main

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for name in FORMAT_COMMANDS:
        options = {opt for param in commands[name].params for opt in param.opts}
        assert {"--format", "--json"} <= options, name
    assert "--csv" in {opt for param in commands["trending"].params for opt in param.opts}


def test_format_and_its_aliases_print_the_same(runner, db):
    base = ("--store", db, "trending", "--by", "video", "--now", NOW)
    as_json = invoke(runner, *base, "--format", "json")
    assert as_json.exit_code == 0 and json.loads(as_json.stdout) == json.loads(
        invoke(runner, *base, "--json").stdout
    )
    as_csv = invoke(runner, *base, "--format", "csv")
    assert as_csv.exit_code == 0 and as_csv.stdout == invoke(runner, *base, "--csv").stdout
    assert list(csv.DictReader(io.StringIO(as_csv.stdout)))[0]["id"]
    table = invoke(runner, *base, "--format", "table")
    assert table.exit_code == 0 and table.stdout == invoke(runner, *base).stdout
    assert "tiktok:video:a" in table.stdout


def test_stats_as_csv_is_the_platform_kind_matrix(runner, db):
    result = invoke(runner, "--store", db, "stats", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = {row["platform"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    assert rows["web"]["product"] == "2" and rows["total"]["total"] == "7"
    assert list(rows["web"]) == ["platform", "video", "live", "product", "creator", "total"]


def test_report_format_json_is_its_json_echo(runner, db, tmp_path):
    result = invoke(
        runner, "--store", db, "report", "--out", tmp_path / "r.md", "--now", NOW, "--format", "json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sections"]["product"]["results"][0]["id"] == "web:product:p2"
    quiet = invoke(runner, "--store", db, "report", "--out", tmp_path / "q.md", "--now", NOW)
    assert quiet.exit_code == 0 and quiet.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["trending", "--format", "json", "--csv"],
        ["trending", "--format", "xml"],
        ["stats", "--json", "--format", "table"],
        ["report", "--out", "{tmp}/r.md", "--format", "csv"],
        ["crawl", "jsonld", "--urls", "http://127.0.0.1:9/", "--format", "csv"],
        ["schedule", "--config", "{tmp}/none.toml", "--format", "csv"],
        ["demo", "--out-dir", "{tmp}/demo", "--format", "csv"],
        ["index", "{tmp}/none.jsonl", "--format", "csv"],
    ],
)
def test_a_format_that_makes_no_sense_is_a_usage_error(runner, db, tmp_path, args):
    result = invoke(runner, "--store", db, *(a.format(tmp=tmp_path) for a in args))
    assert result.exit_code == ExitCode.USAGE, result.output
    assert list(tmp_path.iterdir()) == [tmp_path / "scenario.db"]  # refused before doing anything


def test_suggested_commands_are_typed_as_the_program_was_started(monkeypatch, tmp_path):
    """`.venv/bin/trendcart demo` on a fresh clone (no trendcart on PATH) suggests `.venv/bin/trendcart ...`."""
    from indexer.cli import common

    script = tmp_path / "bin" / "trendcart"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setattr("sys.argv", [str(script), "demo"])
    monkeypatch.setenv("PATH", "/nonexistent")
    assert common.program() == str(script)
    monkeypatch.setenv("PATH", str(script.parent))
    assert common.program() == "trendcart"
    monkeypatch.setattr("sys.argv", ["search_cli.py", "demo"])
    assert common.program() == "trendcart"
