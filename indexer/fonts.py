"""The CJK font of charts and HTML reports: Noto Sans SC from a PyPI package, registered with matplotlib by path."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

# matplotlib's own font, always there: the fallback for any glyph the CJK font lacks.
FALLBACK_FONT = "DejaVu Sans"
# The HTML report's font stack: the shipped font's family first (a machine that installed it, or a fontconfig
# pointed at the package's folder, finds it by this name), then the CJK fonts common systems carry.
CSS_FONT_STACK = (
    '"Noto Sans SC","Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Hiragino Sans GB",'
    '"Microsoft YaHei","WenQuanYi Micro Hei",system-ui,-apple-system,"Segoe UI",sans-serif'
)


def shipped_font_path() -> Path | None:
    """The Noto Sans SC file that the `pylopdf-fonts-zh-cn` package installs (SIL OFL 1.1), or None without it."""
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:
        return None
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    return path if path.is_file() else None


def shipped_font_dir() -> Path | None:
    """The folder holding the shipped font (for a fontconfig <dir>: docs/REPORTS.md, tools/screenshots.sh)."""
    path = shipped_font_path()
    return path.parent if path else None


def chart_font() -> str | None:
    """Register the shipped CJK font with matplotlib by its file path and return its family name.

    Registered at chart time from the file itself, never looked up in matplotlib's font cache: a cache built
    before fonts were installed (the stale-cache trap) cannot hide it, and system fonts play no part. Checked
    on every call, so a font manager rebuilt since (matplotlib's own cache rebuild) gets it again."""
    path = shipped_font_path()
    if path is None:
        return None
    from matplotlib import font_manager

    if not any(entry.fname == str(path) for entry in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(str(path))
    return _family_name(str(path))


@lru_cache(maxsize=4)
def _family_name(path: str) -> str:
    from matplotlib import font_manager

    return font_manager.FontProperties(fname=path).get_name()


def chart_font_family() -> list[str]:
    """matplotlib's `font.family` for charts: the shipped CJK font, then FALLBACK_FONT."""
    font = chart_font()
    return [font, FALLBACK_FONT] if font else [FALLBACK_FONT]
