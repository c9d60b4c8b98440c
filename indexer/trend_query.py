"""Trend rankings narrowed to things like a query (`trending --query`), and the FACT object of product rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from indexer.campaigns import Campaign, load_campaigns
from indexer.fact import breakdown, contributions, mention_block, own_accounts
from indexer.mentions import find_mentions
from indexer.search import search
from indexer.store import SearchFilters, SearchMode, Store
from indexer.trends import TrendEngine, TrendReport, TrendResult, creator_key_of

# Search hits a query brings before the ranking is narrowed to them: far more than a ranking shows, so that
# a product linked from the 150th most similar video still counts; the model's similarity floor still holds.
QUERY_HITS = 200


def creator_keys(doc: Mapping[str, Any]) -> set[str]:
    creator = doc.get("creator") or {}
    return {
        str(creator.get(k)).strip().lower().lstrip("@") for k in ("id", "name", "handle") if creator.get(k)
    }


def _matches(result: TrendResult, hits: Mapping[str, Any]) -> list[str]:
    """The ids of the hits that stand for a ranked row: the row itself, a hit that links the product, a hit
    by the creator, or one carrying the hashtag."""
    own = row_members(result) if result.by == "product" else set()
    found = [k for k in [result.key, *sorted(own - {result.key})] if k in hits]
    for hit_id, doc in hits.items():
        if hit_id in found:
            continue
        if result.by == "product":
            refs = {r.get("id") or r.get("url") for r in doc.get("products") or [] if isinstance(r, dict)}
            if refs & row_members(result):
                found.append(hit_id)
        elif result.by == "creator":
            if result.key.strip().lower().lstrip("@") in creator_keys(doc) or (
                result.title and result.title.strip().lower() in creator_keys(doc)
            ):
                found.append(hit_id)
        elif result.by == "hashtag":
            if result.key in {str(t).strip().lower() for t in doc.get("hashtags") or []}:
                found.append(hit_id)
    return found


def narrow(store: Store, report: TrendReport, query: str, embedder: Any, limit: int) -> TrendReport:
    """The ranked rows related to what hybrid search finds for `query` (semantic + keyword, the model's
    floor), in their ranking order, each with `query` {hits, best_score}; ranks renumbered."""
    hits = search(store, query, SearchMode.hybrid, None, QUERY_HITS, embedder=embedder)
    by_id = {h.id: h.doc for h in hits}
    scores = {h.id: h.score for h in hits}
    kept: list[TrendResult] = []
    for result in report.results:
        related = _matches(result, by_id)
        if related:
            extra = {
                **result.extra,
                "query": {"hits": related[:10], "best_score": max(scores[i] for i in related)},
            }
            kept.append(replace(result, extra=extra, rank=len(kept) + 1))
        if len(kept) >= limit:
            break
    return replace(report, results=kept)


def row_members(result: TrendResult) -> set[str]:
    """The source product ids a product row stands for: its canonical product's members, else itself."""
    canonical = result.extra.get("canonical") if result.key.startswith("cp-") else None
    return set(canonical["members"]) if canonical else {result.key}


def add_fact(
    store: Store, report: TrendReport, campaigns: list[Campaign] | None = None, mentions_by: Any = None
) -> None:
    """Give each product row a `fact` object: the FACT split of the view gain of the videos and lives that
    link it (any member of its canonical product) in the report's window, and `fact_sales` for their sales
    gain where it is public (indexer.fact; docs/PRODUCTS.md "FACT"). With `mentions_by` (an embedder),
    `fact.mentions`: the same split for content that names the product without linking it."""
    rows = [r for r in report.results if r.by == "product"]
    if not rows:
        return
    campaigns = load_campaigns() if campaigns is None else campaigns
    members = {r.key: row_members(r) for r in rows}
    wanted = set().union(*members.values())
    linking: dict[str, list[dict[str, Any]]] = {}
    refs: dict[str, list[dict[str, Any]]] = {}
    for doc in store.iter_documents(SearchFilters(has_products=True)):
        for ref in doc.get("products") or []:
            key = ref.get("id") or ref.get("url") if isinstance(ref, dict) else None
            if key in wanted:
                linking.setdefault(key, []).append(doc)
                refs.setdefault(key, []).append(ref)
    products = store.get_many(sorted(k for k in wanted if ":" in k))
    for row in rows:
        docs = list({d["id"]: d for m in sorted(members[row.key]) for d in linking.get(m, [])}.values())
        shops = [r for m in members[row.key] for r in refs.get(m, [])]
        own = own_accounts([*shops, *(products.get(m) or {} for m in members[row.key])])
        by_id = {d["id"]: d for d in docs}
        found = contributions(store, docs, "views", report.start, report.now, campaigns)
        row.extra["fact"] = breakdown(found, by_id, own).to_json()
        sales = contributions(store, docs, "sales", report.start, report.now, campaigns)
        if sales:
            row.extra["fact_sales"] = breakdown(sales, by_id, own, "sales").to_json()
        if mentions_by is not None:
            titles = {row.title or ""} | {r.get("title") or "" for r in shops}
            titles |= {(products.get(m) or {}).get("title") or "" for m in members[row.key]}
            named = find_mentions(store, titles, mentions_by, set(by_id))
            said = contributions(
                store, [m["doc"] for m in named], "views", report.start, report.now, campaigns
            )
            row.extra["fact"]["mentions"] = mention_block(said, named, own)


def add_creator_products(store: Store, report: TrendReport) -> None:
    """Give each creator row `products`: the products behind the creator's gain in the window (each linked
    product with the view gain of the creator's videos and lives that link it, largest first)."""
    rows = {r.key: r for r in report.results if r.by == "creator"}
    if not rows:
        return
    content: dict[str, list[dict[str, Any]]] = {}
    for doc in store.iter_documents(SearchFilters(has_products=True)):
        key = creator_key_of(doc)
        if key in rows:
            content.setdefault(key, []).append(doc)
    for key, row in rows.items():
        docs = content.get(key, [])
        gains = {c.content_id: c.gain for c in contributions(store, docs, "views", report.start, report.now)}
        products: dict[str, dict[str, Any]] = {}
        for doc in docs:
            for ref in doc.get("products") or []:
                if isinstance(ref, dict) and ref.get("id"):
                    entry = products.setdefault(
                        ref["id"], {"id": ref["id"], "title": ref.get("title"), "gain": 0}
                    )
                    entry["gain"] += gains.get(doc["id"], 0)
        row.extra["products"] = sorted(products.values(), key=lambda p: (-p["gain"], p["id"]))


def add_canonical(report: TrendReport, book: Any) -> None:
    """Give each product row `canonical` {id, members, platforms} from a product book (indexer.products
    .ProductBook, as last grouped: nothing is embedded here); rows of ungrouped products get none."""
    rows = [r for r in report.results if r.by == "product"]
    if not rows:
        return
    groups = {m.offer.id: p for p in book.products() for m in p.members}
    for row in rows:
        product = groups.get(row.key)
        if product is not None:
            row.extra["canonical"] = {
                "id": product.id,
                "members": sorted(m.offer.id for m in product.members),
                "platforms": product.platforms,
            }


# The ranking a search hit's `trend` comes from: the default window and metric of `trending`.
HIT_TREND_WINDOW = "24h"
HIT_TREND_METRIC = "views"
HIT_TREND_KINDS = ("video", "live", "product", "creator")


def add_hit_trends(
    store: Store,
    hits: Sequence[Any],
    window: str = HIT_TREND_WINDOW,
    metric: str = HIT_TREND_METRIC,
    now: Any = None,
    canonical: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Give each search hit whose entity has a trend in the window a `trend` object in its document: the
    window, metric, score and components of its `trending` row (a product's row by the videos and lives
    that link it, or its canonical product's; a creator's by their content). Hits without one get none."""
    engine = TrendEngine(store, now=now, canonical=canonical)
    by_kind: dict[str, list[Any]] = {}
    for hit in hits:
        kind = hit.doc.get("kind")
        if kind in HIT_TREND_KINDS:
            by_kind.setdefault(kind, []).append(hit)
    for kind, kind_hits in sorted(by_kind.items()):
        rows = engine.trends_of(kind, [h.id for h in kind_hits], window, metric)
        for hit in kind_hits:
            row = rows.get(hit.id)
            if row is not None:
                hit.doc["trend"] = {
                    "window": window,
                    "metric": metric,
                    "id": row.key,
                    "score": row.score,
                    "components": row.components,
                }
