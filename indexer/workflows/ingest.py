"""index_files: index JSONL files into a store, file by file, with progress callbacks and per-file reports."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.embedder import Embedder
from indexer.ingest import DEFAULT_INGEST_BATCH, IngestReport, ingest_jsonl
from indexer.store import BuildsVectorIndex
from indexer.stores import StoreSpec
from indexer.workflows.errors import BadInput

# on_file(path, size in bytes) before each file; on_progress(path, bytes read, size) while it is read.
FileStarted = Callable[[Path, int], None]
FileProgress = Callable[[Path, int, int], None]
# on_vector_index(vectors added, vectors to add) while the store builds its vector index after the files.
IndexProgress = Callable[[int, int], None]


@dataclass
class FileReport:
    path: Path
    report: IngestReport

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), **self.report.to_json()}


@dataclass
class IndexRun:
    """Every file's report and their total (the total without per-line errors: those are per file)."""

    files: list[FileReport] = field(default_factory=list)
    total: IngestReport = field(default_factory=IngestReport)

    def to_json(self) -> dict[str, Any]:
        total = {k: v for k, v in self.total.to_json().items() if k != "errors"}
        return {"files": [f.to_json() for f in self.files], "total": total}


def index_files(
    paths: Sequence[Path],
    spec: StoreSpec,
    model_name: str | None = None,
    *,
    embedder: Embedder | None = None,
    batch_size: int | None = None,
    on_file: FileStarted | None = None,
    on_progress: FileProgress | None = None,
    on_vector_index: IndexProgress | None = None,
) -> IndexRun:
    """Embed new or changed text only, keep every observation; then build or update the store's vector index
    when it wants one (SqliteStore above its ANN threshold), so that no search waits for it. BadInput when a
    file is missing or unreadable (checked for every file before anything is written); StoreError when the
    store refuses."""
    for path in paths:
        if not Path(path).is_file():
            raise BadInput(f"no such file: {path}")
    run = IndexRun()
    store = spec.open(model_name)
    try:
        embedder = embedder or Embedder(model_name)
        for path in map(Path, paths):
            size = path.stat().st_size
            if on_file:
                on_file(path, size)
            progress = (
                (lambda done, total, path=path: on_progress(path, done, total)) if on_progress else None
            )
            report = ingest_jsonl(
                path, store, embedder, batch_size or DEFAULT_INGEST_BATCH, progress=progress
            )
            run.total.merge(report)
            run.files.append(FileReport(path, report))
        if isinstance(store, BuildsVectorIndex):
            store.build_vector_index(on_vector_index)
    except OSError as exc:
        raise BadInput(f"cannot read input: {exc}") from exc
    finally:
        store.close()
    return run
