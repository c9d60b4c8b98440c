"""ElasticConfig: how to reach the cluster, built from a store spec and an environment mapping (from_env)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from indexer.elastic.outbox import DEFAULT_OUTBOX_DIR
from indexer.store import StoreUnavailable

DEFAULT_HOSTS = ("http://127.0.0.1:9200",)  # the local node of tools/elasticsearch and docker-compose.yml
DEFAULT_INDEX_PREFIX = "trendcart"
REQUEST_TIMEOUT_S = 30.0
# Chunks of one write sent concurrently (TRENDCART_ES_BULK_THREADS). A bulk request is indexed by one write
# thread per shard, and building the HNSW graph of a chunk keeps that thread busy; a second request in flight
# lets the node use a second core (the documents' chunk and the snapshots' chunks go to different indices).
# 4: measured against 2 in the same runs on 2 cores (bench_elastic --profile, 20k docs): +58 % at load 2.4,
# +13 % at load 4.3 (docs/ELASTICSEARCH.md "Ingest: the bound").
DEFAULT_BULK_THREADS = 4
# hnsw: float32 in the graph. int8_hnsw / int4_hnsw / bbq_hnsw: quantised (1/4, 1/8, 1/32 of the float memory),
# floats kept on disk; recall and ingest of each measured by `bench/bench_elastic.py --profile` (ELASTICSEARCH.md).
VECTOR_INDEX_TYPES = ("hnsw", "int8_hnsw", "int4_hnsw", "bbq_hnsw")
DEFAULT_VECTOR_INDEX = "hnsw"  # exact float scores; int8_hnsw quarters the memory for a little recall
# The client's own retries of a failed request on another node (bulk writes have their own backoff).
CLIENT_MAX_RETRIES = 2
_FALSE_WORDS = ("0", "false", "no", "off")


@dataclass
class ElasticConfig:
    """How to reach the cluster. Plain values; `from_env` fills them from a URL and TRENDCART_ES_* variables."""

    hosts: list[str] = field(default_factory=lambda: list(DEFAULT_HOSTS))
    index_prefix: str = DEFAULT_INDEX_PREFIX
    api_key: str | tuple[str, str] | None = None
    username: str | None = None
    password: str | None = None
    ca_certs: str | None = None
    verify_certs: bool = True
    cloud_id: str | None = None
    request_timeout: float = REQUEST_TIMEOUT_S
    outbox_dir: Path = DEFAULT_OUTBOX_DIR
    vector_index: str = DEFAULT_VECTOR_INDEX
    replay_on_open: bool = True
    bulk_threads: int = DEFAULT_BULK_THREADS

    @classmethod
    def from_env(cls, spec: str | None, environ: Mapping[str, str], **overrides: Any) -> ElasticConfig:
        """`spec`: one or more comma-separated http(s) URLs; user:password in a URL is basic auth. `environ`
        (os.environ, or a plain dict in tests) gives the TRENDCART_ES_* settings; `overrides` that are not
        None win over both. The only place the Elasticsearch store reads its settings."""
        hosts: list[str] = []
        username = environ.get("TRENDCART_ES_USERNAME") or None
        password = environ.get("TRENDCART_ES_PASSWORD") or None
        for raw in (spec or "").split(","):
            raw = raw.strip()
            if not raw:
                continue
            parts = urlsplit(raw)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise StoreUnavailable(f"not an Elasticsearch URL: {raw!r} (expected http(s)://host:port)")
            if parts.username is not None:
                username, password = unquote(parts.username), unquote(parts.password or "")
            netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
            if parts.port:
                netloc += f":{parts.port}"
            hosts.append(urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", "")))
        api_key: str | tuple[str, str] | None = environ.get("TRENDCART_ES_API_KEY") or None
        if isinstance(api_key, str) and ":" in api_key:  # "id:key" form; otherwise the encoded form
            key_id, _, key = api_key.partition(":")
            api_key = (key_id, key)
        values: dict[str, Any] = {
            "hosts": hosts or list(DEFAULT_HOSTS),
            "index_prefix": environ.get("TRENDCART_ES_INDEX_PREFIX") or DEFAULT_INDEX_PREFIX,
            "api_key": api_key,
            "username": username,
            "password": password,
            "ca_certs": environ.get("TRENDCART_ES_CA_CERTS") or None,
            "verify_certs": environ.get("TRENDCART_ES_VERIFY_CERTS", "true").strip().lower()
            not in _FALSE_WORDS,
            "cloud_id": environ.get("TRENDCART_ES_CLOUD_ID") or None,
            "request_timeout": float(environ.get("TRENDCART_ES_TIMEOUT") or REQUEST_TIMEOUT_S),
            "outbox_dir": Path(environ.get("TRENDCART_ES_OUTBOX") or DEFAULT_OUTBOX_DIR),
            "vector_index": environ.get("TRENDCART_ES_VECTOR_INDEX") or DEFAULT_VECTOR_INDEX,
            "bulk_threads": _positive_int(
                environ.get("TRENDCART_ES_BULK_THREADS"), DEFAULT_BULK_THREADS, "TRENDCART_ES_BULK_THREADS"
            ),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `elasticsearch.Elasticsearch`."""
        kwargs: dict[str, Any] = {
            "request_timeout": self.request_timeout,
            "max_retries": CLIENT_MAX_RETRIES,
            "retry_on_timeout": True,
        }
        if self.cloud_id:
            kwargs["cloud_id"] = self.cloud_id
        else:
            kwargs["hosts"] = list(self.hosts)
        if self.api_key:
            kwargs["api_key"] = self.api_key
        elif self.username:
            kwargs["basic_auth"] = (self.username, self.password or "")
        if self.ca_certs:
            kwargs["ca_certs"] = self.ca_certs
        if not self.verify_certs:
            kwargs["verify_certs"] = False
            kwargs["ssl_show_warn"] = False
        serializer = fast_serializer()
        if serializer is not None:
            kwargs["serializer"] = serializer
        return kwargs

    def where(self) -> str:
        """Where the store is, for messages (never the credentials)."""
        target = f"cloud id {self.cloud_id.split(':')[0]!r}" if self.cloud_id else ", ".join(self.hosts)
        return f"Elasticsearch {target} (indices {self.index_prefix}-*)"


def fast_serializer() -> Any:
    """The client's orjson serializer for JSON bodies (bulk chunks are encoded by it too), None without orjson.

    A bulk chunk of 500 documents with 384-dim vectors is ~4 MiB of JSON: orjson encodes it several times
    faster than the stdlib (docs/ELASTICSEARCH.md, "Bulk writes"). Documents are checked before they are
    written (no NaN, no integers beyond 64 bits), so its stricter rules refuse nothing we send."""
    try:
        from elasticsearch.serializer import OrjsonSerializer
    except ImportError:  # orjson missing: the client's stdlib serializer
        return None
    return OrjsonSerializer()


def _positive_int(raw: str | None, default: int, name: str) -> int:
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise StoreUnavailable(f"{name}={raw!r}: expected a positive whole number")
    return value
