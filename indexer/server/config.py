"""What one server process serves and how: the store, the model, the bind address, the token, the limits."""

from __future__ import annotations

import ipaddress
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from indexer.server.cache import ResultCache
from indexer.stores import StoreSpec

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# A watch is a few short strings: 16 KiB is far more than any body the API takes, small enough to refuse floods.
MAX_BODY_BYTES = 16 * 1024
# A query string of a search or a ranking: 4 KiB of URL holds every option with room to spare.
MAX_URL_BYTES = 4 * 1024
# A search text: longer ones are not queries (the CLI takes any; the server bounds what it embeds).
MAX_QUERY_CHARS = 500
# Hits or rows one request may ask for (the CLI's --limit maximum).
MAX_LIMIT = 1000
TOKEN_ENV = "TRENDCART_TOKEN"
# Query vectors remembered by the server (512 floats each: 1024 of them are 2 MiB).
QUERY_CACHE_SIZE = 1024


class BindRefused(ValueError):
    """Binding beyond the loopback interface without a token: anyone on the network could read and write."""


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and `localhost`."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """BindRefused when `host` is not a loopback address and there is no token."""
    if not is_loopback(host) and not token:
        raise BindRefused(
            f"refusing to bind {host}: beyond 127.0.0.1 the server needs a token "
            f"(--token or {TOKEN_ENV}); clients send it as 'Authorization: Bearer TOKEN'"
        )


class QueryCache:
    """An embedder whose query vectors are remembered (LRU, QUERY_CACHE_SIZE texts): the dashboard and API
    ask the same few queries again and again; everything else is the wrapped embedder's."""

    def __init__(self, embedder: Any, size: int = QUERY_CACHE_SIZE) -> None:
        self._embedder = embedder
        self._size = size
        self._vectors: OrderedDict[Hashable, Any] = OrderedDict()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)

    def embed_query(self, text: str) -> Any:
        return self._remembered(text, lambda: self._embedder.embed_query(text))

    def embed_query_translated(self, text: str, terms: Sequence[str], weight: float) -> Any:
        """The wrapped embedder's vector of the query moved towards its translation, remembered by query,
        terms and weight (search asks this, not embed_query, for semantic and hybrid queries: without it a
        repeated query was embedded again, 1 + its terms texts, ~9 ms p50 / 38 ms p95 at load 4)."""
        if not terms or weight <= 0:
            return self.embed_query(text)  # what the embedder answers then: the query's own vector
        key = (text, tuple(terms), float(weight))
        return self._remembered(key, lambda: self._embedder.embed_query_translated(text, terms, weight))

    def embed_query_moves(self, text: str, terms: Sequence[str], weights: Sequence[float]) -> list[Any]:
        """The wrapped embedder's vectors of the query moved by each weight (hybrid search's ranking and floor
        vectors), remembered by query, terms and weights."""
        key = ("moves", text, tuple(terms), tuple(float(w) for w in weights))
        return self._remembered(key, lambda: self._embedder.embed_query_moves(text, terms, weights))

    def _remembered(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        found = self._vectors.get(key)
        if found is None:
            found = compute()
            self._vectors[key] = found
            if len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
        else:
            self._vectors.move_to_end(key)
        return found


class ModelHolder:
    """The one embedder of the process, built at the first request that needs it (or at start-up), on
    the store's own model when none was chosen (as the CLI's embedder_for does, but once, not per request)."""

    def __init__(self, model_name: str | None, embedder: Any = None, spec: StoreSpec | None = None) -> None:
        self.model_name = model_name
        self.spec = spec
        self._embedder = QueryCache(embedder) if embedder is not None else None
        self._lock = threading.Lock()
        self._use = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._embedder is not None

    def get(self) -> Any:
        """The embedder, loaded on the first call (once, whichever thread asks first)."""
        with self._lock:
            if self._embedder is None:
                from indexer.embedder import Embedder, embedder_for

                embedder = Embedder(self.model_name)
                if self.spec is not None and self.spec.exists():
                    store = self.spec.open(self.model_name)
                    try:
                        embedder = embedder_for(store.model_info(), embedder) or embedder
                    finally:
                        store.close()
                embedder.model  # noqa: B018 - load now, under the lock, once
                self._embedder = QueryCache(embedder)
            return self._embedder

    @contextmanager
    def using(self) -> Iterator[Any]:
        """The embedder for one request's work: one request embeds at a time (the model is not shared
        between threads; a query embeds in milliseconds to a few hundred on a busy machine)."""
        embedder = self.get()
        with self._use:
            yield embedder


@dataclass
class ServerConfig:
    """One server: `spec` its store; `token` guards writes always, and every request when `public`."""

    spec: StoreSpec
    model_name: str | None = None
    host: str = DEFAULT_HOST
    token: str | None = None
    models: ModelHolder = field(default_factory=lambda: ModelHolder(None))
    rankings: ResultCache = field(default_factory=ResultCache)  # until the store's files change

    @property
    def public(self) -> bool:
        return not is_loopback(self.host)
