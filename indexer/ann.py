"""AnnIndex: the embedded store's approximate vector index (usearch HNSW file beside the store, plus the log)."""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.store import StoreError
from indexer.vector_log import Changes
from indexer.vector_matrix import VectorMatrix

# Where the ANN takes over from the exact scan (docs/SCALING.md, "Embedded store at scale"): below it the
# exact scan of a 512-d store costs under ~15 ms and needs no index to build; above it the scan grows by
# ~1.6 ms per 10k vectors while the graph stays at a few ms.
ANN_MIN_VECTORS = 100_000
# TRENDCART_ANN: auto (default: by ANN_MIN_VECTORS, or wherever an index file already exists), on, off.
ANN_ENV = "TRENDCART_ANN"
ANN_MODES = ("auto", "on", "off")
# Graph parameters (usearch defaults are 16/128/64), chosen by bench/bench_ann_build.py (clustered 512-d,
# rescored Recall@10 at search expansion 128 / 256, CPU per vector; docs/BENCHMARKS.md "ANN build
# parameters"). 100k, load 9-11: expansion_add 32: 0.45 ms, 0.931 / 0.944; 48: 0.75 ms, 0.991 / 0.993;
# 64: 0.98 ms, 0.997 / 0.997. 200k, load ~2.7: 48: 0.83 ms, 0.955 / 0.965; 64: 0.99 ms, 0.986 / 0.993.
# Recall falls as the store grows, fastest with a cheap graph: 64 keeps the 0.95 target with a margin for
# 1M, and search expansion 256 adds recall for ~1.5 ms per query instead of build time.
CONNECTIVITY = 16
EXPANSION_ADD = 64
EXPANSION_SEARCH = 256
# Vectors in the graph as float16: half the memory of float32 with the same recall (int8 lost recall on
# 512-d unit vectors, whose components are ~0.04); the scores that rank are exact (the caller rescores).
DTYPE = "f16"
# Candidates asked of the graph per result wanted, before the exact rescoring.
OVERSAMPLE = 2
# Changes kept beside the file (exact scan of the changed vectors, the file's copies hidden) before they
# are merged into a new file: a search after a write never reloads the graph, and a merge (one rewrite of
# the file) comes once per this many changes.
MERGE_AFTER = 20_000
# The file format of the metadata beside the index file; another value means rebuild.
FORMAT = 1
# A build adds its vectors in about this many steps (each at least BUILD_STEP_MIN vectors, so that the threads
# of one `add` call have work enough), calling its progress callback after each.
BUILD_STEPS = 20
BUILD_STEP_MIN = 10_000
# Graphs of fewer vectors than this are built on one thread: threads make the graph (and so which near
# neighbours a search finds) differ from build to build, and a small build gains nothing from them.
PARALLEL_BUILD_MIN = 50_000
# At the end of a load (`trendcart index`, a crawl's indexing) the pending changes are folded into the file
# when at least this many: fewer are caught up by a cold search from the log in a few milliseconds, while a
# merge rewrites the whole file (at 1M vectors ~1 GB).
MERGE_AT_LOAD_END = 1_000

# progress(vectors added, vectors to add) during a build or a merge.
BuildProgress = Callable[[int, int], None]


def ann_mode() -> str:
    """TRENDCART_ANN as one of ANN_MODES; StoreError for anything else."""
    mode = (os.environ.get(ANN_ENV) or "auto").strip().lower()
    if mode not in ANN_MODES:
        raise StoreError(f"{ANN_ENV}={mode!r}: use one of {', '.join(ANN_MODES)}")
    return mode


def _usearch() -> Any:
    from usearch.index import Index  # imported only where an index is used (not on the CLI's keyword path)

    return Index


@dataclass(frozen=True)
class AnnFiles:
    """The index files of the store at `db`: `<db>.ann.json` names the current `<db>.ann-<token>.usearch`."""

    db: Path

    @property
    def meta(self) -> Path:
        return self.db.with_name(self.db.name + ".ann.json")

    def index(self, token: str) -> Path:
        return self.db.with_name(f"{self.db.name}.ann-{token}.usearch")


class AnnIndex:
    """An HNSW graph of the vectors at log position `base_seq`, and the changes since: their current vectors
    in an exact VectorMatrix, their graph entries hidden. `seq` is the log position it answers for."""

    def __init__(self, base: Any, base_seq: int, dim: int, files: AnnFiles | None, mutable: bool) -> None:
        self._base = base
        self.base_seq = base_seq
        self.dim = dim
        self._files = files
        self._mutable = mutable  # False: a read-only map of the file
        self._shadow: set[int] = set()
        self._delta = VectorMatrix(
            np.zeros(0, dtype=np.int64), np.zeros((0, dim), dtype=np.float32), base_seq
        )

    @property
    def seq(self) -> int:
        return self._delta.seq

    def __len__(self) -> int:
        return len(self._base) - self._hidden_in_base() + len(self._delta)

    def _hidden_in_base(self) -> int:
        if not self._shadow:
            return 0
        keys = np.fromiter(self._shadow, dtype=np.uint64, count=len(self._shadow))
        return int(np.count_nonzero(self._base.contains(keys)))

    @property
    def pending(self) -> int:
        """Changed documents held beside the graph."""
        return len(self._shadow)

    # ----------------------------------------------------------------------------------- build and files

    @classmethod
    def build(
        cls,
        pks: np.ndarray,
        matrix: np.ndarray,
        seq: int,
        model: str,
        files: AnnFiles | None,
        progress: BuildProgress | None = None,
    ) -> AnnIndex:
        """A graph of `matrix` (rows of unit vectors, keyed by `pks`) at `seq`, saved when `files` is given;
        `progress(added, total)` after each step of the build."""
        dim = int(matrix.shape[1])
        base = _usearch()(
            ndim=dim,
            metric="ip",
            dtype=DTYPE,
            connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD,
            expansion_search=EXPANSION_SEARCH,
        )
        _add(base, pks, matrix, progress)
        index = cls(base, seq, dim, files, mutable=True)
        index.save(model)
        return index

    @classmethod
    def open(cls, files: AnnFiles, model: str, dim: int) -> AnnIndex | None:
        """The saved graph, mapped read-only, or None when it is missing, from another model, cut short or
        unreadable (then the caller rebuilds it from the store: the file is a cache, SQLite the truth)."""
        try:
            meta = json.loads(files.meta.read_text(encoding="utf-8"))
            path = files.index(str(meta["token"]))
            if (
                meta.get("format") != FORMAT
                or meta.get("model") != model
                or meta.get("dim") != dim
                or not str(meta["token"]).isalnum()
                or path.stat().st_size != meta["bytes"]
            ):
                return None
            base = _usearch().restore(str(path), view=True)
            if base is None or base.ndim != dim or len(base) != meta["count"]:
                return None
            base.expansion_search = EXPANSION_SEARCH
            return cls(base, int(meta["seq"]), dim, files, mutable=False)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError):
            return None

    def save(self, model: str) -> None:
        """Write the graph (aside, then renamed), then the metadata that names it (aside, then renamed): a
        crash at any point leaves the old pair or the new one. Best effort: no folder, no file."""
        if self._files is None:
            return
        token = secrets.token_hex(8)
        path = self._files.index(token)
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        meta_tmp = self._files.meta.with_name(f"{self._files.meta.name}.tmp-{os.getpid()}")
        try:
            self._base.save(str(tmp))
            os.replace(tmp, path)
            meta = {
                "format": FORMAT,
                "token": token,
                "seq": self.base_seq,
                "model": model,
                "dim": self.dim,
                "count": len(self._base),
                "bytes": path.stat().st_size,
                "dtype": DTYPE,
            }
            meta_tmp.write_text(json.dumps(meta), encoding="utf-8")
            os.replace(meta_tmp, self._files.meta)
        except (OSError, RuntimeError):
            for leftover in (tmp, meta_tmp):
                try:
                    leftover.unlink()
                except OSError:
                    pass
            return
        self._remove_old(keep=path.name)

    def _remove_old(self, keep: str) -> None:
        assert self._files is not None
        db = self._files.db
        prefix = f"{db.name}.ann-"
        try:
            for name in os.listdir(db.parent):
                if not name.startswith(prefix) or name == keep:
                    continue
                old = db.parent / name
                if ".tmp-" in name and time.time() - old.stat().st_mtime < 600:
                    continue  # another process may be writing it right now
                old.unlink()  # a process that mapped it keeps its pages
        except OSError:
            pass

    # -------------------------------------------------------------------------------------- changes

    def apply(self, changes: Changes) -> None:
        """Bring the index to `changes.seq`: the changed documents' graph entries hidden, their vectors now
        held beside it."""
        self._shadow.update(changes.pks.tolist())
        self._shadow.update(changes.deleted.tolist())
        self._delta.apply(changes)

    def merged(self, model: str, progress: BuildProgress | None = None) -> AnnIndex:
        """The changes folded into the graph (read into memory first when it is a map of the file), saved;
        `progress(added, total)` as the changed vectors are added."""
        base = self._base if self._mutable else _usearch().restore(str(self._current_path()), view=False)
        if base is None:
            raise StoreError("the ANN index file went away during a merge")
        if self._shadow:
            keys = np.fromiter(self._shadow, dtype=np.uint64, count=len(self._shadow))
            present = keys[base.contains(keys)]
            if len(present):
                base.remove(present)
        pks, matrix = self._delta.vectors()
        _add(base, pks, matrix, progress)
        index = AnnIndex(base, self.seq, self.dim, self._files, mutable=True)
        index.save(model)
        return index

    def _current_path(self) -> Path:
        assert self._files is not None
        meta = json.loads(self._files.meta.read_text(encoding="utf-8"))
        return self._files.index(str(meta["token"]))

    # --------------------------------------------------------------------------------------- search

    def candidates(self, q: np.ndarray, k: int) -> tuple[list[int], list[tuple[int, float]]]:
        """For the `k` best: the graph's candidate pks (to rescore exactly) and the changed documents'
        exact (pk, score) pairs."""
        want = k * OVERSAMPLE + min(len(self._shadow), k)  # hidden entries take places in the answer
        graph: list[int] = []
        if len(self._base):
            matches = self._base.search(q, min(want, len(self._base)), threads=1)
            graph = [int(key) for key in matches.keys.tolist() if int(key) not in self._shadow]
        exact: list[tuple[int, float]] = []
        if len(self._delta):
            scores = self._delta.scores(q)
            top = np.argsort(-scores, kind="stable")[:k]
            exact = [(int(self._delta.pks[i]), float(scores[i])) for i in top if np.isfinite(scores[i])]
        return graph, exact


def _add(base: Any, pks: np.ndarray, matrix: np.ndarray, progress: BuildProgress | None) -> None:
    """Add the rows to the graph in steps (on every core from PARALLEL_BUILD_MIN rows), reporting progress
    after each."""
    total = len(pks)
    step = max(BUILD_STEP_MIN, -(-total // BUILD_STEPS))
    keys = np.asarray(pks, dtype=np.uint64)
    if progress is None or not total:
        progress = None
    else:
        progress(0, total)
    threads = (os.cpu_count() or 1) if total >= PARALLEL_BUILD_MIN else 1
    for at in range(0, total, step):
        end = min(at + step, total)
        base.add(keys[at:end], np.ascontiguousarray(matrix[at:end]), threads=threads)
        if progress is not None:
            progress(end, total)
