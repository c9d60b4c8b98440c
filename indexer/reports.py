"""Trend reports: self-contained HTML (charts as embedded PNG), Markdown and CSV (see docs/TRENDS.md)."""

from __future__ import annotations

import base64
import io
import os
import secrets
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from crawler.items import GAUGES
from crawler.times import iso_utc, parse_iso
from indexer.safetext import csv_document, markdown_text, safe_text
from indexer.store import Store
from indexer.trends import DEFAULT_WINDOW, TrendBy, TrendEngine, TrendReport, parse_window

FORMATS = ("html", "md", "csv")
DEFAULT_TITLE = "trendcart report"
# How many rows each section shows, and how many leaders get a metric curve.
SECTION_LIMIT = 10
CURVE_LEADERS = 5
# The top live rooms that get a section of their own (viewer curve, peak, products), and its product rows.
LIVE_ROOMS = 3
LIVE_ROOM_PRODUCTS = 10
# Fonts that carry CJK glyphs, tried in order; without one, chart labels use ASCII ids only.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
    "Heiti SC",
    "Arial Unicode MS",
)
SECTIONS = (
    (TrendBy.product, "Trending products"),
    (TrendBy.video, "Trending videos"),
    (TrendBy.live, "Trending livestreams"),
    (TrendBy.hashtag, "Trending hashtags"),
    (TrendBy.creator, "Trending creators"),
)


@dataclass
class ReportData:
    """Everything a report shows, computed once from the store; renderers only format it."""

    title: str
    now: datetime
    window: str
    metric: str
    sections: dict[str, TrendReport]
    platform_mix: dict[str, int]
    kind_counts: dict[str, int]
    curves: dict[str, list[tuple[datetime, float]]] = field(default_factory=dict)
    curve_titles: dict[str, str | None] = field(default_factory=dict)
    platform: str | None = None
    live_rooms: list[dict[str, Any]] = field(default_factory=list)  # lives.live_detail of the top lives


def format_for(path: Path) -> str:
    """The report format from a file extension: .html/.htm, .md/.markdown, .csv."""
    suffix = path.suffix.lower().lstrip(".")
    suffix = {"htm": "html", "markdown": "md"}.get(suffix, suffix)
    if suffix not in FORMATS:
        raise ValueError(f"cannot tell the report format from {path.name!r}: use .html, .md or .csv")
    return suffix


def build_report(
    store: Store,
    now: datetime,
    window: str = DEFAULT_WINDOW,
    metric: str | None = None,
    title: str | None = None,
    limit: int = SECTION_LIMIT,
    platform: str | None = None,
) -> ReportData:
    parse_window(window)
    engine = TrendEngine(store, now=now)
    sections = {
        by.value: engine.trending(
            by=by, window=window, metric=_section_metric(by, metric), limit=limit, platform=platform
        )
        for by, _ in SECTIONS
    }
    from indexer.trend_query import add_fact

    add_fact(store, sections["product"])  # each product row's FACT split (docs/PRODUCTS.md "FACT")
    mix, kinds = store_counts(store, platform)
    data = ReportData(
        title=title or DEFAULT_TITLE,
        now=now,
        window=window,
        metric=sections["video"].metric,
        sections=sections,
        platform_mix=mix,
        kind_counts=kinds,
        platform=platform,
    )
    start = now - 2 * parse_window(window)  # the curves span this window and the previous one
    # Videos only: a live's viewers are a gauge with their own curve (its section below), and one live's
    # millions would flatten the video curves.
    for result in sections["video"].results[:CURVE_LEADERS]:
        points = snapshot_points(store, result.key, data.metric, start, now)
        if points:
            data.curves[result.key] = points
            data.curve_titles[result.key] = result.title
    from indexer.lives import live_detail

    for result in sections["live"].results[:LIVE_ROOMS]:
        detail = live_detail(store, result.key)
        if detail is not None:
            detail["products"] = detail["products"][:LIVE_ROOM_PRODUCTS]
            data.live_rooms.append(detail)
    return data


def _section_metric(by: TrendBy, metric: str | None) -> str | None:
    """A gauge (viewers) ranks lives only; the other sections then rank by the default counter."""
    return metric if metric not in GAUGES or by is TrendBy.live else None


def store_counts(store: Store, platform: str | None = None) -> tuple[dict[str, int], dict[str, int]]:
    """Documents per platform and per kind, from the store's stats()."""
    stats = store.stats() if hasattr(store, "stats") else {}
    stats = stats if isinstance(stats, dict) else getattr(stats, "__dict__", {})
    by_platform = dict(stats.get("by_platform") or stats.get("platforms") or {})
    by_kind = dict(stats.get("by_kind") or stats.get("kinds") or {})
    if platform:
        by_platform = {k: v for k, v in by_platform.items() if k == platform}
    return (
        {k: int(v) for k, v in sorted(by_platform.items())},
        {k: int(v) for k, v in sorted(by_kind.items())},
    )


def snapshot_points(
    store: Store, entity_id: str, metric: str, since: datetime, until: datetime
) -> list[tuple[datetime, float]]:
    """(time, value) pairs of one entity's metric, oldest first."""
    rows = store.snapshots(entity_id, metric=metric, since=iso_utc(since), until=iso_utc(until))
    points = []
    for row in rows:
        if isinstance(row, (tuple, list)):
            at, value = row[0], row[1]
        else:
            at = row.get("observed_at") if isinstance(row, dict) else getattr(row, "observed_at", None)
            metrics = row.get("metrics") if isinstance(row, dict) else getattr(row, "metrics", None)
            value = (metrics or {}).get(metric) if isinstance(metrics, dict) else metrics
            if value is None and isinstance(row, dict):
                value = row.get("value")
        when = parse_iso(at)
        if when is not None and value is not None:
            points.append((when, float(value)))
    return sorted(points)


# -- rendering: shared rows -------------------------------------------------------------------------
# The live numbers (indexer/lives.py) that rows of lives carry beside the common columns.
LIVE_COLUMNS = ("peak_viewers", "peak_at", "avg_viewers", "viewer_minutes", "minutes_live", "views_per_hour")
COLUMNS = (
    "rank",
    "id",
    "title",
    "score",
    "velocity",
    "growth_pct_day",
    "acceleration_pct",
    "basis",
    "items",
    "new_items",
    "creators",
    "platforms",
)


def rows_of(report: TrendReport) -> list[dict[str, Any]]:
    rows = []
    for r in report.results:
        c = r.components
        rows.append(
            {
                "rank": r.rank,
                "id": r.key,
                "title": r.title or "",
                "score": r.score,
                "velocity": c.get("velocity"),
                "growth_pct_day": None if c.get("growth") is None else round(c["growth"] * 24 * 100, 1),
                "acceleration_pct": None
                if c.get("acceleration") is None
                else round(c["acceleration"] * 100, 1),
                "basis": c.get("basis"),
                "items": c.get("items"),
                "new_items": c.get("new_items"),
                "creators": c.get("creators"),
                "platforms": ",".join(r.platforms),
                **({k: c.get(k) for k in LIVE_COLUMNS} if report.by == TrendBy.live.value else {}),
            }
        )
    return rows


def columns_of(report: TrendReport) -> tuple[str, ...]:
    """The CSV columns of a ranking: COLUMNS, and for lives LIVE_COLUMNS too."""
    return COLUMNS + (LIVE_COLUMNS if report.by == TrendBy.live.value else ())


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return (
            f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.1f}" if abs(value) >= 100 else f"{value:.2f}"
        )
    return str(value)


# -- CSV --------------------------------------------------------------------------------------------
def render_csv(data: ReportData) -> str:
    """Every section's rows; text cells spreadsheet-safe (safetext.csv_cell: a formula stays text)."""
    rows = ({"by": by, **row} for by, report in data.sections.items() for row in rows_of(report))
    return csv_document(("by", *COLUMNS, *LIVE_COLUMNS), rows)


# -- Markdown ---------------------------------------------------------------------------------------
def _md_cell(value: Any) -> str:
    # Markdown renderers pass raw HTML through and follow links and images: safetext.markdown_text escapes
    # both, so a scraped "<script>" or "[x](javascript:...)" stays text.
    return markdown_text(fmt(value))


def render_markdown(data: ReportData) -> str:
    lines = [
        f"# {_md_cell(data.title)}",
        "",
        f"Generated for {iso_utc(data.now)} · window {data.window} · metric {data.metric}"
        + (f" · platform {data.platform}" if data.platform else ""),
        "",
    ]
    if data.kind_counts:
        lines += ["Documents: " + ", ".join(f"{k} {v}" for k, v in data.kind_counts.items()), ""]
    for by, heading in SECTIONS:
        report = data.sections[by.value]
        lines += [f"## {heading}", ""]
        rows = rows_of(report)
        if not rows:
            lines += ["Nothing with a measurable rate in this window.", ""]
            continue
        cols = (
            "rank",
            "title",
            "score",
            "velocity",
            "growth_pct_day",
            "acceleration_pct",
            "basis",
            "creators",
            "new_items",
            "platforms",
            "id",
        )
        lines.append("| " + " | ".join(cols) + " |")
        lines.append("|" + "---|" * len(cols))
        for row in rows:
            lines.append("| " + " | ".join(_md_cell(row[c]) for c in cols) + " |")
        lines.append("")
    lines += _markdown_fact(data.sections["product"])
    lines += _markdown_live_rooms(data.live_rooms)
    if data.platform_mix:
        lines += ["## Platform mix", "", "| platform | documents |", "|---|---|"]
        lines += [f"| {_md_cell(k)} | {v} |" for k, v in data.platform_mix.items()] + [""]
    lines += [
        "Scores: log10(1 + velocity) × growth × acceleration × breadth factors; see docs/TRENDS.md.",
        "",
    ]
    return "\n".join(lines)


def _markdown_fact(report: TrendReport) -> list[str]:
    """The FACT table of the product rows that have a gain: shares of field, alliance, top_kol, campaign."""
    rows = [r for r in report.results if (r.extra.get("fact") or {}).get("total")]
    if not rows:
        return []
    lines = [
        "## FACT: who drives each product",
        "",
        "| rank | title | gain | field | alliance | top_kol | campaign |",
    ]
    lines.append("|---|---|---|---|---|---|---|")
    for r in rows:
        f = r.extra["fact"]
        shares = [f"{(f[p]['share'] or 0):.0%}" for p in ("field", "alliance", "top_kol", "campaign")]
        lines.append(
            f"| {r.rank} | {_md_cell(r.title or r.key)} | {f['total']} | " + " | ".join(shares) + " |"
        )
    return [*lines, ""]


def _room_numbers(room: dict[str, Any]) -> str:
    stats = room["stats"]
    return (
        f"status {fmt(room['status'])} · peak {fmt(stats['peak_viewers'])} viewers"
        + (f" at {stats['peak_at']}" if stats["peak_at"] else "")
        + f" · average {fmt(stats['avg_viewers'])} · {fmt(stats['viewer_minutes'])} viewer-minutes"
        + f" · {fmt(stats['minutes_live'])} min live · {stats['samples']} samples"
    )


def _markdown_live_rooms(rooms: list[dict[str, Any]]) -> list[str]:
    from indexer.lives import sparkline

    lines: list[str] = []
    for room in rooms:
        lines += [
            f"### Live room: {_md_cell(room['title'] or room['id'])}",
            "",
            _md_cell(_room_numbers(room)),
            "",
        ]
        curve = sparkline([s["viewers"] for s in room["samples"]])
        if curve.strip():
            lines += [f"Viewers: `{curve}`", ""]
        if room["products"]:
            lines += [
                "| product | price | sales during the live | first seen | last seen |",
                "|---|---|---|---|---|",
            ]
            for p in room["products"]:
                cells = (
                    p["title"] or p["id"],
                    p["price_last"],
                    p["sales_delta"],
                    p["first_seen"],
                    p["last_seen"],
                )
                lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
            lines.append("")
    return lines


# -- HTML -------------------------------------------------------------------------------------------
def _cjk_font() -> str | None:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in names), None)


def chart_label(rank: int, title: str | None, key: str, cjk: bool) -> str:
    """A chart label that the font can draw: the title when it can, else the rank and an ASCII id."""
    text = (title or "").strip()
    if text and (cjk or text.isascii()):
        return f"#{rank} {text[:28]}"
    ascii_key = key.encode("ascii", "replace").decode()
    # Keep the platform and the end of the native id, where ids differ: tiktok:...00000003
    if len(ascii_key) > 28:
        platform, _, rest = ascii_key.partition(":")
        ascii_key = (
            f"{platform}:...{rest[-(24 - len(platform)) :]}" if len(platform) < 20 else ascii_key[-28:]
        )
    return f"#{rank} {ascii_key}"


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    # No Software/date metadata: the same data gives the same bytes.
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def render_charts(data: ReportData) -> dict[str, str]:
    """Base64 PNGs: top products, metric curves of the leaders, platform mix (only those with data)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = _cjk_font()
    charts: dict[str, str] = {}
    with (
        matplotlib.rc_context(
            {
                "font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"],
                "svg.hashsalt": "trendcart",
                "path.simplify": True,
            }
        ),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", UserWarning)  # missing-glyph warnings, should a label slip through
        products = data.sections["product"].results
        if products:
            fig, ax = plt.subplots(figsize=(7, 0.45 * len(products) + 1))
            labels = [chart_label(r.rank, r.title, r.key, bool(font)) for r in products][::-1]
            ax.barh(labels, [r.score for r in products][::-1], color="#d9534f")
            ax.set_xlabel("trend score")
            ax.set_title(f"Top trending products ({data.window}, {data.metric})")
            charts["products"] = _png(fig)
        facts = [r for r in products if (r.extra.get("fact") or {}).get("total")]
        if facts:
            charts["fact"] = _fact_chart(plt, facts, data.window, bool(font))
        if data.curves:
            fig, ax = plt.subplots(figsize=(7, 3.5))
            ranks = {r.key: r.rank for r in data.sections["video"].results + data.sections["live"].results}
            for key, points in data.curves.items():
                label = chart_label(ranks.get(key, 0), data.curve_titles.get(key), key, bool(font))
                label = ("live " if ":live:" in key else "video ") + label
                ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
            ax.set_ylabel(data.metric)
            ax.set_title(f"{data.metric} of the leaders")
            ax.legend(fontsize=7, loc="upper left")
            fig.autofmt_xdate()
            charts["curves"] = _png(fig)
        for i, room in enumerate(data.live_rooms):
            points = [(parse_iso(s["at"]), s["viewers"]) for s in room["samples"] if s["viewers"] is not None]
            if not points:
                continue
            fig, ax = plt.subplots(figsize=(7, 2.8))
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", color="#8e44ad")
            ax.set_ylabel("concurrent viewers")
            ax.set_title(f"Viewers of {chart_label(i + 1, room['title'], room['id'], bool(font))}")
            fig.autofmt_xdate()
            charts[f"live-{i}"] = _png(fig)
        if data.platform_mix:
            fig, ax = plt.subplots(figsize=(5, 3))
            ax.bar(list(data.platform_mix), list(data.platform_mix.values()), color="#5b8def")
            ax.set_ylabel("documents")
            ax.set_title("Platform mix")
            charts["platforms"] = _png(fig)
    return charts


# FACT parts in the stacked bar, with their colours: the brand's own, the creator matrix, the head creators.
FACT_PARTS = (("field", "#2e86de"), ("alliance", "#10ac84"), ("top_kol", "#ee5253"))


def _fact_chart(plt: Any, facts: list[Any], window: str, cjk: bool) -> str:
    """A stacked bar per top product: the shares of its view gain by field, alliance and top_kol; the
    campaign share (a separate dimension) in the label."""
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(facts) + 1.2))
    rows = facts[::-1]
    labels = [
        f"{chart_label(r.rank, r.title, r.key, cjk)} (campaign {(r.extra['fact']['campaign']['share'] or 0):.0%})"
        for r in rows
    ]
    left = [0.0] * len(rows)
    for part, colour in FACT_PARTS:
        shares = [r.extra["fact"][part]["share"] or 0.0 for r in rows]
        ax.barh(labels, shares, left=left, color=colour, label=part)
        left = [a + b for a, b in zip(left, shares, strict=True)]
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the view gain")
    ax.set_title(f"FACT: who drives each product ({window})")
    ax.legend(fontsize=7, loc="lower right")
    return _png(fig)


_CSS = """body{font-family:system-ui,-apple-system,"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;
margin:2em auto;max-width:1100px;color:#222}table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}
th,td{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;font-size:13px;vertical-align:top}
th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#777;font-size:12px}
img{max-width:100%}.flag{color:#b36b00}"""


def _html(value: Any) -> str:
    """Scraped text as HTML text: control characters and escape sequences made safe, markup escaped."""
    return escape(safe_text(value))


def _html_table(report: TrendReport) -> str:
    rows = rows_of(report)
    if not rows:
        return '<p class="muted">Nothing with a measurable rate in this window.</p>'
    head = (
        "#",
        "title",
        "score",
        "velocity /h",
        "growth %/day",
        "accel. %",
        "basis",
        "creators",
        "new",
        "platforms",
    )
    out = ["<table><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr></thead><tbody>"]
    urls = {r.key: r.url for r in report.results}
    for row in rows:
        title = _html(row["title"] or row["id"])
        url = urls.get(row["id"])
        if url and url.startswith(("http://", "https://")):
            title = f'<a href="{escape(url)}" rel="noopener noreferrer">{title}</a>'
        basis = escape(str(row["basis"]))
        if row["basis"] != "snapshots":
            basis = f'<span class="flag" title="rate since publication: only one snapshot">{basis}</span>'
        cells = [
            f'<td class="num">{row["rank"]}</td>',
            f'<td>{title}<br><span class="muted">{_html(row["id"])}</span></td>',
            *(
                f'<td class="num">{escape(fmt(row[c]))}</td>'
                for c in ("score", "velocity", "growth_pct_day", "acceleration_pct")
            ),
            f"<td>{basis}</td>",
            *(f'<td class="num">{escape(fmt(row[c]))}</td>' for c in ("creators", "new_items")),
            f"<td>{_html(row['platforms'])}</td>",
        ]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _html_live_rooms(rooms: list[dict[str, Any]], charts: dict[str, str]) -> list[str]:
    """A section per top live room: its numbers, its own viewer curve, its products."""
    parts = []
    for i, room in enumerate(rooms):
        parts.append(f"<h3>Live room: {_html(room['title'] or room['id'])}</h3>")
        parts.append(f'<p class="muted">{_html(_room_numbers(room))}</p>')
        if f"live-{i}" in charts:
            parts.append(f'<img alt="viewers over time" src="data:image/png;base64,{charts[f"live-{i}"]}">')
        if room["products"]:
            head = ("product", "price", "sales during the live", "first seen", "last seen")
            parts.append(
                "<table><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr></thead>"
            )
            for p in room["products"]:
                cells = (
                    p["title"] or p["id"],
                    p["price_last"],
                    p["sales_delta"],
                    p["first_seen"],
                    p["last_seen"],
                )
                parts.append("<tr>" + "".join(f"<td>{_html(fmt(c))}</td>" for c in cells) + "</tr>")
            parts.append("</table>")
    return parts


def render_html(data: ReportData) -> str:
    charts = render_charts(data)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_html(data.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_html(data.title)}</h1>",
        f'<p class="muted">Generated for {escape(iso_utc(data.now))} · window {escape(data.window)} · metric '
        f"{escape(data.metric)}{' · platform ' + escape(data.platform) if data.platform else ''}"
        + (
            " · documents: " + escape(", ".join(f"{k} {v}" for k, v in data.kind_counts.items()))
            if data.kind_counts
            else ""
        )
        + "</p>",
    ]
    captions = {
        "products": "Top trending products by score",
        "fact": "FACT: shares of each product's view gain by field, alliance and top_kol",
        "curves": f"{data.metric} over time of the leading videos (live rooms: their own curves)",
        "platforms": "Documents per platform",
    }
    for by, heading in SECTIONS:
        parts.append(f"<h2>{escape(heading)}</h2>")
        if by is TrendBy.product and "products" in charts:
            parts.append(
                f'<img alt="{escape(captions["products"])}" src="data:image/png;base64,{charts["products"]}">'
            )
        if by is TrendBy.product and "fact" in charts:
            parts.append(
                f'<img alt="{escape(captions["fact"])}" src="data:image/png;base64,{charts["fact"]}">'
            )
        if by is TrendBy.video and "curves" in charts:
            parts.append(
                f'<img alt="{escape(captions["curves"])}" src="data:image/png;base64,{charts["curves"]}">'
            )
        parts.append(_html_table(data.sections[by.value]))
        if by is TrendBy.live:
            parts += _html_live_rooms(data.live_rooms, charts)
    if "platforms" in charts:
        parts.append("<h2>Platform mix</h2>")
        parts.append(
            f'<img alt="{escape(captions["platforms"])}" src="data:image/png;base64,{charts["platforms"]}">'
        )
    parts.append(
        '<p class="muted">score = log10(1 + velocity) × growth factor × acceleration factor × breadth '
        "factor; “since_published” marks a rate from a single snapshot (metric ÷ hours since "
        "publication). Definitions: docs/TRENDS.md.</p>"
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


RENDERERS = {"html": render_html, "md": render_markdown, "csv": render_csv}


def write_report(
    store: Store,
    out: Path,
    now: datetime,
    window: str = DEFAULT_WINDOW,
    metric: str | None = None,
    title: str | None = None,
    limit: int = SECTION_LIMIT,
    platform: str | None = None,
) -> ReportData:
    """Build the report and write it in the format the extension names; returns what it showed."""
    out = Path(out)
    kind = format_for(out)
    data = build_report(
        store, now=now, window=window, metric=metric, title=title, limit=limit, platform=platform
    )
    write_whole(out, RENDERERS[kind](data))
    return data


def write_whole(path: Path, text: str) -> None:
    """Write `text` to `path` all or nothing: into a temporary file beside it, flushed to disk, then renamed
    over it, so a full disk or any write error leaves the previous file as it was (and no temporary file).
    OSError when it cannot."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    # O_EXCL: never someone else's file; mode 0o666 less the umask, as a plain open() would give.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
