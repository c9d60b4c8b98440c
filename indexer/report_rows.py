"""Report rows: a ranking's rows (snake_case, for the CLI) and the report's columns (human names, links, prices)."""

from __future__ import annotations

from typing import Any

from indexer import formatting
from indexer.trends import TrendBy, TrendReport

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
    """A ranking's rows with snake_case keys (the CLI's `trending --format csv` and its views)."""
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


# -- rendering: the report's own columns (human names, links, prices) ------------------------------
# What each section's first text column holds.
TITLE_HEADERS = {
    "product": "Product",
    "video": "Video",
    "live": "Live room",
    "hashtag": "Hashtag",
    "creator": "Creator",
}
# The report table columns of each section, in order (keys of report_rows). A creator row counts its videos
# and lives ("items"), never "creators" (always 1 for a creator).
SECTION_COLUMNS = {
    "product": (
        "rank",
        "title",
        "price",
        "score",
        "velocity",
        "growth_pct_day",
        "acceleration_pct",
        "basis",
        "creators",
        "items",
        "new_items",
        "platforms",
    ),
    "video": (
        "rank",
        "title",
        "creator",
        "score",
        "velocity",
        "growth_pct_day",
        "acceleration_pct",
        "basis",
        "platforms",
    ),
    "live": (
        "rank",
        "title",
        "creator",
        "score",
        "peak_viewers",
        "avg_viewers",
        "viewer_minutes",
        "velocity",
        "basis",
        "platforms",
    ),
    "hashtag": (
        "rank",
        "title",
        "score",
        "velocity",
        "growth_pct_day",
        "acceleration_pct",
        "basis",
        "creators",
        "items",
        "new_items",
        "platforms",
    ),
    "creator": (
        "rank",
        "title",
        "score",
        "velocity",
        "growth_pct_day",
        "acceleration_pct",
        "basis",
        "items",
        "new_items",
        "platforms",
    ),
}
# Every CSV column of the report: the section ("ranking") first, then the union of the sections' columns.
CSV_COLUMNS = (
    "by",
    "rank",
    "id",
    "title",
    "url",
    "price",
    "price_max",
    "currency",
    "creator",
    "score",
    "velocity",
    "growth_pct_day",
    "acceleration_pct",
    "basis",
    "items",
    "new_items",
    "creators",
    "platforms",
    *LIVE_COLUMNS,
    "members",
)


def headers(metric: str) -> dict[str, str]:
    """The column names a reader sees, for a ranking by `metric`."""
    return {
        "by": "Ranking",
        "rank": "#",
        "id": "ID",
        "title": "Title",
        "url": "Link",
        "price": "Price",
        "price_max": "Highest price",
        "currency": "Currency",
        "creator": "Creator",
        "score": "Trend score",
        "velocity": f"{metric.replace('_', ' ').capitalize()} per hour",
        "growth_pct_day": "Growth % per day",
        "acceleration_pct": "Acceleration %",
        "basis": "Basis",
        "items": "Videos and lives",
        "new_items": "New in window",
        "creators": "Creators",
        "platforms": "Platforms",
        "peak_viewers": "Peak viewers",
        "peak_at": "Peak at",
        "avg_viewers": "Average viewers",
        "viewer_minutes": "Viewer-minutes",
        "minutes_live": "Minutes live",
        "views_per_hour": "Live views per hour",
        "members": "Listings",
    }


# What each basis means, said in the report itself wherever the basis appears (never a link to the docs).
BASIS_NOTES = {
    "snapshots": "measured: the gain between the first and the last observation in the window, per hour",
    "since_published": "estimated from a single observation: its total divided by the hours since "
    "publication (a rough rate; it firms up at the next crawl)",
    "mixed": "a group (product, hashtag or creator) whose videos and lives are partly measured "
    "(snapshots) and partly estimated since publication (since_published)",
    "gauge": "a live room ranked by its viewer curve (peak, average, viewer-minutes), not by a growth rate",
    "none": "no rate could be computed",
}
# What a product row stands for: a canonical product (the store's product file) or one source listing.
PRODUCT_NOTES = {
    True: "Each product row is a canonical product: the listings that sell the same product (on one platform "
    "or several) grouped into one row, its listings named under it (“Listings”); content that links two of "
    "its listings counts once, and its FACT split covers every listing.",
    False: "Each product row is one source listing: this store has no product file yet, so the same product "
    "sold as several listings appears once per listing (`trendcart product list` groups them).",
}
SCORE_NOTE = (
    "Trend score = log10(1 + velocity) × growth factor × acceleration factor × breadth factor. Velocity is "
    "the {metric} gained per hour in the window; growth is that gain relative to where it started (% per "
    "day); acceleration compares the velocity with the window before (+ speeding up, − slowing down); "
    "breadth rewards products and hashtags that several creators carry. “New in window”: published (or "
    "first seen) inside the window."
)


def report_rows(report: TrendReport) -> list[dict[str, Any]]:
    """rows_of plus what a reader of the report needs: the link, the price and its currency, the creator."""
    rows = []
    for row, r in zip(rows_of(report), report.results, strict=True):
        extra = r.extra
        rows.append(
            {
                **row,
                "url": r.url if r.url and r.url.startswith(("http://", "https://")) else None,
                "price": extra.get("price"),
                "price_max": extra.get("price_max"),
                "currency": extra.get("currency"),
                "creator": extra.get("creator"),
                "members": ", ".join((extra.get("canonical") or {}).get("members") or []) or None,
            }
        )
    return rows


def shown(key: str, row: dict[str, Any]) -> str:
    """One cell as text, in the number format of its quantity (indexer/formatting.py)."""
    value = row.get(key)
    if key == "price":
        return price_range(row)
    if key == "title":
        return str(value or row.get("id") or formatting.MISSING)
    if key in ("velocity", "views_per_hour"):
        return formatting.rate(value)
    if key in ("growth_pct_day",):
        return formatting.percent(value)
    if key == "acceleration_pct":
        return formatting.percent(value, signed=True)
    if key == "score":
        return formatting.score(value)
    if key in (
        "items",
        "new_items",
        "creators",
        "peak_viewers",
        "avg_viewers",
        "viewer_minutes",
        "minutes_live",
    ):
        return formatting.count(value)
    return formatting.MISSING if value in (None, "") else str(value)


def price_range(row: dict[str, Any]) -> str:
    """12.50 CNY, or 12.50–19.90 CNY for a range; – without a price."""
    low, high, currency = row.get("price"), row.get("price_max"), row.get("currency")
    if not isinstance(low, (int, float)):
        return formatting.MISSING
    if isinstance(high, (int, float)) and high > low:
        return f"{formatting.price(low)}–{formatting.price(high, currency)}"
    return formatting.price(low, currency)


def bases_shown(sections: dict[str, TrendReport]) -> list[str]:
    """The bases that appear in the report's tables, in BASIS_NOTES order."""
    seen = {r.components.get("basis") for report in sections.values() for r in report.results}
    return [basis for basis in BASIS_NOTES if basis in seen]


def reading_notes(sections: dict[str, TrendReport], metric: str, canonical: bool | None = None) -> list[str]:
    """How to read the report: what a product row stands for (`canonical`: canonical products or listings;
    None says nothing), the score, then every basis that appears (the reader has no docs)."""
    notes = [SCORE_NOTE.format(metric=metric)]
    product = sections.get("product")
    if canonical is not None and product is not None and product.results:
        notes.insert(0, PRODUCT_NOTES[canonical])
    notes += [f"Basis “{basis}”: {BASIS_NOTES[basis]}." for basis in bases_shown(sections)]
    return notes
