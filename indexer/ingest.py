"""Ingest JSON-form items into a store (JSONL files and the Scrapy IndexPipeline share this one path)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from indexer.documents import CheckedDocument, checked_document
from indexer.embedder import Embedder, document_text, embedder_for
from indexer.store import InvalidDocument, ModelMismatch, Store, StoreError, StoreUnavailable, UpsertResult

# Documents embedded and written per batch. Larger batches let sentence-transformers sort more texts by
# length (less padding): measured on 2 cores, 1200 docs in batches of 256 took 7% longer to embed than in
# one call; 512 keeps a batch near 4-5 s of 2-core encoding, so progress still moves.
DEFAULT_INGEST_BATCH = 512
# Reasons kept in a report: enough to fix a feed, not a second copy of a broken file in memory.
MAX_REPORTED_ERRORS = 1000

# What a store raises about one document (a value it cannot hold, a shape it refuses): the batch is then
# written document by document and only the guilty line is reported. Anything else (a full disk, a store
# gone) is about the store and stops the ingest.
DOCUMENT_ERRORS = (InvalidDocument, ValueError, OverflowError, TypeError)

Progress = Callable[[int, int], None]


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged_text: int = 0
    embedded: int = 0
    skipped_invalid: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def indexed(self) -> int:
        return self.added + self.updated

    def merge(self, other: IngestReport) -> None:
        for name in ("added", "updated", "unchanged_text", "embedded", "skipped_invalid", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)

    def to_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged_text": self.unchanged_text,
            "embedded": self.embedded,
            "skipped_invalid": self.skipped_invalid,
            "errors": [{"line": line, "reason": reason} for line, reason in self.errors],
            "seconds": round(self.seconds, 3),
        }


def validate(doc: Any, now: datetime | None = None) -> CheckedDocument:
    """The canonical JSON form of one item, or InvalidItem (a ValueError) saying what is wrong: see
    check_item. A store trusts what this returns (indexer.documents.CheckedDocument): no second check."""
    return checked_document(doc, now)


class Ingestor:
    """Validate, embed (only texts the store has not embedded with this model), write in batches.

    `embedder=None` indexes for keyword search only."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder | None,
        batch_size: int = DEFAULT_INGEST_BATCH,
        on_flush: Callable[[int], None] | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.batch_size = max(1, int(batch_size))
        self.on_flush = on_flush
        self.report = IngestReport()
        self._pending: list[tuple[int, dict[str, Any]]] = []  # (line number or 0, canonical document)
        self._model_checked = False
        self._started = time.perf_counter()
        # The store's own model unless one was chosen; ModelMismatch before loading anything otherwise.
        self.embedder = embedder_for(store.model_info(), embedder)

    @property
    def pending(self) -> int:
        """Documents queued for the next flush."""
        return len(self._pending)

    def add(self, doc: Any, line: int | None = None) -> bool:
        """Queue one item (a dict in the JSON form); False (and an error in the report) if invalid."""
        try:
            data = validate(doc)
        except ValueError as exc:
            self.add_error(line or 0, str(exc))
            return False
        self._pending.append((line or 0, data))
        if len(self._pending) >= self.batch_size:
            self.flush()
        return True

    def add_error(self, line: int, reason: str) -> None:
        """Count one skipped line and keep its reason (up to MAX_REPORTED_ERRORS)."""
        self.report.skipped_invalid += 1
        if len(self.report.errors) < MAX_REPORTED_ERRORS:
            self.report.errors.append((line, reason))

    def flush(self) -> None:
        """Embed and write the queued documents; a document the store refuses is reported by its line and
        skipped, the rest of its batch is written. StoreError when the store itself fails."""
        batch, self._pending = self._pending, []
        if not batch:
            return
        docs = [doc for _, doc in batch]
        vectors, hashes = self._embed(docs)
        try:
            result = self.store.upsert(docs, vectors, hashes)
        except (StoreUnavailable, ModelMismatch):
            raise
        except (StoreError, *DOCUMENT_ERRORS):
            result = self._upsert_one_by_one(batch, vectors, hashes)
        self.report.added += result.added
        self.report.updated += result.updated
        if self.on_flush is not None:
            self.on_flush(len(docs))

    def _upsert_one_by_one(
        self,
        batch: list[tuple[int, dict[str, Any]]],
        vectors: list[Any] | None,
        hashes: list[str | None] | None,
    ) -> UpsertResult:
        """The batch a store refused, written document by document: only the guilty lines are skipped."""
        total = UpsertResult()
        for i, (line, doc) in enumerate(batch):
            try:
                one = self.store.upsert(
                    [doc],
                    None if vectors is None else [vectors[i]],
                    None if hashes is None else [hashes[i]],
                )
            except DOCUMENT_ERRORS as exc:
                self.add_error(line, f"refused by the store: {exc}")
                continue
            total.added += one.added
            total.updated += one.updated
        return total

    def _embed(self, docs: list[dict[str, Any]]) -> tuple[list[Any] | None, list[str | None] | None]:
        """Vectors (None where the store already holds this text's) and text hashes; (None, None) without
        an embedder."""
        vectors: list[Any] | None = None
        hashes: list[str | None] | None = None
        if self.embedder is not None:
            texts = [document_text(d) for d in docs]
            hashes = [self.embedder.text_hash(t) for t in texts]
            known = self.store.known_hashes([d["id"] for d in docs])
            todo: dict[str, int] = {}  # text hash -> index into `texts`, each new text embedded once
            for i, (doc, text_hash) in enumerate(zip(docs, hashes, strict=False)):
                if known.get(doc["id"]) == text_hash:
                    self.report.unchanged_text += 1
                else:
                    todo.setdefault(text_hash, i)
            vectors = [None] * len(docs)
            if todo:
                if not self._model_checked:
                    self.store.set_model(self.embedder.model_name, self.embedder.dim)
                    self._model_checked = True
                embedded = self.embedder.embed_documents([texts[i] for i in todo.values()])
                self.report.embedded += len(todo)
                by_hash = dict(zip(todo.keys(), embedded, strict=False))
                for i, (doc, text_hash) in enumerate(zip(docs, hashes, strict=False)):
                    if known.get(doc["id"]) != text_hash:
                        vectors[i] = by_hash[text_hash]
        return vectors, hashes

    def close(self) -> IngestReport:
        self.flush()
        self.report.seconds = time.perf_counter() - self._started
        return self.report


def ingest_jsonl(
    path: str | Path,
    store: Store,
    embedder: Embedder | None,
    batch_size: int = DEFAULT_INGEST_BATCH,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest one JSONL file (one item per line; blank lines ignored). Broken lines are reported with
    their 1-based line numbers and skipped. `progress(bytes_done, bytes_total)` is called per batch.
    Raises OSError when the file cannot be read, StoreError when the store refuses."""
    path = Path(path)
    total = path.stat().st_size
    done = 0  # bytes read so far; reported when their batch is written, so the bar tracks real work

    def on_flush(_: int) -> None:
        if progress is not None:
            progress(done, total)

    ingestor = Ingestor(store, embedder, batch_size, on_flush=on_flush)
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            done += len(raw)
            line = raw.strip()
            if not line:
                continue
            try:
                doc = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                ingestor.add_error(number, f"invalid JSON: {exc}")
                continue
            ingestor.add(doc, line=number)
    report = ingestor.close()
    if progress is not None:
        progress(total, total)
    return report
