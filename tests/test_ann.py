"""The embedded store's ANN index: the exact answers, never stale, repaired from SQLite when its file is bad."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from indexer import ann
from indexer.sqlite_store import SqliteStore
from tests.store_contract import make_doc

REPO = Path(__file__).resolve().parent.parent
DIM = 16
N = 300


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    """Clustered unit vectors (ANN recall means something on them, unlike uniform noise)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(12, DIM))
    x = centers[rng.integers(0, len(centers), n)] + rng.normal(scale=0.4, size=(n, DIM))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _store(path: Path, n: int = N) -> SqliteStore:
    store = SqliteStore(path)
    store.set_model("m", DIM)
    store.upsert([make_doc(f"v{i}") for i in range(n)], list(_vectors(n)), [f"h{i}" for i in range(n)])
    return store


def _top(store: SqliteStore, q: np.ndarray, limit: int = 10) -> list[tuple[str, float]]:
    return [(h.id, round(h.score, 5)) for h in store.search("", q, mode="semantic", limit=limit)]


def _ann_files(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if ".ann" in p.name)


@pytest.fixture
def ann_on(monkeypatch):
    monkeypatch.setenv("TRENDCART_ANN", "on")


def test_ann_answers_as_the_exact_scan_does(tmp_path, monkeypatch, ann_on):
    path = tmp_path / "s.db"
    store = _store(path)
    queries = _vectors(20, seed=1)
    with_ann = [_top(store, q) for q in queries]
    assert store._ann is not None and store._exact is None
    assert len(_ann_files(path)) == 2  # the graph and the metadata naming it
    monkeypatch.setenv("TRENDCART_ANN", "off")
    exact = SqliteStore(path)
    assert [_top(exact, q) for q in queries] == with_ann
    assert exact._ann is None and exact._exact is not None
    store.close()
    exact.close()


def test_under_the_threshold_auto_is_the_exact_scan_and_above_it_the_graph(tmp_path, monkeypatch):
    path = tmp_path / "s.db"
    store = _store(path)
    q = _vectors(1, seed=2)[0]
    expected = _top(store, q)
    assert store._ann is None and store._exact is not None and _ann_files(path) == []
    monkeypatch.setattr("indexer.sqlite_store.ANN_MIN_VECTORS", N + 1)
    store.upsert([make_doc("one-more")], [q], ["h"])  # crosses the threshold: the next search builds it
    got = _top(store, q)
    assert store._ann is not None and got[0][0] == "douyin:video:one-more"
    assert got[1:] == expected[:9]
    store.close()


def test_a_vector_written_by_another_connection_or_process_is_found_by_the_next_search(tmp_path, ann_on):
    path = tmp_path / "s.db"
    reader = _store(path)
    q = np.eye(DIM, dtype=np.float32)[3]
    _top(reader, q)
    writer = SqliteStore(path)
    writer.upsert([make_doc("new")], [q], ["hn"])
    assert _top(reader, q)[0] == ("douyin:video:new", 1.0)
    code = (
        "import sys, numpy as np\n"
        "from indexer.sqlite_store import SqliteStore\n"
        "from tests.store_contract import make_doc\n"
        "s = SqliteStore(sys.argv[1])\n"
        "v = np.zeros(16, dtype=np.float32); v[5] = 1\n"
        "s.upsert([make_doc('other-process')], [v], ['hp'])\n"
        "s.delete(['douyin:video:new'])\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], cwd=REPO, check=True, timeout=300)
    assert _top(reader, np.eye(DIM, dtype=np.float32)[5])[0] == ("douyin:video:other-process", 1.0)
    assert "douyin:video:new" not in [doc_id for doc_id, _ in _top(reader, q, limit=50)]
    # A changed vector: the new one answers, the graph's old copy is hidden.
    writer.upsert([make_doc("v0", title="changed")], [q], ["h0-changed"])
    top = _top(reader, q, limit=50)
    assert top[0] == ("douyin:video:v0", 1.0) and [d for d, _ in top].count("douyin:video:v0") == 1
    reader.close()
    writer.close()


def test_a_write_while_no_ann_process_ran_is_replayed_from_the_log(tmp_path, monkeypatch, ann_on):
    """A crash between the SQLite commit and the index file: the file is behind, the log fills the gap."""
    path = tmp_path / "s.db"
    _top(_store(path), _vectors(1)[0])
    monkeypatch.setenv("TRENDCART_ANN", "off")
    q = np.eye(DIM, dtype=np.float32)[7]
    SqliteStore(path).upsert([make_doc("late")], [q], ["hl"])  # the index file does not know it
    monkeypatch.setenv("TRENDCART_ANN", "on")
    fresh = SqliteStore(path)
    assert _top(fresh, q)[0] == ("douyin:video:late", 1.0)
    assert fresh._ann is not None and fresh._ann.pending == 1  # opened from the file, then caught up
    fresh.close()


@pytest.mark.parametrize("damage", ["delete-index", "corrupt-index", "corrupt-meta", "other-model"])
def test_a_deleted_or_corrupt_index_file_is_rebuilt(tmp_path, monkeypatch, ann_on, damage):
    path = tmp_path / "s.db"
    queries = _vectors(5, seed=3)
    store = _store(path)
    expected = [_top(store, q) for q in queries]
    store.close()
    meta_path = path.with_name(path.name + ".ann.json")
    meta = json.loads(meta_path.read_text())
    index_path = ann.AnnFiles(path).index(meta["token"])
    if damage == "delete-index":
        index_path.unlink()
    elif damage == "corrupt-index":
        index_path.write_bytes(b"garbage" * 100)
    elif damage == "corrupt-meta":
        meta_path.write_text("{not json")
    else:
        meta_path.write_text(json.dumps({**meta, "model": "another"}))
    again = SqliteStore(path)
    assert [_top(again, q) for q in queries] == expected
    again.close()
    rebuilt = json.loads(meta_path.read_text())
    assert rebuilt["token"] != meta["token"] and rebuilt["model"] == "m"
    assert ann.AnnIndex.open(ann.AnnFiles(path), "m", DIM) is not None
    assert len(_ann_files(path)) == 2  # the damaged file is gone


def test_changes_are_merged_into_a_new_file_and_a_pruned_log_means_a_full_load(tmp_path, monkeypatch, ann_on):
    path = tmp_path / "s.db"
    monkeypatch.setattr("indexer.sqlite_store.MERGE_AFTER", 5)
    store = _store(path)
    q = _vectors(1, seed=4)[0]
    _top(store, q)
    first = json.loads(path.with_name(path.name + ".ann.json").read_text())["token"]
    other = SqliteStore(path)
    fresh_vectors = _vectors(8, seed=5)
    other.upsert([make_doc(f"w{i}") for i in range(8)], list(fresh_vectors), [f"hw{i}" for i in range(8)])
    got = _top(store, q)
    assert store._ann is not None and store._ann.pending == 0  # merged
    assert json.loads(path.with_name(path.name + ".ann.json").read_text())["token"] != first
    monkeypatch.setenv("TRENDCART_ANN", "off")
    assert _top(SqliteStore(path), q) == got
    monkeypatch.setenv("TRENDCART_ANN", "on")
    # A reader further behind than the log reaches (pruned) loads everything again, and is still right.
    other._conn.execute("UPDATE meta SET value = '1000000' WHERE key = 'vector_log_start'")
    other.upsert([make_doc("after-prune")], [q], ["hap"])
    assert _top(store, q)[0] == ("douyin:video:after-prune", 1.0)
    store.close()
    other.close()


def test_filtered_search_through_the_graph_matches_the_exact_scan(tmp_path, monkeypatch, ann_on):
    from indexer.store import SearchFilters

    path = tmp_path / "s.db"
    store = SqliteStore(path)
    store.set_model("m", DIM)
    vecs = _vectors(N, seed=6)
    docs = [make_doc(f"v{i}", views=i) for i in range(N)]
    store.upsert(docs, list(vecs), [f"h{i}" for i in range(N)])
    filters = SearchFilters(min_views=100)
    q = _vectors(1, seed=7)[0]
    for exact_max in (10_000, 0):  # the allowed set scored exactly; through the graph, oversampled
        monkeypatch.setattr("indexer.sqlite_store.FILTERED_EXACT_MAX", exact_max)
        got = [h.id for h in store.search("", q, mode="semantic", filters=filters, limit=10)]
        monkeypatch.setenv("TRENDCART_ANN", "off")
        exact = SqliteStore(path)
        assert got == [h.id for h in exact.search("", q, mode="semantic", filters=filters, limit=10)]
        exact.close()
        monkeypatch.setenv("TRENDCART_ANN", "on")
    store.close()


def test_an_unknown_ann_setting_is_one_store_error(tmp_path, monkeypatch):
    from indexer.store import StoreError

    store = _store(tmp_path / "s.db")
    monkeypatch.setenv("TRENDCART_ANN", "sometimes")
    with pytest.raises(StoreError, match="TRENDCART_ANN"):
        _top(store, _vectors(1)[0])
    store.close()


def test_the_cells_are_unit_centroids_and_many_cells_are_probed_by_a_fixed_fraction():
    n = 4000
    index = ann.AnnIndex.build(np.arange(n), _vectors(n), 1, "m", None)
    nlist = ann.nlist_for(n)
    centroids = index._base.quantizer.reconstruct_n(0, nlist)
    assert np.allclose(np.linalg.norm(centroids, axis=1), 1.0, atol=1e-4)  # spherical k-means: ranked by IP
    assert index._base.nprobe == min(nlist, ann.NPROBE)
    # 4 x sqrt(1M) = 4,000 cells: 250 probed (6 %); a fixed 32 gave Recall@10 0.90 at 1M, 250 0.95
    assert [ann.nprobe_for(c) for c in (10, 500, 4_000, 16_000)] == [10, 32, 250, 1_000]


# ------------------------------------------------------------------------- the build at the end of a load


def _items(path: Path, n: int, start: int = 0) -> Path:
    path.write_text(
        "".join(
            json.dumps(
                make_doc(f"i{i}", title=f"item {i}: {('cats', 'rain', 'tea', 'bikes')[i % 4]} {i % 7}")
            )
            + "\n"
            for i in range(start, start + n)
        ),
        encoding="utf-8",
    )
    return path


def test_index_builds_the_graph_at_its_end_and_the_next_search_only_opens_it(tmp_path, monkeypatch, embedder):
    from indexer.stores import StoreSpec
    from indexer.workflows.ingest import index_files

    monkeypatch.setenv("TRENDCART_ANN", "auto")
    monkeypatch.setattr("indexer.sqlite_store.ANN_MIN_VECTORS", 30)
    path = tmp_path / "s.db"
    steps: list[tuple[int, int]] = []
    small = index_files(
        [_items(tmp_path / "a.jsonl", 20)],
        StoreSpec.parse(str(path)),
        embedder=embedder,
        on_vector_index=lambda done, total: steps.append((done, total)),
    )
    assert small.total.indexed == 20 and steps == [] and _ann_files(path) == []  # under the threshold
    index_files(
        [_items(tmp_path / "b.jsonl", 20, start=20)],
        StoreSpec.parse(str(path)),
        embedder=embedder,
        on_vector_index=lambda done, total: steps.append((done, total)),
    )
    assert steps[0] == (0, 40) and steps[-1] == (40, 40)
    assert len(_ann_files(path)) == 2
    meta = (tmp_path / "s.db.ann.json").read_text(encoding="utf-8")
    store = SqliteStore(path)
    hits = store.search("", embedder.embed_query("cats"), mode="semantic", limit=5)
    assert len(hits) == 5 and store._ann is not None and store._ann.pending == 0
    assert (tmp_path / "s.db.ann.json").read_text(encoding="utf-8") == meta  # opened, not built again
    store.close()
    # A few more documents stay beside the file (a search catches them up from the log); at least
    # MERGE_AT_LOAD_END of them are folded into a new file at the end of the load.
    index_files([_items(tmp_path / "c.jsonl", 3, start=40)], StoreSpec.parse(str(path)), embedder=embedder)
    assert (tmp_path / "s.db.ann.json").read_text(encoding="utf-8") == meta
    monkeypatch.setattr("indexer.sqlite_store.MERGE_AT_LOAD_END", 3)
    index_files([_items(tmp_path / "d.jsonl", 3, start=43)], StoreSpec.parse(str(path)), embedder=embedder)
    merged = json.loads((tmp_path / "s.db.ann.json").read_text(encoding="utf-8"))
    assert merged["token"] != json.loads(meta)["token"] and merged["count"] == 46
    store = SqliteStore(path)
    monkeypatch.setenv("TRENDCART_ANN", "off")
    exact = SqliteStore(path)
    for text in ("cats", "tea", "bikes in the rain"):
        q = embedder.embed_query(text)
        monkeypatch.setenv("TRENDCART_ANN", "auto")
        got = _top(store, q)
        assert store._ann is not None and store._ann.pending == 0
        monkeypatch.setenv("TRENDCART_ANN", "off")
        assert got == _top(exact, q)
    store.close()
    exact.close()


def test_a_crawls_indexing_builds_the_graph_when_the_pipeline_closes(tmp_path, monkeypatch, embedder):
    from scrapy.utils.test import get_crawler

    from crawler.pipelines import IndexPipeline
    from indexer.ingest import Ingestor

    monkeypatch.setenv("TRENDCART_ANN", "on")
    path = tmp_path / "s.db"
    pipeline = IndexPipeline(str(path), None, 16, get_crawler().stats)
    pipeline.store = SqliteStore(path)
    pipeline.ingestor = Ingestor(pipeline.store, embedder, 16, on_flush=pipeline._flushed)
    for i in range(40):
        pipeline.process_item(make_doc(f"c{i}", title=f"crawled item {i}"))
    pipeline.close_spider()
    assert pipeline.failed is None and len(_ann_files(path)) == 2
    assert json.loads((tmp_path / "s.db.ann.json").read_text(encoding="utf-8"))["count"] == 40
