"""Several searches of one store at once: the hits each gives alone, with what they share read once.

`search_many(store, requests)` asks a store that can (`BatchSearching`: SqliteStore) for all the requests
in one call, and any other store (ElasticStore) for one request after another; either way the i-th list
holds exactly the hits `store.search(...)` gives for the i-th request. The watch evaluation uses it for
the queries of every watch (indexer.watches.Evaluator.prepare)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from indexer.store import Hit, SearchFilters, SearchMode, Store


@dataclass(frozen=True)
class SearchRequest:
    """The arguments of one Store.search call."""

    query_text: str
    query_vector: Any | None = None
    mode: SearchMode | str = SearchMode.hybrid
    filters: SearchFilters | None = None
    limit: int = 10
    min_similarity: float | None = None


@runtime_checkable
class BatchSearching(Protocol):
    """A store that answers several searches in one call (SqliteStore: each distinct keyword query run
    once, the phrases of the unfiltered ones read once and shared, the vector candidates' blobs and the
    hits' documents read once), each request's hits those its own search() gives."""

    def search_many(self, requests: Sequence[SearchRequest]) -> list[list[Hit]]: ...


def search_many(store: Store, requests: Sequence[SearchRequest]) -> list[list[Hit]]:
    """The hits of each request, in order: `store.search_many` where the store has it, else one search
    after another. Documents may be shared between the lists' hits: read them, do not change them."""
    if isinstance(store, BatchSearching):
        return store.search_many(requests)
    return [
        store.search(
            r.query_text, r.query_vector, r.mode, r.filters, r.limit, min_similarity=r.min_similarity
        )
        for r in requests
    ]
