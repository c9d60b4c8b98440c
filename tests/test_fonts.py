"""CJK in charts on a machine with no system fonts: the shipped Noto Sans SC, registered by path, draws every glyph."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest

from indexer.fonts import CSS_FONT_STACK, shipped_font_path
from tests.test_trends import NOW, T2, doc, make_scenario_store

ROOT = Path(__file__).resolve().parents[1]
CHINESE = "无线蓝牙耳机 降噪 超长续航 学生党必备 2026新款"

# Runs in a child process with an empty matplotlib config dir (a fresh font cache) whose font list is cut to
# the fonts matplotlib ships itself: a fresh machine with no system fonts, whatever this machine has installed
# (it has fonts-noto-cjk). `bare` draws with matplotlib's defaults; `shipped` renders the real report charts.
CHILD = r"""
import json, sys, warnings
import matplotlib
matplotlib.use("Agg")
from matplotlib import font_manager
own = matplotlib.get_data_path()
font_manager.fontManager.ttflist = [f for f in font_manager.fontManager.ttflist if f.fname.startswith(own)]
font_manager.fontManager._findfont_cached.cache_clear()
mode, db, now, label = sys.argv[1:5]
out = {"system_cjk": sorted({f.name for f in font_manager.fontManager.ttflist if "CJK" in f.name or " SC" in f.name})}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    if mode == "bare":
        import io
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots()
        ax.set_title(label)
        fig.savefig(io.BytesIO(), format="png")
    else:
        from datetime import datetime
        from indexer.charts import chart_style, render_charts
        from indexer.fonts import chart_font_family
        from indexer.reports import build_report
        from indexer.sqlite_store import SqliteStore
        store = SqliteStore(db)
        data = build_report(store, now=datetime.fromisoformat(now))
        out["charts"] = sorted(render_charts(data))
        out["curve_titles"] = sorted(t for t in data.curve_titles.values() if t)
        with chart_style() as plt:
            fig, ax = plt.subplots()
            text = ax.set_title(label)
            fig.canvas.draw()
            out["fontname"] = text.get_fontname()
            prop = font_manager.FontProperties(family=chart_font_family()[0])
            out["font_file"] = font_manager.findfont(prop, fallback_to_default=False)
out["missing"] = [str(w.message) for w in caught if "missing from font" in str(w.message)]
print(json.dumps(out))
"""


def run_child(mode: str, tmp_path: Path, db: Path | None = None) -> dict:
    config = tmp_path / f"mpl-{mode}"
    config.mkdir()
    env = {"PATH": "/usr/bin:/bin", "MPLCONFIGDIR": str(config), "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(db or ""), NOW.isoformat(), CHINESE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def chinese_store(tmp_path):
    s = make_scenario_store(tmp_path / "zh.db")
    for at, views in (("2026-11-24T12:00:00Z", 100), (T2, 9000)):
        s.upsert(
            [
                doc(
                    "web:video:zh",
                    at,
                    views,
                    title=CHINESE,
                    products=[{"id": "web:product:zh", "title": CHINESE}],
                )
            ]
        )
    s.close()
    return tmp_path / "zh.db"


def test_the_font_ships_with_the_package():
    path = shipped_font_path()
    assert path is not None and path.is_file() and path.suffix == ".otf"
    assert '"Noto Sans SC"' in CSS_FONT_STACK and CSS_FONT_STACK.endswith("sans-serif")


def test_without_the_shipped_font_chinese_is_missing(tmp_path):
    """The control: on a machine with matplotlib's fonts only, Chinese has no glyphs (the issue's boxes)."""
    out = run_child("bare", tmp_path)
    assert out["system_cjk"] == []  # no system CJK font is seen
    assert out["missing"], "expected missing-glyph warnings without a CJK font"


def test_report_charts_draw_chinese_with_the_shipped_font_only(tmp_path, chinese_store):
    out = run_child("shipped", tmp_path, chinese_store)
    assert out["system_cjk"] == []  # nothing but matplotlib's own fonts before ours is registered
    assert out["missing"] == []  # every Chinese title drawn: no "Glyph ... missing from font(s)"
    assert out["fontname"] == "Noto Sans SC"
    assert Path(out["font_file"]) == shipped_font_path()  # the package's file, not a system font
    assert {"products", "curves", "platforms"} <= set(out["charts"])
    assert CHINESE in out["curve_titles"]  # the curve is labelled with its real title, not its id


# -- the HTML report's own font: a subset of the shipped font, embedded as an @font-face data URL ----------
FONT_FACE = re.compile(
    r'@font-face\{font-family:"([^"]+)";src:url\(data:font/(woff2?);base64,([A-Za-z0-9+/=]+)\)'
)


class TextOf(HTMLParser):
    """The text a browser draws with the page's fonts: everything outside <style> and <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.skip = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("style", "script")

    def handle_endtag(self, tag):
        self.skip -= tag in ("style", "script")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def _is_cjk(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF" and unicodedata.category(ch).startswith(("L", "P", "S"))


def test_html_report_embeds_a_font_that_covers_its_chinese(chinese_store):
    """The report reads on a machine with no CJK font: its <style> carries a subset of the shipped font (only
    the characters it uses) as a data URL, named first in the font stack, and that font has a glyph for every
    CJK character of the report's text (read back with fontTools)."""
    from fontTools.ttLib import TTFont

    from indexer.font_embed import EMBEDDED_FAMILY, woff2_available
    from indexer.reports import build_report, render_html
    from indexer.sqlite_store import SqliteStore

    store = SqliteStore(chinese_store)
    try:
        html = render_html(build_report(store, now=NOW))
        again = render_html(build_report(store, now=NOW))
    finally:
        store.close()
    assert html == again  # the same data, the same bytes (no timestamp in the font)
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    (face,) = FONT_FACE.findall(style)
    family, flavor, encoded = face
    assert family == EMBEDDED_FAMILY and flavor == ("woff2" if woff2_available() else "woff")
    assert (
        CSS_FONT_STACK.startswith(f'"{EMBEDDED_FAMILY}",') and "body{font-family:" + CSS_FONT_STACK in style
    )
    data = base64.b64decode(encoded)
    font = TTFont(io.BytesIO(data))
    assert font.flavor == flavor and font["name"].getDebugName(1) == "Noto Sans SC"
    cmap = font.getBestCmap()
    text = TextOf()
    text.feed(html)
    cjk = {ch for ch in "".join(text.parts) if _is_cjk(ch)}
    assert set(CHINESE.replace(" ", "")) - set("2026") <= cjk  # the Chinese title is in the report's text
    assert {ch for ch in cjk if ord(ch) not in cmap} == set()  # and every CJK character has its glyph
    # a subset, not the 8 MB font: only the characters the report uses (and printable ASCII)
    assert len(cmap) < 400 and len(data) < 300_000
    assert shipped_font_path().stat().st_size > 40 * len(data)
