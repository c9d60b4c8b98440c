"""Backend-neutral handling of JSON-form documents for the stores: validation, the values every store
indexes (times, prices, creator keys, searchable text), the snapshots an observation yields, and filter values."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

from crawler.items import METRIC_NAMES, InvalidItem, check_item, is_count, parse_id
from indexer.store import InvalidDocument, QueryError, to_iso
from indexer.textsearch import TEXT_FIELDS, expand_cjk, text_fields

# The largest filter value a store compares with (SQLite's and Elasticsearch's signed 64-bit integers).
MAX_FILTER_NUMBER = 2**63 - 1


def platform_kind(entity_id: Any) -> tuple[str | None, str | None]:
    """The platform and kind of a well-formed id, else (None, None)."""
    parts = parse_id(entity_id)
    return (parts[0], parts[1]) if parts else (None, None)


def lower_key(value: Any) -> str | None:
    return value.strip().lstrip("@").lower() if isinstance(value, str) and value.strip() else None


class CheckedDocument(dict):
    """The canonical JSON form of a document that crawler.items.check_item accepted, made only by
    checked_document. A store's prepare_document takes it as it is instead of checking it a second time
    (ingest validates every line before it embeds it; the check was a fifth of a fresh ingest's own work).
    Any other mapping handed to a store's upsert is checked there. Do not change one after it is made."""

    __slots__ = ()


def checked_document(doc: Any, now: Any = None) -> CheckedDocument:
    """check_item(doc, now) as a CheckedDocument (InvalidItem, a ValueError, when the item is invalid)."""
    return CheckedDocument(check_item(doc, now))


def prepare_document(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Validate one JSON-form document (unless it is a CheckedDocument) and compute its column values
    (raises InvalidDocument)."""
    if isinstance(doc, CheckedDocument):
        checked: Mapping[str, Any] = doc
    elif not isinstance(doc, Mapping):
        raise InvalidDocument(f"a document must be a JSON object, got {type(doc).__name__}")
    else:
        try:
            checked = check_item(doc)
        except InvalidItem as exc:
            raise InvalidDocument(f"{doc.get('id')}: {exc}") from None
    doc_id, kind, platform = checked["id"], checked["kind"], checked["platform"]
    if doc.get("observed_at") is None:  # a store records observations; it does not invent their time
        raise InvalidDocument(f"{doc_id}: observed_at is missing")
    doc = checked
    observed_at, published_at = doc["observed_at"], doc["published_at"]
    metrics = doc["metrics"]
    products = [p for p in (doc.get("products") or []) if isinstance(p, Mapping)]
    prices: list[float] = []
    for obj in [doc, *products]:
        for key in ("price", "price_max"):
            value = obj.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                prices.append(float(value))
    creator = doc.get("creator") if isinstance(doc.get("creator"), Mapping) else {}
    if kind == "creator":
        creator = {
            "id": doc_id,
            "name": doc.get("name") or creator.get("name"),
            "handle": doc.get("handle") or creator.get("handle"),
        }
    fields = text_fields(doc)
    fts = [expand_cjk(fields[name]) for name in TEXT_FIELDS]
    snapshots = [
        (doc_id, m, observed_at, metrics[m], platform, kind) for m in METRIC_NAMES if is_count(metrics.get(m))
    ]
    if kind == "creator" and is_count(doc.get("followers")):
        snapshots.append((doc_id, "followers", observed_at, doc["followers"], platform, kind))
    # Linked products and creators with full ids get snapshots too, so their trends need no own crawl.
    for product in products:
        p_platform, p_kind = platform_kind(product.get("id"))
        if p_kind == "product" and is_count(product.get("sales")):
            snapshots.append((product["id"], "sales", observed_at, product["sales"], p_platform, p_kind))
    c_platform, c_kind = platform_kind(creator.get("id")) if kind != "creator" else (None, None)
    if c_kind == "creator" and is_count(creator.get("followers")):
        snapshots.append((creator["id"], "followers", observed_at, creator["followers"], c_platform, c_kind))
    return {
        "id": doc_id,
        "kind": kind,
        "platform": platform,
        "published_at": published_at,
        "observed_at": observed_at,
        "views": metrics.get("views") if is_count(metrics.get("views")) else None,
        "likes": metrics.get("likes") if is_count(metrics.get("likes")) else None,
        "price_low": min(prices) if prices else None,
        "price_high": max(prices) if prices else None,
        "product_count": len(products),
        "creator_id": lower_key(creator.get("id")),
        "creator_name": lower_key(creator.get("name")),
        "creator_handle": lower_key(creator.get("handle")),
        "fts": fts,
        "fts_hash": hashlib.sha1("\x1f".join(fts).encode("utf-8")).hexdigest(),
        "doc": json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
        "snapshots": snapshots,
    }


def filter_time(value: Any, name: str) -> str | None:
    try:
        return to_iso(value, name)
    except InvalidDocument as exc:
        raise QueryError(str(exc)) from None


def filter_number(value: Any, name: str) -> float:
    """A filter's number: finite and inside the stores' 64-bit integers (QueryError otherwise)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise QueryError(f"{name}: expected a number, got {value!r}")
    if not (math.isfinite(value) and abs(value) <= MAX_FILTER_NUMBER):
        raise QueryError(f"{name}: {value!r} is out of range")
    return value
