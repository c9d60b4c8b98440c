"""Plain-text views of workflow results (tables of formatted cells, summary lines) for any face to render."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from crawler.run import CrawlResult
from indexer import formatting
from indexer.formatting import count
from indexer.safetext import csv_document, safe_text, tame_json
from indexer.store import Hit
from indexer.trends import TrendReport
from indexer.workflows.errors import BadRequest

# Widest title cell in the hit and trend tables (the JSON and CSV forms keep titles whole); creator names are
# cut to CREATOR_WIDTH display columns so that a long name never pushes a number out of the table.
HIT_TITLE_WIDTH, TREND_TITLE_WIDTH, CREATOR_WIDTH = 80, 60, 20
# Hit table columns cut with an ellipsis rather than wrapped, so that each hit stays on one line.
HIT_NO_WRAP = ("id", "title", "why", "relevance")
# The room a table gives its title column at least before it leaves out its optional columns (TableView.optional).
TITLE_MIN_WIDTH = 20
# What a terminal table adds to its cells' widths: padding and a border per column, one more border.
COLUMN_OVERHEAD, TABLE_OVERHEAD = 3, 1
# How the trend table shows a row's basis, and what each label means (said below the table when it appears).
BASIS_LABELS = {
    "snapshots": "snapshots",
    "since_published": "since_published (!)",
    "mixed": "partly once (!)",
    "gauge": "viewer curve",
    "none": "-",
}
BASIS_NOTES = {
    "since_published": "since_published (!): seen once, so the rate is its metric per hour since publication",
    "mixed": "partly once (!): some of its videos/lives were seen once and count per hour since publication",
    "gauge": "viewer curve: lives ranked by viewer-minutes in the window (viewers are a gauge, not a counter)",
}


class OutputFormat(str, Enum):
    """What a command prints on stdout: a table (default), one JSON document, or CSV rows."""

    table = "table"
    json = "json"
    csv = "csv"


def choose_format(
    fmt: OutputFormat | None, as_json: bool = False, as_csv: bool = False, rows: bool = False
) -> OutputFormat:
    """The one format from `--format` and its aliases `--json`/`--csv`; csv only where the output has `rows`.
    BadRequest when the aliases or the format disagree."""
    if as_json and as_csv:
        raise BadRequest("choose one of --json and --csv")
    alias = OutputFormat.json if as_json else OutputFormat.csv if as_csv else None
    if fmt is not None and alias is not None and fmt is not alias:
        raise BadRequest(f"--format {fmt.value} and --{alias.value} disagree: give one of them")
    chosen = fmt or alias or OutputFormat.table
    if chosen is OutputFormat.csv and not rows:
        raise BadRequest("this command has no rows to print as CSV: use --format table or json")
    return chosen


def json_text(data: Any) -> str:
    """The JSON document a command prints: indented, non-ASCII kept (but not the characters a terminal acts
    on: safetext.tame_json), anything else as its str()."""
    return tame_json(json.dumps(data, ensure_ascii=False, indent=2, default=str)) + "\n"


def csv_text(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows as CSV with a header of `columns` (other keys left out; None as an empty cell; text cells
    spreadsheet-safe: safetext.csv_cell)."""
    return csv_document(columns, rows)


def cell(value: Any, width: int | None = None) -> str:
    """A table cell from a scraped value of any type: safe text (safetext.safe_text), cut to `width`."""
    text = safe_text("" if value is None else value)
    return text if width is None else text[:width]


@dataclass
class TableView:
    """A table as strings: `right` names the right-aligned (numeric) columns, `no_wrap` those cut, not wrapped;
    `flex` is the column that takes the room left (the title), `optional` the columns left out, in this order,
    when the table does not fit its width (fit), and `notes` explain what the table shows."""

    columns: list[str]
    rows: list[list[str]]
    title: str | None = None
    right: set[str] = field(default_factory=set)
    no_wrap: tuple[str, ...] = ()
    flex: str | None = None
    optional: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)


def display_width(text: str) -> int:
    """Columns `text` takes on a terminal: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def column_width(view: TableView, name: str) -> int:
    """The width column `name` needs to show its header and every cell whole."""
    i = view.columns.index(name)
    return max([display_width(name), *(display_width(row[i]) for row in view.rows)])


def fit(view: TableView, width: int) -> tuple[TableView, list[str], int | None]:
    """`view` for a terminal `width` columns wide: every column but `flex` keeps its header and cells whole,
    and the optional columns are left out, in their order, until `flex` has TITLE_MIN_WIDTH or more. Returns
    the view, the names left out (the JSON and CSV forms keep them all) and the width `flex` gets (None
    without a flex column)."""
    shown = list(view.columns)

    def room() -> int:
        fixed = sum(column_width(view, c) for c in shown if c != view.flex)
        return width - fixed - COLUMN_OVERHEAD * len(shown) - TABLE_OVERHEAD

    left_out = []
    for name in view.optional:
        if room() >= TITLE_MIN_WIDTH:
            break
        if name in shown:
            shown.remove(name)
            left_out.append(name)
    flex_width = None
    if view.flex in shown:
        flex_width = max(min(column_width(view, view.flex), room()), display_width(view.flex), 1)
    if not left_out:
        return view, [], flex_width
    keep = [view.columns.index(c) for c in shown]
    fitted = TableView(
        shown,
        [[row[i] for i in keep] for row in view.rows],
        view.title,
        view.right & set(shown),
        tuple(c for c in view.no_wrap if c in shown),
        view.flex,
        (),
        view.notes,
    )
    return fitted, left_out, flex_width


def left_out_note(names: list[str], width: int) -> str:
    """The line that says which columns a table left out to fit `width` columns, and where they are."""
    return f"{', '.join(names)} left out to fit {width} columns: widen the terminal, or see --json / --csv"


def hits_table(rows: list[dict[str, Any]]) -> TableView:
    """The hit table from queries.hit_rows: rank, relevance (0-100 of the best hit's fused score, and a word;
    the raw score is in --json and --csv), kind, platform, title, views, creator, why, id."""
    best = max((row["score"] for row in rows), default=None)
    cells = []
    for row in rows:
        reasons = [f"kw #{row['keyword_rank']}" if row["keyword_rank"] else ""]
        reasons.append(f"vec #{row['vector_rank']}" if row["vector_rank"] else "")
        points = formatting.relevance(row["score"], best)
        cells.append(
            [
                str(row["rank"]),
                f"{points} {formatting.relevance_word(points)}" if points is not None else formatting.MISSING,
                row["kind"],
                row["platform"],
                cell(row["title"], HIT_TITLE_WIDTH),
                count(row["views"]) if row["views"] is not None else "",
                short(row["creator"], CREATOR_WIDTH),
                " · ".join(r for r in reasons if r),
                cell(row["id"]),
            ]
        )
    columns = ["#", "relevance", "kind", "platform", "title", "views", "creator", "why", "id"]
    return TableView(
        columns,
        cells,
        right={"#", "relevance", "views"},
        no_wrap=HIT_NO_WRAP,
        flex="title",
        optional=("id", "creator", "why", "platform"),
    )


def short(value: Any, width: int) -> str:
    """A cell of at most `width` display columns, cut with an ellipsis."""
    text = cell(value)
    if display_width(text) <= width:
        return text
    while display_width(text) > width - 1:
        text = text[:-1]
    return text + "…"


def trend_table(report: TrendReport) -> TableView:
    """A ranking with its components (formatting: one format per quantity); a basis other than snapshots is
    flagged and explained in the notes (BASIS_NOTES)."""
    from indexer.report_rows import rows_of

    rows = rows_of(report)
    rate = f"{report.metric}/h"
    # A creator's own row counts its videos and lives, never "creators" (always 1 for a creator).
    breadth, breadth_key = ("videos", "items") if report.by == "creator" else ("creators", "creators")
    columns = ["#", "title", "score", rate, "growth/day", "accel", "basis", breadth, "new"]
    cells = [
        [
            str(row["rank"]),
            cell(row["title"], TREND_TITLE_WIDTH),
            formatting.score(row["score"]),
            formatting.rate(row["velocity"]),
            formatting.percent(row["growth_pct_day"], signed=True),
            formatting.percent(row["acceleration_pct"], signed=True),
            BASIS_LABELS.get(row["basis"], str(row["basis"])),
            count(row[breadth_key]),
            count(row["new_items"]),
            row["platforms"],
            row["id"],
        ]
        for row in rows
    ]
    title = (
        f"trending {report.by}s · {report.metric} · last {report.window} · as of {report.to_json()['now']}"
    )
    right = {"#", "score", rate, "growth/day", "accel", breadth, "new"}
    optional = ["id", "platforms", "new", breadth, "accel", "growth/day"]
    if report.by == "live":  # viewers are a gauge: peak, average, viewer-minutes beside the counter's rate
        live = {"peak": "peak_viewers", "avg viewers": "avg_viewers", "viewer-min": "viewer_minutes"}
        live["min live"] = "minutes_live"
        for row_cells, row in zip(cells, rows, strict=True):
            row_cells[-2:-2] = [count(row[key]) for key in live.values()]
        columns += list(live)
        right |= set(live)
        optional = [
            "id",
            "platforms",
            "new",
            "creators",
            "basis",
            "min live",
            "avg viewers",
            "accel",
            "growth/day",
        ]
    notes = [BASIS_NOTES[b] for b in BASIS_NOTES if any(row["basis"] == b for row in rows)]
    view = TableView(
        [*columns, "platforms", "id"],
        cells,
        title,
        right,
        flex="title",
        optional=tuple(optional),
        notes=notes,
    )
    return without_empty(view, (breadth, "new"))


def without_empty(view: TableView, names: Sequence[str]) -> TableView:
    """`view` without those of the columns `names` that hold nothing in any row (videos have no creators
    count, for one); the JSON and CSV forms keep them."""
    empty = {n for n in names if all(row[view.columns.index(n)] == formatting.MISSING for row in view.rows)}
    if not empty or not view.rows:
        return view
    keep = [i for i, name in enumerate(view.columns) if name not in empty]
    view.columns = [view.columns[i] for i in keep]
    view.rows = [[row[i] for i in keep] for row in view.rows]
    view.right -= empty
    view.optional = tuple(n for n in view.optional if n not in empty)
    return view


def nothing_trending(report: TrendReport) -> str:
    """Why a ranking came back empty, in words: what was observed in the window and what to do."""
    by = report.by
    seen = {"video": "videos", "live": "lives"}.get(by, "videos and lives")
    if by == "product" and report.metric == "sales":
        seen = "products"
    return (
        f"nothing trending: {count(report.considered)} {seen} observed in the last {report.window}, "
        f"{count(report.skipped_no_rate)} without a rate. Crawl again later (trends need two snapshots or a "
        "publication time) or widen --window."
    )


def matrix_table(info: dict[str, Any]) -> TableView:
    """`stats`: documents by platform x kind (overview.matrix_rows), titled with the store; kinds the store
    holds none of are left out of the table (the JSON and CSV keep every kind)."""
    from indexer.workflows.overview import MATRIX_COLUMNS, matrix_rows

    rows = matrix_rows(info)
    shown = [c for c in MATRIX_COLUMNS if c in ("platform", "total") or rows[-1].get(c)]
    cells = [[str(row["platform"]), *(count(row[c]) for c in shown[1:])] for row in rows]
    title = f"{info['backend']} store {info['location']}"
    return TableView(shown, cells, title, right=set(shown[1:]))


def stats_lines(info: dict[str, Any]) -> list[str]:
    """`stats` below its table: snapshots, vectors, model, observed range, the crawl log in one, size."""
    lines = [
        f"snapshots      {count(info['snapshots'])}",
        f"vectors        {count(info['vectors'])}",
        f"model          {info['model'] or '-'}" + (f" ({info['dim']} dims)" if info["dim"] else ""),
        f"observed       {info['first_observed'] or '-'} .. {info['last_observed'] or '-'}",
        f"crawls         {crawls_line(info.get('crawls'))}",
    ]
    crawl = info["last_crawl"]
    if crawl:
        lines.append(
            f"last crawl     {crawl.get('finished_at')} {crawl.get('spider')}: {count(crawl.get('items_total'))} "
            f"items, {count(crawl.get('errors_total'))} errors, {count(crawl.get('blocked_total'))} blocked"
        )
    if info.get("size_bytes"):
        lines.append(f"size           {formatting.megabytes(info['size_bytes'])}")
    return lines


def crawls_line(crawls: dict[str, Any] | None) -> str:
    """The crawl log in one line (overview.crawl_summary): how many, over which span, what they found."""
    if not crawls:
        return "- (none logged)"
    span = f"{crawls['first']} .. {crawls['last']}" if crawls["first"] != crawls["last"] else crawls["last"]
    spiders = ", ".join(f"{name} {count(n)}" for name, n in sorted(crawls["by_spider"].items()))
    return (
        f"{count(crawls['count'])} logged, {span}: {count(crawls['items'])} items, {count(crawls['errors'])} "
        f"errors, {count(crawls['blocked'])} blocked ({spiders})"
    )


def crawl_headline(result: CrawlResult) -> str:
    indexed = f"; {count(result.indexed)} indexed into {result.store}" if result.indexed is not None else ""
    stopped = " (interrupted)" if result.interrupted else ""
    return (
        f"crawl {result.spider}{stopped}: {count(result.items_total)} items, {count(result.errors_total)} errors, "
        f"{count(result.blocked_total)} blocked pages, {count(result.pages)} pages in {result.elapsed_s:.1f} s"
        f"{indexed}"
    )


def crawl_note(result: CrawlResult) -> str | None:
    """The line after a crawl's summary that says what to do next: resume an interrupted crawl, why
    nothing was found (a finished job dir, or errors), or None when it went well."""
    if result.interrupted:
        if result.job_dir:
            return f"interrupted: run the same command again to resume the job in {result.job_dir}"
        return "interrupted: without --job-dir, running it again starts over"
    if result.items_total:
        return None
    if result.job_dir and result.job_finished_at and result.requests == 0:
        return f"nothing left to crawl in {result.job_dir}: the job finished on {result.job_finished_at}"
    return "no items: see the errors above, or run `trendcart extract URL` on one start page"


def crawl_progress(result: CrawlResult) -> str:
    """The live progress line of a running crawl."""
    counts = f"{count(result.items_total)} items · {count(result.errors_total)} errors"
    return f"crawl {result.spider}: {count(result.pages)} pages · {counts} · {count(result.blocked_total)} blocked"


def crawl_table(result: CrawlResult) -> TableView:
    """Every counter of a crawl: items by kind, errors by reason, blocked pages by platform, drops by reason."""
    groups = (("items", result.items), ("errors", result.errors), ("blocked", result.blocked))
    rows = [
        [group, name, count(n)]
        for group, values in (*groups, ("dropped", result.dropped))
        for name, n in sorted(values.items())
    ]
    return TableView(["what", "name", "count"], rows, right={"count"})


def index_lines(files: list[dict[str, Any]], shown_errors: int) -> list[str]:
    """Per file (IndexRun.to_json()['files']): its counts, then its first `shown_errors` invalid lines."""
    lines = []
    for entry in files:
        lines.append(
            f"{entry['path']}: {count(entry['added'])} added, {count(entry['updated'])} updated "
            f"({count(entry['unchanged_text'])} with unchanged text, {count(entry['embedded'])} embedded), "
            f"{count(entry['skipped_invalid'])} invalid, {entry['seconds']:.1f} s"
        )
        lines += [f"  {entry['path']}:{e['line']}: {e['reason']}" for e in entry["errors"][:shown_errors]]
        if entry["skipped_invalid"] > shown_errors:
            lines.append(f"  ... and {entry['skipped_invalid'] - shown_errors} more (see --json)")
    return lines


def search_lines(searches: dict[str, list[Hit]], title_width: int = 70) -> list[str]:
    """The demo's searches: the query, then its hits' titles with platform and kind."""
    lines = []
    for query, hits in searches.items():
        lines.append(f"\nsearch {query!r}:")
        for i, hit in enumerate(hits, start=1):
            doc = hit.doc
            lines.append(
                f"  {i}. {(doc.get('title') or '')[:title_width]}  [{doc.get('platform')} {doc.get('kind')}]"
            )
    return lines


def demo_next_steps(result: Any, program: str = "trendcart") -> str:
    """The demo's closing message (a demo.DemoResult): what it did, then commands to try on its store, typed
    as `program` (`.venv/bin/trendcart` when trendcart is not on PATH)."""
    run = f"{program} --store {result.store}"
    return (
        f"\ndemo done in {result.seconds:.0f} s: {count(result.crawl['items'])} items crawled over "
        f"{len(result.crawl['days'])} days, {count(result.documents)} documents and "
        f"{count(result.snapshots)} snapshots in {result.store}; report: {result.report}\n"
        f"try next (on this store, --now defaults to the demo's clock, {result.base}):\n"
        f"  {run} trending --by video --window 24h\n"
        f"  {run} trending --by hashtag --metric likes --json\n"
        f'  {run} search "平价口红" --platform web\n'
        f"  {run} report --out my-report.md\n"
        f"  {run} stats\n"
        f"  open {result.report}"
    )


def products_table(products: list[dict[str, Any]]) -> TableView:
    """Canonical products (products.list_products): id, platforms, members, confidence, title."""
    rows = [
        [
            cell(p["id"]),
            cell(", ".join(p["platforms"])),
            count(len(p["members"])),
            formatting.confidence(p["confidence"]),
            cell(p["title"], TREND_TITLE_WIDTH),
        ]
        for p in products
    ]
    return TableView(
        ["id", "platforms", "members", "confidence", "title"],
        rows,
        "Canonical products",
        {"members", "confidence"},
        flex="title",
        optional=("platforms", "confidence"),  # the id stays: it is what `product show` takes
    )


def product_lines(product: dict[str, Any]) -> list[str]:
    """One canonical product (products.show_product) as lines: members with their evidence, prices, links, sales."""
    shown = [
        f"{product['id']}  {safe_text(product['title'])}  ({', '.join(product['platforms'])})",
        "members:",
    ]
    for m in product["members"]:
        price = formatting.price(m["price"], m["currency"]) if m["price"] is not None else "no price"
        rule = m["evidence"].get("rule", "")
        shown.append(f"  {m['id']}  {price}  [{m['source']}, {m['confidence']:.2f}: {safe_text(rule)}]")
        shown.append(f"      {safe_text(m['title'])}")
    for currency, p in product["prices"]["by_currency"].items():
        changes = p.get("history", [])
        seen = (
            " -> ".join(formatting.price(h["price"]) for h in changes[-6:])
            if len(changes) > p["listings"]
            else ""
        )
        history = f"; seen {seen}" if seen else ""
        span = f"{formatting.price(p['min'])} - {formatting.price(p['max'], currency)}"
        shown.append(f"price {currency}: {span} over {p['listings']} listing(s){history}")
    if "converted" in product["prices"]:
        c = product["prices"]["converted"]
        span = f"{formatting.price(c['min'])} - {formatting.price(c['max'], c['currency'])}"
        shown.append(f"price in {c['currency']}: {span} (ECB rate of {c['rate_date']})")
    shown.append(f"linked from {len(product['links'])} video(s)/live(s):")
    for link in product["links"]:
        shown.append(f"  {link['id']}  {safe_text(link['creator'] or '-')}  {safe_text(link['title'] or '')}")
    if product.get("mentions"):
        shown.append(f"mentioned without a link in {len(product['mentions'])} video(s)/live(s):")
        for m in product["mentions"]:
            who = safe_text(m["creator"] or "-")
            shown.append(f"  {m['id']}  {who}  [{m['confidence']:.2f}]  {safe_text(m['title'] or '')}")
    if product["sales"]:
        shown.append("sales: " + " -> ".join(count(s["sales"]) for s in product["sales"]))
    g = product.get("gmv") or {}
    if g.get("by_currency"):
        est = ", ".join(formatting.price(amount, code) for code, amount in g["by_currency"].items())
        conv = g.get("converted")
        conv_text = (
            f" = {formatting.price(conv['amount'], conv['currency'])} (ECB rate of {conv['rate_date']})"
            if conv
            else ""
        )
        shown.append(f"GMV in the window (sales gained x price): {est}{conv_text}")
    q = product.get("quality") or {}
    if q.get("listings"):
        rating = f"rating {q['rating']} (review-weighted)" if q.get("rating") is not None else "no rating"
        shown.append(
            f"quality: {rating}, {count(q['review_count'] or 0)} reviews over {len(q['listings'])} listing(s)"
        )
    shown.extend(fact_lines(product.get("fact")))
    return shown


def fact_lines(fact: dict[str, Any] | None) -> list[str]:
    """The FACT block: each part's share of the gain, its top contributors and its rule; then campaign."""
    if not fact or not fact.get("total"):
        return ["FACT: no gain in the window (needs two observations of a linking video or live)"]
    shown = [f"FACT of {count(fact['total'])} {fact['metric']} gained in the window:"]
    for part in ("field", "alliance", "top_kol"):
        p = fact[part]
        who = ", ".join(f"{safe_text(c['creator'])} {count(c['gain'])}" for c in p["contributors"][:3]) or "-"
        shown.append(f"  {part:<9}{formatting.share(p['share'] or 0):>7}  {who}  ({p['rule']})")
    c = fact["campaign"]
    names = ", ".join(c["campaigns"]) or "none"
    shown.append(f"  campaign {formatting.share(c['share'] or 0):>7}  {names}  ({c['rule']})")
    m = fact.get("mentions")
    if m and m.get("total"):  # content naming it unlinked: apart, never inside the shares above
        shown.append(
            f"  mentions: {count(m['total'])} {fact['metric']} more from {len(m['content'])} video(s)/live(s) "
            "that name it without a link (not in the shares above)"
        )
    return shown


def creator_lines(creator: dict[str, Any]) -> list[str]:
    """One creator (creators.show_creator) as lines: who, tier and followers, products, videos and lives."""
    name = safe_text(creator["name"] or creator["handle"] or creator["id"] or "?")
    f = creator["followers"]
    grow = (
        f" ({'+' if f['growth'] >= 0 else '-'}{count(abs(f['growth']))} since {f['first_at']})" if f else ""
    )
    shown = [f"{name}  {', '.join(creator['platforms'])}  tier {creator['tier'] or '?'}"]
    shown.append(f"followers: {count(f['latest'])}{grow}" if f else "followers: unknown")
    shown.append(f"products pushed: {len(creator['products'])}")
    for p in creator["products"]:
        shown.append(f"  {p['id']}  {safe_text(p['title'] or '')}  in {len(p['content'])} video(s)/live(s)")
    for kind in ("videos", "lives"):
        shown.append(f"{kind}: {len(creator[kind])}")
        for c in creator[kind]:
            views = count(c["views"]) if c["views"] is not None else "-"
            shown.append(f"  {c['id']}  {views} views  {safe_text(c['title'] or '')}")
    return shown
