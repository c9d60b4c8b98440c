"""Reports a merchant reads at a glance: chart scales, legends and dates; bases explained; links, prices, names."""

from __future__ import annotations

import csv
import io

import pytest

from indexer.charts import LEGEND_WIDTH, chart_style, shorten, video_curves_figure
from indexer.reports import BASIS_NOTES, build_report, render_csv, render_html, render_markdown
from tests.test_trends import NOW, T0, T1, T2, doc, make_scenario_store

LONG = "Unboxing the Wireless noise-cancelling earbuds with the charging case and the travel pouch included"
URL = "https://shop.example/v/big"


@pytest.fixture
def store(tmp_path):
    """The trends scenario plus a video with millions of views (and a long title, a link, a priced product)
    beside videos with thousands, and a live room with millions."""
    s = make_scenario_store(tmp_path / "reading.db")
    product = {"id": "web:product:pods", "title": "降噪耳机 Pods", "price": 199.0, "price_max": 259.0}
    product["currency"] = "CNY"
    for at, views, live_views in (
        (T0, 1_200_000, 2_000_000),
        (T1, 2_000_000, 2_400_000),
        (T2, 2_900_000, 2_700_000),
    ):
        s.upsert(
            [
                doc(
                    "web:video:big",
                    at,
                    views,
                    title=LONG,
                    url=URL,
                    products=[product],
                    creator={"name": "Ann"},
                ),
                doc("douyin:live:huge", at, live_views, title="大促直播间", live={"status": "live"}),
            ]
        )
    yield s
    s.close()


def test_shorten_ends_with_an_ellipsis_and_never_cuts_mid_word():
    assert shorten("Short title", 20) == "Short title"
    assert shorten(LONG, 30) == "Unboxing the Wireless…"  # not "…noise-canc…"
    assert (
        shorten("无线降噪蓝牙耳机超长续航学生党必备", 12) == "无线降噪蓝…"
    )  # two columns a character, then …
    assert shorten("a\x1b[31mred\x07 text", 40) == "ared\\x07 text"  # no escape sequence reaches a chart


def test_the_video_chart_reads_at_a_glance(store):
    data = build_report(store, now=NOW)
    assert data.curves and all(":video:" in key for key in data.curves)  # lives have their own charts
    with chart_style() as plt:
        fig = video_curves_figure(plt, data)
        fig.canvas.draw()
        ax = fig.axes[0]
        assert ax.get_yscale() == "log" and "log scale" in ax.get_ylabel()  # millions beside thousands
        assert ax.yaxis.get_offset_text().get_text() == ""  # no 1e6 offset
        ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
        assert ticks and not any("e" in t.lower() for t in ticks), ticks  # 10k, 1M: no 1e6
        assert any(t.endswith("M") for t in ticks) and any(t.endswith("k") for t in ticks)
        dates = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        assert dates and all(("Nov" in d or "Dec" in d) and ":" in d for d in dates), dates  # dates as dates
        assert ax.get_xlabel() == "time (UTC)"
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        plt.close(fig)
    assert len(legend) == len(data.curves)  # every curve in the legend
    big = next(t for t in legend if "Unboxing" in t)
    assert big.endswith("…") and LONG.startswith(big[big.index(" ") + 1 : -1])
    assert LONG[len(big[big.index(" ") + 1 : -1])] == " "  # cut at a word boundary
    assert len(big) <= LEGEND_WIDTH + 4


def test_every_basis_in_the_report_is_explained_in_it(store):
    data = build_report(store, now=NOW)
    bases = {r.components["basis"] for report in data.sections.values() for r in report.results}
    assert {"mixed", "since_published", "snapshots"} <= bases  # the scenario's products and videos
    for text in (render_markdown(data), render_html(data)):
        assert "docs/TRENDS.md" not in text  # the reader has no docs
        for basis in bases:
            assert BASIS_NOTES[basis].split(":")[0] in text and f"“{basis}”" in text, basis
        assert "since_published" in text


def test_the_creators_table_counts_their_videos_not_creators(store):
    data = build_report(store, now=NOW)
    md = render_markdown(data)
    creators = md.split("## Trending creators")[1].split("\n## ")[0]
    header = next(line for line in creators.splitlines() if line.startswith("| #"))
    assert "Videos and lives" in header and "| Creators |" not in header
    lily = next(line for line in creators.splitlines() if "Lily" in line)
    assert "| 2 |" in lily  # Lily's two videos (a and c)
    html = render_html(data)
    section = html.split("<h2>Trending creators</h2>")[1].split("<h2>")[0]
    assert "<th>Videos and lives</th>" in section and "<th>Creators</th>" not in section


def test_markdown_and_csv_carry_links_prices_and_human_headers(store):
    data = build_report(store, now=NOW)
    md = render_markdown(data)
    assert "https://shop.example/v/big" in md  # the link, as text
    assert "199.00–259.00 CNY" in md and "59.90 CNY" in md  # prices with their currency
    assert "growth_pct_day" not in md and "| Growth % per day |" in md
    rows = list(csv.DictReader(io.StringIO(render_csv(data))))
    header = list(rows[0])
    assert not any("_" in name for name in header), header  # no snake_case headers
    video = next(r for r in rows if r["ID"] == "web:video:big")
    assert video["Link"] == URL and video["Creator"] == "Ann"
    pods = next(r for r in rows if r["ID"] == "web:product:pods")
    assert (pods["Price"], pods["Highest price"], pods["Currency"]) == ("199.0", "259.0", "CNY")
    assert float(pods["Views per hour"]) > 0  # numbers stay numbers for a spreadsheet


def test_the_html_report_declares_a_cjk_font_stack(store):
    html = render_html(build_report(store, now=NOW))
    style = html.split("<style>")[1].split("</style>")[0]
    assert 'font-family:"Noto Sans SC","Noto Sans CJK SC"' in style and "sans-serif" in style


def test_the_report_docs_show_the_screenshots_and_how_to_remake_them():
    import os
    import re
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    text = (root / "docs" / "REPORTS.md").read_text(encoding="utf-8")
    images = set(re.findall(r"\(img/([\w-]+\.png)\)", text))
    assert images == {"report-system-fonts.png", "report-shipped-font.png", "report-no-cjk-font.png"}
    for name in images:
        assert (root / "docs" / "img" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    script = root / "tools" / "screenshots.sh"
    assert os.access(script, os.X_OK) and "tools/screenshots.sh" in text
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0  # it parses
