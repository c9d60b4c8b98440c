"""search(): embed the query only when the mode and the store need it, then ask the store."""

from __future__ import annotations

import threading

from indexer.embedder import Embedder
from indexer.store import Hit, ModelMismatch, Prefetching, SearchFilters, SearchMode, Store


def search(
    store: Store,
    query: str,
    mode: SearchMode | str = SearchMode.hybrid,
    filters: SearchFilters | None = None,
    limit: int = 10,
    embedder: Embedder | None = None,
) -> list[Hit]:
    """Keyword mode, an empty query, or a store without vectors never load the model."""
    mode = SearchMode(mode)
    query_vector = None
    stored = store.model_info()
    if mode is not SearchMode.keyword and stored is not None and (query or "").strip():
        embedder = embedder or Embedder()
        if stored[0] != embedder.model_name:
            raise ModelMismatch(stored, (embedder.model_name, None))
        # Load the store's vectors while the model loads: both take about a second cold, and they overlap.
        warming = None
        if isinstance(store, Prefetching) and not embedder.loaded:
            warming = threading.Thread(target=store.prefetch, daemon=True)
        if warming is not None:
            warming.start()
        query_vector = embedder.embed_query(query)
        if warming is not None:
            warming.join()
    return store.search(query or "", query_vector, mode, filters, limit)
