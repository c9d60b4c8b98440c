"""ElasticStore: the Store contract on Elasticsearch 8.x (aliases, CJK analysis, HNSW, bulk, outbox); see docs/ELASTICSEARCH.md."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import numpy as np

from crawler.items import Snapshot

# Shared semantics with SqliteStore: field weights, validation, snapshot rows and filter checks are one code.
from indexer.documents import filter_number, filter_time, is_count, lower_key, platform_kind, prepare_document
from indexer.elastic_outbox import DEFAULT_OUTBOX_DIR, Outbox
from indexer.sqlite_store import BM25_WEIGHTS
from indexer.store import (
    HYBRID_CANDIDATES,
    Hit,
    ModelMismatch,
    QueryError,
    SearchFilters,
    SearchMode,
    StoreError,
    StoreStats,
    StoreUnavailable,
    UpsertResult,
    WindowStat,
    fused_hits,
    resolve_mode,
    to_iso,
)
from indexer.textsearch import _CJK, MAX_QUERY_TERMS, STOP_WORDS, TEXT_FIELDS, text_fields

log = logging.getLogger("trendcart.elastic")

# ------------------------------------------------------------------------------------------ settings

DEFAULT_INDEX_PREFIX = "trendcart"
# Bumped when the mapping changes incompatibly; a store with an older schema is reindexed, not patched.
SCHEMA_VERSION = 1
SUPPORTED_MAJOR = 8  # the official client's major version must match the server's
# Bulk chunks: 500 documents (the helpers' default) or 8 MiB, whichever comes first. A 384-dim vector is
# ~7 KiB of JSON, so 500 documents with vectors are ~4 MiB: well under http.max_content_length (100 MiB)
# and small enough that one rejected chunk costs little to resend.
BULK_CHUNK_DOCS = 500
BULK_CHUNK_BYTES = 8 * 1024 * 1024
# Chunks of one write sent concurrently (TRENDCART_ES_BULK_THREADS). A bulk request is indexed by one write
# thread per shard, and building the HNSW graph of a chunk keeps that thread busy; a second request in flight
# lets the node use a second core (the documents' chunk and the snapshots' chunks go to different indices).
DEFAULT_BULK_THREADS = 2
# 429 (queue full) and 502/503/504 (node restarting, no master) are transient: back off 0.5, 1, 2, 4 s.
BULK_MAX_RETRIES = 4
BULK_INITIAL_BACKOFF_S = 0.5
BULK_MAX_BACKOFF_S = 8.0
BULK_RETRY_STATUSES = (429, 502, 503, 504)
# Optimistic concurrency: a document changed by another writer between our read and our write is merged
# again from its new state, this many times, before the conflict is reported.
CONFLICT_ROUNDS = 3
REQUEST_TIMEOUT_S = 30.0
HEALTH_TIMEOUT = "30s"
# After a write failed for lack of a cluster, later batches go straight to the outbox for this long instead
# of each waiting for its own timeouts (a cluster that hangs would otherwise cost 30 s per batch).
OUTBOX_BREAKER_S = 10.0
# kNN: HNSW explores num_candidates per shard; 2x k, at least 100, keeps recall near exact at our sizes.
KNN_CANDIDATE_FACTOR = 2
KNN_MIN_CANDIDATES = 100
KNN_MAX_CANDIDATES = 10_000  # Elasticsearch's own limit
PAGE_SIZE = 1_000  # search_after / composite page size for scans
TERMS_CHUNK = 10_000  # ids per terms query, far below index.max_terms_count (65 536)
# Longer query tokens are cut: no product word is 64 characters long, and fuzzy automata grow with length.
MAX_QUERY_TOKEN_CHARS = 64
# Fuzzy matching stands in for stemming (the node has no stemmer filter): 0 edits up to 3 characters, 1 up
# to 6, 2 beyond, never on the first character — "earbud" finds "earbuds", "snowboard" finds nothing.
FUZZINESS = "AUTO:4,7"
FUZZY_PREFIX_LENGTH = 1
FUZZY_MAX_EXPANSIONS = 10  # variants per word (Lucene's default is 50): plurals and typos, not a thesaurus
VECTOR_INDEX_TYPES = ("hnsw", "int8_hnsw")
DEFAULT_VECTOR_INDEX = "hnsw"  # exact float scores; int8_hnsw quarters the memory for a little recall
# Vector components go over the wire rounded to 7 decimals: an absolute error of 5e-8 on unit-vector components,
# below float32's own resolution near 1, and about half the JSON of Python's 17-digit float repr.
VECTOR_DECIMALS = 7
_DATE_FORMAT = "yyyy-MM-dd'T'HH:mm:ss'Z'"
_QUERY_TOKEN_RE = re.compile(f"[{_CJK}]+|[^\\W_{_CJK}]+")
_CJK_RUN_RE = re.compile(f"[{_CJK}]+")
_MAX_ID_BYTES = 512  # Elasticsearch's _id limit


# ------------------------------------------------------------------------------------------- errors


class ElasticModelMismatch(ModelMismatch):
    """ModelMismatch whose advice is the Elasticsearch reindex, not a new SQLite file."""

    def __init__(self, stored: tuple[str, int], offered: tuple[str, int | None], location: str) -> None:
        super().__init__(stored, offered)
        dim = f", {offered[1]} dims" if offered[1] is not None else ""
        self.args = (
            f"{location} holds vectors of model {stored[0]!r} ({stored[1]} dims), not {offered[0]!r}{dim}. "
            f"Use --model {stored[0]!r} (or TRENDCART_MODEL), or reindex into the new model (builds a new "
            f"index, re-embeds, swaps the alias): trendcart --store URL --model {offered[0]!r} reindex",
        )


class BulkWriteError(StoreError):
    """Documents Elasticsearch refused (mapping errors, conflicts that did not settle), all of them."""

    def __init__(self, failures: list[tuple[str, str]], total: int) -> None:
        self.failures = failures
        shown = "; ".join(f"{doc_id}: {reason}" for doc_id, reason in failures[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        super().__init__(f"Elasticsearch refused {len(failures)} of {total} writes: {shown}{more}")


class ClusterUnavailable(StoreUnavailable):
    """The cluster cannot answer now (down, unreachable, overloaded after retries) but may later: a write
    that meets it goes to the outbox instead of failing."""


# ------------------------------------------------------------------------------------- configuration


@dataclass
class ElasticConfig:
    """How to reach the cluster. Plain values; `from_env` fills the gaps from TRENDCART_ES_* variables."""

    hosts: list[str] = field(default_factory=lambda: ["http://127.0.0.1:9200"])
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
    def from_env(
        cls, spec: str | None, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> ElasticConfig:
        """`spec`: one or more comma-separated http(s) URLs; user:password in a URL is basic auth."""
        env = os.environ if environ is None else environ
        hosts: list[str] = []
        username = env.get("TRENDCART_ES_USERNAME") or None
        password = env.get("TRENDCART_ES_PASSWORD") or None
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
        api_key: str | tuple[str, str] | None = env.get("TRENDCART_ES_API_KEY") or None
        if isinstance(api_key, str) and ":" in api_key:  # "id:key" form; otherwise the encoded form
            key_id, _, key = api_key.partition(":")
            api_key = (key_id, key)
        verify = env.get("TRENDCART_ES_VERIFY_CERTS", "true").strip().lower() not in (
            "0",
            "false",
            "no",
            "off",
        )
        values: dict[str, Any] = {
            "hosts": hosts or ["http://127.0.0.1:9200"],
            "index_prefix": env.get("TRENDCART_ES_INDEX_PREFIX") or DEFAULT_INDEX_PREFIX,
            "api_key": api_key,
            "username": username,
            "password": password,
            "ca_certs": env.get("TRENDCART_ES_CA_CERTS") or None,
            "verify_certs": verify,
            "cloud_id": env.get("TRENDCART_ES_CLOUD_ID") or None,
            "request_timeout": float(env.get("TRENDCART_ES_TIMEOUT") or REQUEST_TIMEOUT_S),
            "outbox_dir": Path(env.get("TRENDCART_ES_OUTBOX") or DEFAULT_OUTBOX_DIR),
            "vector_index": env.get("TRENDCART_ES_VECTOR_INDEX") or DEFAULT_VECTOR_INDEX,
            "bulk_threads": _positive_int(
                env.get("TRENDCART_ES_BULK_THREADS"), DEFAULT_BULK_THREADS, "TRENDCART_ES_BULK_THREADS"
            ),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "request_timeout": self.request_timeout,
            "max_retries": 2,
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
        return kwargs

    def where(self) -> str:
        """Where the store is, for messages (never the credentials)."""
        target = f"cloud id {self.cloud_id.split(':')[0]!r}" if self.cloud_id else ", ".join(self.hosts)
        return f"Elasticsearch {target} (indices {self.index_prefix}-*)"


# ------------------------------------------------------------------------------------------ mappings

_TEXT = {"type": "text", "analyzer": "cjk", "fields": {"std": {"type": "text", "analyzer": "folded"}}}
_KEYWORD = {"type": "keyword", "ignore_above": 1024}
_DATE = {"type": "date", "format": "strict_date_optional_time||epoch_millis", "ignore_malformed": True}

INDEX_SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    "number_of_replicas": 0,  # one node in development; raise it on a real cluster (docs/ELASTICSEARCH.md)
    # refresh_interval left at its default (1 s, skipped while a shard is search-idle): bulk batches are not
    # refreshed per request, and this store refreshes once before its own next read (see the class docstring).
    "analysis": {
        # `cjk` (built in): CJK runs as overlapping bigrams, full-width folded, lowercase, English stop words.
        # `folded`: plain standard tokens (each Han character alone), accents folded — single-character queries.
        "analyzer": {
            "folded": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": ["cjk_width", "lowercase", "asciifolding"],
            }
        },
        "normalizer": {"lowercase": {"type": "custom", "filter": ["lowercase"]}},
    },
}

DOCS_MAPPING: dict[str, Any] = {
    "dynamic": False,  # the JSON form is kept whole in `doc`; only the fields below are indexed
    "properties": {
        "doc": {"type": "object", "enabled": False},
        "id": {"type": "keyword"},
        "kind": {"type": "keyword"},
        "platform": {"type": "keyword"},
        "language": _KEYWORD,
        "text": {"properties": {name: _TEXT for name in TEXT_FIELDS}},
        "hashtags": _KEYWORD,
        "creator": {
            "properties": {
                "id": _KEYWORD,
                "handle": _KEYWORD,
                "name": {"type": "text", "analyzer": "cjk", "fields": {"keyword": _KEYWORD}},
            }
        },
        "creator_keys": {"type": "keyword", "normalizer": "lowercase"},
        "products": {
            "type": "nested",
            "properties": {
                "id": _KEYWORD,
                "title": _TEXT,
                "price": {"type": "double"},
                "price_max": {"type": "double"},
                "currency": {"type": "keyword"},
                "shop": _KEYWORD,
                "sales": {"type": "long"},
            },
        },
        "currency": {"type": "keyword"},
        "published_at": _DATE,
        "observed_at": _DATE,
        "first_seen": _DATE,
        "last_seen": _DATE,
        "views": {"type": "long"},
        "likes": {"type": "long"},
        "price_low": {"type": "double"},
        "price_high": {"type": "double"},
        "product_count": {"type": "integer"},
        "text_hash": {"type": "keyword", "index": False},
        # `vector` (dense_vector, the model's dims) is added by set_model(): the dimension is not known before.
    },
}

SNAPSHOTS_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "entity_id": {"type": "keyword"},
        "metric": {"type": "keyword"},
        "observed_at": {"type": "date", "format": "strict_date_optional_time"},
        "value": {"type": "long"},
        "platform": {"type": "keyword"},
        "kind": {"type": "keyword"},
    },
}

# Our templates outrank the built-in ones (priority 100-200) should a prefix ever overlap their patterns.
TEMPLATE_PRIORITY = 500


# --------------------------------------------------------------------------------------------- store


class ElasticStore:
    """The Store contract on an Elasticsearch 8.x cluster.

    Layout, for prefix P: documents in `P-docs-vN` behind the alias `P-docs` (a reindex builds vN+1 and
    swaps the alias in one `_aliases` call); snapshots, one per (entity, metric, time), in monthly
    `P-snapshots-YYYY.MM` behind `P-snapshots`. Index templates `P-docs` and `P-snapshots` carry the
    settings and mappings; the model name and dimension live in the docs index's mapping `_meta`.

    Writes are bulk requests without refresh; the next read on this object refreshes once (read-after-write
    for this object, no refresh per document, other clients see writes within `refresh_interval`)."""

    backend = "elasticsearch"

    def __init__(
        self,
        spec: str | None = None,
        model_name: str | None = None,
        *,
        config: ElasticConfig | None = None,
        client: Any | None = None,
    ) -> None:
        self.config = config or ElasticConfig.from_env(spec)
        self.model_name = model_name
        prefix = self.config.index_prefix
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", prefix or ""):
            raise StoreUnavailable(f"bad index prefix {prefix!r}: lowercase letters, digits, '.', '_', '-'")
        self.prefix = prefix
        self.docs_alias = f"{prefix}-docs"
        self.snapshots_alias = f"{prefix}-snapshots"
        self.outbox = Outbox(self.config.outbox_dir, prefix)
        self._dirty = False
        self._breaker_until = 0.0
        self.client = client if client is not None else self._connect()
        try:
            self._ensure_layout()
            self._model = self._read_model()
        except Exception as exc:
            self.client.close()
            raise _translate(exc, self.config) from exc
        if self.config.replay_on_open and self.outbox.files():
            try:
                self.replay_outbox()
            except StoreError as exc:
                log.warning("outbox not replayed yet: %s", exc)

    # ------------------------------------------------------------------------------ connection, layout

    def _connect(self) -> Any:
        from elasticsearch import Elasticsearch

        try:
            client = Elasticsearch(**self.config.client_kwargs())
        except Exception as exc:  # bad cloud id, unreadable CA file
            raise StoreUnavailable(f"cannot configure {self.config.where()}: {exc}") from exc
        try:
            info = client.info()
        except Exception as exc:
            client.close()
            raise _translate(exc, self.config) from exc
        version = str(info.get("version", {}).get("number", "?"))
        if version.split(".")[0] != str(SUPPORTED_MAJOR):
            client.close()
            raise StoreUnavailable(
                f"{self.config.where()} runs Elasticsearch {version}; trendcart needs {SUPPORTED_MAJOR}.x "
                f"(the elasticsearch {SUPPORTED_MAJOR}.x Python client)"
            )
        self.server_version = version
        return client

    def _ensure_layout(self) -> None:
        indices = self.client.indices
        self._put_template(
            f"{self.prefix}-docs",
            {
                "index_patterns": [f"{self.prefix}-docs-v*"],
                "priority": TEMPLATE_PRIORITY,
                "template": {"settings": INDEX_SETTINGS, "mappings": DOCS_MAPPING},
            },
        )
        self._put_template(
            f"{self.prefix}-snapshots",
            {
                "index_patterns": [f"{self.prefix}-snapshots-*"],
                "priority": TEMPLATE_PRIORITY,
                "template": {
                    "settings": INDEX_SETTINGS,
                    "mappings": SNAPSHOTS_MAPPING,
                    "aliases": {self.snapshots_alias: {}},
                },
            },
        )
        if not indices.exists_alias(name=self.docs_alias):
            if indices.exists(index=self.docs_alias):
                raise StoreUnavailable(
                    f"{self.docs_alias} is an index, not an alias: trendcart cannot manage it"
                )
            first = f"{self.prefix}-docs-v1"
            try:
                indices.create(index=first, aliases={self.docs_alias: {"is_write_index": True}})
            except Exception as exc:
                if _error_type(exc) != "resource_already_exists_exception":  # another process won the race
                    raise
        self.client.cluster.health(index=self.docs_alias, wait_for_status="yellow", timeout=HEALTH_TIMEOUT)

    def _put_template(self, name: str, body: dict[str, Any]) -> None:
        meta = {"trendcart": {"schema": SCHEMA_VERSION}}
        existing = self.client.options(ignore_status=404).indices.get_index_template(name=name)
        for item in existing.get("index_templates", []) if existing else []:
            if item["index_template"].get("_meta") == meta:
                return
        self.client.indices.put_index_template(name=name, meta=meta, **body)

    def _docs_index(self) -> str:
        """The concrete index behind the docs alias."""
        found = self.client.indices.get_alias(name=self.docs_alias)
        return sorted(found)[-1]

    def _read_model(self) -> tuple[str, int] | None:
        mappings = self.client.indices.get_mapping(index=self.docs_alias)
        for body in mappings.values():
            meta = (body.get("mappings", {}).get("_meta") or {}).get("trendcart") or {}
            if meta.get("model") and meta.get("dim"):
                return str(meta["model"]), int(meta["dim"])
        return None

    def _vector_mapping(self, dim: int) -> dict[str, Any]:
        kind = self.config.vector_index
        if kind not in VECTOR_INDEX_TYPES:
            raise StoreError(
                f"TRENDCART_ES_VECTOR_INDEX={kind!r}: expected one of {', '.join(VECTOR_INDEX_TYPES)}"
            )
        return {
            "type": "dense_vector",
            "dims": int(dim),
            "index": True,
            "similarity": "cosine",
            "index_options": {"type": kind},
        }

    def _model_meta(self, name: str, dim: int) -> dict[str, Any]:
        return {
            "trendcart": {
                "schema": SCHEMA_VERSION,
                "model": name,
                "dim": int(dim),
                "vector_index": self.config.vector_index,
            }
        }

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> ElasticStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ElasticStore({self.config.where()})"

    def destroy(self) -> None:
        """Delete every index and template of this prefix (tests, `trendcart` users starting over)."""
        names = set(
            self.client.options(ignore_status=404).indices.get(
                index=f"{self.prefix}-*", expand_wildcards="all"
            )
            or {}
        )
        prefixed = sorted(
            n
            for n in names
            if n.startswith(f"{self.prefix}-docs-v") or n.startswith(f"{self.prefix}-snapshots-")
        )
        for chunk in _chunks(prefixed, 50):
            self.client.options(ignore_status=404).indices.delete(index=",".join(chunk))
        for name in (f"{self.prefix}-docs", f"{self.prefix}-snapshots"):
            self.client.options(ignore_status=404).indices.delete_index_template(name=name)

    # ----------------------------------------------------------------------------------------- model

    def model_info(self) -> tuple[str, int] | None:
        return self._model

    def set_model(self, name: str, dim: int) -> None:
        offered = (name, int(dim))
        if self._model is None:
            self._model = self._call(self._read_model)
        if self._model is not None:
            if self._model != offered:
                raise ElasticModelMismatch(self._model, offered, self.config.where())
            return
        try:
            self.client.indices.put_mapping(
                index=self.docs_alias,
                properties={"vector": self._vector_mapping(dim)},
                meta=self._model_meta(name, dim),
            )
        except Exception as exc:
            current = self._call(self._read_model)  # another process set a model first
            if current is not None and current != offered:
                raise ElasticModelMismatch(current, offered, self.config.where()) from None
            if current is None:
                raise _translate(exc, self.config) from exc
        self._model = offered

    # ----------------------------------------------------------------------------------------- writes

    def upsert(
        self,
        docs: Sequence[Mapping[str, Any]],
        vectors: Sequence[Any] | None = None,
        text_hashes: Sequence[str | None] | None = None,
    ) -> UpsertResult:
        rows = [prepare_document(doc) for doc in docs]  # InvalidDocument before anything is written
        vecs = self._check_vectors(vectors, len(rows))
        hashes = list(text_hashes) if text_hashes is not None else [None] * len(rows)
        if len(hashes) != len(rows):
            raise StoreError(f"{len(rows)} documents but {len(hashes)} text hashes")
        if not rows:
            return UpsertResult()

        def record() -> dict[str, Any]:
            return {
                "op": "upsert",
                "docs": [json.loads(r["doc"]) for r in rows],
                "vectors": [_vector_json(v) if v is not None else None for v in vecs],
                "text_hashes": hashes,
            }

        return self._write_or_queue(record, lambda: self._upsert_rows(rows, vecs, hashes), UpsertResult())

    def add_snapshots(self, snapshots: Sequence[Snapshot]) -> int:
        rows: list[tuple] = []
        for snap in snapshots:
            observed = to_iso(snap.observed_at, "observed_at")
            platform, kind = platform_kind(snap.entity_id)
            for metric, value in (snap.metrics or {}).items():
                if is_count(value):
                    rows.append((snap.entity_id, metric, observed, int(value), platform, kind))
        if not rows:
            return 0

        def record() -> dict[str, Any]:
            return {"op": "snapshots", "rows": [list(r) for r in rows]}

        def write() -> int:
            self._bulk(self._snapshot_actions(rows))
            return len(rows)

        return self._write_or_queue(record, write, 0)

    @contextmanager
    def bulk_load(self, *, async_translog: bool = False) -> Iterator[ElasticStore]:
        """Settings for a large ingest, restored afterwards: `refresh_interval: -1` on the docs index and the
        existing snapshot indices (no new segment every second, so fewer HNSW graphs to build and merge), then
        one refresh at the end. Searches of other clients see nothing of the load until it ends. Not used by
        default: on a 2-core node the load itself was slower with it (one large in-memory graph costs more per
        insert than many small per-refresh ones; docs/BENCHMARKS.md), it only saves the later merges.

        `async_translog=True` (opt-in) also sets `index.translog.durability: async`: the translog is fsynced
        every 5 s instead of before each bulk request answers, so a node crash can lose the last seconds of
        acknowledged writes (re-run the load to repair). Never the default."""
        settings: dict[str, Any] = {"refresh_interval": "-1"}
        if async_translog:
            settings["translog.durability"] = "async"
        indices = ",".join([self._docs_index(), *self._snapshot_indices()])
        self._call(lambda: self.client.indices.put_settings(index=indices, settings={"index": settings}))
        try:
            yield self
        finally:
            restore = {"index": {name: None for name in settings}}  # back to the template's/default values
            indices = ",".join([self._docs_index(), *self._snapshot_indices()])
            self._call(lambda: self.client.indices.put_settings(index=indices, settings=restore))
            self._dirty = True
            self._refresh_if_needed()

    def _write_or_queue(
        self, record: Callable[[], dict[str, Any]], write: Callable[[], Any], queued_result: Any
    ) -> Any:
        """Write now (replaying older queued batches first), or queue the batch in the outbox."""
        if time.monotonic() >= self._breaker_until:
            try:
                if self.outbox.files():
                    self._replay(stop_on_failure=True)
                result = write()
                self._dirty = True
                return result
            except ClusterUnavailable as exc:
                self._breaker_until = time.monotonic() + OUTBOX_BREAKER_S
                reason = str(exc)
        else:
            reason = "Elasticsearch was unreachable moments ago"
        self._dirty = True
        path = self.outbox.put(record())
        log.warning(
            "%s: batch queued in the outbox %s (%s); replayed on the next write, the next open, "
            "or `trendcart outbox replay`",
            self.config.where(),
            path,
            reason,
        )
        return queued_result

    def _upsert_rows(
        self, rows: list[dict[str, Any]], vecs: list[np.ndarray | None], hashes: list[str | None]
    ) -> UpsertResult:
        result = UpsertResult()
        snapshot_rows = [snap for row in rows for snap in row["snapshots"]]
        pending = list(range(len(rows)))
        failures: list[tuple[str, str]] = []
        for round_no in range(CONFLICT_ROUNDS):
            actions, counts = self._merge(
                [rows[i] for i in pending], [vecs[i] for i in pending], [hashes[i] for i in pending]
            )
            if round_no == 0:
                result = counts
                actions += self._snapshot_actions(snapshot_rows)
            conflicts = self._bulk(actions, conflicts_ok=True)
            if not conflicts:
                return result
            pending = [i for i in pending if rows[i]["id"] in conflicts]
            failures = [
                (doc_id, "changed by another writer while being merged") for doc_id in sorted(conflicts)
            ]
        raise BulkWriteError(failures, len(rows))

    def _merge(
        self, rows: list[dict[str, Any]], vecs: list[np.ndarray | None], hashes: list[str | None]
    ) -> tuple[list[dict[str, Any]], UpsertResult]:
        """Bulk actions that apply `rows` to the stored documents (SqliteStore.upsert's rules)."""
        ids = list(dict.fromkeys(row["id"] for row in rows))
        stored = self._mget(ids, ["first_seen", "last_seen", "text_hash"], with_versions=True)
        states: dict[str, _DocState] = {}
        result = UpsertResult()
        for row, vec, text_hash in zip(rows, vecs, hashes, strict=True):
            doc_id = row["id"]
            state = states.get(doc_id)
            if state is None:
                found = stored.get(doc_id)
                state = states[doc_id] = _DocState.from_stored(found) if found else _DocState.new(row)
                if found is None:
                    result.added += 1
                else:
                    result.updated += 1
                    state.apply_observation(row)
            else:
                result.updated += 1
                state.apply_observation(row)
            if vec is not None:
                state.vector, state.text_hash = vec, text_hash or ""
            elif text_hash is not None and state.text_hash is not None and state.text_hash != text_hash:
                state.vector, state.text_hash = _DROP, None  # the text changed: the stored vector is stale
        carry = [doc_id for doc_id, s in states.items() if s.needs_stored_vector()]
        kept = self._mget(carry, ["vector"]) if carry else {}
        actions = []
        for doc_id, state in states.items():
            action = state.action(self.docs_alias, doc_id, kept.get(doc_id, {}).get("vector"))
            if action is not None:
                actions.append(action)
        return actions, result

    def _snapshot_actions(self, rows: Iterable[tuple]) -> list[dict[str, Any]]:
        actions = []
        for entity_id, metric, observed_at, value, platform, kind in rows:
            actions.append(
                {
                    "_op_type": "index",
                    "_index": f"{self.prefix}-snapshots-{observed_at[:4]}.{observed_at[5:7]}",
                    "_id": _snapshot_id(entity_id, metric, observed_at),
                    "_source": {
                        "entity_id": entity_id,
                        "metric": metric,
                        "observed_at": observed_at,
                        "value": value,
                        "platform": platform,
                        "kind": kind,
                    },
                }
            )
        return actions

    def _bulk(self, actions: list[dict[str, Any]], conflicts_ok: bool = False) -> set[str]:
        """Send actions in chunks (count and bytes), retrying 429/5xx with backoff. Returns the ids that hit
        a version conflict when `conflicts_ok`; raises BulkWriteError with every other refused document, or
        ClusterUnavailable when the cluster cannot take the writes."""
        from elasticsearch import helpers

        if not actions:
            return set()
        self._dirty = True  # even a failed bulk request may have written part of its documents
        conflicts: set[str] = set()
        failures: list[tuple[str, str]] = []
        transient: list[tuple[str, str]] = []

        def send(part: list[dict[str, Any]]) -> list[tuple[bool, Any]]:
            return list(
                helpers.streaming_bulk(
                    self.client,
                    part,
                    chunk_size=BULK_CHUNK_DOCS,
                    max_chunk_bytes=BULK_CHUNK_BYTES,
                    raise_on_error=False,
                    raise_on_exception=True,
                    max_retries=BULK_MAX_RETRIES,
                    initial_backoff=BULK_INITIAL_BACKOFF_S,
                    max_backoff=BULK_MAX_BACKOFF_S,
                    retry_on_status=BULK_RETRY_STATUSES,
                    yield_ok=False,
                )
            )

        threads = max(1, self.config.bulk_threads)
        try:
            if threads == 1 or len(actions) <= BULK_CHUNK_DOCS:
                results = send(actions)
            else:  # chunks in parallel, each still retried with backoff by streaming_bulk
                with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="trendcart-bulk") as pool:
                    results = [r for part in pool.map(send, _chunks(actions, BULK_CHUNK_DOCS)) for r in part]
            for ok, item in results:
                if ok:
                    continue
                ((op, info),) = item.items()
                doc_id, status = str(info.get("_id")), int(info.get("status") or 0)
                error = info.get("error")
                reason = error.get("reason") or error.get("type") if isinstance(error, dict) else str(error)
                if status == 409 and conflicts_ok:
                    conflicts.add(doc_id)
                elif status == 404 and op in ("delete", "update"):
                    continue  # deleting/updating what another writer removed: nothing to do
                elif status in BULK_RETRY_STATUSES or status >= 500:
                    transient.append((doc_id, f"{status} {reason}"))
                else:
                    failures.append((doc_id, f"{status} {reason}"))
        except Exception as exc:
            raise _translate(exc, self.config) from exc
        if transient:
            raise ClusterUnavailable(
                f"{self.config.where()}: {len(transient)} writes still failing after "
                f"{BULK_MAX_RETRIES} retries, e.g. {transient[0][0]}: {transient[0][1]}"
            )
        if failures:
            raise BulkWriteError(failures, len(actions))
        return conflicts

    def _check_vectors(self, vectors: Sequence[Any] | None, n: int) -> list[np.ndarray | None]:
        if vectors is None:
            return [None] * n
        if len(vectors) != n:
            raise StoreError(f"{n} documents but {len(vectors)} vectors")
        out: list[np.ndarray | None] = []
        for vec in vectors:
            if vec is None:
                out.append(None)
                continue
            arr = np.asarray(vec, dtype=np.float32).reshape(-1)
            if self._model is None:
                raise StoreError(
                    "no embedding model recorded for this store: call set_model(name, dim) first"
                )
            if arr.shape[0] != self._model[1]:
                raise ElasticModelMismatch(
                    self._model, (f"a {arr.shape[0]}-dim model", arr.shape[0]), self.config.where()
                )
            norm = float(np.linalg.norm(arr))
            # cosine is undefined for a zero vector (Elasticsearch refuses it): such a document has no vector
            out.append(arr / norm if norm > 0 else None)
        return out

    def delete(self, ids: Sequence[str]) -> int:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return 0
        self._refresh_if_needed()
        existing = self._mget(ids, [])
        actions: list[dict[str, Any]] = [
            {"_op_type": "delete", "_index": self.docs_alias, "_id": doc_id} for doc_id in existing
        ]
        for chunk in _chunks(ids, TERMS_CHUNK):
            for hit in self._scan(self.snapshots_alias, {"terms": {"entity_id": chunk}}, [], snapshots=True):
                actions.append({"_op_type": "delete", "_index": hit["_index"], "_id": hit["_id"]})
        self._write_now(actions)
        return len(existing)

    def prune(self, before: str | datetime) -> int:
        cutoff = to_iso(before, "before")
        assert cutoff is not None
        self._refresh_if_needed()
        deleted = 0
        month_of_cutoff = cutoff[:7].replace("-", ".")
        for index in self._snapshot_indices():
            month = index.rsplit("-", 1)[-1]
            if month < month_of_cutoff:  # wholly before the cutoff: drop the index, not its documents
                deleted += self._call(lambda i=index: self.client.count(index=i)["count"])
                self._call(lambda i=index: self.client.indices.delete(index=i))
            elif month == month_of_cutoff:
                actions = [
                    {"_op_type": "delete", "_index": hit["_index"], "_id": hit["_id"]}
                    for hit in self._scan(
                        index, {"range": {"observed_at": {"lt": cutoff}}}, [], snapshots=True
                    )
                ]
                self._write_now(actions)
                deleted += len(actions)
        return deleted

    def _write_now(self, actions: list[dict[str, Any]]) -> None:
        """Deletes are not queued: they run now or fail with StoreUnavailable."""
        self._bulk(actions)

    def _snapshot_indices(self) -> list[str]:
        found = self._call(
            lambda: self.client.options(ignore_status=404).indices.get_alias(name=self.snapshots_alias)
        )
        return sorted(
            name
            for name in (found or {})
            if re.fullmatch(re.escape(self.prefix) + r"-snapshots-\d{4}\.\d{2}", name)
        )

    # ---------------------------------------------------------------------------------------- outbox

    def replay_outbox(self) -> int:
        """Write every queued batch of this prefix, oldest first. Returns batches replayed. Raises
        StoreUnavailable (what is left stays queued) when the cluster still cannot take them."""
        self._breaker_until = 0.0
        replayed = self._replay(stop_on_failure=False)
        self._dirty = True
        return replayed

    def outbox_pending(self) -> int:
        """Batches waiting in the outbox for this prefix."""
        return len(self.outbox.files())

    def _replay(self, stop_on_failure: bool) -> int:
        replayed = 0
        for path in self.outbox.files():
            try:
                records = list(self.outbox.read(path))
            except ValueError as exc:
                self.outbox.quarantine(path, str(exc))
                continue
            try:
                for record in records:
                    self._apply(record)
            except ClusterUnavailable as exc:
                if stop_on_failure:
                    raise
                raise ClusterUnavailable(
                    f"outbox replay stopped at {path.name}, kept for later: {exc}"
                ) from exc
            except (StoreError, KeyError, TypeError) as exc:
                self.outbox.quarantine(path, str(exc))
                continue
            self.outbox.done(path)
            replayed += 1
            log.info("replayed outbox batch %s", path.name)
        return replayed

    def _apply(self, record: dict[str, Any]) -> None:
        if record.get("op") == "upsert":
            rows = [prepare_document(doc) for doc in record["docs"]]
            vecs = [np.asarray(v, dtype=np.float32) if v is not None else None for v in record["vectors"]]
            if any(v is not None for v in vecs) and self._model is None:
                self._model = self._read_model()
            self._upsert_rows(rows, self._check_vectors(vecs, len(rows)), list(record["text_hashes"]))
        elif record.get("op") == "snapshots":
            self._bulk(self._snapshot_actions(tuple(r) for r in record["rows"]))
        else:
            raise StoreError(f"unknown outbox operation {record.get('op')!r}")

    # ------------------------------------------------------------------------------------------ reads

    def get(self, doc_id: str) -> dict[str, Any] | None:
        return self.get_many([doc_id]).get(doc_id)

    def get_many(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        found = self._mget(list(dict.fromkeys(ids)), ["doc", "first_seen", "last_seen"])
        return {doc_id: _load_doc(src) for doc_id, src in found.items()}

    def count(self, filters: SearchFilters | None = None) -> int:
        query = {"bool": {"filter": _filter_clauses(filters)}}
        self._refresh_if_needed()
        return int(self._call(lambda: self.client.count(index=self.docs_alias, query=query))["count"])

    def iter_documents(
        self, filters: SearchFilters | None = None, batch: int = 500
    ) -> Iterator[dict[str, Any]]:
        query = {"bool": {"filter": _filter_clauses(filters)}}
        self._refresh_if_needed()
        for hit in self._scan(self.docs_alias, query, ["doc", "first_seen", "last_seen"], page=max(1, batch)):
            yield _load_doc(hit["_source"])

    def known_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        found = self._mget(list(dict.fromkeys(ids)), ["text_hash"])
        return {doc_id: src["text_hash"] for doc_id, src in found.items() if src.get("text_hash") is not None}

    def snapshots(
        self,
        entity_id: str,
        metric: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
    ) -> list[Snapshot]:
        clauses: list[dict[str, Any]] = [{"term": {"entity_id": entity_id}}]
        if metric is not None:
            clauses.append({"term": {"metric": metric}})
        clauses += _range("observed_at", to_iso(since, "since"), to_iso(until, "until"))
        self._refresh_if_needed()
        grouped: dict[str, dict[str, int]] = {}
        for hit in self._scan(
            self.snapshots_alias,
            {"bool": {"filter": clauses}},
            ["observed_at", "metric", "value"],
            snapshots=True,
        ):
            src = hit["_source"]
            grouped.setdefault(src["observed_at"], {})[src["metric"]] = src["value"]
        return [Snapshot(entity_id=entity_id, observed_at=at, metrics=m) for at, m in sorted(grouped.items())]

    def window_stats(
        self,
        metric: str,
        start: str | datetime,
        end: str | datetime,
        kind: str | None = None,
        platform: str | None = None,
        ids: Sequence[str] | None = None,
    ) -> dict[str, WindowStat]:
        """One composite aggregation over entity_id, paged; per bucket the first and last observation
        (top_hits of size 1, ascending and descending by time) and the bucket's document count."""
        clauses: list[dict[str, Any]] = [{"term": {"metric": metric}}]
        clauses += _range("observed_at", to_iso(start, "start"), to_iso(end, "end"))
        if kind is not None:
            clauses.append({"term": {"kind": kind}})
        if platform is not None:
            clauses.append({"term": {"platform": platform}})
        self._refresh_if_needed()
        id_chunks: list[list[str] | None] = (
            [None] if ids is None else list(_chunks(list(dict.fromkeys(ids)), TERMS_CHUNK))
        )
        out: dict[str, WindowStat] = {}
        edge = {"size": 1, "_source": ["observed_at", "value"]}
        for chunk in id_chunks:
            query = {
                "bool": {"filter": clauses + ([{"terms": {"entity_id": chunk}}] if chunk is not None else [])}
            }
            after: dict[str, Any] | None = None
            while True:
                composite: dict[str, Any] = {
                    "size": PAGE_SIZE,
                    "sources": [{"entity": {"terms": {"field": "entity_id"}}}],
                }
                if after:
                    composite["after"] = after
                aggs = {
                    "entities": {
                        "composite": composite,
                        "aggs": {
                            "first": {"top_hits": {**edge, "sort": [{"observed_at": "asc"}]}},
                            "last": {"top_hits": {**edge, "sort": [{"observed_at": "desc"}]}},
                        },
                    }
                }
                resp = self._search(self.snapshots_alias, query=query, aggs=aggs, size=0, snapshots=True)
                agg = (resp.get("aggregations") or {}).get("entities")
                if not agg or not agg["buckets"]:
                    break
                for bucket in agg["buckets"]:
                    entity = bucket["key"]["entity"]
                    first = bucket["first"]["hits"]["hits"][0]["_source"]
                    last = bucket["last"]["hits"]["hits"][0]["_source"]
                    out[entity] = WindowStat(
                        entity_id=entity,
                        metric=metric,
                        first_at=first["observed_at"],
                        first_value=int(first["value"]),
                        last_at=last["observed_at"],
                        last_value=int(last["value"]),
                        count=int(bucket["doc_count"]),
                    )
                after = agg.get("after_key")
                if not after or len(agg["buckets"]) < PAGE_SIZE:
                    break
        return out

    def stats(self) -> StoreStats:
        self._refresh_if_needed()
        date = {"format": _DATE_FORMAT}
        resp = self._search(
            self.docs_alias,
            size=0,
            track_total_hits=True,
            aggs={
                "by_kind": {"terms": {"field": "kind", "size": 50}},
                "by_platform": {"terms": {"field": "platform", "size": 50}},
                "vectors": {"filter": {"exists": {"field": "vector"}}}
                if self._model
                else {"filter": {"match_none": {}}},
                "first": {"min": {"field": "first_seen", **date}},
                "last": {"max": {"field": "last_seen", **date}},
            },
        )
        aggs = resp["aggregations"]
        snapshots = self._call(
            lambda: self.client.count(
                index=self.snapshots_alias, ignore_unavailable=True, allow_no_indices=True
            )
        )["count"]
        sizes = self._call(
            lambda: self.client.indices.stats(
                index=f"{self.docs_alias},{self.prefix}-snapshots-*", metric="store"
            )
        )
        model = self._model
        return StoreStats(
            backend=self.backend,
            location=self.config.where(),
            documents=int(resp["hits"]["total"]["value"]),
            by_kind={b["key"]: b["doc_count"] for b in aggs["by_kind"]["buckets"]},
            by_platform={b["key"]: b["doc_count"] for b in aggs["by_platform"]["buckets"]},
            vectors=int(aggs["vectors"]["doc_count"]),
            snapshots=int(snapshots),
            model=model[0] if model else None,
            dim=model[1] if model else None,
            first_observed=aggs["first"].get("value_as_string"),
            last_observed=aggs["last"].get("value_as_string"),
            size_bytes=int(
                sizes.get("_all", {}).get("primaries", {}).get("store", {}).get("size_in_bytes", 0)
            )
            or None,
        )

    # ----------------------------------------------------------------------------------------- search

    def search(
        self,
        query_text: str,
        query_vector: Any | None = None,
        mode: SearchMode | str = SearchMode.hybrid,
        filters: SearchFilters | None = None,
        limit: int = 10,
    ) -> list[Hit]:
        mode = resolve_mode(mode, query_text, query_vector, has_vectors=self._model is not None, limit=limit)
        if mode is None:
            return []
        clauses = _filter_clauses(filters)  # one filter list, used by both sides
        candidates = max(limit, HYBRID_CANDIDATES) if mode is SearchMode.hybrid else limit
        bodies: dict[str, dict[str, Any]] = {}
        if mode is not SearchMode.semantic:
            keyword_query = _keyword_query(query_text, clauses)
            if keyword_query is not None:
                bodies["keyword"] = {
                    "query": keyword_query,
                    "size": candidates,
                    "_source": False,
                    "track_total_hits": False,
                }
        if mode is not SearchMode.keyword:
            knn = self._knn(query_vector, clauses, candidates)
            if knn is not None:
                bodies["vector"] = {
                    "knn": knn,
                    "size": candidates,
                    "_source": False,
                    "track_total_hits": False,
                }
        self._refresh_if_needed()
        results = self._msearch(bodies)
        keyword = [(h["_id"], float(h["_score"])) for h in results.get("keyword", [])]
        # Elasticsearch scores cosine kNN as (1 + cos) / 2 so that scores are positive; report the cosine.
        vector = [(h["_id"], 2.0 * float(h["_score"]) - 1.0) for h in results.get("vector", [])]
        return fused_hits(mode, keyword, vector, limit, self.get_many)

    def _knn(self, query_vector: Any, clauses: list[dict[str, Any]], k: int) -> dict[str, Any] | None:
        assert self._model is not None
        q = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        if q.shape[0] != self._model[1]:
            raise ElasticModelMismatch(
                self._model, (f"a {q.shape[0]}-dim model", q.shape[0]), self.config.where()
            )
        norm = float(np.linalg.norm(q))
        if norm == 0 or not np.isfinite(norm):
            return None  # no direction: nothing is similar to it
        return {
            "field": "vector",
            "query_vector": (q / norm).tolist(),
            "k": k,
            "num_candidates": min(max(k * KNN_CANDIDATE_FACTOR, KNN_MIN_CANDIDATES), KNN_MAX_CANDIDATES),
            "filter": {"bool": {"filter": clauses}},
        }

    def _msearch(self, bodies: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """Both sides of a hybrid search in one round trip."""
        if not bodies:
            return {}
        names = list(bodies)
        searches: list[dict[str, Any]] = []
        for name in names:
            searches += [{"index": self.docs_alias}, bodies[name]]
        resp = self._call(lambda: self.client.msearch(searches=searches))
        out: dict[str, list[dict[str, Any]]] = {}
        for name, answer in zip(names, resp["responses"], strict=True):
            if "error" in answer:
                error = answer["error"]
                reason = error.get("reason") if isinstance(error, dict) else str(error)
                raise QueryError(f"Elasticsearch could not run the {name} search: {reason}")
            out[name] = answer["hits"]["hits"]
        return out

    # ------------------------------------------------------------------------------------------ reindex

    def reindex(
        self,
        embedder: Any = None,
        *,
        embed: Callable[[list[str]], Any] | None = None,
        model_name: str | None = None,
        dim: int | None = None,
        batch: int = 256,
        keep_old: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> ReindexResult:
        """Re-embed every document into a new versioned index and swap the alias to it atomically.

        Give an Embedder (its `embed_documents`, `model_name`, `dim`, `text_hash`), or `embed` (texts ->
        vectors) with `model_name` and `dim`. Reads the current index with a point in time and
        search_after, writes the new one with bulk requests, then one `_aliases` call moves the alias;
        the old index is deleted unless `keep_old`. Snapshots are not touched. Pause writers meanwhile:
        writes to the old index after its point in time are not carried over."""
        from indexer.embedder import document_text

        if embedder is not None:
            embed = embedder.embed_documents
            model_name = model_name or embedder.model_name
            dim = dim or embedder.dim
            hasher: Callable[[str], str] = embedder.text_hash
        else:

            def hasher(text: str) -> str:
                return hashlib.sha256(f"{model_name}\x1f{text}".encode()).hexdigest()

        if embed is None or not model_name or not dim:
            raise StoreError("reindex needs an embedder, or embed=... with model_name and dim")
        self._refresh_if_needed()
        old_index = self._call(self._docs_index)
        new_index = self._call(self._next_docs_index)
        self._call(
            lambda: self.client.indices.create(
                index=new_index,
                mappings={
                    "properties": {"vector": self._vector_mapping(dim)},
                    "_meta": self._model_meta(model_name, dim),
                },
            )
        )
        self._call(
            lambda: self.client.cluster.health(
                index=new_index, wait_for_status="yellow", timeout=HEALTH_TIMEOUT
            )
        )
        done = 0
        try:
            for page in _batched(self._scan_pit(old_index, ["doc", "first_seen", "last_seen"], batch), batch):
                docs = [hit["_source"] for hit in page]
                rows = [prepare_document(src["doc"]) for src in docs]
                texts = [document_text(json.loads(row["doc"])) for row in rows]
                vectors = np.asarray(embed(texts), dtype=np.float32)
                if vectors.ndim != 2 or vectors.shape != (len(texts), dim):
                    raise StoreError(
                        f"the embedder gave vectors of shape {vectors.shape}, expected ({len(texts)}, {dim})"
                    )
                norms = np.linalg.norm(vectors, axis=1, keepdims=True)
                vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
                actions = []
                for src, row, text, vec in zip(docs, rows, texts, vectors, strict=True):
                    has = bool(np.any(vec))
                    body = _source(
                        row,
                        src["first_seen"],
                        src["last_seen"],
                        vec if has else None,
                        hasher(text) if has else None,
                    )
                    actions.append(
                        {"_op_type": "index", "_index": new_index, "_id": row["id"], "_source": body}
                    )
                self._bulk(actions)
                done += len(actions)
                if progress is not None:
                    progress(done)
            self._call(lambda: self.client.indices.refresh(index=new_index))
            self._call(
                lambda: self.client.indices.update_aliases(
                    actions=[
                        {"remove": {"index": old_index, "alias": self.docs_alias}},
                        {"add": {"index": new_index, "alias": self.docs_alias, "is_write_index": True}},
                    ]
                )
            )
        except BaseException:
            self.client.options(ignore_status=404).indices.delete(index=new_index)
            raise
        if not keep_old:
            self._call(lambda: self.client.options(ignore_status=404).indices.delete(index=old_index))
        self._model = (model_name, int(dim))
        self._dirty = True
        return ReindexResult(
            old_index=old_index, new_index=new_index, documents=done, model=model_name, dim=int(dim)
        )

    def _next_docs_index(self) -> str:
        names = self.client.options(ignore_status=404).indices.get(index=f"{self.prefix}-docs-v*") or {}
        versions = [
            int(m.group(1)) for n in names if (m := re.fullmatch(re.escape(self.prefix) + r"-docs-v(\d+)", n))
        ]
        return f"{self.prefix}-docs-v{max(versions, default=0) + 1}"

    # ----------------------------------------------------------------------------------------- plumbing

    def _call(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except StoreError:
            raise
        except Exception as exc:
            raise _translate(exc, self.config) from exc

    def _refresh_if_needed(self) -> None:
        """Make this object's writes visible to searches: one refresh per write burst, not per document."""
        if self._dirty:
            self._call(
                lambda: self.client.indices.refresh(
                    index=f"{self.docs_alias},{self.snapshots_alias}",
                    ignore_unavailable=True,
                    allow_no_indices=True,
                )
            )
            self._dirty = False

    def _search(self, index: str, snapshots: bool = False, **body: Any) -> dict[str, Any]:
        extra = {"ignore_unavailable": True, "allow_no_indices": True} if snapshots else {}
        return self._call(lambda: self.client.search(index=index, **extra, **body))

    def _mget(
        self, ids: list[str], fields: list[str], with_versions: bool = False
    ) -> dict[str, dict[str, Any]]:
        """Sources (only `fields`) by id, realtime (no refresh needed); `_seq_no`/`_primary_term` added on
        request. Missing ids are absent."""
        out: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(ids, PAGE_SIZE):
            source: Any = fields if fields else False
            docs = [{"_id": doc_id, "_source": source} for doc_id in chunk]
            resp = self._call(lambda d=docs: self.client.mget(index=self.docs_alias, docs=d))
            for doc in resp["docs"]:
                if doc.get("found"):
                    src = dict(doc.get("_source") or {})
                    if with_versions:
                        src["_seq_no"], src["_primary_term"] = doc["_seq_no"], doc["_primary_term"]
                    out[doc["_id"]] = src
        return out

    def _scan(
        self,
        index: str,
        query: dict[str, Any],
        fields: list[str],
        page: int = PAGE_SIZE,
        snapshots: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Every hit of `query`, `page` at a time, with search_after on a unique sort key."""
        sort = (
            [{"entity_id": "asc"}, {"metric": "asc"}, {"observed_at": "asc"}]
            if snapshots
            else [{"id": "asc"}]
        )
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {
                "query": query,
                "size": page,
                "sort": sort,
                "_source": fields or False,
                "track_total_hits": False,
            }
            if after is not None:
                body["search_after"] = after
            hits = self._search(index, snapshots=snapshots, **body)["hits"]["hits"]
            yield from hits
            if len(hits) < page:
                return
            after = hits[-1]["sort"]

    def _scan_pit(self, index: str, fields: list[str], page: int) -> Iterator[dict[str, Any]]:
        """Every document of one index as of now (point in time), for reindexing."""
        pit = self._call(lambda: self.client.open_point_in_time(index=index, keep_alive="5m"))["id"]
        try:
            after: list[Any] | None = None
            while True:
                body: dict[str, Any] = {
                    "size": page,
                    "_source": fields,
                    "sort": [{"_shard_doc": "asc"}],
                    "pit": {"id": pit, "keep_alive": "5m"},
                    "track_total_hits": False,
                }
                if after is not None:
                    body["search_after"] = after
                resp = self._call(lambda b=body: self.client.search(**b))
                pit = resp.get("pit_id", pit)
                hits = resp["hits"]["hits"]
                yield from hits
                if len(hits) < page:
                    return
                after = hits[-1]["sort"]
        finally:
            self.client.options(ignore_status=404).close_point_in_time(id=pit)


@dataclass
class ReindexResult:
    old_index: str
    new_index: str
    documents: int
    model: str
    dim: int


# ------------------------------------------------------------------------------------- document state

_DROP = object()  # the stored vector must go (its text changed)


@dataclass
class _DocState:
    """One document while a batch is merged into it: what is stored, and what the batch changes."""

    exists: bool
    first_seen: str
    last_seen: str
    text_hash: str | None
    had_vector: bool
    seq_no: int | None = None
    primary_term: int | None = None
    row: dict[str, Any] | None = None  # the newest observation when it replaces the stored fields
    vector: Any = None  # ndarray (new), _DROP, or None (unchanged)
    first_seen_moved: bool = False

    @classmethod
    def new(cls, row: dict[str, Any]) -> _DocState:
        at = row["observed_at"]
        return cls(exists=False, first_seen=at, last_seen=at, text_hash=None, had_vector=False, row=row)

    @classmethod
    def from_stored(cls, src: dict[str, Any]) -> _DocState:
        return cls(
            exists=True,
            first_seen=src["first_seen"],
            last_seen=src["last_seen"],
            text_hash=src.get("text_hash"),
            had_vector=src.get("text_hash") is not None,
            seq_no=src["_seq_no"],
            primary_term=src["_primary_term"],
        )

    def apply_observation(self, row: dict[str, Any]) -> None:
        """Newest observation wins the fields; an older one only moves first_seen back."""
        at = row["observed_at"]
        if at >= self.last_seen:
            self.row, self.last_seen = row, at
        if at < self.first_seen:
            self.first_seen, self.first_seen_moved = at, True

    def needs_stored_vector(self) -> bool:
        return self.exists and self.row is not None and self.vector is None and self.had_vector

    def action(self, index: str, doc_id: str, stored_vector: Any) -> dict[str, Any] | None:
        occ = {"if_seq_no": self.seq_no, "if_primary_term": self.primary_term} if self.exists else {}
        if self.row is not None:  # whole document (new, or a newer observation)
            if isinstance(self.vector, np.ndarray):
                vector, text_hash = self.vector, self.text_hash
            elif self.vector is None and stored_vector is not None:
                vector, text_hash = stored_vector, self.text_hash
            else:
                vector, text_hash = None, None
            return {
                "_op_type": "index" if self.exists else "create",
                "_index": index,
                "_id": doc_id,
                "_source": _source(self.row, self.first_seen, self.last_seen, vector, text_hash),
                **occ,
            }
        partial: dict[str, Any] = {}
        if self.first_seen_moved:
            partial["first_seen"] = self.first_seen
        if isinstance(self.vector, np.ndarray):
            partial["vector"], partial["text_hash"] = _vector_json(self.vector), self.text_hash
        elif self.vector is _DROP:
            partial["vector"], partial["text_hash"] = None, None
        if not partial:
            return None
        return {"_op_type": "update", "_index": index, "_id": doc_id, "doc": partial, **occ}


# ------------------------------------------------------------------------------------------- helpers


def _source(
    row: dict[str, Any], first_seen: str, last_seen: str, vector: Any, text_hash: str | None
) -> dict[str, Any]:
    """The Elasticsearch document: the JSON form under `doc`, plus the fields that are searched and filtered."""
    doc = json.loads(row["doc"])
    creator = doc.get("creator") if isinstance(doc.get("creator"), Mapping) else {}
    if row["kind"] == "creator":
        creator = {
            "id": row["id"],
            "name": doc.get("name") or creator.get("name"),
            "handle": doc.get("handle") or creator.get("handle"),
        }
    products = []
    for product in doc.get("products") or []:
        if isinstance(product, Mapping):
            products.append(
                {
                    "id": _str(product.get("id")),
                    "title": _str(product.get("title")),
                    "price": _num(product.get("price")),
                    "price_max": _num(product.get("price_max")),
                    "currency": _str(product.get("currency")),
                    "shop": _str(product.get("shop")),
                    "sales": product.get("sales") if is_count(product.get("sales")) else None,
                }
            )
    body: dict[str, Any] = {
        "doc": doc,
        "id": row["id"],
        "kind": row["kind"],
        "platform": row["platform"],
        "language": _str(doc.get("language")),
        "text": text_fields(doc),
        "hashtags": [t for t in doc.get("hashtags") or [] if isinstance(t, str) and t],
        "creator": {
            "id": _str(creator.get("id")),
            "name": _str(creator.get("name")),
            "handle": _str(creator.get("handle")),
        },
        "creator_keys": [k for k in (row["creator_id"], row["creator_name"], row["creator_handle"]) if k],
        "products": products,
        "currency": _str(doc.get("currency")),
        "published_at": row["published_at"],
        "observed_at": row["observed_at"],
        "first_seen": first_seen,
        "last_seen": last_seen,
        "views": row["views"],
        "likes": row["likes"],
        "price_low": row["price_low"],
        "price_high": row["price_high"],
        "product_count": row["product_count"],
        "text_hash": text_hash if vector is not None else None,
    }
    if vector is not None:
        body["vector"] = _vector_json(vector) if isinstance(vector, np.ndarray) else list(vector)
    return body


def _vector_json(vector: np.ndarray) -> list[float]:
    return np.round(vector.astype(np.float64), VECTOR_DECIMALS).tolist()


def _load_doc(src: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(src["doc"])
    data["first_seen"] = src["first_seen"]
    data["last_seen"] = src["last_seen"]
    return data


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


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _snapshot_id(entity_id: str, metric: str, observed_at: str) -> str:
    """Deterministic, so a replayed or repeated observation overwrites itself instead of duplicating."""
    readable = f"{entity_id}|{metric}|{observed_at}"
    if len(readable.encode("utf-8")) <= _MAX_ID_BYTES:
        return readable
    return hashlib.sha256(readable.encode("utf-8")).hexdigest()


def _range(field_name: str, low: str | None, high: str | None) -> list[dict[str, Any]]:
    bounds = {k: v for k, v in (("gte", low), ("lte", high)) if v is not None}
    return [{"range": {field_name: bounds}}] if bounds else []


def _filter_clauses(filters: SearchFilters | None) -> list[dict[str, Any]]:
    """SearchFilters as Elasticsearch filter clauses (the same list for BM25 and for kNN)."""
    if filters is None:
        return []
    f = filters
    clauses: list[dict[str, Any]] = []
    if f.platform is not None:
        clauses.append({"term": {"platform": f.platform}})
    if f.kind is not None:
        clauses.append({"term": {"kind": f.kind}})
    clauses += _range(
        "published_at",
        filter_time(f.published_from, "published_from") if f.published_from else None,
        filter_time(f.published_to, "published_to") if f.published_to else None,
    )
    clauses += _range(
        "last_seen",
        filter_time(f.observed_from, "observed_from") if f.observed_from else None,
        filter_time(f.observed_to, "observed_to") if f.observed_to else None,
    )
    if f.min_views is not None:
        clauses.append({"range": {"views": {"gte": filter_number(f.min_views, "min_views")}}})
    if f.min_likes is not None:
        clauses.append({"range": {"likes": {"gte": filter_number(f.min_likes, "min_likes")}}})
    if f.price_min is not None:
        clauses.append({"range": {"price_high": {"gte": filter_number(f.price_min, "price_min")}}})
    if f.price_max is not None:
        clauses.append({"range": {"price_low": {"lte": filter_number(f.price_max, "price_max")}}})
    if f.has_products is True:
        clauses.append({"range": {"product_count": {"gt": 0}}})
    elif f.has_products is False:
        clauses.append({"term": {"product_count": 0}})
    if f.creator is not None:
        key = lower_key(f.creator)
        clauses.append({"term": {"creator_keys": key}} if key else {"match_none": {}})
    return clauses


def query_terms(text: str) -> list[str]:
    """The words of a user query as plain text: CJK runs and letter/digit runs, English stop words dropped
    (unless nothing else is left), each cut to MAX_QUERY_TOKEN_CHARS, at most MAX_QUERY_TERMS of them.
    Everything else — quotes, operators, wildcards, emoji, control characters — only separates words."""
    tokens = _QUERY_TOKEN_RE.findall(text or "")
    content = [t for t in tokens if t.lower() not in STOP_WORDS]
    terms = [t[:MAX_QUERY_TOKEN_CHARS] for t in content or tokens]
    return list(dict.fromkeys(terms))[:MAX_QUERY_TERMS]


def _keyword_query(text: str, clauses: list[dict[str, Any]]) -> dict[str, Any] | None:
    """BM25 over the text fields with SqliteStore's field weights. `match` queries only (never
    query_string), so no user text is syntax. CJK runs are bigrams through the `cjk` analyzer; a lone CJK
    character also searches the per-character `.std` sub-fields; Latin words match fuzzily (no stemmer)."""
    terms = query_terms(text)
    if not terms:
        return None
    fields = [f"text.{name}^{BM25_WEIGHTS[name]}" for name in TEXT_FIELDS]
    should: list[dict[str, Any]] = [
        {
            "multi_match": {
                "query": " ".join(terms),
                "fields": fields,
                "type": "most_fields",
                "operator": "or",
                "fuzziness": FUZZINESS,
                "prefix_length": FUZZY_PREFIX_LENGTH,
                "max_expansions": FUZZY_MAX_EXPANSIONS,
                "lenient": True,
            }
        }
    ]
    singles = [t for t in terms if len(t) == 1 and _CJK_RUN_RE.fullmatch(t)]
    if singles:
        std_fields = [f"text.{name}.std^{BM25_WEIGHTS[name]}" for name in TEXT_FIELDS]
        should.append(
            {
                "multi_match": {
                    "query": " ".join(singles),
                    "fields": std_fields,
                    "type": "most_fields",
                    "operator": "or",
                }
            }
        )
    return {"bool": {"should": should, "minimum_should_match": 1, "filter": clauses}}


def _chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    page: list[Any] = []
    for item in items:
        page.append(item)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page


def _error_type(exc: BaseException) -> str | None:
    info = getattr(exc, "info", None) or getattr(exc, "body", None)
    if isinstance(info, Mapping):
        error = info.get("error")
        if isinstance(error, Mapping):
            return error.get("type")
    return None


def _status(exc: BaseException) -> int | None:
    meta = getattr(exc, "meta", None)
    status = getattr(meta, "status", None) or getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _describe(exc: BaseException) -> str:
    text = str(exc)
    if "Connection refused" in text or "ConnectionRefused" in text or "Errno 111" in text:
        return "connection refused"
    status = _status(exc)
    if status is not None:
        return f"HTTP {status} {_error_type(exc) or ''}".strip()
    return (text.splitlines() or [type(exc).__name__])[0][:200]


def _translate(exc: BaseException, config: ElasticConfig) -> StoreError:
    """One-line StoreErrors for what the client raises."""
    if isinstance(exc, StoreError):
        return exc
    from elasticsearch import (
        ApiError,
        AuthenticationException,
        AuthorizationException,
        ConnectionError,
        ConnectionTimeout,
        UnsupportedProductError,
    )

    where = config.where()
    if isinstance(exc, AuthenticationException):
        return StoreUnavailable(
            f"{where} refused the credentials (401): set TRENDCART_ES_API_KEY, or "
            f"TRENDCART_ES_USERNAME/TRENDCART_ES_PASSWORD, or user:password@ in the URL"
        )
    if isinstance(exc, AuthorizationException):
        return StoreUnavailable(f"{where}: these credentials may not do that (403): {_error_reason(exc)}")
    if isinstance(exc, UnsupportedProductError):
        return StoreUnavailable(f"{where} does not answer as Elasticsearch (no X-Elastic-Product header)")
    if isinstance(exc, ConnectionTimeout):
        return ClusterUnavailable(
            f"{where} did not answer within {config.request_timeout:g} s (TRENDCART_ES_TIMEOUT)"
        )
    if isinstance(exc, ConnectionError):
        text = str(exc)
        if "CERTIFICATE" in text.upper() or "SSL" in text.upper():
            return StoreUnavailable(
                f"cannot reach {where}: TLS failed ({_describe(exc)}); set TRENDCART_ES_CA_CERTS "
                f"or TRENDCART_ES_VERIFY_CERTS=false"
            )
        return ClusterUnavailable(
            f"cannot reach {where}: {_describe(exc)} (is it running? tools/elasticsearch/start "
            f"starts a local node)"
        )
    if isinstance(exc, ApiError):
        status = _status(exc)
        if status is not None and (status in BULK_RETRY_STATUSES or status >= 500):
            return ClusterUnavailable(f"{where} is unavailable (HTTP {status}): {_error_reason(exc)}")
        return StoreError(f"{where} refused the request (HTTP {status}): {_error_reason(exc)}")
    return StoreError(f"{where}: {type(exc).__name__}: {exc}")


def _error_reason(exc: BaseException) -> str:
    info = getattr(exc, "info", None) or getattr(exc, "body", None)
    if isinstance(info, Mapping) and isinstance(info.get("error"), Mapping):
        error = info["error"]
        cause = (error.get("root_cause") or [{}])[0]
        return str(cause.get("reason") or error.get("reason") or error.get("type"))
    return str(getattr(exc, "message", exc))[:300]
