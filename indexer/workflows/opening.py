"""`opened(spec, model)`: a store for the length of a `with` block; `require`: a store with an optional ability."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from indexer.store import Store
from indexer.stores import StoreSpec
from indexer.workflows.errors import BadRequest, StoreMissing


@contextmanager
def opened(spec: StoreSpec, model_name: str | None = None, must_exist: bool = True) -> Iterator[Store]:
    """Open `spec` (StoreMissing when `must_exist` and there is surely nothing there) and close it after."""
    if must_exist and not spec.exists():
        raise StoreMissing(f"no store at {spec}: crawl or index something first")
    store = spec.open(model_name)
    try:
        yield store
    finally:
        store.close()


def require(store: Store, capability: type, what: str) -> Any:
    """`store` when it has the optional `capability` (a runtime-checkable Protocol of indexer.store, such as
    HasOutbox or Reindexable); BadRequest naming `what` needs it otherwise."""
    if not isinstance(store, capability):
        raise BadRequest(f"`{what}` is for Elasticsearch stores (--store http://...); {store!r} is not one")
    return store
