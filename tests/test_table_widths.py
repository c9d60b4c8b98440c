"""Every terminal table at 80, 120 and 160 columns: each shown column keeps its header, every number is whole,
the title gets the room, and what is left out to fit is said (indexer.terminal.show with a recording Console)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from rich.console import Console

from indexer import terminal
from indexer.trends import TrendReport, TrendResult
from indexer.workflows import views

WIDTHS = (80, 120, 160)
NOW = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
LONG_TITLE = (
    "超长标题 平价口红推荐 学生党必备 秋冬显白色号 Super long English title about wireless earbuds " * 2
)
LONG_ID = "web:video:shop.demo.example/videos/2026/11/very-long-product-video-slug-000123"


def hit_rows(n: int = 10) -> list[dict]:
    return [
        {
            "rank": i,
            "score": 0.0328 - i * 0.002,
            "kind": ("product", "video", "live")[i % 3],
            "platform": ("bilibili", "douyin", "youtube")[i % 3],
            "title": LONG_TITLE,
            "views": 12_345_678 * i,
            "creator": "美妆博主小红红红红红红红红红红红红 official store",
            "keyword_rank": i,
            "vector_rank": i + 10,
            "id": f"{LONG_ID}{i}",
            "url": None,
        }
        for i in range(1, n + 1)
    ]


def trend_report(by: str) -> TrendReport:
    results = []
    for i in range(1, 8):
        components = {
            "velocity": 123_456.78 * i,
            "growth": 1.2345 * i,
            "acceleration": -0.4567 * i,
            "basis": ("snapshots", "since_published", "mixed")[i % 3] if by != "live" else "gauge",
            "items": 12,
            "new_items": 1_234,
            "creators": 12_345,
        }
        if by == "live":
            components.update(
                peak_viewers=2_712_345,
                avg_viewers=1_234_567.8,
                viewer_minutes=98_765_432.1,
                minutes_live=1_234.5,
            )
        results.append(
            TrendResult(
                i, f"{LONG_ID}{i}", by, LONG_TITLE, 12.3456 * i, components, ["bilibili", "douyin", "tiktok"]
            )
        )
    return TrendReport(by, "views", "24h", NOW, NOW, results, considered=40)


def products() -> list[dict]:
    return [
        {
            "id": f"web:product:shop.demo.example/p/{i}",
            "platforms": ["douyin", "tiktok", "web"],
            "members": [{}] * (i * 3),
            "confidence": 0.987,
            "title": LONG_TITLE,
        }
        for i in range(1, 6)
    ]


def stats_info() -> dict:
    platforms = {"douyin": 12_345, "tiktok": 2_345, "web": 1_234_567}
    return {
        "backend": "sqlite",
        "location": "/home/someone/trendcart-data/a-rather-long-store-name.db",
        "documents": sum(platforms.values()),
        "by_platform": platforms,
        "by_kind": {"video": 1_000_000, "live": 200_000, "product": 49_257},
        "by_platform_kind": {
            p: {"video": n, "live": 0, "product": 0, "creator": 0} for p, n in platforms.items()
        },
    }


TABLES = {
    "search": lambda: views.hits_table(hit_rows()),
    **{
        f"trending --by {by}": (lambda by=by: views.trend_table(trend_report(by)))
        for by in ("product", "video", "live", "creator", "hashtag")
    },
    "product list": lambda: views.products_table(products()),
    "stats": lambda: views.matrix_table(stats_info()),
}
# Cells that are numbers (a relevance "97 strong" counts as one): they must appear whole in the rendered table.
NUMBER = re.compile(r"^[+-]?[\d,]+(\.\d+)?%?( \w+)?$")


def render(view: views.TableView, width: int) -> tuple[str, str]:
    console = Console(width=width, record=True, markup=False, highlight=False, soft_wrap=False)
    errors = Console(width=width, record=True, markup=False, highlight=False, soft_wrap=False)
    original = terminal.err
    terminal.err = errors
    try:
        hits = {"show_lines": False, "pad_edge": False} if "relevance" in view.columns else {}  # as show_hits
        terminal.show(view, console, **hits)
    finally:
        terminal.err = original
    return console.export_text(), errors.export_text()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_table_fits_with_whole_headers_and_numbers(name, width):
    view = TABLES[name]()
    shown, left_out, _ = views.fit(view, width)
    out, err = render(view, width)
    lines = out.splitlines()
    assert all(views.display_width(line) <= width for line in lines), f"{name} is wider than {width}"
    for column in shown.columns:
        if column != shown.flex:
            assert column in out, f"{name} at {width}: the header {column!r} is cut"
    for row in shown.rows:
        for column, value in zip(shown.columns, row, strict=True):
            if column != shown.flex and NUMBER.match(value):
                assert value in out, f"{name} at {width}: {column} {value!r} is not whole"
    if shown.flex:  # the title gets the room left: at least TITLE_MIN_WIDTH columns of it are shown
        assert any(LONG_TITLE[:10] in line for line in lines), f"{name} at {width}: the title is squeezed"
    if left_out:
        assert ", ".join(left_out) in err and "--json" in err
    if width == 160:  # the widest keeps every number column
        assert not set(left_out) & {"score", "views", "#", "relevance", "members", "confidence"}


def test_wide_tables_keep_the_ids_narrow_ones_say_where_they_are():
    view = views.hits_table([{**row, "id": "tiktok:video:7571863205253778710"} for row in hit_rows(3)])
    assert "id" in views.fit(view, 200)[0].columns
    shown, left_out, _ = views.fit(view, 80)
    assert "id" in left_out and "#" in shown.columns and "views" in shown.columns


def test_search_shows_a_relevance_a_person_reads():
    rows = views.hits_table(hit_rows(3)).rows
    assert [row[1] for row in rows] == ["100 strong", "94 strong", "87 strong"]


def test_trend_bases_are_explained_not_jargon():
    view = views.trend_table(trend_report("product"))
    assert "mixed (!)" not in str(view.rows) and "partly once (!)" in str(view.rows)
    assert any(note.startswith("partly once (!)") for note in view.notes)
    assert any(note.startswith("since_published (!)") for note in view.notes)


def test_stats_leaves_out_kinds_it_holds_none_of():
    view = views.matrix_table(stats_info())
    assert "creator" not in view.columns and "video" in view.columns and view.rows[-1][-1] == "1,249,257"


def test_columns_with_nothing_in_them_give_their_room_to_the_title():
    report = trend_report("video")
    for result in report.results:  # videos have no creators count and no new items
        result.components.update(creators=None, new_items=None)
    view = views.trend_table(report)
    assert "creators" not in view.columns and "new" not in view.columns and "score" in view.columns
    assert "creators" in views.trend_table(trend_report("product")).columns


def test_a_creators_row_counts_its_videos_not_creators():
    view = views.trend_table(trend_report("creator"))  # a creator's "creators" is always 1: it says nothing
    assert "creators" not in view.columns and "videos" in view.columns
    assert {row[view.columns.index("videos")] for row in view.rows} == {"12"}
