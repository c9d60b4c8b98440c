"""Documents as Elasticsearch sees them: a prepared row as a docs source, snapshot rows as bulk actions, and back."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from crawler.items import is_count
from indexer.elastic.mapping import Layout
from indexer.textsearch import text_fields

# Vector components go over the wire rounded to 7 decimals: an absolute error of 5e-8 on unit-vector components,
# below float32's own resolution near 1, and about half the JSON of Python's 17-digit float repr.
VECTOR_DECIMALS = 7
MAX_ID_BYTES = 512  # Elasticsearch's _id limit


def source(
    row: dict[str, Any], first_seen: str, last_seen: str, vector: Any, text_hash: str | None
) -> dict[str, Any]:
    """The Elasticsearch document of a prepared row (indexer.documents.prepare_document): the JSON form under
    `doc`, plus the fields that are searched and filtered; `vector` (ndarray or list) only when given."""
    doc = json.loads(row["doc"])
    creator = doc.get("creator") if isinstance(doc.get("creator"), Mapping) else {}
    if row["kind"] == "creator":
        creator = {
            "id": row["id"],
            "name": doc.get("name") or creator.get("name"),
            "handle": doc.get("handle") or creator.get("handle"),
        }
    products = []
    for product in doc.get("products") or []:
        if isinstance(product, Mapping):
            products.append(
                {
                    "id": _str(product.get("id")),
                    "title": _str(product.get("title")),
                    "price": _num(product.get("price")),
                    "price_max": _num(product.get("price_max")),
                    "currency": _str(product.get("currency")),
                    "shop": _str(product.get("shop")),
                    "sales": product.get("sales") if is_count(product.get("sales")) else None,
                }
            )
    body: dict[str, Any] = {
        "doc": doc,
        "id": row["id"],
        "kind": row["kind"],
        "platform": row["platform"],
        "language": _str(doc.get("language")),
        "text": text_fields(doc),
        "hashtags": [t for t in doc.get("hashtags") or [] if isinstance(t, str) and t],
        "creator": {
            "id": _str(creator.get("id")),
            "name": _str(creator.get("name")),
            "handle": _str(creator.get("handle")),
        },
        "creator_keys": [k for k in (row["creator_id"], row["creator_name"], row["creator_handle"]) if k],
        "products": products,
        "currency": _str(doc.get("currency")),
        "published_at": row["published_at"],
        "observed_at": row["observed_at"],
        "first_seen": first_seen,
        "last_seen": last_seen,
        "views": row["views"],
        "likes": row["likes"],
        "price_low": row["price_low"],
        "price_high": row["price_high"],
        "product_count": row["product_count"],
        "text_hash": text_hash if vector is not None else None,
    }
    if vector is not None:
        body["vector"] = vector_json(vector) if isinstance(vector, np.ndarray) else list(vector)
    return body


def vector_json(vector: np.ndarray) -> list[float]:
    """A vector as JSON numbers, rounded to VECTOR_DECIMALS."""
    return np.round(vector.astype(np.float64), VECTOR_DECIMALS).tolist()


def load_doc(src: Mapping[str, Any]) -> dict[str, Any]:
    """A stored source back in the JSON form, with first_seen and last_seen."""
    data = dict(src["doc"])
    data["first_seen"] = src["first_seen"]
    data["last_seen"] = src["last_seen"]
    return data


def snapshot_id(entity_id: str, metric: str, observed_at: str) -> str:
    """Deterministic, so a replayed or repeated observation overwrites itself instead of duplicating."""
    readable = f"{entity_id}|{metric}|{observed_at}"
    if len(readable.encode("utf-8")) <= MAX_ID_BYTES:
        return readable
    return hashlib.sha256(readable.encode("utf-8")).hexdigest()


def snapshot_actions(layout: Layout, rows: Iterable[tuple]) -> list[dict[str, Any]]:
    """Bulk index actions for snapshot rows `(entity_id, metric, observed_at, value, platform, kind)`."""
    return [
        {
            "_op_type": "index",
            "_index": layout.snapshot_index(observed_at),
            "_id": snapshot_id(entity_id, metric, observed_at),
            "_source": {
                "entity_id": entity_id,
                "metric": metric,
                "observed_at": observed_at,
                "value": value,
                "platform": platform,
                "kind": kind,
            },
        }
        for entity_id, metric, observed_at, value, platform, kind in rows
    ]


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
