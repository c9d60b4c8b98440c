"""Backend-neutral handling of JSON-form documents for the stores: validation, the values every store
indexes (times, prices, creator keys, searchable text), the snapshots an observation yields, and filter values."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from crawler.items import KINDS, PLATFORMS
from indexer.store import InvalidDocument, QueryError, to_iso
from indexer.textsearch import TEXT_FIELDS, expand_cjk, text_fields

# Metrics that become snapshots (every observation of each, never a null as 0); creators add followers.
SNAPSHOT_METRICS = ("views", "likes", "comments", "shares", "collects", "viewers", "peak_viewers", "sales")


def is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def platform_kind(entity_id: str) -> tuple[str | None, str | None]:
    parts = entity_id.split(":", 2) if isinstance(entity_id, str) else []
    if len(parts) == 3 and parts[0] in PLATFORMS and parts[1] in KINDS:
        return parts[0], parts[1]
    return None, None


def lower_key(value: Any) -> str | None:
    return value.strip().lstrip("@").lower() if isinstance(value, str) and value.strip() else None


def prepare_document(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Validate one JSON-form document and compute its column values (raises InvalidDocument)."""
    if not isinstance(doc, Mapping):
        raise InvalidDocument(f"a document must be a JSON object, got {type(doc).__name__}")
    doc_id = doc.get("id")
    platform, kind = platform_kind(doc_id) if isinstance(doc_id, str) else (None, None)
    if platform is None or not doc_id.split(":", 2)[2]:
        raise InvalidDocument(f"bad id {doc_id!r}: expected platform:kind:native_id")
    if doc.get("kind") != kind or doc.get("platform") != platform:
        raise InvalidDocument(
            f"{doc_id}: kind/platform {doc.get('kind')!r}/{doc.get('platform')!r} do not match the id"
        )
    if doc.get("observed_at") is None:
        raise InvalidDocument(f"{doc_id}: observed_at is missing")
    observed_at = to_iso(doc["observed_at"], f"{doc_id}: observed_at")
    published_at = (
        to_iso(doc.get("published_at"), f"{doc_id}: published_at") if doc.get("published_at") else None
    )
    metrics = doc.get("metrics") or {}
    if not isinstance(metrics, Mapping):
        raise InvalidDocument(f"{doc_id}: metrics must be an object")
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
    stored = {k: v for k, v in doc.items() if k not in ("first_seen", "last_seen")}
    stored["observed_at"] = observed_at
    if published_at:
        stored["published_at"] = published_at
    snapshots = [
        (doc_id, m, observed_at, metrics[m], platform, kind)
        for m in SNAPSHOT_METRICS
        if is_count(metrics.get(m))
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
        "doc": json.dumps(stored, ensure_ascii=False, separators=(",", ":")),
        "snapshots": snapshots,
    }


def filter_time(value: Any, name: str) -> str | None:
    try:
        return to_iso(value, name)
    except InvalidDocument as exc:
        raise QueryError(str(exc)) from None


def filter_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise QueryError(f"{name}: expected a number, got {value!r}")
    return value
