"""Reports: HTML parsed and checked for escaping and embedded charts, Markdown, CSV, determinism."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from html.parser import HTMLParser

import pytest

from indexer.reports import build_report, format_for, render_csv, render_html, render_markdown, write_report
from tests.test_trends import NOW, T2, doc, make_scenario_store

EVIL = '<script>alert("x")</script> 口红 & <b>bold</b>'


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.images: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture
def store(tmp_path):
    s = make_scenario_store(tmp_path / "report.db")
    # a hostile title on a trending video and on a linked product
    for at, views in (("2026-11-24T12:00:00Z", 10), (T2, 5000)):
        s.upsert(
            [
                doc(
                    "web:video:evil",
                    at,
                    views,
                    title=EVIL,
                    creator={"name": "<img src=x onerror=alert(1)>"},
                    products=[{"id": "web:product:evil", "title": EVIL}],
                    hashtags=["<script>"],
                    url="javascript:alert(1)",
                )
            ]
        )
    yield s
    s.close()


def test_html_escapes_scraped_text_and_embeds_charts(store):
    html = render_html(build_report(store, now=NOW, title="Daily <report>"))
    parsed = Collector()
    parsed.feed(html)
    assert "script" not in parsed.tags  # no scraped <script> became an element
    assert parsed.tags.count("img") == len(parsed.images) == 4  # products, FACT split, curves, platforms
    assert all(src.startswith("data:image/png;base64,") for src in parsed.images)
    text = "".join(parsed.text)
    assert EVIL in text and "Daily <report>" in text  # shown as text, exactly
    assert "&lt;script&gt;" in html and "javascript:alert" not in html  # no link to a non-http URL
    assert "since_published" in text  # the flag is visible


def test_html_is_deterministic(store):
    first = render_html(build_report(store, now=NOW))
    second = render_html(build_report(store, now=NOW))
    assert first == second
    later = render_html(build_report(store, now=datetime(2026, 11, 25, 13, tzinfo=timezone.utc)))
    assert later != first


def test_markdown_escapes_and_has_sections(store):
    md = render_markdown(build_report(store, now=NOW))
    assert "<script>" not in md and "&lt;script&gt;" in md
    for heading in ("## Trending products", "## Trending videos", "## Trending hashtags", "## Platform mix"):
        assert heading in md
    assert "web:product:p2" in md


def test_csv_rows(store):
    rows = list(csv.DictReader(io.StringIO(render_csv(build_report(store, now=NOW)))))
    products = [r for r in rows if r["Ranking"] == "product"]
    assert products[0]["ID"] == "web:product:p2" and float(products[0]["Views per hour"]) == 350.0
    assert {r["Ranking"] for r in rows} == {"product", "video", "live", "hashtag", "creator"}
    assert any(r["Title"] == EVIL for r in rows)  # CSV keeps the raw text; it is data, not markup


def test_write_report_by_extension(store, tmp_path):
    for name in ("r.html", "r.md", "r.csv"):
        write_report(store, tmp_path / "out" / name, now=NOW)
        assert (tmp_path / "out" / name).stat().st_size > 0
    assert format_for(tmp_path / "x.HTM") == "html"
    with pytest.raises(ValueError, match="format"):
        format_for(tmp_path / "x.pdf")


# -- hostile scraped text in reports (issue 10, item 4) ---------------------------------------------------
FORMULAS = ('=HYPERLINK("http://evil","x")', "+1+2", "-2+3", "@SUM(A1)", "\tindent", "\rret")
MD_EVIL = "[click](javascript:alert(1)) ![pixel](https://evil.example/p.png) <img src=x onerror=alert(1)>"


@pytest.fixture
def hostile_store(tmp_path):
    s = make_scenario_store(tmp_path / "hostile.db")
    titles = [
        *FORMULAS,
        MD_EVIL,
        "line1\r\nline2\rline3",
        "\x1b]8;;http://evil\x07osc\x1b]8;;\x07 \x1b[31mred",
    ]
    for i, title in enumerate(titles):
        for at, views in (("2026-11-24T12:00:00Z", 10), (T2, 5000 + i)):
            s.upsert([doc(f"web:video:h{i}", at, views, title=title, url="javascript:alert(1)")])
    yield s
    s.close()


def test_csv_neutralises_formulas_and_quotes_line_breaks(hostile_store):
    text = render_csv(build_report(hostile_store, now=NOW, limit=20))
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    titles = {r["Title"] for r in rows if r["Ranking"] == "video"}
    for formula in FORMULAS:
        shown = "'" + formula.replace("\r", "\n")
        assert shown in titles, shown  # a leading apostrophe: spreadsheets show it as text
    assert not any(t.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for t in r.values())
    assert "line1\nline2\nline3" in titles  # line breaks inside a cell are quoted, never a new row
    assert all(len(r) == len(rows[0]) for r in rows) and len(text.splitlines()) > len(rows)
    assert "\x1b" not in text and "osc" in "".join(titles)  # escape sequences removed, their text kept
    velocities = [r["Acceleration %"] for r in rows if r["Acceleration %"].startswith("-")]
    assert all(v.lstrip("-").replace(".", "").isdigit() for v in velocities)  # numbers stay numbers


def test_markdown_renders_no_link_image_or_html_from_scraped_text(hostile_store):
    from markdown_it import MarkdownIt

    md = render_markdown(build_report(hostile_store, now=NOW, limit=20, title=MD_EVIL))
    assert "\x1b" not in md
    rendered = MarkdownIt("commonmark").enable("table").render(md)
    parsed = Collector()
    parsed.feed(rendered)
    assert "a" not in parsed.tags and "img" not in parsed.tags and "script" not in parsed.tags
    assert "javascript:" not in "".join(f"{t}" for t in parsed.tags)
    assert MD_EVIL in "".join(parsed.text)  # shown as the text it is, heading and cells


def test_html_stays_xss_safe_with_hostile_titles_and_urls(hostile_store):
    html = render_html(build_report(hostile_store, now=NOW, limit=20, title=MD_EVIL))
    parsed = Collector()
    parsed.feed(html)
    assert "script" not in parsed.tags and parsed.tags.count("img") == len(parsed.images)
    assert all(src.startswith("data:image/png;base64,") for src in parsed.images)
    assert "javascript:" not in html.replace("javascript:alert(1)) ![pixel]", "")  # only as escaped text
    assert 'href="javascript' not in html and "\x1b" not in html


def write_report_under_file_size_limit(db, out, limit_bytes):
    """Write a report in a child process whose files may not grow past `limit_bytes` (RLIMIT_FSIZE): the
    kernel's "File too large" is the same OSError path as a full disk."""
    import subprocess
    import sys

    code = (
        "import resource, signal, sys\n"
        "from datetime import datetime, timezone\n"
        "from indexer.reports import write_report\n"
        "from indexer.sqlite_store import SqliteStore\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        f"store = SqliteStore({str(db)!r})\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit_bytes}, resource.RLIM_INFINITY))\n"
        "try:\n"
        f"    write_report(store, {str(out)!r}, now=datetime(2026, 11, 25, 12, tzinfo=timezone.utc))\n"
        "except OSError as exc:\n"
        "    print(exc.strerror); sys.exit(7)\n"
    )
    from pathlib import Path

    return subprocess.run(
        [sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True
    )


@pytest.mark.parametrize("name", ["r.html", "r.md", "r.csv"])
def test_a_failed_write_keeps_the_previous_report_whole(store, tmp_path, name):
    out = tmp_path / "reports" / name
    write_report(store, out, now=NOW)
    good = out.read_bytes()
    store.close()
    result = write_report_under_file_size_limit(tmp_path / "report.db", out, 64)
    assert result.returncode == 7, result.stderr
    assert "too large" in result.stdout.lower()
    assert out.read_bytes() == good  # the previous report, not a partial file
    assert sorted(p.name for p in out.parent.iterdir()) == [name]  # no temporary file left behind


def test_a_full_disk_keeps_the_previous_report(store, tmp_path):
    """A real full filesystem: a 1 MiB tmpfs (needs root; skipped elsewhere)."""
    import os
    import subprocess

    mount = tmp_path / "small"
    mount.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)]).returncode
    ):
        pytest.skip("needs root to mount a small tmpfs")
    try:
        out = mount / "r.html"
        write_report(store, out, now=NOW)
        good = out.read_bytes()
        (mount / "filler").write_bytes(b"\0" * (1024 * 1024 - len(good) - 8192))  # leave less than a report
        with pytest.raises(OSError, match="No space left"):
            write_report(store, out, now=NOW)
        assert out.read_bytes() == good
        assert sorted(p.name for p in mount.iterdir()) == ["filler", "r.html"]
    finally:
        subprocess.run(["umount", str(mount)], check=False)


# -- canonical products: the same rows as `trending --by product` ---------------------------------
def _canonical_report_checks(store):
    from indexer.trends import TrendEngine
    from tests.test_trends_canonical import CANONICAL, CP, MEMBERS
    from tests.test_trends_canonical import NOW as CNOW

    data = build_report(store, now=CNOW, window="12h", canonical=CANONICAL)
    ranking = TrendEngine(store, now=CNOW, canonical=CANONICAL).trending("product", "12h", limit=10)
    got = [(r.key, r.title, r.score) for r in data.sections["product"].results]
    assert got == [(r.key, r.title, r.score) for r in ranking.results]
    assert (
        data.canonical
        and got[0][0] == CP["id"]
        and {k for k, _, _ in got} == {CP["id"], "tiktok:product:lamp"}
    )
    # the FACT split of the whole product: the video linking both listings counts once
    row = data.sections["product"].results[0]
    assert row.extra["fact"]["total"] == 2_000 + 1_200
    listings = ", ".join(MEMBERS)
    md = render_markdown(data)
    assert "| Listings |" in md and listings in md and "canonical product" in md
    html = render_html(data)
    assert f"listings: {listings}" in html and "canonical product" in html
    parsed = Collector()
    parsed.feed(html)
    assert (
        len(parsed.images) >= 2
    )  # the products bar and the FACT bar (one stacked bar per canonical product)
    csv_rows = {
        r["ID"]: r for r in csv.DictReader(io.StringIO(render_csv(data))) if r["Ranking"] == "product"
    }
    assert csv_rows[CP["id"]]["Listings"] == listings and csv_rows["tiktok:product:lamp"]["Listings"] == ""
    # without a product file: one row per listing, and the report says so
    plain = build_report(store, now=CNOW, window="12h")
    assert not plain.canonical
    assert {r.key for r in plain.sections["product"].results} == {*MEMBERS, "tiktok:product:lamp"}
    assert "one source listing" in render_markdown(plain) and "| Listings |" not in render_markdown(plain)


def test_report_ranks_canonical_products_on_sqlite(tmp_path):
    from indexer.sqlite_store import SqliteStore
    from tests.test_trends_canonical import fill

    store = fill(SqliteStore(tmp_path / "c.db"))
    try:
        _canonical_report_checks(store)
    finally:
        store.close()


@pytest.mark.elasticsearch
def test_report_ranks_canonical_products_on_elasticsearch(es_url, tmp_path):
    import uuid

    from indexer.elastic import ElasticConfig, ElasticStore
    from tests.test_trends_canonical import fill

    config = ElasticConfig.from_env(
        es_url, environ={}, index_prefix=f"tcr-{uuid.uuid4().hex[:12]}", outbox_dir=tmp_path / "outbox"
    )
    store = fill(ElasticStore(config))
    try:
        _canonical_report_checks(store)
    finally:
        try:
            store.destroy()
        finally:
            store.close()


@pytest.mark.model
def test_report_command_reads_the_product_file(monkeypatch, embedder, tmp_path):
    """`trendcart report` after `product list`: product rows are the canonical products `trending --by
    product` ranks, in its order, each naming its listings; per listing before the product file exists."""
    import json

    from typer.testing import CliRunner

    from indexer.cli import common as cli_common
    from indexer.sqlite_store import SqliteStore
    from search_cli import app
    from tests.test_products import fill_products

    for name in ("TRENDCART_STORE", "TRENDCART_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cli_common, "get_embedder", lambda: embedder)
    runner = CliRunner()
    path = tmp_path / "products.db"
    fill_products(SqliteStore(path))
    when = ("--window", "2d", "--now", "2026-11-25T06:00:00Z", "--metric", "sales")

    def cli(*args):
        result = runner.invoke(app, ["--store", str(path), *map(str, args)])
        assert result.exit_code == 0, result.output
        return result

    cli("report", "--out", tmp_path / "before.csv", *when)
    before = [
        r
        for r in csv.DictReader((tmp_path / "before.csv").open(encoding="utf-8"))
        if r["Ranking"] == "product"
    ]
    assert before and all(not r["ID"].startswith("cp-") and r["Listings"] == "" for r in before)
    blender = json.loads(cli("product", "list", "--json").stdout)[0]
    trending = json.loads(cli("trending", "--by", "product", "--json", *when).stdout)
    cli("report", "--out", tmp_path / "after.csv", *when)
    after = [
        r
        for r in csv.DictReader((tmp_path / "after.csv").open(encoding="utf-8"))
        if r["Ranking"] == "product"
    ]
    assert [r["ID"] for r in after] == [r["id"] for r in trending["results"]]
    row = next(r for r in after if r["ID"] == blender["id"])
    assert row["Listings"] == ", ".join(blender["members"])


def test_scheduled_reports_rank_canonical_products(tmp_path):
    """A scheduled job's report reads the product file's grouping (Scheduler `canonical`, as run_schedule
    passes it): the canonical product's row with its listings; without it, one row per listing."""
    from indexer.schedule import Scheduler, load_config
    from indexer.sqlite_store import SqliteStore
    from tests.test_trends_canonical import CANONICAL, CP, MEMBERS, fill
    from tests.test_trends_canonical import NOW as CNOW

    path = tmp_path / "schedule.toml"
    path.write_text(
        '[report]\nout_dir = "reports"\nformats = ["csv"]\nwindow = "12h"\n'
        '[[jobs]]\nname = "daily"\nspider = "jsonld"\ncron = "0 12 * * *"\n',
        encoding="utf-8",
    )
    config = load_config(path)
    store = fill(SqliteStore(tmp_path / "c.db"))
    try:
        found = {}
        for grouped in (True, False):
            scheduler = Scheduler(
                config,
                lambda job: {"items": 0},  # the store is already filled: nothing to crawl
                store,
                now=lambda: CNOW,
                canonical=(lambda: CANONICAL) if grouped else None,
            )
            run = scheduler.run_job(config.jobs[0])
            assert run.error is None and len(run.reports) == 1
            with open(run.reports[0], encoding="utf-8") as handle:
                found[grouped] = {
                    r["ID"]: r["Listings"] for r in csv.DictReader(handle) if r["Ranking"] == "product"
                }
    finally:
        store.close()
    assert found[True] == {CP["id"]: ", ".join(MEMBERS), "tiktok:product:lamp": ""}
    assert set(found[False]) == {*MEMBERS, "tiktok:product:lamp"}
