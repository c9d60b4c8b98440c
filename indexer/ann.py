"""AnnIndex: the embedded store's approximate vector index (a faiss IVF file beside the store, plus the log)."""

from __future__ import annotations

import json
import math
import os
import secrets
import time
from collections.abc import Callable, Sequence
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
# The index: faiss IVF (an inverted file of NLIST_PER_SQRT x sqrt(n) k-means cells) holding each vector as
# 8-bit scalar-quantised codes (a quarter of float32); a search scans the NPROBE cells nearest the query and
# its OVERSAMPLE x k best are rescored exactly from the blobs, so the scores that rank are exact. Chosen by
# bench/bench_ann_build.py over usearch HNSW, whose 1M build did not finish in 13.8 min on 2 cores
# (docs/BENCHMARKS.md "ANN build parameters"): an IVF build is a k-means on a sample plus one assignment
# of every vector, minutes at 1M, and its adds and removes cost one assignment each.
NLIST_PER_SQRT = 4
# Cells hold at least this many vectors on average (small stores get fewer cells; under it, one cell).
MIN_PER_LIST = 39
# k-means trains on at most this many vectors per cell (a fixed-seed sample; faiss's own default cap), for
# this many iterations. The sample decides recall (docs/BENCHMARKS.md "ANN cells"): at 1M, 64 per cell gave
# Recall@10 0.791; on a 300k store of the same shape (250 vectors and 5 generator clusters a cell) 64 / 160 /
# 256 per cell give 0.81 / 0.96 / 0.97 at the same fraction of cells probed, 40 iterations instead of 10
# 0.85, a two-level k-means (faiss.contrib) 0.87.
TRAIN_PER_LIST = 256
TRAIN_ITERATIONS = 10
# A search scans max(NPROBE, nlist // NPROBE_DIVISOR) cells: a fixed fraction of the cells once they are many
# (250 of 4,000 at 1M), at least NPROBE.
NPROBE = 32
NPROBE_DIVISOR = 16
DTYPE = "sq8"
# Candidates asked of the index per result wanted, before the exact rescoring.
OVERSAMPLE = 2
# Queries per faiss call in candidates_many: under faiss's BLAS threshold of older versions (20), where the
# cells of each query are ranked with the one-query inner products.
BATCH_QUERIES = 16
# Changes kept beside the file (exact scan of the changed vectors, the file's copies hidden) before they
# are merged into a new file: a search after a write never reloads the index, and a merge (one rewrite of
# the file) comes once per this many changes.
MERGE_AFTER = 20_000
# The file format of the metadata beside the index file; another value means rebuild (1: usearch HNSW).
FORMAT = 2
SUFFIX = ".faiss"
# A build adds its vectors in about this many steps (each at least BUILD_STEP_MIN vectors), calling its
# progress callback after each.
BUILD_STEPS = 20
BUILD_STEP_MIN = 10_000
# Indexes of fewer vectors than this are trained and filled on one thread, so that a small index is the
# same on every build (threads split k-means sums differently); a big build keeps every core.
PARALLEL_BUILD_MIN = 50_000
# At the end of a load (`trendcart index`, a crawl's indexing) the pending changes are folded into the file
# when at least this many: fewer are caught up by a cold search from the log in a few milliseconds, while a
# merge rewrites the whole file (at 1M vectors ~0.5 GB).
MERGE_AT_LOAD_END = 1_000

# progress(vectors added, vectors to add) during a build or a merge.
BuildProgress = Callable[[int, int], None]


def ann_mode() -> str:
    """TRENDCART_ANN as one of ANN_MODES; StoreError for anything else."""
    mode = (os.environ.get(ANN_ENV) or "auto").strip().lower()
    if mode not in ANN_MODES:
        raise StoreError(f"{ANN_ENV}={mode!r}: use one of {', '.join(ANN_MODES)}")
    return mode


def _faiss() -> Any:
    import faiss  # imported only where an index is used (not on the CLI's keyword path)

    return faiss


def nlist_for(n: int) -> int:
    """The number of IVF cells for `n` vectors: NLIST_PER_SQRT x sqrt(n), at least MIN_PER_LIST per cell."""
    return max(1, min(int(NLIST_PER_SQRT * math.sqrt(n)), n // MIN_PER_LIST))


def nprobe_for(nlist: int) -> int:
    """The cells a search scans in an index of `nlist` cells."""
    return min(nlist, max(NPROBE, nlist // NPROBE_DIVISOR))


@dataclass(frozen=True)
class AnnFiles:
    """The index files of the store at `db`: `<db>.ann.json` names the current `<db>.ann-<token>.faiss`."""

    db: Path

    @property
    def meta(self) -> Path:
        return self.db.with_name(self.db.name + ".ann.json")

    def index(self, token: str) -> Path:
        return self.db.with_name(f"{self.db.name}.ann-{token}{SUFFIX}")


class AnnIndex:
    """An IVF index of the vectors at log position `base_seq`, and the changes since: their current vectors
    in an exact VectorMatrix, their index entries hidden. `seq` is the log position it answers for."""

    def __init__(self, base: Any, base_seq: int, dim: int, files: AnnFiles | None, mutable: bool) -> None:
        self._base = base
        self._base.nprobe = nprobe_for(int(base.nlist))
        self._ids = np.sort(_ids_of(base))  # the pks in the index, to count the hidden ones
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
        return int(self._base.ntotal) - self._hidden_in_base() + len(self._delta)

    def _hidden_in_base(self) -> int:
        if not self._shadow or not len(self._ids):
            return 0
        keys = np.fromiter(self._shadow, dtype=np.int64, count=len(self._shadow))
        at = np.minimum(np.searchsorted(self._ids, keys), len(self._ids) - 1)
        return int(np.count_nonzero(self._ids[at] == keys))

    @property
    def pending(self) -> int:
        """Changed documents held beside the index."""
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
        """An index of `matrix` (rows of unit vectors, keyed by `pks`) at `seq`, saved when `files` is given;
        `progress(added, total)` after each step of the build (the k-means training comes first)."""
        faiss = _faiss()
        dim, n = int(matrix.shape[1]), int(matrix.shape[0])
        nlist = nlist_for(n)
        base = faiss.IndexIVFScalarQuantizer(
            faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        base.by_residual = False  # codes of the vectors themselves: one quantiser range for every cell
        base.cp.niter = TRAIN_ITERATIONS
        base.cp.spherical = True  # unit centroids: the cells are ranked by inner product
        base.cp.seed = 1234
        base.cp.max_points_per_centroid = TRAIN_PER_LIST
        with _threads(n):
            if n:
                take = min(n, TRAIN_PER_LIST * nlist)
                rows = np.sort(np.random.default_rng(0).choice(n, take, replace=False)) if take < n else None
                sample = matrix if rows is None else matrix[rows]
                base.train(np.ascontiguousarray(sample, dtype=np.float32))
                del sample
            else:
                base.train(np.zeros((1, dim), dtype=np.float32))
            _add(base, pks, matrix, progress)
        index = cls(base, seq, dim, files, mutable=True)
        index.save(model)
        return index

    @classmethod
    def open(cls, files: AnnFiles, model: str, dim: int) -> AnnIndex | None:
        """The saved index, mapped read-only, or None when it is missing, from another model, cut short or
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
            faiss = _faiss()
            base = faiss.read_index(str(path), faiss.IO_FLAG_MMAP)
            if base is None or base.d != dim or base.ntotal != meta["count"] or not base.is_trained:
                return None
            return cls(base, int(meta["seq"]), dim, files, mutable=False)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError):
            return None

    def save(self, model: str) -> None:
        """Write the index (aside, then renamed), then the metadata that names it (aside, then renamed): a
        crash at any point leaves the old pair or the new one. Best effort: no folder, no file."""
        if self._files is None:
            return
        token = secrets.token_hex(8)
        path = self._files.index(token)
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        meta_tmp = self._files.meta.with_name(f"{self._files.meta.name}.tmp-{os.getpid()}")
        try:
            _faiss().write_index(self._base, str(tmp))
            os.replace(tmp, path)
            meta = {
                "format": FORMAT,
                "token": token,
                "seq": self.base_seq,
                "model": model,
                "dim": self.dim,
                "count": int(self._base.ntotal),
                "nlist": int(self._base.nlist),
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
        """Bring the index to `changes.seq`: the changed documents' index entries hidden, their vectors now
        held beside it."""
        self._shadow.update(changes.pks.tolist())
        self._shadow.update(changes.deleted.tolist())
        self._delta.apply(changes)

    def merged(self, model: str, progress: BuildProgress | None = None) -> AnnIndex:
        """The changes folded into the index (read into memory first when it is a map of the file), saved;
        `progress(added, total)` as the changed vectors are added. The cells stay those trained at the
        build (new vectors join the nearest cell)."""
        faiss = _faiss()
        try:
            base = self._base if self._mutable else faiss.read_index(str(self._current_path()))
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise StoreError(f"the ANN index file went away during a merge: {exc}") from None
        with _threads(int(base.ntotal)):
            if self._shadow:
                keys = np.fromiter(self._shadow, dtype=np.int64, count=len(self._shadow))
                base.remove_ids(faiss.IDSelectorBatch(keys))
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
        """For the `k` best: the index's candidate pks (to rescore exactly) and the changed documents'
        exact (pk, score) pairs."""
        return self.candidates_many([q], k)[0]

    def candidates_many(
        self, queries: Sequence[np.ndarray], k: int
    ) -> list[tuple[list[int], list[tuple[int, float]]]]:
        """candidates(q, k) of each query, the index searched for up to BATCH_QUERIES of them at a time (a
        faiss call per query costs ~3x its scan at 100k vectors). Each query's answer is its own: faiss
        scans a query's cells alone, and below its BLAS threshold (20 queries in older versions) it ranks
        the cells with the same one-query products, so that the cells probed are the same."""
        want = k * OVERSAMPLE + min(len(self._shadow), k)  # hidden entries take places in the answer
        graphs: list[list[int]] = [[] for _ in queries]
        if self._base.ntotal and len(queries):
            faiss = _faiss()
            faiss.omp_set_num_threads(1)  # threads would only spin against the model's
            for at in range(0, len(queries), BATCH_QUERIES):
                chunk = queries[at : at + BATCH_QUERIES]
                matrix = np.stack([np.ascontiguousarray(q, dtype=np.float32).reshape(-1) for q in chunk])
                _, labels = self._base.search(matrix, min(want, int(self._base.ntotal)))
                for offset, row in enumerate(labels.tolist()):
                    graphs[at + offset] = [key for key in row if key >= 0 and key not in self._shadow]
        return [(graph, self._changed_top(q, k)) for graph, q in zip(graphs, queries, strict=True)]

    def _changed_top(self, q: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The changed documents' `k` best exact (pk, score) pairs."""
        exact: list[tuple[int, float]] = []
        if len(self._delta):
            scores = self._delta.scores(q)
            top = np.argsort(-scores, kind="stable")[:k]
            exact = [(int(self._delta.pks[i]), float(scores[i])) for i in top if np.isfinite(scores[i])]
        return exact


class _threads:
    """faiss's OpenMP threads for a build of `n` vectors (every core from PARALLEL_BUILD_MIN, else one),
    one again afterwards (the searches' setting)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __enter__(self) -> None:
        _faiss().omp_set_num_threads((os.cpu_count() or 1) if self.n >= PARALLEL_BUILD_MIN else 1)

    def __exit__(self, *exc: object) -> None:
        _faiss().omp_set_num_threads(1)


def _ids_of(base: Any) -> np.ndarray:
    """The ids held in the inverted lists (a copy)."""
    faiss = _faiss()
    lists = base.invlists
    parts = [
        faiss.rev_swig_ptr(lists.get_ids(i), size).copy()
        for i in range(int(base.nlist))
        if (size := lists.list_size(i))
    ]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


def _add(base: Any, pks: np.ndarray, matrix: np.ndarray, progress: BuildProgress | None) -> None:
    """Add the rows to the index in steps, reporting progress after each."""
    total = len(pks)
    step = max(BUILD_STEP_MIN, -(-total // BUILD_STEPS))
    keys = np.asarray(pks, dtype=np.int64)
    if progress is None or not total:
        progress = None
    else:
        progress(0, total)
    for at in range(0, total, step):
        end = min(at + step, total)
        base.add_with_ids(np.ascontiguousarray(matrix[at:end], dtype=np.float32), keys[at:end])
        if progress is not None:
            progress(end, total)
