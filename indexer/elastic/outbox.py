"""The outbox of ElasticStore: writes the cluster could not take, kept on disk as JSONL until replayed."""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from indexer.elastic.errors import ClusterUnavailable
from indexer.store import StoreError

log = logging.getLogger("trendcart.elastic.outbox")

# Beside the default SQLite store, so that "where is my data" has one answer: ./trendcart-data/.
DEFAULT_OUTBOX_DIR = Path("trendcart-data") / "es-outbox"
_SAFE_NAME_RE = re.compile(r"[^a-z0-9._-]+")
# After a write failed for lack of a cluster, later batches go straight to the outbox for this long instead
# of each waiting for its own timeouts (a cluster that hangs would otherwise cost 30 s per batch).
OUTBOX_BREAKER_S = 10.0


class Outbox:
    """One JSONL file per batch that could not be written, named `<namespace>.<UTC time>.<pid>.<n>.jsonl`.

    A file is written to a temporary name, fsynced, then renamed, so a reader never sees half a batch
    and a crash never loses an acknowledged one. Records are logical operations (an upsert's documents,
    vectors and text hashes; snapshot rows), which the store applies idempotently: replaying a file
    twice, or two processes replaying the same file, writes the same documents once."""

    def __init__(self, directory: str | Path, namespace: str) -> None:
        self.directory = Path(directory).expanduser()
        self.namespace = _SAFE_NAME_RE.sub("_", namespace.lower())
        self._seq = itertools.count()

    def put(self, record: dict[str, Any]) -> Path:
        """Write one record durably; returns its file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{self.namespace}.{stamp}.{os.getpid()}.{next(self._seq):06d}.jsonl"
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".jsonl", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            final = self.directory / name
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return final

    def files(self) -> list[Path]:
        """Pending files of this namespace, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.glob(f"{self.namespace}.*.jsonl") if p.is_file())

    def read(self, path: Path) -> Iterator[dict[str, Any]]:
        """The records of one file (a file another process already replayed and removed yields nothing)."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"outbox file {path} line {number} is not JSON: {exc}") from None

    def done(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def quarantine(self, path: Path, reason: str) -> Path:
        """Move an unreadable file aside (`.bad`), out of the replay queue, and say so."""
        bad = path.with_suffix(".bad")
        try:
            os.replace(path, bad)
        except FileNotFoundError:
            return bad
        log.error("outbox file %s cannot be replayed (%s); moved to %s", path, reason, bad)
        return bad

    def __len__(self) -> int:
        return len(self.files())

    def __repr__(self) -> str:
        return f"Outbox({str(self.directory)!r}, {self.namespace!r})"


class QueuedWriter:
    """Writes that never fail for lack of a cluster: each is tried now (older queued batches first), and
    queued in the outbox when the cluster is unavailable; `replay` writes the queue later.

    `apply(record)` performs one queued record (the store's idempotent upsert or snapshot write)."""

    def __init__(self, outbox: Outbox, where: str, apply: Callable[[dict[str, Any]], None]) -> None:
        self.outbox = outbox
        self.where = where
        self._apply = apply
        self._breaker_until = 0.0

    def write_or_queue(
        self, record: Callable[[], dict[str, Any]], write: Callable[[], Any], queued_result: Any
    ) -> Any:
        """`write()`'s result, or `queued_result` once `record()` is safely in the outbox."""
        if time.monotonic() >= self._breaker_until:
            try:
                if self.outbox.files():
                    self.replay(stop_on_failure=True)
                return write()
            except ClusterUnavailable as exc:
                self._breaker_until = time.monotonic() + OUTBOX_BREAKER_S
                reason = str(exc)
        else:
            reason = "Elasticsearch was unreachable moments ago"
        path = self.outbox.put(record())
        log.warning(
            "%s: batch queued in the outbox %s (%s); replayed on the next write, the next open, "
            "or `trendcart outbox replay`",
            self.where,
            path,
            reason,
        )
        return queued_result

    def replay(self, stop_on_failure: bool = False) -> int:
        """Apply every queued batch, oldest first; returns batches replayed. An unreadable or refused file is
        quarantined; a cluster still unavailable stops the replay (what is left stays queued)."""
        if not stop_on_failure:
            self._breaker_until = 0.0  # asked for explicitly: try now
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
