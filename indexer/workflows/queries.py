"""The store's questions as one call each: search, trending rankings, reports (open, ask, close)."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

from indexer.embedder import Embedder
from indexer.store import Hit, SearchFilters, SearchMode, Store
from indexer.stores import StoreSpec
from indexer.trends import TrendBy, TrendReport
from indexer.workflows.errors import BadInput, BadRequest, NothingFound
from indexer.workflows.opening import opened

# The columns of a hit row (hit_rows).
HIT_FIELDS = (
    "rank",
    "score",
    "kind",
    "platform",
    "title",
    "views",
    "creator",
    "keyword_rank",
    "vector_rank",
    "id",
    "url",
)


def search_store(
    spec: StoreSpec,
    query: str,
    mode: SearchMode | str = SearchMode.hybrid,
    filters: SearchFilters | None = None,
    limit: int = 10,
    model_name: str | None = None,
    embedder: Embedder | None = None,
    min_similarity: float | None = None,
    trend_window: str | None = "24h",
    now: datetime | None = None,
    store: Store | None = None,
) -> list[Hit]:
    """Hits for `query`; keyword mode never builds (or loads) an embedder. `store`: this open store of
    `spec` instead of opening one (a server's warm store: its vector index stays loaded). `min_similarity`: the floor of
    hits that matched no keyword (None: TRENDCART_VECTOR_FLOOR or the model's own). Each hit whose entity
    has a trend in `trend_window` carries it (`trend`: score and components; indexer.trend_query)."""
    from indexer.search import search
    from indexer.trend_query import add_hit_trends

    mode = SearchMode(mode)
    # Reading never creates a store: StoreMissing (exit 3).
    with nullcontext(store) if store is not None else opened(spec, model_name) as store:
        if mode is not SearchMode.keyword and embedder is None:
            embedder = Embedder(model_name)
        hits = search(store, query, mode, filters, limit, embedder=embedder, min_similarity=min_similarity)
        if trend_window and hits:
            book = _book(spec) if any(h.doc.get("kind") == "product" for h in hits) else None
            try:
                canonical = book.canonical_map() if book is not None else None
                add_hit_trends(store, hits, trend_window, now=now, canonical=canonical)
            finally:
                if book is not None:
                    book.close()
        return hits


def hit_rows(hits: list[Hit]) -> list[dict[str, Any]]:
    """One flat row per hit (HIT_FIELDS): what the hit table and `search --format csv` show."""
    rows = []
    for rank, hit in enumerate(hits, start=1):
        doc, why = hit.doc, hit.explain
        rows.append(
            {
                "rank": rank,
                "score": hit.score,
                "kind": doc.get("kind") or "",
                "platform": doc.get("platform") or "",
                "title": doc.get("title") or doc.get("name") or "",
                "views": (doc.get("metrics") or {}).get("views"),
                "creator": (doc.get("creator") or {}).get("name") or "",
                "keyword_rank": why.get("keyword_rank"),
                "vector_rank": why.get("vector_rank"),
                "id": hit.id,
                "url": doc.get("url"),
            }
        )
    return rows


def rank_trending(
    spec: StoreSpec,
    by: TrendBy | str = TrendBy.product,
    window: str = "24h",
    metric: str = "views",
    limit: int = 20,
    platform: str | None = None,
    now: datetime | None = None,
    model_name: str | None = None,
    query: str | None = None,
    embedder: Embedder | None = None,
    listings: bool = False,
    mentions: bool = False,
    cache: Any = None,
) -> TrendReport:
    """The ranking as of `now` (default: the clock) from an existing store; BadRequest for a bad window/metric.
    `cache`: an indexer.trend_cache.TrendCache of an evaluation still open (a crawl's watch check) to rank from.
    `query`: only the rows related to what hybrid search finds for it (indexer.trend_query.narrow). Product
    rows are canonical products when the store has a product file (one row per product, its `canonical`
    {id, members, platforms}; `listings`: one row per source listing, each naming its canonical product) and
    carry their FACT split (`fact`, `fact_sales` where sales are public; `mentions`: content that names the
    product without linking it, in `fact.mentions`, needs the model); creator rows name their products."""
    from indexer.trend_query import add_creator_products, add_fact, narrow
    from indexer.trends import TrendEngine

    book = _book(spec) if TrendBy(by) is TrendBy.product else None
    try:
        canonical = book.canonical_map() if book is not None and not listings else None
        with opened(spec, model_name) as store:
            try:
                report = TrendEngine(store, canonical=canonical, cache=cache).trending(
                    by=by,
                    window=window,
                    metric=metric,
                    limit=0 if query else limit,
                    platform=platform,
                    now=now,
                )
            except ValueError as exc:
                raise BadRequest(str(exc)) from exc
            if (query or mentions) and embedder is None:
                embedder = Embedder(model_name)
            if query:
                report = narrow(store, report, query, embedder, limit)
            add_fact(store, report, mentions_by=embedder if mentions else None)
            add_creator_products(store, report)
        if book is not None and listings:
            from indexer.trend_query import add_canonical

            add_canonical(report, book)
    finally:
        if book is not None:
            book.close()
    return report


def _book(spec: StoreSpec) -> Any:
    """The store's product file (indexer.products.ProductBook) when there is one, else None."""
    from indexer.products import ProductBook
    from indexer.workflows.products import book_path

    path = book_path(spec)
    return ProductBook(path) if path.is_file() else None


def write_store_report(
    spec: StoreSpec,
    out: Path,
    now: datetime,
    window: str = "24h",
    metric: str | None = None,
    title: str | None = None,
    limit: int = 10,
    platform: str | None = None,
    model_name: str | None = None,
) -> dict[str, Any]:
    """Write the report (format from `out`'s extension) and return what it shows as JSON: `out`, `now`,
    `window`, `sections`. BadRequest for an unknown extension, NothingFound for an empty store, BadInput
    when `out` cannot be written."""
    from indexer.reports import format_for, write_report
    from indexer.workflows.report_products import canonical_of

    try:
        format_for(out)
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    with opened(spec, model_name) as store:
        if store.count() == 0:
            raise NothingFound(f"the store {spec} is empty: crawl or index something first")
        try:
            data = write_report(
                store,
                out,
                now=now,
                window=window,
                metric=metric,
                title=title,
                limit=limit,
                platform=platform,
                canonical=canonical_of(spec),  # canonical products when the store has a product file
            )
        except OSError as exc:
            raise BadInput(f"cannot write {out}: {exc}") from exc
    return {
        "out": str(out),
        "now": data.sections["product"].to_json()["now"],
        "window": window,
        "sections": {by: r.to_json() for by, r in data.sections.items()},
    }
