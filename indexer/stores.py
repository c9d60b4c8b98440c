"""open_store: a store from a spec (None/path -> SqliteStore, http(s) URL -> ElasticStore)."""

from __future__ import annotations

import os
from pathlib import Path

from indexer.store import Store, StoreUnavailable

# Where documents live when neither --store nor TRENDCART_STORE says: beside the user's work, visible.
DEFAULT_STORE_PATH = Path("trendcart-data") / "trendcart.db"


def default_store_spec() -> str:
    return os.environ.get("TRENDCART_STORE") or str(DEFAULT_STORE_PATH)


def open_store(spec: str | None = None, model_name: str | None = None) -> Store:
    """None -> $TRENDCART_STORE or ./trendcart-data/trendcart.db; a path -> SqliteStore; an http(s)://
    URL -> ElasticStore (imported only then). `model_name` lets a backend pick its model's index; the
    SQLite store records the model on first use instead."""
    spec = (spec or "").strip() or default_store_spec()
    if spec.startswith(("http://", "https://")):
        try:
            from indexer.elastic import ElasticConfig, ElasticStore
        except ImportError as exc:
            raise StoreUnavailable(f"the Elasticsearch store is not available: {exc}") from exc
        return ElasticStore(ElasticConfig.from_env(spec, os.environ), model_name=model_name)
    if spec.startswith("sqlite:///"):
        spec = spec[len("sqlite:///") :]
    from indexer.sqlite_store import SqliteStore

    path = Path(spec).expanduser()
    if path.is_dir():
        path = path / DEFAULT_STORE_PATH.name
    return SqliteStore(path)
