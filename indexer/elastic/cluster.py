"""Cluster: one connection to Elasticsearch with every call's errors translated, and paged reads (mget, scans)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from indexer.elastic.bulk import bulk_write, chunks
from indexer.elastic.config import ElasticConfig
from indexer.elastic.errors import translate
from indexer.elastic.queries import DOCS_SORT, PAGE_SIZE, SNAPSHOT_SORT, scan_body
from indexer.store import StoreError, StoreUnavailable

SUPPORTED_MAJOR = 8  # the official client's major version must match the server's
PIT_KEEP_ALIVE = "5m"  # a point in time lives this long between two pages of a reindex


class Cluster:
    """The client and its configuration. `call` turns whatever the client raises into a StoreError;
    `client` may be given (tests), else `connect` checks that the server is Elasticsearch 8.x."""

    def __init__(self, config: ElasticConfig, client: Any | None = None) -> None:
        self.config = config
        self.server_version: str | None = None
        self.client = client if client is not None else self._connect()

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
            raise translate(exc, self.config) from exc
        version = str(info.get("version", {}).get("number", "?"))
        if version.split(".")[0] != str(SUPPORTED_MAJOR):
            client.close()
            raise StoreUnavailable(
                f"{self.config.where()} runs Elasticsearch {version}; trendcart needs {SUPPORTED_MAJOR}.x "
                f"(the elasticsearch {SUPPORTED_MAJOR}.x Python client)"
            )
        self.server_version = version
        return client

    def close(self) -> None:
        self.client.close()

    def call(self, fn: Callable[[], Any]) -> Any:
        """`fn()`, with client exceptions as StoreErrors."""
        try:
            return fn()
        except StoreError:
            raise
        except Exception as exc:
            raise translate(exc, self.config) from exc

    def bulk(self, actions: list[dict[str, Any]], conflicts_ok: bool = False) -> set[str]:
        return bulk_write(self.client, actions, self.config, conflicts_ok=conflicts_ok)

    def refresh(self, index: str) -> None:
        self.call(
            lambda: self.client.indices.refresh(index=index, ignore_unavailable=True, allow_no_indices=True)
        )

    def search(self, index: str, snapshots: bool = False, **body: Any) -> dict[str, Any]:
        """A search; on the snapshots alias missing indices are no error (no month written yet)."""
        extra = {"ignore_unavailable": True, "allow_no_indices": True} if snapshots else {}
        return self.call(lambda: self.client.search(index=index, **extra, **body))

    def mget(
        self, index: str, ids: list[str], fields: list[str], with_versions: bool = False
    ) -> dict[str, dict[str, Any]]:
        """Sources (only `fields`) by id, realtime (no refresh needed); `_seq_no`/`_primary_term` added on
        request. Missing ids are absent."""
        out: dict[str, dict[str, Any]] = {}
        for chunk in chunks(ids, PAGE_SIZE):
            source: Any = fields if fields else False
            docs = [{"_id": doc_id, "_source": source} for doc_id in chunk]
            resp = self.call(lambda d=docs: self.client.mget(index=index, docs=d))
            for doc in resp["docs"]:
                if doc.get("found"):
                    src = dict(doc.get("_source") or {})
                    if with_versions:
                        src["_seq_no"], src["_primary_term"] = doc["_seq_no"], doc["_primary_term"]
                    out[doc["_id"]] = src
        return out

    def scan(
        self,
        index: str,
        query: dict[str, Any],
        fields: list[str],
        page: int = PAGE_SIZE,
        snapshots: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Every hit of `query`, `page` at a time, with search_after on a unique sort key."""
        sort = SNAPSHOT_SORT if snapshots else DOCS_SORT
        after: list[Any] | None = None
        while True:
            body = scan_body(query, fields, page, sort, after)
            hits = self.search(index, snapshots=snapshots, **body)["hits"]["hits"]
            yield from hits
            if len(hits) < page:
                return
            after = hits[-1]["sort"]

    def scan_pit(self, index: str, fields: list[str], page: int) -> Iterator[dict[str, Any]]:
        """Every document of one index as of now (point in time), for reindexing."""
        pit = self.call(lambda: self.client.open_point_in_time(index=index, keep_alive=PIT_KEEP_ALIVE))["id"]
        try:
            after: list[Any] | None = None
            while True:
                body: dict[str, Any] = {
                    "size": page,
                    "_source": fields,
                    "sort": [{"_shard_doc": "asc"}],
                    "pit": {"id": pit, "keep_alive": PIT_KEEP_ALIVE},
                    "track_total_hits": False,
                }
                if after is not None:
                    body["search_after"] = after
                resp = self.call(lambda b=body: self.client.search(**b))
                pit = resp.get("pit_id", pit)
                hits = resp["hits"]["hits"]
                yield from hits
                if len(hits) < page:
                    return
                after = hits[-1]["sort"]
        finally:
            self.client.options(ignore_status=404).close_point_in_time(id=pit)
