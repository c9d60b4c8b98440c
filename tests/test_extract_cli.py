"""`extract`: one saved page in, the matching parser's items out as JSON (the "why didn't it parse?" tool)."""

import json
from pathlib import Path

from typer.testing import CliRunner

from search_cli import app

FIXTURES = Path(__file__).parent / "fixtures"
TIKTOK_PAGE = FIXTURES / "platforms" / "tiktok" / "video-7571863205253778710.html"
runner = CliRunner()


def run(*args: str):
    result = runner.invoke(app, list(args))
    return result, (json.loads(result.stdout) if result.exit_code == 0 and result.stdout.strip() else None)


def test_extract_chooses_parser_by_original_url():
    result, data = run(
        "extract", str(TIKTOK_PAGE), "--url", "https://www.tiktok.com/@illojuan/video/7571863205253778710"
    )
    assert result.exit_code == 0, result.output
    assert data["parser"] == "tiktok"
    assert [item["id"] for item in data["items"]] == ["tiktok:video:7571863205253778710"]
    assert data["items"][0]["metrics"]["views"] > 0


def test_extract_recognises_content_without_url():
    result, data = run("extract", str(TIKTOK_PAGE))
    assert result.exit_code == 0, result.output
    assert data["parser"] == "tiktok"
    assert data["items"][0]["id"] == "tiktok:video:7571863205253778710"


def test_extract_reports_block_pages_without_items():
    result, data = run(
        "extract",
        str(FIXTURES / "platforms" / "douyin" / "captcha.html"),
        "--url",
        "https://www.douyin.com/video/7535852404919586100",
    )
    assert result.exit_code == 0, result.output
    assert data["blocked"]
    assert data["items"] == []


def test_extract_forced_parser_and_listing():
    result = runner.invoke(app, ["extract", "--list", "x"])
    assert result.exit_code == 0
    names = result.stdout.split()
    assert {"jsonld", "sitemap", "feed", "tiktok", "douyin", "youtube", "bilibili", "kuaishou"} <= set(names)
    result, data = run("extract", str(FIXTURES / "standards" / "rss2.xml"), "--parser", "feed")
    assert result.exit_code == 0, result.output
    assert data["parser"] == "feed" and data["items"]


def test_extract_list_needs_no_source():
    result = runner.invoke(app, ["extract", "--list"])
    assert result.exit_code == 0, result.output
    assert "jsonld" in result.stdout.split()
    result = runner.invoke(app, ["extract"])  # no source and no --list: a usage error naming what is missing
    assert result.exit_code == 2 and "SOURCE" in result.output


def test_extract_errors_are_one_line_with_exit_codes():
    result = runner.invoke(app, ["extract", "/no/such/page.html"])
    assert result.exit_code == 4
    assert "no such file" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["extract", str(TIKTOK_PAGE), "--parser", "nope"])
    assert result.exit_code == 2
    assert "no parser named 'nope'" in result.output


def test_extract_fetches_a_url_once_and_obeys_robots(http_server):
    page_url = http_server.add_file("/extract/tiktok-video.html", TIKTOK_PAGE)
    result, data = run(
        "extract", page_url, "--url", "https://www.tiktok.com/@illojuan/video/7571863205253778710"
    )
    assert result.exit_code == 0, result.output
    assert data["items"][0]["id"] == "tiktok:video:7571863205253778710"
    assert http_server.hits["/extract/tiktok-video.html"] == 1

    private = http_server.add_file("/private/tiktok-video.html", TIKTOK_PAGE)
    result = runner.invoke(app, ["extract", private])
    assert result.exit_code == 4
    assert "robots.txt" in result.output
    assert "/private/tiktok-video.html" not in http_server.hits
