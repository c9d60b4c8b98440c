"""The index layout of one prefix: names, aliases, templates, settings, mappings and the schema version."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from indexer.elastic.config import VECTOR_INDEX_TYPES
from indexer.store import StoreError, StoreUnavailable
from indexer.textsearch import TEXT_FIELDS

# Bumped when the mapping changes incompatibly; a store with an older schema is reindexed, not patched.
SCHEMA_VERSION = 1
# Our templates outrank the built-in ones (priority 100-200) should a prefix ever overlap their patterns.
TEMPLATE_PRIORITY = 500
# How date aggregations answer (min/max of first_seen/last_seen): the stores' canonical time strings.
DATE_FORMAT = "yyyy-MM-dd'T'HH:mm:ss'Z'"
_PREFIX_RE = re.compile(r"[a-z0-9][a-z0-9_.-]*")

_TEXT = {"type": "text", "analyzer": "cjk", "fields": {"std": {"type": "text", "analyzer": "folded"}}}
_KEYWORD = {"type": "keyword", "ignore_above": 1024}
_DATE = {"type": "date", "format": "strict_date_optional_time||epoch_millis", "ignore_malformed": True}

INDEX_SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    "number_of_replicas": 0,  # one node in development; raise it on a real cluster (docs/ELASTICSEARCH.md)
    # refresh_interval left at its default (1 s, skipped while a shard is search-idle): bulk batches are not
    # refreshed per request, and the store refreshes once before its own next read (see ElasticStore).
    "analysis": {
        # `cjk` (built in): CJK runs as overlapping bigrams, full-width folded, lowercase, English stop words.
        # `folded`: plain standard tokens (each Han character alone), accents folded — single-character queries.
        "analyzer": {
            "folded": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": ["cjk_width", "lowercase", "asciifolding"],
            }
        },
        "normalizer": {"lowercase": {"type": "custom", "filter": ["lowercase"]}},
    },
}

DOCS_MAPPING: dict[str, Any] = {
    "dynamic": False,  # the JSON form is kept whole in `doc`; only the fields below are indexed
    "properties": {
        "doc": {"type": "object", "enabled": False},
        "id": {"type": "keyword"},
        "kind": {"type": "keyword"},
        "platform": {"type": "keyword"},
        "language": _KEYWORD,
        "text": {"properties": {name: _TEXT for name in TEXT_FIELDS}},
        "hashtags": _KEYWORD,
        "creator": {
            "properties": {
                "id": _KEYWORD,
                "handle": _KEYWORD,
                "name": {"type": "text", "analyzer": "cjk", "fields": {"keyword": _KEYWORD}},
            }
        },
        "creator_keys": {"type": "keyword", "normalizer": "lowercase"},
        "products": {
            "type": "nested",
            "properties": {
                "id": _KEYWORD,
                "title": _TEXT,
                "price": {"type": "double"},
                "price_max": {"type": "double"},
                "currency": {"type": "keyword"},
                "shop": _KEYWORD,
                "sales": {"type": "long"},
            },
        },
        "currency": {"type": "keyword"},
        "published_at": _DATE,
        "observed_at": _DATE,
        "first_seen": _DATE,
        "last_seen": _DATE,
        "views": {"type": "long"},
        "likes": {"type": "long"},
        "price_low": {"type": "double"},
        "price_high": {"type": "double"},
        "product_count": {"type": "integer"},
        "text_hash": {"type": "keyword", "index": False},
        # `vector` (dense_vector, the model's dims) is added by set_model(): the dimension is not known before.
    },
}

SNAPSHOTS_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "entity_id": {"type": "keyword"},
        "metric": {"type": "keyword"},
        "observed_at": {"type": "date", "format": "strict_date_optional_time"},
        "value": {"type": "long"},
        "platform": {"type": "keyword"},
        "kind": {"type": "keyword"},
    },
}


@dataclass(frozen=True)
class Layout:
    """The names of one store, for prefix P: documents in `P-docs-vN` behind the alias `P-docs` (a reindex
    builds vN+1 and swaps the alias), snapshots in monthly `P-snapshots-YYYY.MM` behind `P-snapshots`, and
    the index templates `P-docs` and `P-snapshots`."""

    prefix: str

    def __post_init__(self) -> None:
        if not _PREFIX_RE.fullmatch(self.prefix or ""):
            raise StoreUnavailable(
                f"bad index prefix {self.prefix!r}: lowercase letters, digits, '.', '_', '-'"
            )

    @property
    def docs_alias(self) -> str:
        return f"{self.prefix}-docs"

    @property
    def snapshots_alias(self) -> str:
        return f"{self.prefix}-snapshots"

    @property
    def templates(self) -> tuple[str, str]:
        return (self.docs_alias, self.snapshots_alias)

    def docs_index(self, version: int) -> str:
        return f"{self.prefix}-docs-v{version}"

    def docs_version(self, name: str) -> int | None:
        """N for `P-docs-vN`, else None."""
        match = re.fullmatch(re.escape(self.prefix) + r"-docs-v(\d+)", name)
        return int(match.group(1)) if match else None

    def snapshot_index(self, observed_at: str) -> str:
        """The monthly index of an observation time (canonical ISO, UTC)."""
        return f"{self.prefix}-snapshots-{observed_at[:4]}.{observed_at[5:7]}"

    def is_snapshot_index(self, name: str) -> bool:
        return re.fullmatch(re.escape(self.prefix) + r"-snapshots-\d{4}\.\d{2}", name) is not None

    def owns(self, name: str) -> bool:
        """True for the concrete indices of this prefix (what destroy() deletes)."""
        return name.startswith(f"{self.prefix}-docs-v") or name.startswith(f"{self.prefix}-snapshots-")

    def docs_template(self) -> dict[str, Any]:
        return {
            "index_patterns": [f"{self.prefix}-docs-v*"],
            "priority": TEMPLATE_PRIORITY,
            "template": {"settings": INDEX_SETTINGS, "mappings": DOCS_MAPPING},
        }

    def snapshots_template(self) -> dict[str, Any]:
        return {
            "index_patterns": [f"{self.prefix}-snapshots-*"],
            "priority": TEMPLATE_PRIORITY,
            "template": {
                "settings": INDEX_SETTINGS,
                "mappings": SNAPSHOTS_MAPPING,
                "aliases": {self.snapshots_alias: {}},
            },
        }


def template_meta() -> dict[str, Any]:
    """The `_meta` of our templates: a template with another schema version is replaced."""
    return {"trendcart": {"schema": SCHEMA_VERSION}}


def vector_mapping(dim: int, index_type: str) -> dict[str, Any]:
    """The `vector` field for a model of `dim` dimensions (cosine, HNSW or int8 HNSW)."""
    if index_type not in VECTOR_INDEX_TYPES:
        raise StoreError(
            f"TRENDCART_ES_VECTOR_INDEX={index_type!r}: expected one of {', '.join(VECTOR_INDEX_TYPES)}"
        )
    return {
        "type": "dense_vector",
        "dims": int(dim),
        "index": True,
        "similarity": "cosine",
        "index_options": {"type": index_type},
    }


def model_meta(name: str, dim: int, index_type: str) -> dict[str, Any]:
    """The docs mapping's `_meta`: where the model of the vectors is recorded."""
    return {
        "trendcart": {"schema": SCHEMA_VERSION, "model": name, "dim": int(dim), "vector_index": index_type}
    }


def model_from_mappings(mappings: Mapping[str, Any]) -> tuple[str, int] | None:
    """(model, dim) recorded in a get_mapping answer, or None."""
    for body in mappings.values():
        meta = (body.get("mappings", {}).get("_meta") or {}).get("trendcart") or {}
        if meta.get("model") and meta.get("dim"):
            return str(meta["model"]), int(meta["dim"])
    return None
