"""`product list|show|merge|split`: canonical products of a store, refreshed from its documents first."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler import times
from indexer.campaigns import CampaignFileError, load_campaigns
from indexer.currency import CurrencyError, convert, convert_or_none
from indexer.fact import TOP_KOL_FOLLOWERS, breakdown, contributions, mention_block, own_accounts
from indexer.mentions import find_mentions
from indexer.products import CanonicalProduct, ProductBook, offers_in_store
from indexer.store import SearchFilters, Store
from indexer.stores import StoreSpec
from indexer.trends import parse_window
from indexer.workflows.errors import BadInput, BadRequest
from indexer.workflows.opening import opened

PRODUCTS_FILE = "products.sqlite"
# The setting that names a server store's indices besides its URL (indexer.elastic.config).
INDEX_PREFIX_ENV = "TRENDCART_ES_INDEX_PREFIX"


@dataclass
class FactOptions:
    """How FACT sorts creators: the head-creator threshold, accounts that are the brand's own, campaigns."""

    top_kol_followers: int = TOP_KOL_FOLLOWERS
    field_accounts: tuple[str, ...] = ()
    campaigns_file: str | None = None
    mentions: bool = True  # look for content that names the product without linking it (needs the model)


def book_path(spec: StoreSpec, environ: Mapping[str, str] = os.environ) -> Path:
    """The product file beside the store, where the crawl log is: `<db>.products.sqlite`, or
    `products.sqlite` in a store's folder. A server's store has one of its own in ./trendcart-data/,
    `products-<key>.sqlite`, keyed by its URL and index prefix (TRENDCART_ES_INDEX_PREFIX), so that two
    Elasticsearch stores never share their groups and overrides."""
    if spec.path is None:
        prefix = (environ.get(INDEX_PREFIX_ENV) or "").strip()
        key = hashlib.sha1(f"{(spec.url or '').rstrip('/').lower()}|{prefix}".encode()).hexdigest()[:12]
        return spec.beside(f"products-{key}.sqlite")
    return spec.beside(PRODUCTS_FILE)


@contextmanager
def refreshed(spec: StoreSpec, model_name: str | None, embedder: Any) -> Iterator[tuple[Store, ProductBook]]:
    """The store and its product book, with new or changed offers embedded and grouped (incremental)."""
    with opened(spec, model_name) as store:
        book = ProductBook(book_path(spec))
        try:
            changed = book.add_offers(offers_in_store(store), embedder.embed_documents, embedder.model_name)
            if changed:
                book.regroup(convert_or_none)
            yield store, book
        finally:
            book.close()


def list_products(spec: StoreSpec, model_name: str | None, embedder: Any) -> list[dict[str, Any]]:
    """Every canonical product (id, title, members, platforms, confidence), most platforms first."""
    with refreshed(spec, model_name, embedder) as (_store, book):
        found = [p.to_json() for p in book.products()]
    return sorted(found, key=lambda p: (-len(p["platforms"]), -len(p["members"]), p["title"], p["id"]))


def sales_series(store: Store, product: CanonicalProduct) -> list[dict[str, Any]]:
    """The product's sales over time, never backwards: each listing's counter is its running maximum (two
    sources reporting one listing differently cannot pull it down), and the product's value at each
    observation is the sum of every listing's latest running maximum (docs/PRODUCTS.md "Sales")."""
    latest: dict[str, int] = {}
    points: list[tuple[str, str, int]] = []
    for member in product.members:
        for snap in store.snapshots(member.offer.id, "sales"):
            value = snap.metrics.get("sales")
            if value is not None:
                points.append((snap.observed_at, member.offer.id, int(value)))
    series: list[dict[str, Any]] = []
    for at, listing, value in sorted(points):
        latest[listing] = max(latest.get(listing, value), value)
        total = sum(latest.values())
        if series and series[-1]["at"] == at:
            series[-1]["sales"] = total
        else:
            series.append({"at": at, "sales": total})
    return series


def _linking(store: Store, member_ids: set[str]) -> list[dict[str, Any]]:
    """The videos and lives that link one of the product's offers."""
    found = []
    for doc in store.iter_documents(SearchFilters(has_products=True)):
        refs = {r.get("id") for r in doc.get("products") or [] if isinstance(r, dict)}
        if refs & member_ids:
            found.append(doc)
    return found


def gmv(
    store: Store, product: CanonicalProduct, start: datetime, end: datetime, currency: str | None
) -> dict[str, Any]:
    """Estimated GMV in the window: per listing, its sales gain (running maximum, last - first observation in
    [start, end]) x its current price, summed per currency; with `currency`, the sum converted at the ECB
    rate of `end` (the rate's date shown). Listings without a price or two sales observations add nothing."""
    by_currency: dict[str, float] = {}
    gained = 0
    for member in product.members:
        offer = member.offer
        values = [s.metrics["sales"] for s in store.snapshots(offer.id, "sales", since=start, until=end)]
        if len(values) < 2 or offer.price is None or not offer.currency:
            continue
        high = values[0]
        for value in values[1:]:
            high = max(high, value)
        gain = high - values[0]
        gained += gain
        by_currency[offer.currency] = round(
            by_currency.get(offer.currency, 0.0) + gain * float(offer.price), 2
        )
    result: dict[str, Any] = {"sales_gained": gained, "by_currency": by_currency}
    if currency and by_currency:
        parts = [convert(amount, code, currency, end) for code, amount in by_currency.items()]
        result["converted"] = {
            "currency": currency,
            "amount": round(sum(c.amount for c in parts), 2),
            "rate_date": max(c.rate_date for c in parts),
        }
    return result


def quality(docs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Public quality signals per listing (rating on the page's own scale, review count) from the product
    documents, else from the links that carry them; the review-weighted rating where counts are known."""
    listings = []
    for listing_id, doc in sorted(docs.items()):
        if doc.get("rating") is not None or doc.get("review_count") is not None:
            listings.append(
                {"id": listing_id, "rating": doc.get("rating"), "review_count": doc.get("review_count")}
            )
    weighted = [
        (x["rating"], x["review_count"]) for x in listings if x["rating"] is not None and x["review_count"]
    ]
    reviews = sum(n for _, n in weighted)
    return {
        "listings": listings,
        "review_count": sum(x["review_count"] or 0 for x in listings) if listings else None,
        "rating": round(sum(r * n for r, n in weighted) / reviews, 3) if reviews else None,
    }


def mentions(
    store: Store, product: CanonicalProduct, embedder: Any, linked: set[str]
) -> list[dict[str, Any]]:
    """Videos and lives that name the product without linking it (indexer.mentions.find_mentions on each
    distinct member title), always shown apart from links."""
    found = find_mentions(store, [m.offer.title for m in product.members], embedder, linked)
    return [{k: v for k, v in m.items() if k != "doc"} for m in found]


def _links(docs: list[dict[str, Any]], gains: dict[str, int], total: int) -> list[dict[str, Any]]:
    found = []
    for doc in docs:
        creator = doc.get("creator") or {}
        found.append(
            {
                "id": doc["id"],
                "kind": doc.get("kind"),
                "platform": doc.get("platform"),
                "title": doc.get("title"),
                "creator": creator.get("name") or creator.get("handle") or creator.get("id"),
                "followers": creator.get("followers"),
                "views": (doc.get("metrics") or {}).get("views"),
                "gain": gains.get(doc["id"]),
                "share": round(gains[doc["id"]] / total, 4) if total and doc["id"] in gains else None,
            }
        )
    return sorted(found, key=lambda d: (-(d["gain"] or 0), -(d["views"] or 0), d["id"]))


def _prices(product: CanonicalProduct, currency: str | None, history: list[dict[str, Any]]) -> dict[str, Any]:
    """Per currency: the lowest and highest current price over the listings, how many listings, and the
    price history (every recorded change: listing, time, price; `current` the latest observed)."""
    by_currency: dict[str, list[float]] = {}
    for m in product.members:
        if m.offer.price is not None and m.offer.currency:
            by_currency.setdefault(m.offer.currency, []).append(float(m.offer.price))
    prices: dict[str, Any] = {
        "by_currency": {
            c: {"min": min(v), "max": max(v), "listings": len(v)} for c, v in sorted(by_currency.items())
        }
    }
    for code, entry in prices["by_currency"].items():
        changes = [{k: h[k] for k in ("listing", "at", "price")} for h in history if h["currency"] == code]
        entry["history"] = changes
        if changes:
            entry["current"] = changes[-1]["price"]
            entry["lowest_seen"] = min(h["price"] for h in changes)
            entry["highest_seen"] = max(h["price"] for h in changes)
    if currency:
        converted = [convert(p, c, currency) for c, values in by_currency.items() for p in values]
        if converted:
            prices["converted"] = {
                "currency": currency,
                "min": min(c.amount for c in converted),
                "max": max(c.amount for c in converted),
                "rate_date": max(c.rate_date for c in converted),
            }
    return prices


def show_product(
    spec: StoreSpec,
    ident: str,
    model_name: str | None,
    embedder: Any,
    currency: str | None = None,
    window: str = "7d",
    now: datetime | None = None,
    fact_options: FactOptions | None = None,
) -> dict[str, Any]:
    """One canonical product: members with their match evidence, the videos and lives that link it (with
    their share of the product's gain of views in the window), its prices per currency (and in `currency`
    at the ECB rate, with the rate's date), its sales series and its FACT breakdown in the window."""
    options = fact_options or FactOptions()
    try:
        campaigns = load_campaigns(options.campaigns_file)
    except CampaignFileError as exc:
        raise BadInput(str(exc)) from None
    end = now or times.utc_now()
    start = end - parse_window(window)
    try:
        if currency:
            convert(1.0, currency, currency)
    except CurrencyError as exc:
        raise BadRequest(str(exc)) from None
    with refreshed(spec, model_name, embedder) as (store, book):
        product = book.product(ident)
        members = {m.offer.id for m in product.members}
        shown = product.to_json()
        shown["members"] = [m.to_json() for m in sorted(product.members, key=lambda m: m.offer.id)]
        docs = _linking(store, members)
        found = contributions(store, docs, "views", start, end, campaigns)
        gains = {c.content_id: c.gain for c in found}
        total = sum(gains.values())
        shown["window"] = {"start": times.iso_utc(start), "end": times.iso_utc(end)}
        shown["links"] = _links(docs, gains, total)
        own = own_accounts([m.to_json() for m in product.members], options.field_accounts)
        by_id = {d["id"]: d for d in docs}
        shown["fact"] = breakdown(found, by_id, own, "views", options.top_kol_followers).to_json()
        sales = contributions(store, docs, "sales", start, end, campaigns)
        if sales:
            shown["fact_sales"] = breakdown(sales, by_id, own, "sales", options.top_kol_followers).to_json()
        shown["prices"] = _prices(product, currency, book.price_history(sorted(members)))
        shown["sales"] = sales_series(store, product)
        shown["gmv"] = gmv(store, product, start, end, currency)
        member_docs = store.get_many(sorted(members))
        for doc in docs:  # a listing known only through a link: the link's own rating, if any
            for ref in doc.get("products") or []:
                if isinstance(ref, dict) and ref.get("id") in members and ref["id"] not in member_docs:
                    member_docs[ref["id"]] = ref
        shown["quality"] = quality(member_docs)
        if options.mentions:  # apart from the links: their own list and their own FACT block
            named = find_mentions(store, [m.offer.title for m in product.members], embedder, set(by_id))
            shown["mentions"] = [{k: v for k, v in m.items() if k != "doc"} for m in named]
            said = contributions(store, [m["doc"] for m in named], "views", start, end, campaigns)
            shown["fact"]["mentions"] = mention_block(said, named, own, "views", options.top_kol_followers)
    return shown


def merge_products(
    spec: StoreSpec, first: str, second: str, model_name: str | None, embedder: Any
) -> dict[str, Any]:
    """Join two canonical products (or the products of two offers) for good: the override is kept in the
    product file and applied on every later grouping, whatever re-crawls bring."""
    with refreshed(spec, model_name, embedder) as (_store, book):
        a, b = book.product(first), book.product(second)
        if a.id == b.id:
            raise BadRequest(f"{first} and {second} are already one product ({a.id})")
        book.add_override("merge", a.members[0].offer.id, b.members[0].offer.id)
        book.regroup(convert_or_none)
        return book.product(a.members[0].offer.id).to_json()


def split_product(spec: StoreSpec, ident: str, model_name: str | None, embedder: Any) -> list[dict[str, Any]]:
    """Take an offer out of its canonical product (or every offer of a canonical product, given its id):
    each stays a product of its own on every later grouping, unless merged by hand."""
    with refreshed(spec, model_name, embedder) as (_store, book):
        product = book.product(ident)
        offers = [m.offer.id for m in product.members] if ident.startswith("cp-") else [ident]
        for offer_id in offers:
            book.add_override("split", offer_id)
        book.db.executemany("UPDATE offers SET group_id=NULL WHERE id=?", [(o,) for o in offers])
        book.db.commit()
        book.regroup(convert_or_none)
        touched = {book.group_of(o) for o in [m.offer.id for m in product.members]}
        return [p.to_json() for p in book.products() if p.id in touched]
