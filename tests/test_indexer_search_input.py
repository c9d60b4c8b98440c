"""Hostile queries through the CLI, the store keeping its model, and `reindex` of a SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from indexer import models
from indexer.ingest import ingest_jsonl
from indexer.querytext import MAX_QUERY_CHARS, clean_query
from indexer.search import search
from indexer.sqlite_store import SqliteStore
from indexer.store import ModelMismatch, StoreError
from search_cli import ExitCode, app

pytestmark = pytest.mark.model
SET = Path(__file__).parent / "fixtures" / "relevance" / "set"
QUERIES = json.loads((SET / "judgements.json").read_text(encoding="utf-8"))["queries"]
ENV = ("TRENDCART_STORE", "TRENDCART_MODEL", "TRENDCART_VECTOR_FLOOR", "TRENDCART_QUERY_PROMPT")
HOSTILE = [
    "",
    "   ",
    "\t\n",
    "口红" * 50_000,
    "x" * 100_000,
    "\udcff",
    "bad \udcfe\udcff bytes",
    "😀💄🔥",
    "!!!???...",
    "a\x00b\x1b[31m",
]


@pytest.fixture
def runner(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


@pytest.fixture(scope="module")
def set_store(tmp_path_factory, embedder):
    """The labelled set indexed with the default model (tests only read it)."""
    db = tmp_path_factory.mktemp("set") / "set.db"
    with SqliteStore(db) as store:
        assert ingest_jsonl(SET / "corpus.jsonl", store, embedder).added == 210
    return db


def test_clean_query():
    assert clean_query("  口红\x00\x1b  lipstick \u200b ") == "口红 lipstick"
    assert clean_query("\udcff") == "\ufffd"
    assert clean_query(None) == "" and clean_query("\t\n ") == ""
    assert len(clean_query("x" * 100_000)) == MAX_QUERY_CHARS


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_queries_give_a_result_never_a_traceback(runner, set_store, mode, query):
    result = runner.invoke(app, ["--store", str(set_store), "search", query, "--mode", mode, "--json"])
    assert result.exit_code == ExitCode.OK, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    hits = json.loads(result.stdout)
    assert isinstance(hits, list)
    if not query.strip() or query in ("\udcff", "😀💄🔥", "!!!???..."):
        assert hits == []  # nothing to search, or nothing similar enough: no filler
    table = runner.invoke(app, ["--store", str(set_store), "search", query, "--mode", mode])
    assert table.exit_code == ExitCode.OK and "Traceback" not in table.output


def test_queries_with_no_relevant_document_get_at_most_two_hits_on_average(set_store, embedder):
    empty = [q for q in QUERIES if not q["judgements"]]
    with SqliteStore(set_store) as store:
        hits = [len(search(store, q["query"], "hybrid", embedder=embedder)) for q in empty]
        unfloored = [
            len(search(store, q["query"], "hybrid", embedder=embedder, min_similarity=-1)) for q in empty
        ]
    assert sum(hits) / len(hits) <= 2.0
    assert sum(unfloored) / len(unfloored) == 10  # what the floor removes: filler


def test_json_says_why_each_hit_is_there(runner, set_store):
    result = runner.invoke(app, ["--store", str(set_store), "search", "口红", "--json"])
    hits = json.loads(result.stdout)
    assert hits
    floor = models.DEFAULT.vector_floor
    for hit in hits:
        why = hit["explain"]
        assert why["floor"] == floor
        if why["keyword_rank"] is not None:
            assert why["reason"] == "keyword match"
        elif why["expansion_rank"] is not None:  # found by the query's translation (口红 -> lipstick)
            assert why["reason"].startswith("translated keyword match (口红 → ")
        else:  # kept by its cosine with the floor vector when hybrid ranks by a moved one (indexer.search)
            cosine = why["floor_score"] if why["floor_score"] is not None else why["vector_score"]
            assert cosine >= floor
            assert why["reason"] == f"similar ({cosine:.2f} >= floor {floor:.2f})"
    strict = runner.invoke(
        app, ["--store", str(set_store), "search", "口红", "--json", "--min-similarity", "0.99"]
    )
    assert all(h["explain"]["keyword_rank"] is not None for h in json.loads(strict.stdout))
    assert (
        runner.invoke(app, ["--store", str(set_store), "search", "x", "--min-similarity", "2"]).exit_code == 2
    )


def test_a_store_keeps_its_model_and_reindex_switches_it(runner, tmp_path, embedder):
    db = tmp_path / "minilm.db"
    indexed = runner.invoke(
        app, ["--store", str(db), "--model", "minilm", "index", str(SET / "corpus.jsonl")]
    )
    assert indexed.exit_code == ExitCode.OK, indexed.output
    # No --model: the store's own model answers (the default is another one).
    found = runner.invoke(app, ["--store", str(db), "search", "lipstick", "--json"])
    assert found.exit_code == ExitCode.OK and json.loads(found.stdout)
    stats = json.loads(runner.invoke(app, ["--store", str(db), "stats", "--json"]).stdout)
    assert models.MINILM.name in json.dumps(stats)
    # Another model, chosen: refused with the way out.
    refused = runner.invoke(app, ["--store", str(db), "--model", "usem3", "search", "lipstick"])
    assert refused.exit_code == ExitCode.STORE and "reindex" in refused.stderr
    switched = runner.invoke(app, ["--store", str(db), "reindex", "--keep-old"])
    assert switched.exit_code == ExitCode.OK, switched.output
    done = json.loads(switched.stdout)
    assert (done["model"], done["dim"], done["documents"], done["vectors"]) == (
        models.DEFAULT.name,
        models.DEFAULT.dim,
        210,
        210,
    )
    assert done["old_model"] == models.MINILM.name
    with SqliteStore(done["backup"]) as before:
        assert before.model_info() == (models.MINILM.name, models.MINILM.dim)  # the copy kept the old vectors
    with SqliteStore(db) as store:
        assert store.model_info() == (models.DEFAULT.name, models.DEFAULT.dim)
        assert store.stats().vectors == 210
        hits = search(store, "迷你搅拌机", "semantic", embedder=embedder)
        assert hits and all(h.explain["vector_score"] >= models.DEFAULT.vector_floor for h in hits)
    again = runner.invoke(app, ["--store", str(db), "--model", "usem3", "search", "lipstick", "--json"])
    assert again.exit_code == ExitCode.OK and json.loads(again.stdout)
    missing = runner.invoke(app, ["--store", str(tmp_path / "none.db"), "reindex"])
    assert missing.exit_code == ExitCode.STORE and not (tmp_path / "none.db").exists()


class WrongDimension:
    """An embedder whose vectors do not have the dimension it claims: the reindex must fail before the swap."""

    model_name, dim = "broken-model", 3

    def embed_documents(self, texts):
        import numpy as np

        return np.ones((len(texts), 5), dtype=np.float32)

    def text_hash(self, text):
        return text


def test_a_failed_reindex_leaves_the_store_as_it_was(tmp_path, embedder):
    with SqliteStore(tmp_path / "s.db") as store:
        ingest_jsonl(SET / "corpus.jsonl", store, embedder)
        before = (
            store.model_info(),
            store.stats().vectors,
            [h.id for h in search(store, "口红", embedder=embedder)],
        )
        with pytest.raises(StoreError, match="shape"):
            store.reindex(WrongDimension(), batch=50)
        with pytest.raises(StoreError, match="embedder"):
            store.reindex(None)
        after = (
            store.model_info(),
            store.stats().vectors,
            [h.id for h in search(store, "口红", embedder=embedder)],
        )
        assert after == before
        with pytest.raises(ModelMismatch, match="reindex"):
            search(store, "口红", embedder=type(embedder)("minilm"))
