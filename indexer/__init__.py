"""Embeddings, stores (SQLite default, Elasticsearch), search, trends and reports (docs/INDEXER.md)."""

from indexer.store import (
    Hit,
    InvalidDocument,
    ModelMismatch,
    QueryError,
    SearchFilters,
    SearchMode,
    Store,
    StoreError,
    StoreStats,
    StoreUnavailable,
    WindowStat,
)
from indexer.stores import BadStoreSpec, StoreSpec, UnknownStoreScheme, open_store

__all__ = [
    "BadStoreSpec",
    "Hit",
    "InvalidDocument",
    "ModelMismatch",
    "QueryError",
    "SearchFilters",
    "SearchMode",
    "Store",
    "StoreError",
    "StoreSpec",
    "StoreStats",
    "StoreUnavailable",
    "UnknownStoreScheme",
    "WindowStat",
    "open_store",
]
