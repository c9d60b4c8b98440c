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
    assert parsed.tags.count("img") == len(parsed.images) == 3  # products, curves, platform mix
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
    products = [r for r in rows if r["by"] == "product"]
    assert products[0]["id"] == "web:product:p2" and float(products[0]["velocity"]) == 350.0
    assert {r["by"] for r in rows} == {"product", "video", "live", "hashtag", "creator"}
    assert any(r["title"] == EVIL for r in rows)  # CSV keeps the raw text; it is data, not markup


def test_write_report_by_extension(store, tmp_path):
    for name in ("r.html", "r.md", "r.csv"):
        write_report(store, tmp_path / "out" / name, now=NOW)
        assert (tmp_path / "out" / name).stat().st_size > 0
    assert format_for(tmp_path / "x.HTM") == "html"
    with pytest.raises(ValueError, match="format"):
        format_for(tmp_path / "x.pdf")
