"""ElasticStore: the Store contract on Elasticsearch 8.x, wiring layout, bulk writes, outbox, queries and reindex."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import numpy as np

from crawler.items import Snapshot, is_count
from indexer.crosslingual import NO_EXPANSION, expand
from indexer.documents import platform_kind, prepare_document
from indexer.elastic import indices
from indexer.elastic.bulk import chunks
from indexer.elastic.cluster import Cluster
from indexer.elastic.config import ElasticConfig
from indexer.elastic.errors import BulkWriteError, ElasticModelMismatch, translate
from indexer.elastic.mapping import Layout, model_meta, vector_mapping
from indexer.elastic.merge import MERGE_FIELDS, merge_actions, merge_states
from indexer.elastic.outbox import Outbox, QueuedWriter
from indexer.elastic.queries import (
    PAGE_SIZE,
    TERMS_CHUNK,
    filter_clauses,
    keyword_query,
    knn_query,
    msearch_hits,
    msearch_request,
    range_clause,
    ranked_ids_body,
    stats_aggs,
    window_aggs,
    window_kind_aggs,
)
from indexer.elastic.reindex import Embedding, ReindexResult, reindex
from indexer.elastic.source import load_doc, snapshot_actions, vector_json
from indexer.store import (
    HYBRID_CANDIDATES,
    Hit,
    SearchFilters,
    SearchMode,
    StoreError,
    StoreStats,
    UpsertResult,
    WindowStat,
    floor_cosines_of,
    fused_hits,
    resolve_mode,
    search_settings,
    to_iso,
)
from indexer.vectors import document_vectors, unit_vector

log = logging.getLogger("trendcart.elastic")

# Optimistic concurrency: a document changed by another writer between our read and our write is merged
# again from its new state, this many times, before the conflict is reported.
CONFLICT_ROUNDS = 3
DOC_FIELDS = ["doc", "first_seen", "last_seen"]  # what get/iter_documents read back


class ElasticStore:
    """The Store contract on an Elasticsearch 8.x cluster, plus the HasOutbox and Reindexable capabilities.

    Layout (indexer.elastic.mapping.Layout), for prefix P: documents in `P-docs-vN` behind the alias
    `P-docs`; snapshots, one per (entity, metric, time), in monthly `P-snapshots-YYYY.MM` behind
    `P-snapshots`; the model name and dimension in the docs index's mapping `_meta`.

    Writes are bulk requests without refresh; the next read on this object refreshes once (read-after-write
    for this object, no refresh per document; `close` refreshes what the object wrote, so a later process
    reads it at once; other clients see writes within `refresh_interval` before that). A write
    the cluster cannot take now goes to the outbox (indexer.elastic.outbox) instead of failing.

    `config` comes from the caller (`ElasticConfig.from_env(url, os.environ)` in indexer.stores): nothing
    here reads the environment."""

    backend = "elasticsearch"

    def __init__(
        self, config: ElasticConfig, model_name: str | None = None, *, client: Any | None = None
    ) -> None:
        self.config = config
        self.model_name = model_name
        self.layout = Layout(config.index_prefix)
        self.prefix = self.layout.prefix
        self.docs_alias = self.layout.docs_alias
        self.snapshots_alias = self.layout.snapshots_alias
        self.outbox = Outbox(config.outbox_dir, self.prefix)
        self._queue = QueuedWriter(self.outbox, config.where(), self._apply)
        self._dirty = False
        self.cluster = Cluster(config, client)
        self.client = self.cluster.client
        self.server_version = self.cluster.server_version
        try:
            indices.ensure_layout(self.cluster, self.layout)
            self._model = indices.read_model(self.cluster, self.layout)
        except Exception as exc:
            self.cluster.close()
            raise translate(exc, config) from exc
        if config.replay_on_open and self.outbox.files():
            try:
                self.replay_outbox()
            except StoreError as exc:
                log.warning("outbox not replayed yet: %s", exc)

    def close(self) -> None:
        """Refresh what this object wrote (so the next process reads it at once: `index`, then `search`),
        then close the client. A node that is gone by now loses nothing: the writes are on the node or in the
        outbox, and the node refreshes within `refresh_interval` once it is back."""
        try:
            self._refresh_if_needed()
        except StoreError:
            pass
        finally:
            self.cluster.close()

    def __enter__(self) -> ElasticStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ElasticStore({self.config.where()})"

    def destroy(self) -> None:
        """Delete every index and template of this prefix (tests, `trendcart` users starting over)."""
        indices.destroy(self.cluster, self.layout)

    def _docs_index(self) -> str:
        return indices.docs_index(self.cluster, self.layout)

    def _snapshot_indices(self) -> list[str]:
        return indices.snapshot_indices(self.cluster, self.layout)

    # ----------------------------------------------------------------------------------------- model

    def model_info(self) -> tuple[str, int] | None:
        return self._model

    def set_model(self, name: str, dim: int) -> None:
        offered = (name, int(dim))
        if self._model is None:
            self._model = self._read_model()
        if self._model is not None:
            if self._model != offered:
                raise ElasticModelMismatch(self._model, offered, self.config.where())
            return
        try:
            self.client.indices.put_mapping(
                index=self.docs_alias,
                properties={"vector": vector_mapping(dim, self.config.vector_index)},
                meta={**self._all_meta(), **model_meta(name, dim, self.config.vector_index)},
            )
        except Exception as exc:
            current = self._read_model()  # another process set a model first
            if current is not None and current != offered:
                raise ElasticModelMismatch(current, offered, self.config.where()) from None
            if current is None:
                raise translate(exc, self.config) from exc
        self._model = offered

    def _read_model(self) -> tuple[str, int] | None:
        return self.cluster.call(lambda: indices.read_model(self.cluster, self.layout))

    def _mismatch(self, stored: tuple[str, int], offered: tuple[str, int | None]) -> ElasticModelMismatch:
        return ElasticModelMismatch(stored, offered, self.config.where())

    # -------------------------------------------------------------------------------------- metadata
    # HasMetadata: under `trendcart_meta` in the docs mapping's `_meta` (put_mapping replaces the whole
    # `_meta`, so the model's entry is read and written back with it).

    def get_meta(self, key: str) -> str | None:
        return self._all_meta().get("trendcart_meta", {}).get(key)

    def set_meta(self, key: str, value: str | None) -> None:
        meta = self._all_meta()
        values = {k: v for k, v in meta.get("trendcart_meta", {}).items() if k != key}
        meta["trendcart_meta"] = values if value is None else {**values, key: value}
        self.cluster.call(lambda: self.client.indices.put_mapping(index=self.docs_alias, meta=meta))

    def _all_meta(self) -> dict[str, Any]:
        found = self.cluster.call(lambda: self.client.indices.get_mapping(index=self.docs_alias))
        return next((dict(b.get("mappings", {}).get("_meta") or {}) for b in found.values()), {})

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
                "vectors": [vector_json(v) if v is not None else None for v in vecs],
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
        """Settings for a large ingest, restored afterwards: `refresh_interval: -1` and `number_of_replicas: 0`
        on the docs index and the existing snapshot indices (no new segment every second, so fewer HNSW graphs
        to build and merge; one copy indexed, the replicas copied once at the end), then one refresh. Searches of other clients see nothing of the load until it ends. Not used by
        default: on a 2-core node the load itself was slower with it (one large in-memory graph costs more per
        insert than many small per-refresh ones; docs/BENCHMARKS.md), it only saves the later merges.

        `async_translog=True` (opt-in) also sets `index.translog.durability: async`: the translog is fsynced
        every 5 s instead of before each bulk request answers, so a node crash can lose the last seconds of
        acknowledged writes (re-run the load to repair). Never the default."""
        settings: dict[str, Any] = {"refresh_interval": "-1"}
        if async_translog:
            settings["translog.durability"] = "async"
        names = ",".join([self._docs_index(), *self._snapshot_indices()])
        # Replicas: 0 during the load (each document indexed once, not once per copy), then each index's own
        # count back (a cluster where the user raised it to 1 gets 1 again, and copies it once at the end).
        current = self.cluster.call(
            lambda: self.client.indices.get_settings(index=names, name="index.number_of_replicas")
        )
        replicas = {index: body["settings"]["index"]["number_of_replicas"] for index, body in current.items()}
        self.cluster.call(
            lambda: self.client.indices.put_settings(
                index=names, settings={"index": {**settings, "number_of_replicas": 0}}
            )
        )
        try:
            yield self
        finally:
            restore = {"index": {name: None for name in settings}}  # back to the template's/default values
            names = ",".join([self._docs_index(), *self._snapshot_indices()])
            self.cluster.call(lambda: self.client.indices.put_settings(index=names, settings=restore))
            for index, count in replicas.items():
                self.cluster.call(
                    lambda i=index, c=count: self.client.indices.put_settings(
                        index=i, settings={"index": {"number_of_replicas": c}}
                    )
                )
            self._dirty = True
            self._refresh_if_needed()

    def _write_or_queue(
        self, record: Callable[[], dict[str, Any]], write: Callable[[], Any], queued_result: Any
    ) -> Any:
        """Write now (replaying older queued batches first), or queue the batch in the outbox."""
        try:
            return self._queue.write_or_queue(record, write, queued_result)
        finally:
            self._dirty = True  # even a failed bulk request may have written part of its documents

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
        stored = self.cluster.mget(self.docs_alias, ids, MERGE_FIELDS, with_versions=True)
        states, result = merge_states(rows, vecs, hashes, stored)
        carry = [doc_id for doc_id, s in states.items() if s.needs_stored_vector()]
        kept = self.cluster.mget(self.docs_alias, carry, ["vector"]) if carry else {}
        return merge_actions(states, self.docs_alias, kept), result

    def _snapshot_actions(self, rows: Any) -> list[dict[str, Any]]:
        return snapshot_actions(self.layout, rows)

    def _bulk(self, actions: list[dict[str, Any]], conflicts_ok: bool = False) -> set[str]:
        if actions:
            self._dirty = True  # even a failed bulk request may have written part of its documents
        return self.cluster.bulk(actions, conflicts_ok=conflicts_ok)

    def _check_vectors(self, vectors: Sequence[Any] | None, n: int) -> list[np.ndarray | None]:
        # The store layer's rule (indexer.vectors); a zero vector is none, and Elasticsearch refuses it anyway.
        return document_vectors(vectors, n, self._model, self._mismatch)

    def delete(self, ids: Sequence[str]) -> int:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return 0
        self._refresh_if_needed()
        existing = self.cluster.mget(self.docs_alias, ids, [])
        actions: list[dict[str, Any]] = [
            {"_op_type": "delete", "_index": self.docs_alias, "_id": doc_id} for doc_id in existing
        ]
        for chunk in chunks(ids, TERMS_CHUNK):
            for hit in self.cluster.scan(
                self.snapshots_alias, {"terms": {"entity_id": chunk}}, [], snapshots=True
            ):
                actions.append({"_op_type": "delete", "_index": hit["_index"], "_id": hit["_id"]})
        self._bulk(actions)  # deletes are not queued: they run now or fail with StoreUnavailable
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
                deleted += self.cluster.call(lambda i=index: self.client.count(index=i)["count"])
                self.cluster.call(lambda i=index: self.client.indices.delete(index=i))
            elif month == month_of_cutoff:
                actions = [
                    {"_op_type": "delete", "_index": hit["_index"], "_id": hit["_id"]}
                    for hit in self.cluster.scan(
                        index, {"range": {"observed_at": {"lt": cutoff}}}, [], snapshots=True
                    )
                ]
                self._bulk(actions)
                deleted += len(actions)
        return deleted

    # ---------------------------------------------------------------------------------------- outbox

    def replay_outbox(self) -> int:
        """Write every queued batch of this prefix, oldest first. Returns batches replayed. Raises
        StoreUnavailable (what is left stays queued) when the cluster still cannot take them."""
        try:
            return self._queue.replay(stop_on_failure=False)
        finally:
            self._dirty = True

    def outbox_pending(self) -> int:
        """Batches waiting in the outbox for this prefix."""
        return len(self.outbox.files())

    def outbox_location(self) -> str:
        """The outbox folder."""
        return str(self.outbox.directory)

    def _apply(self, record: dict[str, Any]) -> None:
        """Perform one queued outbox record (idempotent: the same merge rules as a live write)."""
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
        found = self.cluster.mget(self.docs_alias, list(dict.fromkeys(ids)), DOC_FIELDS)
        return {doc_id: load_doc(src) for doc_id, src in found.items()}

    def count(self, filters: SearchFilters | None = None) -> int:
        query = {"bool": {"filter": filter_clauses(filters)}}
        self._refresh_if_needed()
        return int(self.cluster.call(lambda: self.client.count(index=self.docs_alias, query=query))["count"])

    def iter_documents(
        self, filters: SearchFilters | None = None, batch: int = 500
    ) -> Iterator[dict[str, Any]]:
        query = {"bool": {"filter": filter_clauses(filters)}}
        self._refresh_if_needed()
        for hit in self.cluster.scan(self.docs_alias, query, DOC_FIELDS, page=max(1, batch)):
            yield load_doc(hit["_source"])

    def known_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        found = self.cluster.mget(self.docs_alias, list(dict.fromkeys(ids)), ["text_hash"])
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
        clauses += range_clause("observed_at", to_iso(since, "since"), to_iso(until, "until"))
        self._refresh_if_needed()
        grouped: dict[str, dict[str, int]] = {}
        for hit in self.cluster.scan(
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
        """One composite aggregation over entity_id (queries.window_aggs), paged by PAGE_SIZE buckets."""
        clauses: list[dict[str, Any]] = [{"term": {"metric": metric}}]
        clauses += range_clause("observed_at", to_iso(start, "start"), to_iso(end, "end"))
        if kind is not None:
            clauses.append({"term": {"kind": kind}})
        if platform is not None:
            clauses.append({"term": {"platform": platform}})
        self._refresh_if_needed()
        id_chunks: list[list[str] | None] = (
            [None] if ids is None else list(chunks(list(dict.fromkeys(ids)), TERMS_CHUNK))
        )
        out: dict[str, WindowStat] = {}
        for chunk in id_chunks:
            terms = [{"terms": {"entity_id": chunk}}] if chunk is not None else []
            query = {"bool": {"filter": clauses + terms}}
            after: dict[str, Any] | None = None
            while True:
                resp = self.cluster.search(
                    self.snapshots_alias,
                    query=query,
                    aggs=window_aggs(PAGE_SIZE, after),
                    size=0,
                    snapshots=True,
                )
                agg = (resp.get("aggregations") or {}).get("entities")
                if not agg or not agg["buckets"]:
                    break
                for bucket in agg["buckets"]:
                    entity = bucket["key"]["entity"]
                    out[entity] = window_stat(entity, metric, bucket)
                after = agg.get("after_key")
                if not after or len(agg["buckets"]) < PAGE_SIZE:
                    break
        return out

    def window_stats_by_kind(
        self,
        metric: str,
        windows: Sequence[tuple[str | datetime, str | datetime]],
        platform: str | None = None,
    ) -> list[dict[str, dict[str, WindowStat]]]:
        """window_stats of every kind for several windows from one composite aggregation over their union
        (queries.window_kind_aggs): per window, {kind: {entity id: WindowStat}} (the trend cache's read)."""
        bounds = [(to_iso(a, "start"), to_iso(b, "end")) for a, b in windows]
        out: list[dict[str, dict[str, WindowStat]]] = [{} for _ in bounds]
        if not bounds:
            return out
        clauses: list[dict[str, Any]] = [{"term": {"metric": metric}}]
        clauses += range_clause("observed_at", min(a for a, _ in bounds), max(b for _, b in bounds))
        if platform is not None:
            clauses.append({"term": {"platform": platform}})
        self._refresh_if_needed()
        after: dict[str, Any] | None = None
        while True:
            resp = self.cluster.search(
                self.snapshots_alias,
                query={"bool": {"filter": clauses}},
                aggs=window_kind_aggs(PAGE_SIZE, after, bounds),
                size=0,
                snapshots=True,
            )
            agg = (resp.get("aggregations") or {}).get("entities")
            if not agg or not agg["buckets"]:
                break
            for bucket in agg["buckets"]:
                entity, kind = bucket["key"]["entity"], bucket["key"]["kind"]
                for i, found in enumerate(out):
                    window = bucket[f"w{i}"]
                    if not window["doc_count"]:
                        continue
                    found.setdefault(kind, {})[entity] = window_stat(entity, metric, window)
            after = agg.get("after_key")
            if not after or len(agg["buckets"]) < PAGE_SIZE:
                break
        return out

    def stats(self) -> StoreStats:
        self._refresh_if_needed()
        resp = self.cluster.search(
            self.docs_alias, size=0, track_total_hits=True, aggs=stats_aggs(self._model is not None)
        )
        aggs = resp["aggregations"]
        snapshots = self.cluster.call(
            lambda: self.client.count(
                index=self.snapshots_alias, ignore_unavailable=True, allow_no_indices=True
            )
        )["count"]
        sizes = self.cluster.call(
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
        min_similarity: float | None = None,
        floor_vector: Any | None = None,
    ) -> list[Hit]:
        mode = resolve_mode(mode, query_text, query_vector, has_vectors=self._model is not None, limit=limit)
        if mode is None:
            return []
        clauses = filter_clauses(filters)  # one filter list, used by both sides
        candidates = max(limit, HYBRID_CANDIDATES) if mode is SearchMode.hybrid else limit
        bodies: dict[str, dict[str, Any]] = {}
        expansion = expand(query_text) if mode is not SearchMode.semantic else NO_EXPANSION
        if mode is not SearchMode.semantic:
            for side, text in (("keyword", query_text), ("expanded", expansion.text)):
                query = keyword_query(text, clauses)  # the translation (indexer.crosslingual) searched alike
                if query is not None:
                    bodies[side] = ranked_ids_body(candidates, query=query)
        if mode is not SearchMode.keyword:
            unit = unit_vector(query_vector, self._model, self._mismatch)
            if unit is not None:  # a zero vector has no direction: nothing is similar to it
                bodies["vector"] = ranked_ids_body(candidates, knn=knn_query(unit, clauses, candidates))
        self._refresh_if_needed()
        results = self._msearch(bodies)
        keyword = [(h["_id"], float(h["_score"])) for h in results.get("keyword", [])]
        # Elasticsearch scores cosine kNN as (1 + cos) / 2 so that scores are positive; report the cosine.
        vector = [(h["_id"], 2.0 * float(h["_score"]) - 1.0) for h in results.get("vector", [])]
        expanded = [(h["_id"], float(h["_score"])) for h in results.get("expanded", [])]
        settings = search_settings(self._model[0] if self._model else None, min_similarity)
        floor_cosines = floor_cosines_of(
            mode, floor_vector, lambda v: unit_vector(v, self._model, self._mismatch), self._cosines
        )
        return fused_hits(
            mode, keyword, vector, limit, self.get_many, settings, expanded, expansion, floor_cosines
        )

    def _cosines(self, unit: np.ndarray, ids: list[str]) -> dict[str, float]:
        """The cosine of each document's vector with `unit`, by id (documents without one are absent), in one
        request: kNN filtered to these ids, which Elasticsearch answers by scoring each of them (a filter that
        keeps fewer documents than num_candidates is searched exactly), on the vectors the vector side ranks."""
        self._refresh_if_needed()
        only = [{"ids": {"values": list(ids)}}]
        body = ranked_ids_body(len(ids), knn=knn_query(unit, only, len(ids)))
        hits = self.cluster.search(self.docs_alias, **body)["hits"]["hits"]
        return {h["_id"]: 2.0 * float(h["_score"]) - 1.0 for h in hits}

    def _msearch(self, bodies: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """Both sides of a hybrid search in one round trip."""
        if not bodies:
            return {}
        searches = msearch_request(self.docs_alias, bodies)
        return msearch_hits(list(bodies), self.cluster.call(lambda: self.client.msearch(searches=searches)))

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
        embedding = Embedding.of(embedder, embed, model_name, dim)
        self._refresh_if_needed()
        result = reindex(
            self.cluster,
            self.layout,
            self._docs_index(),
            embedding,
            vector_index=self.config.vector_index,
            batch=batch,
            keep_old=keep_old,
            progress=progress,
        )
        self._model = (embedding.model_name, embedding.dim)
        self._dirty = True
        return result

    # ----------------------------------------------------------------------------------------- plumbing

    def _refresh_if_needed(self) -> None:
        """Make this object's writes visible to searches: one refresh per write burst, not per document."""
        if self._dirty:
            self.cluster.refresh(f"{self.docs_alias},{self.snapshots_alias}")
            self._dirty = False


def window_stat(entity: str, metric: str, bucket: Mapping[str, Any]) -> WindowStat:
    """A WindowStat from an aggregation bucket holding `first`/`last` top hits and its doc_count (the bucket of
    window_aggs, or one window of window_kind_aggs)."""
    first = bucket["first"]["hits"]["hits"][0]["_source"]
    last = bucket["last"]["hits"]["hits"][0]["_source"]
    return WindowStat(
        entity_id=entity,
        metric=metric,
        first_at=first["observed_at"],
        first_value=int(first["value"]),
        last_at=last["observed_at"],
        last_value=int(last["value"]),
        count=int(bucket["doc_count"]),
    )
