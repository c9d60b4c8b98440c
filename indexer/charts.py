"""Report charts as figures and base64 PNGs: products, FACT split, video curves, live viewers, platform mix."""

from __future__ import annotations

import base64
import io
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timezone
from typing import TYPE_CHECKING, Any

from crawler.times import parse_iso
from indexer.fonts import chart_font, chart_font_family
from indexer.safetext import safe_text

if TYPE_CHECKING:  # pragma: no cover
    from indexer.reports import ReportData

# A title in a bar label or a legend entry keeps this many columns (a CJK character takes two), then "…".
LABEL_WIDTH = 44
LEGEND_WIDTH = 64
ELLIPSIS = "…"
# Curves whose largest value is more than this many times their smallest share the axis on a log scale, so a
# video with millions of views does not flatten one with thousands.
LOG_SCALE_RATIO = 20.0
# Dates on time axes: day, month, then the UTC time of day (the report's times are UTC).
DATE_FORMAT = "%d %b\n%H:%M"
DPI = 90
# FACT parts in the stacked bar, with their colours: the brand's own, the creator matrix, the head creators.
FACT_PARTS = (("field", "#2e86de"), ("alliance", "#10ac84"), ("top_kol", "#ee5253"))
FACT_LABELS = {"field": "field (brand's own)", "alliance": "alliance (creator matrix)", "top_kol": "top KOL"}


def text_width(text: str) -> int:
    """Display columns: East Asian wide and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def shorten(text: str, width: int = LABEL_WIDTH) -> str:
    """`text` in at most `width` columns: whole when it fits, else cut at a word boundary (or, in text without
    spaces such as Chinese, at a character) and ended with an ellipsis; never cut mid-word."""
    text = " ".join(safe_text(text).split())  # no control characters or escape sequences to draw
    if text_width(text) <= width:
        return text
    kept, used = [], text_width(ELLIPSIS)
    for ch in text:
        used += text_width(ch)
        if used > width:
            break
        kept.append(ch)
    cut = "".join(kept)
    space = cut.rfind(" ")
    next_char = text[len(cut)]
    if space > 0 and next_char != " " and not _is_wide(cut[-1]):
        cut = cut[:space]  # drop the partial word
    return cut.rstrip(" ,.;:-–—·|/") + ELLIPSIS


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


def chart_label(rank: int, title: str | None, key: str, cjk: bool = True, width: int = LABEL_WIDTH) -> str:
    """`#rank title` shortened with an ellipsis; without a CJK font and with a non-ASCII title, the ASCII id."""
    text = (title or "").strip()
    if text and (cjk or text.isascii()):
        return f"#{rank} {shorten(text, width)}"
    ascii_key = key.encode("ascii", "replace").decode()
    return f"#{rank} {shorten(ascii_key, width)}"


def axis_number(value: float, _pos: Any = None) -> str:
    """An axis tick as a person reads it: 950, 12k, 2.7M (never matplotlib's 1e6 offset)."""
    size = abs(value)
    for unit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= unit:
            return f"{value / unit:.3g}{suffix}"
    return f"{value:.3g}"


@contextmanager
def chart_style() -> Iterator[Any]:
    """matplotlib (Agg) with the shipped CJK font and deterministic output; yields pyplot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context(
        {
            "font.family": chart_font_family(),
            "axes.unicode_minus": False,  # the CJK font has no U+2212 minus in every version
            "axes.formatter.useoffset": False,
            "svg.hashsalt": "trendcart",
            "path.simplify": True,
        }
    ):
        yield plt


def _number_axis(axis: Any) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(axis_number))
    axis.set_minor_formatter(FuncFormatter(lambda v, p: ""))


def _date_axis(ax: Any) -> None:
    import matplotlib.dates as mdates

    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=7))
    ax.xaxis.set_major_formatter(mdates.DateFormatter(DATE_FORMAT, tz=timezone.utc))
    ax.set_xlabel("time (UTC)")


def png(fig: Any) -> str:
    """The figure as base64 PNG, closed; no Software/date metadata, so the same data gives the same bytes."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def products_figure(plt: Any, data: ReportData) -> Any:
    products = data.sections["product"].results
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(products) + 1))
    labels = [chart_label(r.rank, r.title, r.key, bool(chart_font())) for r in products][::-1]
    ax.barh(labels, [r.score for r in products][::-1], color="#d9534f")
    ax.set_xlabel("trend score (higher: faster and broader growth)")
    ax.set_title(f"Top trending products (last {data.window}, by {data.metric})")
    return fig


def fact_figure(plt: Any, facts: list[Any], window: str) -> Any:
    """A stacked bar per top product: the shares of its view gain by field, alliance and top_kol; the
    campaign share (a separate dimension) in the label."""
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(facts) + 1.4))
    rows = facts[::-1]
    labels = [
        f"{chart_label(r.rank, r.title, r.key, bool(chart_font()))} "
        f"(campaign {(r.extra['fact']['campaign']['share'] or 0):.0%})"
        for r in rows
    ]
    left = [0.0] * len(rows)
    for part, colour in FACT_PARTS:
        shares = [r.extra["fact"][part]["share"] or 0.0 for r in rows]
        ax.barh(labels, shares, left=left, color=colour, label=FACT_LABELS[part])
        left = [a + b for a, b in zip(left, shares, strict=True)]
    from matplotlib.ticker import PercentFormatter

    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("share of the product's view gain")
    ax.set_title(f"FACT: who drives each product (last {window})", pad=24)
    ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    return fig


def video_curves_figure(plt: Any, data: ReportData) -> Any:
    """The metric of the leading videos over time (videos only: live rooms have their own viewer charts),
    on a log scale (labelled) when their sizes differ widely; full titles in a legend under the chart."""
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    ranks = {r.key: r.rank for r in data.sections["video"].results}
    values = []
    for key, points in data.curves.items():
        label = chart_label(
            ranks.get(key, 0), data.curve_titles.get(key), key, bool(chart_font()), LEGEND_WIDTH
        )
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", markersize=3, label=label)
        values += [p[1] for p in points]
    positive = [v for v in values if v > 0]
    log = bool(positive) and max(positive) / min(positive) > LOG_SCALE_RATIO
    if log:
        ax.set_yscale("log")
    _number_axis(ax.yaxis)
    ax.set_ylabel(f"{data.metric} (log scale)" if log else data.metric)
    _date_axis(ax)
    ax.set_title(f"{data.metric.capitalize()} of the top videos over time")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.0, -0.25), ncol=1, frameon=False)
    return fig


def live_figure(plt: Any, room: dict[str, Any], number: int) -> Any | None:
    """One live room's concurrent viewers over time (a gauge: its own chart, its own scale); None without samples."""
    points = [(parse_iso(s["at"]), s["viewers"]) for s in room["samples"] if s["viewers"] is not None]
    if not points:
        return None
    fig, ax = plt.subplots(figsize=(7.5, 2.9))
    ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", markersize=3, color="#8e44ad")
    _number_axis(ax.yaxis)
    ax.set_ylabel("concurrent viewers")
    _date_axis(ax)
    label = chart_label(number, room["title"], room["id"], bool(chart_font()), LEGEND_WIDTH)
    ax.set_title(f"Viewers of live room {label}")
    ax.grid(True, alpha=0.3)
    return fig


def platforms_figure(plt: Any, data: ReportData) -> Any:
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar(list(data.platform_mix), list(data.platform_mix.values()), color="#5b8def")
    _number_axis(ax.yaxis)
    ax.set_ylabel("documents")
    ax.set_title("Documents per platform")
    return fig


def render_charts(data: ReportData) -> dict[str, str]:
    """Base64 PNGs (only those with data): products, fact, curves (videos), live-N (each top live room),
    platforms. Missing glyphs are not silenced: the shipped CJK font draws every title."""
    charts: dict[str, str] = {}
    with chart_style() as plt:
        products = data.sections["product"].results
        if products:
            charts["products"] = png(products_figure(plt, data))
        facts = [r for r in products if (r.extra.get("fact") or {}).get("total")]
        if facts:
            charts["fact"] = png(fact_figure(plt, facts, data.window))
        if data.curves:
            charts["curves"] = png(video_curves_figure(plt, data))
        for i, room in enumerate(data.live_rooms):
            fig = live_figure(plt, room, i + 1)
            if fig is not None:
                charts[f"live-{i}"] = png(fig)
        if data.platform_mix:
            charts["platforms"] = png(platforms_figure(plt, data))
    return charts
