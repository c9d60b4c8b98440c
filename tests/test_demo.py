"""The offline demo end to end (real spiders in subprocesses, real model, SQLite), and its sample site."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from html.parser import HTMLParser

import pytest
from typer.testing import CliRunner

from crawler.demo_site import DemoSite
from indexer.cli import common as cli_common
from search_cli import ExitCode, app

BASE = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)


def test_site_is_deterministic_and_grows():
    one, two = DemoSite(base=BASE), DemoSite(base=BASE)
    assert one.pages(3) == two.pages(3)
    assert DemoSite(base=BASE, seed=1).pages(3) != one.pages(3)
    for video in one.videos:
        views = [video.views(day) for day in range(one.days)]
        known = [v for v in views if v is not None]
        assert known == sorted(known)  # counts only grow
    # later days show videos published during the replay: "new videos" are real
    assert len(one.start_paths(0)["jsonld"]) < len(one.start_paths(3)["jsonld"])
    assert one.pages(0)["/robots.txt"][1].startswith(b"User-agent: *\nAllow: /")


def test_site_pages_parse_with_the_real_parsers():
    from crawler.parsers import get_parser, parse_page
    from crawler.parsers.base import Page

    site = DemoSite(base=BASE, small=True)
    pages = site.pages(site.days - 1)
    expected = {
        "jsonld": "/video/",
        "sitemap": "/sitemap-video.xml",
        "feed": "/feeds/videos.xml",
        "tiktok": "/tiktok/",
        "bilibili": "/bilibili/",
    }
    for parser, prefix in expected.items():
        path = next(p for p in pages if p.startswith(prefix))
        ctype, body = pages[path]
        result = parse_page(
            Page(url="http://127.0.0.1:1" + path, body=body, content_type=ctype), get_parser(parser)
        )
        assert result.items and not result.errors and not result.blocked, (parser, result.errors)
        assert all(item.metrics.views for item in result.items if item.kind in ("video", "live")), parser


@pytest.mark.model
def test_demo_end_to_end(tmp_path, monkeypatch, embedder):
    monkeypatch.delenv("TRENDCART_STORE", raising=False)
    monkeypatch.setattr(cli_common, "get_embedder", lambda: embedder)  # one model load per test session
    result = CliRunner().invoke(app, ["demo", "--days", "3", "--small", "--out-dir", str(tmp_path), "--json"])
    assert result.exit_code == ExitCode.OK, result.output
    summary = json.loads(result.stdout)
    assert summary["crawl"]["errors"] == 0 and summary["crawl"]["blocked"] == 0
    assert len(summary["crawl"]["days"]) == 3
    assert all(
        n > 0 for day in summary["crawl"]["days"] for n in day["by_spider"].values()
    )  # every spider found items
    products = summary["trending"]["results"]
    assert len(products) >= 3 and products[0]["components"]["velocity"] > 0
    assert {"snapshots"} <= {p["components"]["basis"] for p in products}
    assert summary["snapshots"] > summary["documents"] > 20
    assert all(summary["searches"][q] for q in ("口红", "wireless earbuds"))
    top = summary["searches"]["口红"][0]["title"]
    assert "口红" in top or "lipstick" in top.lower()  # a lipstick video in either language (its translation)
    assert len(summary["product"]["platforms"]) >= 2 and summary["product"]["fact"]["total"] > 0  # issue 13
    report = tmp_path / "demo-report.html"
    parser = HTMLParser()
    parser.feed(report.read_text(encoding="utf-8"))  # parses
    assert (tmp_path / "demo.db").exists() and "try next" in result.stderr
    stats = json.loads(
        CliRunner().invoke(app, ["--store", str(tmp_path / "demo.db"), "stats", "--json"]).stdout
    )
    assert stats["last_crawl"]["finished_at"] == summary["crawl"]["base"]
    crawls = stats["crawls"]  # the crawl log in one: every crawl of every replayed day, not only the last
    assert crawls["count"] == sum(len(day["by_spider"]) for day in summary["crawl"]["days"]) >= 3 * 5
    assert (
        crawls["last"] == summary["crawl"]["base"]
        and crawls["first"] == summary["crawl"]["days"][0]["observed_at"]
    )
    assert crawls["items"] == summary["crawl"]["items"]

    # Two days later (a doubled clock) the demo's suggested command still ranks, as of the demo's clock.
    from datetime import timedelta

    from crawler.times import parse_iso

    later = parse_iso(summary["crawl"]["base"]) + timedelta(days=2)
    monkeypatch.setattr(cli_common, "utc_now", lambda: later)
    store = str(tmp_path / "demo.db")
    trending = CliRunner().invoke(app, ["--store", store, "trending", "--by", "video", "--window", "24h"])
    assert trending.exit_code == ExitCode.OK, trending.output
    assert trending.stderr.count("the demo's clock") == 1 and summary["crawl"]["base"] in trending.stderr
    assert "try next" in result.stderr and "--now" not in result.stderr.split("try next")[1].split("\n")[4]
    # ... and so does every command the demo suggests, as it prints it (report's relative path: in tmp_path)
    import shlex

    monkeypatch.chdir(tmp_path)
    suggested = [
        shlex.split(line)[1:]
        for line in result.stderr.split("try next")[1].splitlines()
        if line.strip().startswith("trendcart ")
    ]
    assert len(suggested) == 5
    for argv in suggested:
        ran = CliRunner().invoke(app, argv)
        assert ran.exit_code == ExitCode.OK, (argv, ran.output)
