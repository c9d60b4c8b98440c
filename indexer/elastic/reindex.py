"""Reindex: re-embed every document into a new versioned docs index, then move the alias in one call."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from indexer.documents import prepare_document
from indexer.elastic.cluster import Cluster
from indexer.elastic.indices import next_docs_index, wait_for_index
from indexer.elastic.mapping import Layout, model_meta, vector_mapping
from indexer.elastic.source import source
from indexer.store import StoreError
from indexer.vectors import unit_vector

DOC_FIELDS = ["doc", "first_seen", "last_seen"]  # what is carried over; vectors are recomputed


@dataclass
class ReindexResult:
    old_index: str
    new_index: str
    documents: int
    model: str
    dim: int


@dataclass
class Embedding:
    """How to embed for a reindex: `embed` (texts -> vectors), the model's name and dimension, `text_hash`."""

    embed: Callable[[list[str]], Any]
    model_name: str
    dim: int
    text_hash: Callable[[str], str]

    @classmethod
    def of(
        cls,
        embedder: Any = None,
        embed: Callable[[list[str]], Any] | None = None,
        model_name: str | None = None,
        dim: int | None = None,
    ) -> Embedding:
        """From an Embedder (its `embed_documents`, `model_name`, `dim`, `text_hash`), or `embed` with
        `model_name` and `dim` (then the text hash is a SHA-256 of model and text)."""
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
        return cls(embed=embed, model_name=model_name, dim=int(dim), text_hash=hasher)


def reindex(
    cluster: Cluster,
    layout: Layout,
    old_index: str,
    embedding: Embedding,
    *,
    vector_index: str,
    batch: int,
    keep_old: bool,
    progress: Callable[[int], None] | None,
) -> ReindexResult:
    """Create `P-docs-v(N+1)` with the new vector mapping and model `_meta`, copy every document of
    `old_index` (point in time + search_after) with new vectors, refresh, swap the alias atomically and
    delete the old index unless `keep_old`. The new index is deleted again if anything fails."""
    from indexer.embedder import document_text

    client = cluster.client
    dim = embedding.dim
    model = (embedding.model_name, dim)
    new_index = next_docs_index(cluster, layout)
    cluster.call(
        lambda: client.indices.create(
            index=new_index,
            mappings={
                "properties": {"vector": vector_mapping(dim, vector_index)},
                "_meta": model_meta(embedding.model_name, dim, vector_index),
            },
        )
    )
    cluster.call(lambda: wait_for_index(cluster, new_index))
    done = 0
    try:
        for page in _batched(cluster.scan_pit(old_index, DOC_FIELDS, batch), batch):
            docs = [hit["_source"] for hit in page]
            rows = [prepare_document(src["doc"]) for src in docs]
            texts = [document_text(json.loads(row["doc"])) for row in rows]
            vectors = np.asarray(embedding.embed(texts), dtype=np.float32)
            if vectors.ndim != 2 or vectors.shape != (len(texts), dim):
                raise StoreError(
                    f"the embedder gave vectors of shape {vectors.shape}, expected ({len(texts)}, {dim})"
                )
            actions = []
            for src, row, text, raw in zip(docs, rows, texts, vectors, strict=True):
                vec = unit_vector(raw, model)  # a zero vector means no vector
                text_hash = embedding.text_hash(text) if vec is not None else None
                body = source(row, src["first_seen"], src["last_seen"], vec, text_hash)
                actions.append({"_op_type": "index", "_index": new_index, "_id": row["id"], "_source": body})
            cluster.bulk(actions)
            done += len(actions)
            if progress is not None:
                progress(done)
        cluster.call(lambda: client.indices.refresh(index=new_index))
        cluster.call(
            lambda: client.indices.update_aliases(
                actions=[
                    {"remove": {"index": old_index, "alias": layout.docs_alias}},
                    {"add": {"index": new_index, "alias": layout.docs_alias, "is_write_index": True}},
                ]
            )
        )
    except BaseException:
        client.options(ignore_status=404).indices.delete(index=new_index)
        raise
    if not keep_old:
        cluster.call(lambda: client.options(ignore_status=404).indices.delete(index=old_index))
    return ReindexResult(
        old_index=old_index, new_index=new_index, documents=done, model=embedding.model_name, dim=dim
    )


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    page: list[Any] = []
    for item in items:
        page.append(item)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page
