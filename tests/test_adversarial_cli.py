"""The CLI attacked as a hostile or clumsy user would: every refusal is one line with its documented exit code,
no traceback, and no change to the store (documents, snapshots, vectors and the files beside it compared)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from indexer.ingest import ingest_jsonl
from indexer.sqlite_store import SqliteStore
from search_cli import ExitCode, app

REPO = Path(__file__).resolve().parents[1]
# Settings that would change what the commands do; every test runs without them.
ENV = ("TRENDCART_STORE", "TRENDCART_MODEL", "TRENDCART_QUERY_PROMPT", "TRENDCART_DOCUMENT_PROMPT")
NOW = "2026-11-25T12:00:00Z"
# Scraped titles that once broke the terminal: Rich markup, ANSI colours, an OSC 8 hyperlink, a terminal
# title, a bell, a reset, a bidi override.
HOSTILE_TITLES = (
    "[/] 口红 lipstick [link=https://evil.example]click[/link]",
    "\x1b[31mred\x1b[0m 口红 lipstick \x1b]8;;https://evil.example\x07osc link\x1b]8;;\x07",
    "\x1b]0;pwned\x07title 口红 lipstick \x07bell \x1bc reset \u202egnp.exe",
    "[bold red]markup[/bold red] 口红 lipstick [/]",
)


def item(native: str, title: str, at: str, views: int, **extra) -> dict:
    return {
        "id": f"web:video:{native}",
        "kind": "video",
        "platform": "web",
        "url": f"https://shop.example/v/{native}",
        "title": title,
        "published_at": "2026-11-24T08:00:00Z",
        "observed_at": at,
        "metrics": {"views": views, "likes": views // 10},
        "creator": {"id": "web:creator:ann", "name": "[red]Ann[/red] \x1b[1m"},
        "products": [{"id": "web:product:p1", "title": "[/]口红 \x1b[5m", "price": 59.9, "sales": views}],
        **extra,
    }


def write_jsonl(path: Path, lines: list) -> Path:
    path.write_text(
        "".join(
            (line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n" for line in lines
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A keyword-only store (no model: no command here loads one) with hostile titles, observed twice."""
    folder = tmp_path_factory.mktemp("adversarial")
    lines = []
    for i, title in enumerate(HOSTILE_TITLES):
        lines.append(item(f"h{i}", title, "2026-11-24T12:00:00Z", 100 * (i + 1)))
        lines.append(item(f"h{i}", title, "2026-11-25T11:00:00Z", 5000 * (i + 1)))
    lines += [item(f"plain{i}", f"耳机 earbuds {i}", "2026-11-25T11:00:00Z", 10 + i) for i in range(20)]
    store = SqliteStore(folder / "store.db")
    report = ingest_jsonl(write_jsonl(folder / "seed.jsonl", lines), store, None)
    store.close()
    assert report.added == 4 + 20 and not report.errors
    return folder / "store.db"


@pytest.fixture
def db(built, tmp_path) -> Path:
    """A private copy of the store for one test."""
    for path in built.parent.glob(built.name + "*"):
        shutil.copy2(path, tmp_path / path.name)
    return tmp_path / built.name


@pytest.fixture
def runner(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(REPO)
    return CliRunner()


def fingerprint(db: Path, immutable: bool = False) -> tuple:
    """What a command must not change: every document, snapshot, vector and meta row, and the file names.
    `immutable`: read a checkpointed file on a read-only filesystem (SQLite then needs no -shm file)."""
    conn = sqlite3.connect(f"file:{db}?immutable=1", uri=True) if immutable else sqlite3.connect(db)
    try:
        tables = tuple(
            conn.execute(sql).fetchall()
            for sql in (
                "SELECT id, doc, first_seen, last_seen FROM documents ORDER BY id",
                "SELECT * FROM snapshots ORDER BY entity_id, metric, observed_at",
                "SELECT doc_pk, text_hash, vector FROM vectors ORDER BY doc_pk",
                "SELECT key, value FROM meta ORDER BY key",
            )
        )
    finally:
        conn.close()
    files = sorted(p.name for p in db.parent.iterdir() if not p.name.endswith(("-wal", "-shm")))
    return tables, files


def invoke(runner: CliRunner, args: list[str]):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def assert_one_line_error(result, code: ExitCode) -> str:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def assert_usage_error(result) -> str:
    """Exit 2 with one error line: Typer's own form for a bad option (usage, a hint, one `Error:` line) or
    the CLI's `error: ...` for options that contradict each other."""
    assert result.exit_code == ExitCode.USAGE, (result.exit_code, result.stdout, result.stderr)
    errors = [line for line in result.stderr.splitlines() if "Error:" in line or line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert "unexpected" not in result.stderr
    return errors[0]


# -- hostile queries: always an answer, never a change -------------------------------------------------
HOSTILE_QUERIES = [
    "",
    "   ",
    "\t\n",
    "口红" * 50_000,  # 100k characters
    "🔥💄✨",
    '"口红 OR NEAR( lipstick* ^ -',
    "AND OR NOT",
    '"unbalanced',
    "lipstick NEAR/2 red",
    "'; DROP TABLE documents; --",
    "%' OR 1=1 --",
    "title:lipstick",
    "\x00\x1b[31m",
    "[/]",
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES, ids=lambda q: repr(q[:20]))
@pytest.mark.parametrize("output", ["table", "json", "csv"])
def test_hostile_queries_answer_and_change_nothing(runner, db, query, output):
    before = fingerprint(db)
    result = invoke(runner, ["--store", db, "search", query, "--mode", "keyword", "--format", output])
    assert result.exit_code == ExitCode.OK, result.stderr
    if output == "json":
        assert isinstance(json.loads(result.stdout), list)
    assert "\x1b" not in result.stdout + result.stderr
    assert fingerprint(db) == before


def test_an_invalid_utf8_query_from_the_shell(built):
    """Bytes that are not UTF-8 in argv (Python hands them over as surrogate escapes): searched as text."""
    before = fingerprint(built)
    for query in (b"\xff\xfe\xfd", b"\xe5\x8f lipstick \xc3"):
        proc = subprocess.run(
            [
                sys.executable,
                "search_cli.py",
                "--store",
                str(built),
                "search",
                query,
                "--mode",
                "keyword",
                "--json",
            ],
            cwd=REPO,
            capture_output=True,
            env={k: v for k, v in os.environ.items() if k not in ENV},
        )
        assert proc.returncode == 0, proc.stderr
        assert isinstance(json.loads(proc.stdout), list) and b"Traceback" not in proc.stderr
    assert fingerprint(built) == before


# -- scraped text on the terminal ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["search", "口红 lipstick", "--mode", "keyword", "--limit", "20"],
        ["trending", "--by", "video", "--now", NOW],
        ["trending", "--by", "product", "--now", NOW],
        ["trending", "--by", "creator", "--now", NOW],
        ["stats"],
    ],
)
def test_markup_and_escape_sequences_in_titles_are_shown_as_text(runner, db, args):
    before = fingerprint(db)
    result = invoke(runner, ["--store", db, *args])
    assert result.exit_code == ExitCode.OK, result.stderr
    shown = result.stdout + result.stderr
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    if args[0] == "search" or args[-3:-2] == ["video"]:
        assert "[/]" in shown and "[bold red]markup[/bold red]" in shown  # the markup, literally
        assert "osc link" in shown and "\\u202e" in shown  # escape sequences gone, controls visible
    assert fingerprint(db) == before


def test_search_json_keeps_hostile_text_exact(runner, db):
    result = invoke(
        runner, ["--store", db, "search", "口红 lipstick", "--mode", "keyword", "--json", "-n", "20"]
    )
    hits = json.loads(result.stdout)
    assert {h["title"] for h in hits} >= set(HOSTILE_TITLES)  # exact, escaped by JSON
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout


def test_markup_in_an_error_message_is_printed_not_parsed(runner, tmp_path):
    result = invoke(runner, ["--store", tmp_path / "[/]" / "x[link=y].db", "trending"])
    line = assert_one_line_error(result, ExitCode.STORE)
    assert "[/]" in line and "x[link=y].db" in line


# -- hostile filters: usage errors (exit 2) --------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["search", "x", "--min-views", "9223372036854775808"],
        ["search", "x", "--min-views", "-1"],
        ["search", "x", "--min-likes", "1e3"],
        ["search", "x", "--min-likes", "99999999999999999999999999"],
        ["search", "x", "--price-min", "nan"],
        ["search", "x", "--price-max", "inf"],
        ["search", "x", "--price-min", "1e400"],
        ["search", "x", "--since", "999999999999h"],
        ["search", "x", "--since", "今天 25:00"],
        ["search", "x", "--since", "11-20 99:99"],
        ["search", "x", "--until", "0001-01-01T00:00:00+01:00"],
        ["search", "x", "--until", "not a time"],
        ["search", "x", "--limit", "0"],
        ["search", "x", "--limit", "100000"],
        ["search", "x", "--platform", "mars"],
        ["search", "x", "--kind", "post"],
        ["search", "x", "--mode", "fuzzy"],
        ["search", "x", "--format", "xml"],
        ["search", "x", "--json", "--format", "csv"],
        ["trending", "--window", "999999999999h"],
        ["trending", "--window", "0h"],
        ["trending", "--window", "-5h"],
        ["trending", "--window", ""],
        ["trending", "--now", "9999-12-31T23:59:59-01:00"],
        ["trending", "--now", "yesterday-ish"],
        ["trending", "--by", "planet"],
        ["trending", "--metric", "DROP TABLE"],
        ["report", "--out", "r.pdf"],
        ["report", "--out", "r.html", "--window", "99999999999w"],
        ["index", "--batch-size", "0", "x.jsonl"],
    ],
)
def test_hostile_filters_are_usage_errors(runner, db, tmp_path, args):
    before = fingerprint(db)
    args = [str(tmp_path / a) if a.startswith("r.") else a for a in args]
    assert_usage_error(invoke(runner, ["--store", db, *args]))
    assert fingerprint(db) == before
    assert not any(p.name.startswith("r.") for p in tmp_path.iterdir())


# -- store specs ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["search", "x", "--mode", "keyword"],
        ["search", "x"],
        ["trending"],
        ["stats"],
        ["report", "--out", "REPORT.md"],
    ],
)
@pytest.mark.parametrize("spec", ["typo/x.db", "typo", "postgres://db/x", "sqlite://", "empty.db"])
def test_reading_a_store_that_is_not_there_creates_nothing(runner, tmp_path, args, spec):
    (tmp_path / "empty.db").touch()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    args = [str(tmp_path / a) if a == "REPORT.md" else a for a in args]
    store = spec if "://" in spec else str(tmp_path / spec)
    line = assert_one_line_error(invoke(runner, ["--store", store, *args]), ExitCode.STORE)
    assert "store" in line
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no folder, no database, no report
    assert (tmp_path / "empty.db").stat().st_size == 0


@pytest.mark.parametrize("content", [b"", b"not a database at all\n" * 100, bytes(range(256)) * 64])
def test_a_file_that_is_no_database(runner, tmp_path, content):
    path = tmp_path / "junk.db"
    path.write_bytes(content)
    for args in (["search", "x", "--mode", "keyword"], ["trending"], ["stats"]):
        assert_one_line_error(invoke(runner, ["--store", path, *args]), ExitCode.STORE)
    jsonl = write_jsonl(tmp_path / "a.jsonl", [item("a", "t", NOW, 1)])
    if content:  # an empty file is no store for readers; `index` may create one in it
        assert_one_line_error(invoke(runner, ["--store", path, "index", jsonl]), ExitCode.STORE)
        assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["junk.db", "a.jsonl"] + ([] if content else [])
    )


def test_a_directory_or_a_device_as_the_store(runner, tmp_path):
    (tmp_path / "folder").mkdir()
    assert_one_line_error(invoke(runner, ["--store", tmp_path / "folder", "stats"]), ExitCode.STORE)
    assert list((tmp_path / "folder").iterdir()) == []
    assert_one_line_error(invoke(runner, ["--store", "/dev/null", "stats"]), ExitCode.STORE)


def damage_vectors(db: Path) -> None:
    """Give the store the default model's vectors, then overwrite the headers of half their pages."""
    from indexer.embedder import DEFAULT_MODEL_NAME, Embedder

    dim = Embedder(DEFAULT_MODEL_NAME).dim
    store = SqliteStore(db)
    store.set_model(DEFAULT_MODEL_NAME, dim)
    docs = [item(f"v{i}", f"口红 {i}", NOW, i) for i in range(300)]
    store.upsert(docs, [np.ones(dim, dtype="float32")] * len(docs))
    store.close()
    from tests.test_store_sqlite import corrupt_vectors

    corrupt_vectors(db)


@pytest.mark.model
def test_a_damaged_store_is_one_line_from_the_real_entry_point(tmp_path):
    """Hybrid search loads the vectors in a thread while the model loads: its error is one line (exit 3),
    never a thread's traceback."""
    db = tmp_path / "damaged.db"
    damage_vectors(db)
    data = db.read_bytes()
    proc = subprocess.run(
        [sys.executable, "search_cli.py", "--store", str(db), "search", "口红"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k not in ENV},
    )
    assert proc.returncode == ExitCode.STORE, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "malformed" in lines[0], proc.stderr
    assert db.read_bytes() == data


def small_filesystem(folder: Path, size: str, read_only: bool = False) -> bool:
    """Mount a tmpfs of `size` on `folder` (root only); False when that is not possible here."""
    folder.mkdir()
    if os.geteuid() != 0:
        return False
    return (
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)]).returncode == 0
    )


def unmount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_read_only_filesystem(runner, built, tmp_path):
    """Reading works from a read-only filesystem (mode=ro falls back); writing is one line, exit 3."""
    mount = tmp_path / "ro"
    if not small_filesystem(mount, "8m"):
        pytest.skip("needs root to mount a tmpfs")
    try:
        for path in built.parent.glob(built.name + "*"):
            shutil.copy2(path, mount / path.name)
        db = mount / built.name
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        before = fingerprint(db, immutable=True)
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        jsonl = write_jsonl(tmp_path / "a.jsonl", [item("new", "t", NOW, 1)])
        for args in (["search", "耳机", "--mode", "keyword"], ["stats"], ["index", jsonl]):
            result = invoke(runner, ["--store", db, *args])
            assert result.exit_code in (ExitCode.OK, ExitCode.STORE), result.stderr
            if result.exit_code:
                assert_one_line_error(result, ExitCode.STORE)
        assert_one_line_error(invoke(runner, ["--store", mount / "new.db", "index", jsonl]), ExitCode.STORE)
        result = invoke(runner, ["--store", db, "report", "--out", mount / "r.md", "--now", NOW])
        assert result.exit_code in (ExitCode.STORE, ExitCode.INPUT)  # the store or the report, one line
        assert_one_line_error(result, ExitCode(result.exit_code))
        assert not (mount / "r.md").exists()
        assert fingerprint(db, immutable=True) == before
    finally:
        unmount(mount)


def test_a_full_disk_during_index_is_one_line_and_the_store_stays_whole(runner, tmp_path):
    mount = tmp_path / "small"
    if not small_filesystem(mount, "1m"):
        pytest.skip("needs root to mount a tmpfs")
    try:
        db = mount / "full.db"
        lines = [item(f"big{i}", f"耳机 {i}", NOW, i, description="x" * 20_000) for i in range(200)]
        result = invoke(
            runner, ["--store", db, "index", write_jsonl(tmp_path / "big.jsonl", lines), "--batch-size", "10"]
        )
        line = assert_one_line_error(result, ExitCode.STORE)
        assert "database or disk is full" in line and "rollback" not in line
        conn = sqlite3.connect(db)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        conn.close()
        assert 0 < stored < 200  # what fitted is kept, whole: the integrity check passed
    finally:
        unmount(mount)


# -- files -----------------------------------------------------------------------------------------------
def test_index_files_that_are_not_jsonl(runner, db, tmp_path):
    before = fingerprint(db)
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(bytes(range(256)) * 100 + b"\n\xff\xfe\x00{")
    huge = tmp_path / "huge.jsonl"
    huge.write_text(json.dumps(item("huge", "x" * 2_000_000, NOW, 1)) + "\n", encoding="utf-8")
    types = write_jsonl(
        tmp_path / "types.jsonl",
        [
            [1, 2],
            "null",
            '"a string"',
            "1e999",
            item("t1", {"nested": "title"}, NOW, 1),
            item("t2", "t", NOW, 2**63),
            item("t3", "t", NOW, 1, featured_in=[{"id": 1}]),
            {**item("t4", "t", NOW, 1), "published_at": "9999-12-31T23:59:59-01:00"},
            {**item("t5", "t", NOW, 1), "price": "NaN"},
            '{"id": "web:video:t6", "kind": "video", "platform": "web", "title": "t", "price": NaN}',
            '{"id": "web:video:t7", "kind": "video", "platform": "web", "title": "t", "duration_s": Infinity}',
            "{" * 100_000,  # deep nesting
        ],
    )
    for path, invalid in ((binary, None), (huge, 1), (types, 12)):
        result = invoke(runner, ["--store", db, "index", path, "--json"])
        assert result.exit_code == ExitCode.INPUT, result.stderr
        report = json.loads(result.stdout)["files"][0]
        assert report["added"] == 0 and report["errors"]
        assert all(
            e["line"] >= 1 and "\n" not in e["reason"] and len(e["reason"]) < 400 for e in report["errors"]
        )
        if invalid is not None:
            assert report["skipped_invalid"] == invalid
    assert fingerprint(db)[0][:2] == before[0][:2]  # no document, no snapshot


def test_index_an_empty_file_adds_nothing(runner, db, tmp_path):
    before = fingerprint(db)
    (tmp_path / "empty.jsonl").touch()
    result = invoke(runner, ["--store", db, "index", tmp_path / "empty.jsonl", "--json"])
    assert result.exit_code == ExitCode.OK and json.loads(result.stdout)["total"]["added"] == 0
    assert fingerprint(db)[0][:2] == before[0][:2]


@pytest.mark.parametrize("name", ["missing.jsonl", ".", "/proc/self/mem"])
def test_index_a_file_that_cannot_be_read_is_exit_4(runner, db, tmp_path, name):
    if name.startswith("/proc") and not Path("/proc/self/mem").exists():
        pytest.skip("no /proc")
    before = fingerprint(db)
    path = name if name.startswith("/") else tmp_path / name
    assert_one_line_error(invoke(runner, ["--store", db, "index", path]), ExitCode.INPUT)
    assert fingerprint(db) == before


@pytest.mark.parametrize(
    "content",
    [
        b"not a url\n",
        b"https://ok.example/a\njavascript:alert(1)\n",
        b"http://[::1\n",
        b"https://\n",
        b"\xff\xfe\x00binary",
    ],
)
def test_crawl_a_bad_url_file_is_exit_4_before_anything_runs(runner, db, tmp_path, content):
    (tmp_path / "in").mkdir()
    before = fingerprint(db)
    urls = tmp_path / "in" / "urls.txt"
    urls.write_bytes(content)
    out = tmp_path / "in" / "out.jsonl"
    result = invoke(runner, ["--store", db, "crawl", "jsonld", "--urls-file", urls, "--out", out])
    assert_one_line_error(result, ExitCode.INPUT)
    assert fingerprint(db) == before and not out.exists()


def test_crawl_a_url_file_that_is_a_folder_or_unreadable(runner, db, tmp_path):
    for path in (tmp_path, Path("/proc/self/mem")):
        if path.exists():
            assert_one_line_error(
                invoke(runner, ["--store", db, "crawl", "jsonld", "--urls-file", path]), ExitCode.INPUT
            )
