"""Bulk writes: chunked by count and bytes, sent in parallel, retried with backoff, failures collected."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from indexer.elastic.config import ElasticConfig
from indexer.elastic.errors import TRANSIENT_STATUSES, BulkWriteError, ClusterUnavailable, translate

# Bulk chunks: 500 documents (the helpers' default) or 8 MiB, whichever comes first. A 384-dim vector is
# ~7 KiB of JSON, so 500 documents with vectors are ~4 MiB: well under http.max_content_length (100 MiB)
# and small enough that one rejected chunk costs little to resend.
BULK_CHUNK_DOCS = 500
BULK_CHUNK_BYTES = 8 * 1024 * 1024
# Transient statuses (errors.TRANSIENT_STATUSES) are retried after 0.5, 1, 2, 4 s.
BULK_MAX_RETRIES = 4
BULK_INITIAL_BACKOFF_S = 0.5
BULK_MAX_BACKOFF_S = 8.0


def bulk_write(
    client: Any, actions: list[dict[str, Any]], config: ElasticConfig, conflicts_ok: bool = False
) -> set[str]:
    """Send actions in chunks (count and bytes), `config.bulk_threads` chunks at a time, retrying 429/5xx
    with backoff. Returns the ids that hit a version conflict when `conflicts_ok`; raises BulkWriteError
    with every other refused document (the rest is written), or ClusterUnavailable when the cluster
    cannot take the writes."""
    from elasticsearch import helpers

    if not actions:
        return set()
    conflicts: set[str] = set()
    failures: list[tuple[str, str]] = []
    transient: list[tuple[str, str]] = []

    def send(part: list[dict[str, Any]]) -> list[tuple[bool, Any]]:
        return list(
            helpers.streaming_bulk(
                client,
                part,
                chunk_size=BULK_CHUNK_DOCS,
                max_chunk_bytes=BULK_CHUNK_BYTES,
                raise_on_error=False,
                raise_on_exception=True,
                max_retries=BULK_MAX_RETRIES,
                initial_backoff=BULK_INITIAL_BACKOFF_S,
                max_backoff=BULK_MAX_BACKOFF_S,
                retry_on_status=TRANSIENT_STATUSES,
                yield_ok=False,
            )
        )

    threads = max(1, config.bulk_threads)
    try:
        if threads == 1 or len(actions) <= BULK_CHUNK_DOCS:
            results = send(actions)
        else:  # chunks in parallel, each still retried with backoff by streaming_bulk
            with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="trendcart-bulk") as pool:
                results = [r for part in pool.map(send, chunks(actions, BULK_CHUNK_DOCS)) for r in part]
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
            elif status in TRANSIENT_STATUSES or status >= 500:
                transient.append((doc_id, f"{status} {reason}"))
            else:
                failures.append((doc_id, f"{status} {reason}"))
    except Exception as exc:
        raise translate(exc, config) from exc
    if transient:
        raise ClusterUnavailable(
            f"{config.where()}: {len(transient)} writes still failing after "
            f"{BULK_MAX_RETRIES} retries, e.g. {transient[0][0]}: {transient[0][1]}"
        )
    if failures:
        raise BulkWriteError(failures, len(actions))
    return conflicts


def chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
