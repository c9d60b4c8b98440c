"""search(): embed the query only when the mode and the store need it, then ask the store."""

from __future__ import annotations

import os
import threading

from indexer.embedder import Embedder, embedder_for
from indexer.models import floor_from_env
from indexer.querytext import clean_query
from indexer.store import Hit, Prefetching, SearchFilters, SearchMode, Store


def search(
    store: Store,
    query: str,
    mode: SearchMode | str = SearchMode.hybrid,
    filters: SearchFilters | None = None,
    limit: int = 10,
    embedder: Embedder | None = None,
    min_similarity: float | None = None,
) -> list[Hit]:
    """Keyword mode, an empty query, or a store without vectors never load the model.

    Any text is a query (indexer.querytext.clean_query: invalid bytes, control characters, 100k
    characters); one with nothing left to search gives []. The embedder is the store's model unless one
    was chosen (indexer.embedder.embedder_for). `min_similarity` (else TRENDCART_VECTOR_FLOOR, else the
    model's calibrated floor) is the cosine under which a hit that matched no keyword is left out."""
    mode = SearchMode(mode)
    query = clean_query(query)
    if min_similarity is None:
        min_similarity = floor_from_env(os.environ)
    query_vector = None
    stored = store.model_info()
    if mode is not SearchMode.keyword and stored is not None and query:
        embedder = embedder_for(stored, embedder or Embedder())
        assert embedder is not None
        # Load the store's vectors while the model loads: both take about a second cold, and they overlap.
        warming = Prefetch(store) if isinstance(store, Prefetching) and not embedder.loaded else None
        query_vector = embedder.embed_query(query)
        if warming is not None:
            warming.join()  # the prefetch's own error (a damaged store) is raised here, in the caller
    if not query:
        return []
    return store.search(query, query_vector, mode, filters, limit, min_similarity=min_similarity)


class Prefetch:
    """`store.prefetch()` in a thread; join() waits and raises what it raised, so that an error reaches the
    caller as one exception (never a thread's traceback on stderr)."""

    def __init__(self, store: Prefetching) -> None:
        self._store = store
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._store.prefetch()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by join()
            self._error = exc

    def join(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error
