"""Trend reports: self-contained HTML (charts as embedded PNG, indexer/charts.py), Markdown and CSV (docs/REPORTS.md)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from crawler.items import GAUGES
from crawler.times import iso_utc, parse_iso
from indexer import formatting
from indexer.alerts import html_section, markdown_section
from indexer.font_embed import font_face_css
from indexer.fonts import CSS_FONT_STACK

# Rows and columns (indexer/report_rows.py); rows_of, columns_of and fmt stay importable from here for the CLI.
from indexer.report_rows import (  # noqa: F401
    BASIS_NOTES,
    COLUMNS,
    CSV_COLUMNS,
    LIVE_COLUMNS,
    SECTION_COLUMNS,
    TITLE_HEADERS,
    columns_of,
    fmt,
    headers,
    reading_notes,
    report_rows,
    rows_of,
    shown,
)
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
    alerts: list[dict[str, Any]] = field(default_factory=list)  # raised in the window (indexer.alerts)
    # True when product rows are canonical products (the store's product file), False: one row per listing.
    canonical: bool = False


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
    canonical: Mapping[str, Mapping[str, Any]] | None = None,
) -> ReportData:
    """The report's data as of `now`. `canonical` ({listing id: its canonical product}, ProductBook
    .canonical_map, as `trending --by product` uses it): product rows are canonical products, their listings
    named and their FACT split over every listing; without it, one row per listing."""
    parse_window(window)
    engine = TrendEngine(store, now=now, canonical=canonical)
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
        canonical=bool(canonical),
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


# -- CSV --------------------------------------------------------------------------------------------
def render_csv(data: ReportData) -> str:
    """Every section's rows under human column names, numbers raw (a spreadsheet computes with them), with
    links, prices and currencies; text cells spreadsheet-safe (safetext.csv_cell: a formula stays text)."""
    names = headers(data.metric)
    rows = (
        {names[k]: row.get(k) for k in CSV_COLUMNS if k != "by"} | {names["by"]: by}
        for by, report in data.sections.items()
        for row in report_rows(report)
    )
    return csv_document(tuple(names[k] for k in CSV_COLUMNS), rows)


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
    names = headers(data.metric)
    for by, heading in SECTIONS:
        report = data.sections[by.value]
        lines += [f"## {heading}", ""]
        rows = report_rows(report)
        if not rows:
            lines += ["Nothing with a measurable rate in this window.", ""]
            continue
        # The link as text (never Markdown link syntax: a scraped URL stays inert), then the id.
        cols = (
            *SECTION_COLUMNS[by.value],
            "url",
            "id",
            *(("members",) if data.canonical and by is TrendBy.product else ()),
        )
        head = [TITLE_HEADERS[by.value] if c == "title" else names[c] for c in cols]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        for row in rows:
            lines.append("| " + " | ".join(markdown_text(shown(c, row)) for c in cols) + " |")
        lines.append("")
    lines += _markdown_fact(data.sections["product"])
    lines += _markdown_live_rooms(data.live_rooms)
    lines += markdown_section(data.alerts)
    if data.platform_mix:
        lines += ["## Platform mix", "", "| Platform | Documents |", "|---|---|"]
        lines += [f"| {_md_cell(k)} | {formatting.count(v)} |" for k, v in data.platform_mix.items()] + [""]
    lines += ["## How to read this report", ""]
    lines += [f"- {note}" for note in reading_notes(data.sections, data.metric, data.canonical)] + [""]
    return "\n".join(lines)


def _markdown_fact(report: TrendReport) -> list[str]:
    """The FACT table of the product rows that have a gain: shares of field, alliance, top_kol, campaign."""
    rows = [r for r in report.results if (r.extra.get("fact") or {}).get("total")]
    if not rows:
        return []
    lines = [
        "## FACT: who drives each product",
        "",
        "Shares of each product's view gain: field (the brand's own accounts), alliance (the creator "
        "matrix), top KOL (head creators); campaign is a separate share (content tagged with a campaign).",
        "",
        "| # | Product | View gain | Field | Alliance | Top KOL | Campaign |",
    ]
    lines.append("|---|---|---|---|---|---|---|")
    for r in rows:
        f = r.extra["fact"]
        shares = [formatting.share(f[p]["share"] or 0) for p in ("field", "alliance", "top_kol", "campaign")]
        lines.append(
            f"| {r.rank} | {_md_cell(r.title or r.key)} | {formatting.count(f['total'])} | "
            + " | ".join(shares)
            + " |"
        )
    return [*lines, ""]


def _room_numbers(room: dict[str, Any]) -> str:
    stats = room["stats"]
    return (
        f"status {fmt(room['status'])} · peak {formatting.count(stats['peak_viewers'])} viewers"
        + (f" at {stats['peak_at']}" if stats["peak_at"] else "")
        + f" · average {formatting.count(stats['avg_viewers'])}"
        + f" · {formatting.count(stats['viewer_minutes'])} viewer-minutes"
        + f" · {formatting.count(stats['minutes_live'])} min live · {stats['samples']} samples"
    )


ROOM_PRODUCT_HEADERS = ("Product", "Price", "Sales during the live", "First seen", "Last seen")


def _room_product_cells(p: dict[str, Any]) -> tuple[str, ...]:
    return (
        p["title"] or p["id"],
        formatting.price(p["price_last"], p.get("currency")),
        formatting.count(p["sales_delta"]),
        p["first_seen"] or formatting.MISSING,
        p["last_seen"] or formatting.MISSING,
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
            lines += ["| " + " | ".join(ROOM_PRODUCT_HEADERS) + " |", "|---|---|---|---|---|"]
            for p in room["products"]:
                lines.append("| " + " | ".join(_md_cell(c) for c in _room_product_cells(p)) + " |")
            lines.append("")
    return lines


# -- HTML -------------------------------------------------------------------------------------------
# The stack's first family, "Noto Sans SC", is the report's own @font-face (font_embed.font_face_css: a
# subset of the shipped font), so the report reads with no CJK font installed; the rest of the stack draws any
# character the subset lacks.
_CSS = (
    "body{font-family:" + CSS_FONT_STACK + ";"
    """margin:2em auto;max-width:1100px;color:#222}table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}
th,td{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;font-size:13px;vertical-align:top}
th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}.muted{color:#777;font-size:12px}
img{max-width:100%}.flag{color:#b36b00;border-bottom:1px dotted #b36b00}dl.notes dt{font-weight:600}
dl.notes dd{margin:0 0 .4em 1.2em}"""
)
NUMERIC = {
    "rank",
    "score",
    "velocity",
    "growth_pct_day",
    "acceleration_pct",
    "items",
    "new_items",
    "creators",
    "peak_viewers",
    "avg_viewers",
    "viewer_minutes",
    "minutes_live",
    "price",
}


def _html(value: Any) -> str:
    """Scraped text as HTML text: control characters and escape sequences made safe, markup escaped."""
    return escape(safe_text(value))


def _html_table(report: TrendReport, metric: str) -> str:
    rows = report_rows(report)
    if not rows:
        return '<p class="muted">Nothing with a measurable rate in this window.</p>'
    names = headers(metric)
    cols = SECTION_COLUMNS[report.by]
    head = [TITLE_HEADERS[report.by] if c == "title" else names[c] for c in cols]
    out = ["<table><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr></thead><tbody>"]
    for row in rows:
        cells = []
        for c in cols:
            if c == "title":
                title = _html(row["title"] or row["id"])
                if row["url"]:
                    title = f'<a href="{escape(row["url"])}" rel="noopener noreferrer">{title}</a>'
                listings = (
                    f'<br><span class="muted">listings: {_html(row["members"])}</span>'
                    if row["members"]
                    else ""
                )
                cells.append(f'<td>{title}<br><span class="muted">{_html(row["id"])}</span>{listings}</td>')
            elif c == "basis":
                basis = escape(str(row["basis"]))
                if row["basis"] != "snapshots":
                    note = escape(BASIS_NOTES.get(str(row["basis"]), ""))
                    basis = f'<span class="flag" title="{note}">{basis}</span>'
                cells.append(f"<td>{basis}</td>")
            else:
                css = ' class="num"' if c in NUMERIC else ""
                cells.append(f"<td{css}>{_html(shown(c, row))}</td>")
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
            parts.append(
                "<table><thead><tr>"
                + "".join(f"<th>{escape(h)}</th>" for h in ROOM_PRODUCT_HEADERS)
                + "</tr></thead>"
            )
            for p in room["products"]:
                parts.append(
                    "<tr>" + "".join(f"<td>{_html(c)}</td>" for c in _room_product_cells(p)) + "</tr>"
                )
            parts.append("</table>")
    return parts


def render_html(data: ReportData) -> str:
    from indexer.charts import render_charts

    charts = render_charts(data)
    parts = [
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
        parts.append(_html_table(data.sections[by.value], data.metric))
        if by is TrendBy.live:
            parts += _html_live_rooms(data.live_rooms, charts)
    if "platforms" in charts:
        parts.append("<h2>Platform mix</h2>")
        parts.append(
            f'<img alt="{escape(captions["platforms"])}" src="data:image/png;base64,{charts["platforms"]}">'
        )
    parts.append("<h2>How to read this report</h2>")
    parts.append(
        '<ul class="muted">'
        + "".join(f"<li>{escape(n)}</li>" for n in reading_notes(data.sections, data.metric, data.canonical))
        + "</ul>"
    )
    parts += html_section(data.alerts)
    body = "\n".join(parts)
    # The font subset holds every character the report shows (its text, with the charts' base64 only ASCII).
    head = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f"<title>{_html(data.title)}</title><style>{font_face_css(body)}{_CSS}</style></head><body>"
    )
    return f"{head}\n{body}\n</body></html>\n"


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
    alerts: list[dict[str, Any]] | None = None,
    canonical: Mapping[str, Mapping[str, Any]] | None = None,
) -> ReportData:
    """Build the report and write it in the format the extension names; returns what it showed. `alerts`
    (Alert.to_json each, newest first) fill its Alerts section (docs/ALERTS.md); `canonical`: as build_report."""
    out = Path(out)
    kind = format_for(out)
    data = build_report(
        store,
        now=now,
        window=window,
        metric=metric,
        title=title,
        limit=limit,
        platform=platform,
        canonical=canonical,
    )
    data.alerts = list(alerts or [])
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
