"""Several searches of one store at once: the hits each gives alone, with what they share read once.

`search_many(store, requests)` asks a store that can (`BatchSearching`: SqliteStore) for all the requests
in one call, and any other store (ElasticStore) for one request after another; either way the i-th list
holds exactly the hits `store.search(...)` gives for the i-th request. The watch evaluation uses it for
the queries of every watch (indexer.watches.Evaluator.prepare)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
    floor_vector: Any | None = None  # hybrid: the vector vector-only hits are kept by (Store.search)


@runtime_checkable
class BatchSearching(Protocol):
    """A store that answers several searches in one call (SqliteStore: each distinct keyword query run
    once, the phrases of the unfiltered ones read once and shared, the vector candidates' blobs and the
    hits' documents read once), each request's hits those its own search() gives. It calls `meanwhile`
    once, while work of its own may go on elsewhere (SqliteStore: a helper process reading phrases)."""

    def search_many(
        self,
        requests: Sequence[SearchRequest],
        meanwhile: Callable[[], None] | None = None,
        documents: Documents | None = None,
    ) -> list[list[Hit]]: ...


# Documents the caller holds already, by id, of those asked (what the store's get_many gave it).
Documents = Callable[[list[str]], Mapping[str, dict[str, Any]]]


def search_many(
    store: Store,
    requests: Sequence[SearchRequest],
    meanwhile: Callable[[], None] | None = None,
    documents: Documents | None = None,
) -> list[list[Hit]]:
    """The hits of each request, in order: `store.search_many` where the store has it, else one search
    after another. `meanwhile` (the caller's work that needs no hits) is called once, before the hits
    are back: a store that searches partly in another process runs it meanwhile. `documents`: a batching
    store takes the hits' documents the caller holds from it instead of reading them again. Documents may
    be shared between the lists' hits (and the caller): read them, do not change them."""
    if isinstance(store, BatchSearching):
        return store.search_many(requests, meanwhile, documents)
    if meanwhile is not None:
        meanwhile()
    return [search_one(store, r) for r in requests]


def search_one(store: Store, request: SearchRequest) -> list[Hit]:
    """`store.search` with the request's arguments."""
    return store.search(
        request.query_text,
        request.query_vector,
        request.mode,
        request.filters,
        request.limit,
        min_similarity=request.min_similarity,
        floor_vector=request.floor_vector,
    )
