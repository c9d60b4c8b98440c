"""search(): embed the query only when the mode and the store need it, then ask the store."""

from __future__ import annotations

import os
import threading
from typing import Any

from indexer.crosslingual import NO_EXPANSION, expand
from indexer.embedder import Embedder, embedder_for
from indexer.models import floor_from_env, search_settings
from indexer.querytext import clean_query
from indexer.store import Hit, Prefetching, SearchFilters, SearchMode, Store
from indexer.textsearch import CJK_RUN_RE


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
    model's calibrated floor) is the cosine under which a hit that matched no keyword is left out. The
    query vector of semantic and hybrid search of a query with Chinese in it is the query's and its
    translation's (indexer.crosslingual, weighted by the model's translation_vector_weight, in hybrid
    search its hybrid_translation_vector_weight when it has one); hybrid search of an English query moves
    it towards its Chinese translation by hybrid_english_vector_weight. Where hybrid's weight differs from
    semantic's, hybrid ranks by its own vector and keeps a hit that matched no keyword only when its cosine
    with semantic search's vector reaches the floor (Store.search `floor_vector`). TRENDCART_TRANSLATE=off:
    the query's own vector alone."""
    mode = SearchMode(mode)
    query = clean_query(query)
    if min_similarity is None:
        min_similarity = floor_from_env(os.environ)
    query_vector = floor_vector = None
    stored = store.model_info()
    if mode is not SearchMode.keyword and stored is not None and query:
        embedder = embedder_for(stored, embedder or Embedder())
        assert embedder is not None
        # Load the store's vectors while the model loads: both take about a second cold, and they overlap.
        warming = Prefetch(store) if isinstance(store, Prefetching) and not embedder.loaded else None
        query_vector, floor_vector = query_vectors(stored[0], query, mode, embedder)
        if warming is not None:
            warming.join()  # the prefetch's own error (a damaged store) is raised here, in the caller
    if not query:
        return []
    return store.search(
        query, query_vector, mode, filters, limit, min_similarity=min_similarity, floor_vector=floor_vector
    )


def query_vectors(
    model: str, query: str, mode: SearchMode | str, embedder: Embedder
) -> tuple[Any, Any | None]:
    """The vector a `mode` search of `query` ranks by on `model`'s vectors, and the one hybrid search keeps a
    hit that matched no keyword by (None: the same one), embedded together (Embedder.embed_query_moves).

    A Chinese query's vector joins its English translation's; in hybrid search an English query's may move
    towards its Chinese translation. Hybrid ranks by its own move and keeps vector-only hits by the vector
    semantic search would use: for an English query its own, on which the floor is calibrated (moved,
    "warm winter coat" -> a puffer video falls 0.181 -> 0.178)."""
    settings = search_settings(model)
    chinese = CJK_RUN_RE.search(query) is not None
    hybrid = SearchMode(mode) is SearchMode.hybrid
    weight = settings.query_translation_weight(hybrid, chinese)
    floor_weight = settings.query_translation_weight(False, chinese) if hybrid else weight
    expansion = expand(query) if weight > 0 or floor_weight > 0 else NO_EXPANSION
    if floor_weight == weight or not expansion.terms:
        return embedder.embed_query_translated(query, expansion.terms, weight), None
    ranked, floor = embedder.embed_query_moves(query, expansion.terms, (weight, floor_weight))
    return ranked, floor


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
