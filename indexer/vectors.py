"""The store layer's one vector rule: the model's dimension, unit length, and a zero vector means no vector."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from indexer.store import ModelMismatch, StoreError

# Builds the ModelMismatch a backend raises (stored model, offered model): its advice differs per backend.
MismatchFactory = Callable[[tuple[str, int], tuple[str, int | None]], ModelMismatch]


def unit_vector(
    vector: Any, model: tuple[str, int] | None, mismatch: MismatchFactory = ModelMismatch
) -> np.ndarray | None:
    """`vector` as float32 of unit length, or None when it has no direction (all zeros, or not finite):
    cosine is undefined for it, so nothing is similar to it and a document with it has no vector (it still
    indexes for keyword search). Raises StoreError without a model, `mismatch(...)` for another dimension."""
    if model is None:
        raise StoreError("no embedding model recorded for this store: call set_model(name, dim) first")
    arr = np.asarray(vector, dtype=np.float32).reshape(-1)
    if arr.shape[0] != model[1]:
        raise mismatch(model, (f"a {arr.shape[0]}-dim model", arr.shape[0]))
    norm = float(np.linalg.norm(arr))
    if norm == 0 or not np.isfinite(norm):
        return None
    return arr / norm


def document_vectors(
    vectors: Sequence[Any] | None,
    n: int,
    model: tuple[str, int] | None,
    mismatch: MismatchFactory = ModelMismatch,
) -> list[np.ndarray | None]:
    """The vectors of an upsert of `n` documents, each through `unit_vector` (None stays None: no new vector)."""
    if vectors is None:
        return [None] * n
    if len(vectors) != n:
        raise StoreError(f"{n} documents but {len(vectors)} vectors")
    return [None if vec is None else unit_vector(vec, model, mismatch) for vec in vectors]
