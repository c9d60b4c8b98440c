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
from indexer.stores import open_store

__all__ = [
    "Hit",
    "InvalidDocument",
    "ModelMismatch",
    "QueryError",
    "SearchFilters",
    "SearchMode",
    "Store",
    "StoreError",
    "StoreStats",
    "StoreUnavailable",
    "WindowStat",
    "open_store",
]
