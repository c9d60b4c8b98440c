"""SqliteStore: the shared contract suite plus what only SQLite has (migrations, WAL, blobs, caching)."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from indexer import StoreUnavailable, open_store
from indexer.sqlite_store import MIGRATIONS, SqliteStore
from indexer.store import HasOutbox, Prefetching, Reindexable
from indexer.textsearch import MAX_QUERY_TOKEN_CHARS, expand_cjk, fts_query, query_terms
from tests.store_contract import T1, T2, StoreContract, make_doc


class TestSqliteStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path):
        store = SqliteStore(tmp_path / "store.db")
        yield store
        store.close()


def test_schema_is_migrated_in_numbered_steps_and_wal_is_on(tmp_path):
    path = tmp_path / "s.db"
    SqliteStore(path).close()
    SqliteStore(path).close()  # reopening applies nothing twice
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [
        (v,) for v in range(1, len(MIGRATIONS) + 1)
    ]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_store_from_a_newer_trendcart_is_refused(tmp_path):
    path = tmp_path / "s.db"
    SqliteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (999)")
    conn.commit()
    with pytest.raises(StoreUnavailable, match="newer"):
        SqliteStore(path)


def test_unopenable_paths_are_store_unavailable(tmp_path):
    not_a_db = tmp_path / "junk.db"
    not_a_db.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreUnavailable):
        SqliteStore(not_a_db)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreUnavailable):
        SqliteStore(blocker / "sub" / "s.db")


def test_vectors_are_little_endian_float32_blobs_and_normalised(tmp_path):
    store = SqliteStore(tmp_path / "s.db")
    store.set_model("m", 3)
    store.upsert([make_doc("v1")], [np.array([3.0, 0.0, 4.0])], ["h"])
    store.close()
    blob = sqlite3.connect(tmp_path / "s.db").execute("SELECT vector FROM vectors").fetchone()[0]
    assert len(blob) == 12
    assert np.frombuffer(blob, dtype="<f4").tolist() == pytest.approx([0.6, 0.0, 0.8])


def test_data_and_model_survive_reopening(tmp_path):
    path = tmp_path / "s.db"
    store = SqliteStore(path)
    store.set_model("m", 2)
    store.upsert([make_doc("v1", title="口红", views=5)], [np.array([1.0, 0.0])], ["h"])
    store.close()
    again = SqliteStore(path)
    assert again.model_info() == ("m", 2)
    assert again.get("douyin:video:v1")["metrics"]["views"] == 5
    assert [h.id for h in again.search("口红", np.array([1.0, 0.0]), mode="hybrid")] == ["douyin:video:v1"]


def test_vector_cache_sees_writes_from_another_connection(tmp_path):
    path = tmp_path / "s.db"
    reader, writer = SqliteStore(path), SqliteStore(path)
    writer.set_model("m", 2)
    writer.upsert([make_doc("a")], [np.array([1.0, 0.0])], ["h"])
    reader.set_model("m", 2)
    assert [h.id for h in reader.search("", np.array([0.0, 1.0]), mode="semantic")] == ["douyin:video:a"]
    writer.upsert([make_doc("b", observed_at=T2)], [np.array([0.0, 1.0])], ["h"])
    assert reader.search("", np.array([0.0, 1.0]), mode="semantic")[0].id == "douyin:video:b"
    reader.close()
    writer.close()


def test_open_store_picks_the_backend_from_the_spec(tmp_path, monkeypatch):
    store = open_store(str(tmp_path / "x.db"))
    assert isinstance(store, SqliteStore)
    store.close()
    store = open_store(str(tmp_path))  # a folder: the default file name inside it
    assert store.path == tmp_path / "trendcart.db"
    store.close()
    monkeypatch.setenv("TRENDCART_STORE", str(tmp_path / "env.db"))
    store = open_store(None)
    assert store.path == tmp_path / "env.db"
    store.close()
    monkeypatch.delenv("TRENDCART_STORE")
    monkeypatch.chdir(tmp_path)
    store = open_store(None)
    assert store.path.as_posix().endswith("trendcart-data/trendcart.db")
    store.close()


@pytest.mark.parametrize(
    ("text", "expanded"),
    [
        ("口红", "口红 红"),
        ("平价口红 lipstick", "平价 价口 口红 红 lipstick"),
        ("iPhone15手机壳", "iPhone15 手机 机壳 壳"),
        ("a红b", "a 红 b"),
    ],
)
def test_cjk_runs_become_bigrams(text, expanded):
    assert expand_cjk(text).split() == expanded.split()


def test_fts_queries_quote_every_term():
    assert fts_query('口红" OR NEAR(x*') == '"口红" OR "NEAR" OR "x"'
    assert fts_query("平价口红") == '"平价" OR "价口" OR "口红"'
    assert fts_query("红") == '"红"*'
    assert fts_query("💄 ** ()") is None
    assert fts_query("") is None
    assert fts_query("the best") == '"the" OR "best"'  # only stop words: keep them
    assert fts_query("best lipstick for me") == '"lipstick"'


def test_single_character_queries_match_anywhere_in_a_run(tmp_path):
    store = SqliteStore(tmp_path / "s.db")
    store.upsert(
        [
            make_doc("a", title="大红色"),
            make_doc("b", title="口红"),
            make_doc("c", title="红茶"),
            make_doc("d", title="绿茶"),
        ]
    )
    assert {h.id.split(":")[2] for h in store.search("红", mode="keyword")} == {"a", "b", "c"}
    store.close()


def test_window_stats_is_one_query_not_a_scan_of_snapshots(tmp_path):
    store = SqliteStore(tmp_path / "s.db")
    store.upsert([make_doc(f"v{i}", views=i, observed_at=T1) for i in range(50)])
    store.upsert([make_doc(f"v{i}", views=i * 3, observed_at=T2) for i in range(50)])
    plan = " ".join(
        str(r)
        for r in store._conn.execute(
            "EXPLAIN QUERY PLAN SELECT entity_id FROM snapshots WHERE metric = 'views' AND observed_at >= ? "
            "AND observed_at <= ?",
            (T1, T2),
        )
    )
    assert "snapshots_metric_time" in plan
    stats = store.window_stats("views", T1, T2)
    assert len(stats) == 50 and stats["douyin:video:v7"].last_value == 21
    store.close()


# ------------------------------------------------------------------------------------ vector cache file


def _cache_files(path):
    return sorted(p.name for p in path.parent.iterdir() if ".vectors-" in p.name)


def _vector_store(path, n=6, dim=4, seed=0):
    store = SqliteStore(path)
    store.set_model("m", dim)
    rng = np.random.default_rng(seed)
    store.upsert(
        [make_doc(f"v{i}") for i in range(n)], list(rng.normal(size=(n, dim))), [f"h{i}" for i in range(n)]
    )
    return store


def _semantic_ids(store, vector):
    return [h.id for h in store.search("", np.asarray(vector, dtype=np.float32), mode="semantic", limit=3)]


@pytest.fixture
def cache_everything(monkeypatch):
    monkeypatch.setattr("indexer.sqlite_store.VECTOR_CACHE_MIN_ROWS", 1)


def test_vector_cache_file_is_written_and_then_used_instead_of_the_blobs(tmp_path, cache_everything):
    path = tmp_path / "s.db"
    store = _vector_store(path)
    expected = _semantic_ids(store, [1, 0, 0, 0])
    store.close()
    files = _cache_files(path)
    assert len(files) == 2 and files[0].startswith("s.db.vectors-") and files[0].endswith(".npy")
    reopened = SqliteStore(path)
    # The reopened store reads the file, not the blobs: no query touches the vectors table.
    calls = []
    reopened._conn.set_trace_callback(calls.append)
    assert _semantic_ids(reopened, [1, 0, 0, 0]) == expected
    assert not any("FROM vectors" in c for c in calls)
    reopened.close()


def test_a_write_invalidates_the_cache_and_a_stale_cache_is_never_used(tmp_path, cache_everything):
    path = tmp_path / "s.db"
    store = _vector_store(path)
    _semantic_ids(store, [1, 0, 0, 0])
    stale = _cache_files(path)
    other = SqliteStore(path)  # another connection writes: the token changes
    other.upsert([make_doc("new", observed_at=T2)], [np.array([0, 0, 0, 1.0])], ["hn"])
    other.close()
    fresh = SqliteStore(path)
    assert _semantic_ids(fresh, [0, 0, 0, 1])[0] == "douyin:video:new"
    assert _semantic_ids(store, [0, 0, 0, 1])[0] == "douyin:video:new"
    assert set(_cache_files(path)).isdisjoint(stale)  # rewritten under the new token, the old one removed
    # Deleting documents (vectors go by cascade) changes the token too.
    fresh.delete(["douyin:video:new"])
    assert "douyin:video:new" not in _semantic_ids(SqliteStore(path), [0, 0, 0, 1])
    fresh.close()
    store.close()


def test_a_stale_cache_file_under_the_current_name_is_not_trusted_blindly(tmp_path, cache_everything):
    path = tmp_path / "s.db"
    store = _vector_store(path)
    _semantic_ids(store, [1, 0, 0, 0])
    store.close()
    matrix_file = next(p for p in path.parent.iterdir() if p.name.endswith(".npy") and ".pks" not in p.name)
    matrix_file.write_bytes(b"garbage")  # cut short or corrupt: fall back to the blobs, rewrite it
    reopened = SqliteStore(path)
    assert len(_semantic_ids(reopened, [1, 0, 0, 0])) == 3
    assert np.load(matrix_file).shape == (6, 4)
    reopened.close()


def test_deleting_the_cache_files_is_harmless(tmp_path, cache_everything):
    path = tmp_path / "s.db"
    store = _vector_store(path)
    expected = _semantic_ids(store, [0, 1, 0, 0])
    store.close()
    for name in _cache_files(path):
        (tmp_path / name).unlink()
    reopened = SqliteStore(path)
    assert _semantic_ids(reopened, [0, 1, 0, 0]) == expected
    assert len(_cache_files(path)) == 2
    reopened.close()


def test_small_stores_and_read_only_folders_get_no_cache_file(tmp_path, monkeypatch):
    path = tmp_path / "s.db"
    store = _vector_store(path)
    _semantic_ids(store, [1, 0, 0, 0])
    assert _cache_files(path) == []  # below VECTOR_CACHE_MIN_ROWS
    monkeypatch.setattr("indexer.sqlite_store.VECTOR_CACHE_MIN_ROWS", 1)

    def refuse(*args, **kwargs):
        raise PermissionError("read-only folder")

    monkeypatch.setattr("indexer.sqlite_store.open", refuse, raising=False)
    store.upsert([make_doc("x", observed_at=T2)], [np.array([1.0, 0, 0, 0])], ["hx"])
    assert _semantic_ids(store, [1, 0, 0, 0])[0] == "douyin:video:x"
    assert [n for n in _cache_files(path)] == []
    store.close()


def test_capabilities_are_protocols_sqlite_prefetches_and_reindexes(tmp_path):
    store = SqliteStore(tmp_path / "s.db")
    try:
        assert isinstance(store, Prefetching)
        assert not isinstance(store, HasOutbox) and isinstance(store, Reindexable)
    finally:
        store.close()


def test_query_terms_are_the_shared_keyword_vocabulary():
    assert query_terms('the best "口红" NEAR earbuds*') == ["口红", "NEAR", "earbuds"]
    assert query_terms("for the") == ["for", "the"]  # only stop words: they are kept
    assert query_terms("x" * 500) == ["x" * MAX_QUERY_TOKEN_CHARS]
    assert query_terms("💄 ** ()") == []


# -- errors say what went wrong (issue 10, item 6) ------------------------------------------------------
def test_a_full_disk_says_so_and_the_store_stays_usable(tmp_path):
    """SQLite's max_page_count on the real file stands in for a full disk (SQLITE_FULL either way)."""
    from indexer.store import StoreError

    store = SqliteStore(tmp_path / "full.db")
    store.upsert([make_doc("a", title="first")])
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")
    big = [make_doc(f"b{i}", description="x" * 5000) for i in range(100)]
    with pytest.raises(StoreError, match="database or disk is full") as excinfo:
        store.upsert(big)
    assert "rollback" not in str(excinfo.value) and "\n" not in str(excinfo.value)
    assert store.count() == 1 and not store._conn.in_transaction
    store._conn.execute(f"PRAGMA max_page_count = {pages * 100}")  # space again: the same store goes on
    assert store.upsert(big).added == 100 and store.count() == 101
    store.close()


def test_a_value_sqlite_cannot_hold_is_an_invalid_document(tmp_path):
    from indexer.store import InvalidDocument

    store = SqliteStore(tmp_path / "big.db")
    for metrics in ({"views": 2**63}, {"views": 1e308}):
        with pytest.raises(InvalidDocument, match="metrics.views"):
            store.upsert([make_doc("a", title="t", **{"metrics": metrics})])
    assert store.count() == 0
    store.close()


def corrupt_vectors(path) -> None:
    """Overwrite the headers of every other leaf page of the vectors table (the file opens, reading fails)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = [
        r[0] for r in conn.execute("SELECT pageno FROM dbstat WHERE name = 'vectors' AND pagetype = 'leaf'")
    ]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    for page in pages[1::2]:
        data[(page - 1) * size : (page - 1) * size + 200] = b"\xde\xad" * 100
    path.write_bytes(bytes(data))


def test_a_damaged_vectors_table_is_one_store_error_from_the_prefetch(tmp_path):
    from indexer.search import Prefetch
    from indexer.store import StoreError

    path = tmp_path / "damaged.db"
    store = SqliteStore(path)
    store.set_model("m", 8)
    store.upsert([make_doc(f"v{i}", title=f"t {i}") for i in range(300)], [np.ones(8, dtype="float32")] * 300)
    store.close()
    corrupt_vectors(path)
    store = SqliteStore(path)
    warming = Prefetch(store)
    with pytest.raises(StoreError, match="database disk image is malformed"):
        warming.join()  # raised in the caller's thread, not printed by the prefetch thread
    store.close()
