"""The indices of one layout on the cluster: created on open, found (docs index, months), recorded model, deleted."""

from __future__ import annotations

from typing import Any

from indexer.elastic.bulk import chunks
from indexer.elastic.cluster import Cluster
from indexer.elastic.errors import error_type
from indexer.elastic.mapping import Layout, model_from_mappings, template_meta
from indexer.store import StoreUnavailable

HEALTH_TIMEOUT = "30s"  # how long opening waits for a new index's shards (yellow: one node has no replicas)
DELETE_CHUNK = 50  # index names per delete request, to keep the URL short


def ensure_layout(cluster: Cluster, layout: Layout) -> None:
    """Templates (replaced when their schema version differs) and the first docs index behind its alias."""
    client = cluster.client
    _put_template(cluster, layout.docs_alias, layout.docs_template())
    _put_template(cluster, layout.snapshots_alias, layout.snapshots_template())
    if not client.indices.exists_alias(name=layout.docs_alias):
        if client.indices.exists(index=layout.docs_alias):
            raise StoreUnavailable(
                f"{layout.docs_alias} is an index, not an alias: trendcart cannot manage it"
            )
        try:
            client.indices.create(
                index=layout.docs_index(1), aliases={layout.docs_alias: {"is_write_index": True}}
            )
        except Exception as exc:
            if error_type(exc) != "resource_already_exists_exception":  # another process won the race
                raise
    wait_for_index(cluster, layout.docs_alias)


def wait_for_index(cluster: Cluster, index: str) -> None:
    cluster.client.cluster.health(index=index, wait_for_status="yellow", timeout=HEALTH_TIMEOUT)


def _put_template(cluster: Cluster, name: str, body: dict[str, Any]) -> None:
    meta = template_meta()
    existing = cluster.client.options(ignore_status=404).indices.get_index_template(name=name)
    for item in existing.get("index_templates", []) if existing else []:
        if item["index_template"].get("_meta") == meta:
            return
    cluster.client.indices.put_index_template(name=name, meta=meta, **body)


def read_model(cluster: Cluster, layout: Layout) -> tuple[str, int] | None:
    """The model recorded in the docs mapping's `_meta`, or None."""
    return model_from_mappings(cluster.client.indices.get_mapping(index=layout.docs_alias))


def docs_index(cluster: Cluster, layout: Layout) -> str:
    """The concrete index behind the docs alias."""
    return sorted(cluster.call(lambda: cluster.client.indices.get_alias(name=layout.docs_alias)))[-1]


def next_docs_index(cluster: Cluster, layout: Layout) -> str:
    """`P-docs-v(N+1)` for the highest N there is."""
    names = cluster.call(
        lambda: cluster.client.options(ignore_status=404).indices.get(index=f"{layout.prefix}-docs-v*")
    )
    versions = [v for n in names or {} if (v := layout.docs_version(n)) is not None]
    return layout.docs_index(max(versions, default=0) + 1)


def snapshot_indices(cluster: Cluster, layout: Layout) -> list[str]:
    """The monthly snapshot indices, oldest first."""
    found = cluster.call(
        lambda: cluster.client.options(ignore_status=404).indices.get_alias(name=layout.snapshots_alias)
    )
    return sorted(name for name in (found or {}) if layout.is_snapshot_index(name))


def destroy(cluster: Cluster, layout: Layout) -> None:
    """Delete every index and template of the layout."""
    quiet = cluster.client.options(ignore_status=404)
    names = set(quiet.indices.get(index=f"{layout.prefix}-*", expand_wildcards="all") or {})
    for chunk in chunks(sorted(n for n in names if layout.owns(n)), DELETE_CHUNK):
        quiet.indices.delete(index=",".join(chunk))
    for name in layout.templates:
        quiet.indices.delete_index_template(name=name)
