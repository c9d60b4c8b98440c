"""Ingest JSON-form items into a store (JSONL files and the Scrapy IndexPipeline share this one path)."""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.items import check_item
from indexer.embedder import Embedder, document_text, embedder_for
from indexer.store import InvalidDocument, ModelMismatch, Store, StoreError, StoreUnavailable, UpsertResult

# Documents embedded and written per batch. A batch is embedded in a worker thread while the one before it
# is written (and the lines of the next one are read and checked), so the store's work (~0.2 ms a document
# on 2 cores) hides behind the encoder's (1.3 ms, USE) except for the last batch: smaller batches hide more
# of it. 128: the 210-document relevance set is two batches; USE embeds without padding, so a smaller
# call costs it nothing, and for MiniLM (padding within 32-text batches, sorted by length per call) 128
# texts already sort well (bench/bench_relevance.py "Speed").
DEFAULT_INGEST_BATCH = 128
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


def validate(doc: Any, now: datetime | None = None) -> dict[str, Any]:
    """The canonical JSON form of one item, or InvalidItem (a ValueError) saying what is wrong: see check_item."""
    return check_item(doc, now)


class Ingestor:
    """Validate, embed (only texts the store has not embedded with this model), write in batches.

    With `pipeline=True` (ingest_jsonl) a full batch is embedded in one worker thread while the batch
    before it is written: `add` then returns with up to two batches unwritten (`pending` counts them).
    Without it (the crawl's IndexPipeline, live watch: what is added is stored batch by batch) a full
    batch is embedded and written before `add` returns. Every store call happens in the caller's thread;
    `flush` and `close` write everything. `embedder=None` indexes for keyword search only."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder | None,
        batch_size: int = DEFAULT_INGEST_BATCH,
        on_flush: Callable[[int], None] | None = None,
        pipeline: bool = False,
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.embedder = embedder
        self.batch_size = max(1, int(batch_size))
        self.on_flush = on_flush
        self.report = IngestReport()
        self._pending: list[tuple[int, dict[str, Any]]] = []  # (line number or 0, canonical document)
        self._inflight: _Batch | None = None  # handed to the worker, not written yet
        self._worker: ThreadPoolExecutor | None = None
        self._model_checked = False
        self._started = time.perf_counter()
        # The store's own model unless one was chosen; ModelMismatch before loading anything otherwise.
        self.embedder = embedder_for(store.model_info(), embedder)

    @property
    def pending(self) -> int:
        """Documents accepted and not written yet (queued, or being embedded)."""
        return len(self._pending) + (len(self._inflight.items) if self._inflight is not None else 0)

    def add(self, doc: Any, line: int | None = None) -> bool:
        """Queue one item (a dict in the JSON form); False (and an error in the report) if invalid."""
        try:
            data = validate(doc)
        except ValueError as exc:
            self.add_error(line or 0, str(exc))
            return False
        self._pending.append((line or 0, data))
        if len(self._pending) >= self.batch_size:
            self._dispatch()
            if not self.pipeline:
                self._write_inflight()
        return True

    def add_error(self, line: int, reason: str) -> None:
        """Count one skipped line and keep its reason (up to MAX_REPORTED_ERRORS)."""
        self.report.skipped_invalid += 1
        if len(self.report.errors) < MAX_REPORTED_ERRORS:
            self.report.errors.append((line, reason))

    def flush(self) -> None:
        """Embed and write every queued document; a document the store refuses is reported by its line and
        skipped, the rest of its batch is written. StoreError when the store itself fails."""
        self._dispatch()
        self._write_inflight()

    def _dispatch(self) -> None:
        """Hand the queued documents to the worker, then write the batch before them while it embeds."""
        items, self._pending = self._pending, []
        if not items:
            return
        if self._inflight is not None and self._inflight.ids & {doc["id"] for _, doc in items}:
            # A document of the unwritten batch again: write that one first, so that the store's text
            # hashes (skip-unchanged) already know it.
            self._write_inflight()
        try:
            batch = self._prepare(items)
        except BaseException:
            self._abandon()
            raise
        self._write_inflight()
        self._inflight = batch

    def _write_inflight(self) -> None:
        batch, self._inflight = self._inflight, None
        if batch is None:
            return
        try:
            vectors = batch.vectors()
        except BaseException:
            self._abandon()
            raise
        docs = [doc for _, doc in batch.items]
        try:
            result = self.store.upsert(docs, vectors, batch.hashes)
        except (StoreUnavailable, ModelMismatch):
            raise
        except (StoreError, *DOCUMENT_ERRORS):
            result = self._upsert_one_by_one(batch.items, vectors, batch.hashes)
        self.report.added += result.added
        self.report.updated += result.updated
        if self.on_flush is not None:
            self.on_flush(len(docs))

    def _abandon(self) -> None:
        """After an error: nothing stays in flight (the worker finishes what it embeds, unused)."""
        self._inflight = None
        if self._worker is not None:
            self._worker.shutdown(wait=False)
            self._worker = None

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

    def _prepare(self, items: list[tuple[int, dict[str, Any]]]) -> _Batch:
        """Text hashes, the store's known ones (skip-unchanged), and the worker started on the new texts
        (each new text once); a batch without an embedder has neither vectors nor hashes."""
        docs = [doc for _, doc in items]
        if self.embedder is None:
            return _Batch(items, None, None, [], [])
        texts = [document_text(d) for d in docs]
        hashes: list[str | None] = [self.embedder.text_hash(t) for t in texts]
        known = self.store.known_hashes([d["id"] for d in docs])
        todo: dict[str, int] = {}  # text hash -> index into `texts`, each new text embedded once
        changed = [known.get(doc["id"]) != text_hash for doc, text_hash in zip(docs, hashes, strict=False)]
        for i, text_hash in enumerate(hashes):
            if changed[i]:
                todo.setdefault(text_hash, i)
            else:
                self.report.unchanged_text += 1
        embedding: Future | None = None
        if todo:
            if not self._model_checked:
                self.store.set_model(self.embedder.model_name, self.embedder.dim)
                self._model_checked = True
            if self._worker is None:
                self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trendcart-embed")
            embedding = self._worker.submit(self.embedder.embed_documents, [texts[i] for i in todo.values()])
            self.report.embedded += len(todo)
        return _Batch(items, hashes, embedding, list(todo), changed)

    def close(self) -> IngestReport:
        self.flush()
        if self._worker is not None:
            self._worker.shutdown()
            self._worker = None
        self.report.seconds = time.perf_counter() - self._started
        return self.report


class _Batch:
    """Documents handed to the worker: their text hashes and the embedding under way."""

    def __init__(
        self,
        items: list[tuple[int, dict[str, Any]]],
        hashes: list[str | None] | None,
        embedding: Future | None,
        embedded: list[str],
        changed: list[bool],
    ) -> None:
        self.items, self.hashes, self._embedding = items, hashes, embedding
        self._embedded = embedded  # the text hashes sent to the worker, in its order
        self._changed = changed  # per document: its text is not the one the store holds
        self.ids = {doc["id"] for _, doc in items}

    def vectors(self) -> list[Any] | None:
        """The vector of each document (None where the store already holds its text's): waits for the
        worker, and raises what embedding raised."""
        if self.hashes is None:
            return None
        vectors: list[Any] = [None] * len(self.items)
        if self._embedding is None:
            return vectors
        by_hash = dict(zip(self._embedded, self._embedding.result(), strict=False))
        for i, text_hash in enumerate(self.hashes):
            if self._changed[i]:
                vectors[i] = by_hash[text_hash]
        return vectors


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
    done = 0  # bytes read so far
    # (documents accepted so far, bytes read by then): a batch's bytes are reported when it is written, not
    # when it is read (the reader runs a batch or two ahead of the writes), so the bar tracks real work.
    marks: deque[tuple[int, int]] = deque()
    written = 0

    def on_flush(count: int) -> None:
        nonlocal written
        written += count
        reached = None
        while marks and marks[0][0] <= written:
            reached = marks.popleft()[1]
        if progress is not None and reached is not None:
            progress(reached, total)

    ingestor = Ingestor(store, embedder, batch_size, on_flush=on_flush, pipeline=True)
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
            if ingestor.add(doc, line=number):
                marks.append((written + ingestor.pending, done))
    report = ingestor.close()
    if progress is not None:
        progress(total, total)
    return report
