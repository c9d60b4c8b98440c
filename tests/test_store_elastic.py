"""ElasticStore against a real node: the shared contract suite plus layout, errors, outbox and reindex."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

from crawler.items import Snapshot
from indexer import ModelMismatch, SearchFilters, StoreUnavailable, open_store
from indexer.elastic import BulkWriteError, ElasticConfig, ElasticStore, Outbox
from indexer.embedder import document_text
from indexer.store import HasOutbox, Prefetching, Reindexable, StoreError
from tests.plugins.elasticsearch import require_es
from tests.plugins.http_server import TestServer
from tests.store_contract import T1, T2, StoreContract, make_doc

pytestmark = pytest.mark.elasticsearch


def unique_prefix() -> str:
    return f"tct-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def make_store(es_url, tmp_path):
    """ElasticStore factory: each store in its own index prefix, every index deleted afterwards."""
    made: list[ElasticStore] = []

    def make(prefix: str | None = None, **overrides) -> ElasticStore:
        config = ElasticConfig.from_env(
            es_url,
            environ={},
            index_prefix=prefix or unique_prefix(),
            outbox_dir=tmp_path / "outbox",
            **overrides,
        )
        store = ElasticStore(config)
        made.append(store)
        return store

    yield make
    for store in made:
        try:
            store.destroy()
        finally:
            store.close()


class TestElasticStore(StoreContract):
    @pytest.fixture
    def store(self, make_store):
        return make_store()


# ------------------------------------------------------------------------------------- helpers


def fake_embed(dim: int):
    """A tiny deterministic embedding (character trigram hashing): the model is not what these tests test."""

    def embed(texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), dim), dtype=np.float32)
        for row, text in enumerate(texts):
            text = f"  {text.lower()}  "
            for i in range(len(text) - 2):
                out[row, int(hashlib.md5(text[i : i + 3].encode()).hexdigest(), 16) % dim] += 1.0
        return out

    return embed


def managed_node(url: str) -> tuple[Path, int] | None:
    """(state dir, port) when `url` is the node of tools/elasticsearch (which this test may stop and start)."""
    parts = urlsplit(url)
    state = Path(os.environ.get("TRENDCART_ES_HOME") or TOOLS / ".state")
    try:
        port = int((state / "node.port").read_text().strip())
        pid = int((state / "node.pid").read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    if parts.hostname not in ("127.0.0.1", "localhost") or (parts.port or 9200) != port:
        return None
    return state, port


def run_tool(name: str, port: int) -> str:
    done = subprocess.run(
        [str(TOOLS / name)],
        env={**os.environ, "TRENDCART_ES_PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"tools/elasticsearch/{name} failed:\n{done.stderr[-2000:]}"
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


TOOLS = Path(__file__).resolve().parents[1] / "tools" / "elasticsearch"


# -------------------------------------------------------------------------------------- layout


def test_indices_templates_and_aliases_follow_the_documented_layout(make_store):
    store = make_store()
    es, p = store.client, store.prefix
    assert set(es.indices.get_alias(name=f"{p}-docs")) == {f"{p}-docs-v1"}
    mapping = es.indices.get_mapping(index=f"{p}-docs")[f"{p}-docs-v1"]["mappings"]
    props = mapping["properties"]
    assert props["text"]["properties"]["title"]["analyzer"] == "cjk"
    assert props["text"]["properties"]["title"]["fields"]["std"]["type"] == "text"
    assert props["products"]["type"] == "nested"
    assert {props[k]["type"] for k in ("platform", "kind", "hashtags", "currency")} == {"keyword"}
    assert props["creator"]["properties"]["name"]["fields"]["keyword"]["type"] == "keyword"
    assert props["doc"]["enabled"] is False
    settings = es.indices.get_settings(index=f"{p}-docs-v1")[f"{p}-docs-v1"]["settings"]["index"]
    assert settings["number_of_replicas"] == "0"
    assert es.indices.exists_index_template(name=f"{p}-docs")
    store.set_model("model-a", 8)
    mapping = es.indices.get_mapping(index=f"{p}-docs")[f"{p}-docs-v1"]["mappings"]
    assert mapping["properties"]["vector"] == {
        "type": "dense_vector",
        "dims": 8,
        "index": True,
        "similarity": "cosine",
        "index_options": {"type": "hnsw", "m": 16, "ef_construction": 100},
    }
    assert mapping["_meta"]["trendcart"]["model"] == "model-a"


def test_snapshots_live_in_monthly_indices_behind_an_alias_with_deterministic_ids(make_store):
    store = make_store()
    store.add_snapshots(
        [
            Snapshot("douyin:video:a", "2026-10-31T23:00:00Z", {"views": 1}),
            Snapshot("douyin:video:a", T1, {"views": 2, "likes": 1}),
        ]
    )
    store.add_snapshots([Snapshot("douyin:video:a", T1, {"views": 2})])  # the same observation again
    es, p = store.client, store.prefix
    assert set(es.indices.get_alias(name=f"{p}-snapshots")) == {
        f"{p}-snapshots-2026.10",
        f"{p}-snapshots-2026.11",
    }
    es.indices.refresh(index=f"{p}-snapshots")
    assert es.count(index=f"{p}-snapshots")["count"] == 3
    doc = es.get(index=f"{p}-snapshots-2026.11", id=f"douyin:video:a|views|{T1}")
    assert doc["_source"]["value"] == 2


def test_prune_drops_whole_months_and_deletes_inside_the_cutoff_month(make_store):
    store = make_store()
    store.add_snapshots(
        [
            Snapshot("douyin:video:a", "2026-09-02T00:00:00Z", {"views": 1}),
            Snapshot("douyin:video:a", "2026-10-02T00:00:00Z", {"views": 2}),
            Snapshot("douyin:video:a", "2026-11-02T00:00:00Z", {"views": 3}),
            Snapshot("douyin:video:a", T1, {"views": 4}),
        ]
    )
    assert store.prune("2026-11-10T00:00:00Z") == 3
    p = store.prefix
    assert set(store.client.indices.get_alias(name=f"{p}-snapshots")) == {f"{p}-snapshots-2026.11"}
    assert [s.metrics["views"] for s in store.snapshots("douyin:video:a")] == [4]


def test_model_is_recorded_in_the_mapping_and_survives_reopening(make_store):
    store = make_store()
    store.set_model("model-a", 4)
    store.upsert([make_doc("v1", title="口红")], [np.array([1.0, 0.0, 0.0, 0.0])], ["h"])
    again = make_store(prefix=store.prefix)
    assert again.model_info() == ("model-a", 4)
    with pytest.raises(ModelMismatch) as excinfo:
        again.set_model("model-b", 8)
    message = str(excinfo.value)
    assert "reindex" in message and "model-a" in message and "\n" not in message
    again.client.indices.refresh(index=f"{store.prefix}-docs")  # another object: visible after a refresh
    assert [h.id for h in again.search("口红", np.array([1.0, 0, 0, 0]), mode="hybrid")] == [
        "douyin:video:v1"
    ]


@pytest.mark.parametrize("index_type", ["int8_hnsw", "int4_hnsw", "bbq_hnsw"])
def test_quantised_hnsw_is_an_option(make_store, index_type):
    # 64 dimensions: bbq_hnsw needs at least 64 (int4 an even count); recall per type: ELASTICSEARCH.md
    store = make_store(vector_index=index_type)
    store.set_model("m", 64)
    vectors = np.random.default_rng(3).normal(size=(5, 64)).astype(np.float32)
    store.upsert([make_doc(f"v{i}") for i in range(5)], list(vectors), ["h"] * 5)
    p = store.prefix
    mapping = store.client.indices.get_mapping(index=f"{p}-docs")[f"{p}-docs-v1"]["mappings"]
    assert mapping["properties"]["vector"]["index_options"]["type"] == index_type
    assert store.search("", vectors[1], mode="semantic", limit=1)[0].id == "douyin:video:v1"


def test_an_unknown_vector_index_type_is_refused_in_one_line(make_store):
    store = make_store(vector_index="flat_hnsw")
    with pytest.raises(StoreError) as excinfo:
        store.set_model("m", 8)
    assert "int8_hnsw" in str(excinfo.value) and "\n" not in str(excinfo.value)


def test_a_plural_query_word_finds_the_singular_as_an_exact_word(make_store, tmp_path):
    # SqliteStore stems (porter): "toys" and "toy" are one word there; the node has no stemmer, so the
    # query adds the other number (queries.number_variants) instead of leaving it to the 0.02 fuzzy match
    from indexer.sqlite_store import SqliteStore

    docs = [
        make_doc("a", title="wooden toy train"),
        make_doc("b", title="toys for a rainy day"),
        make_doc("c", title="tofu recipes"),
    ]
    store = make_store()
    store.upsert(docs)
    sqlite = SqliteStore(tmp_path / "plural.db")
    sqlite.upsert(docs)
    for query in ("toys", "toy"):
        es_hits = store.search(query, mode="keyword")
        assert {h.id for h in es_hits} == {h.id for h in sqlite.search(query, mode="keyword")}
        assert {h.id for h in es_hits} == {"douyin:video:a", "douyin:video:b"}
        assert min(h.score for h in es_hits) > 0.3 * max(h.score for h in es_hits)  # not a fuzzy-only score
    sqlite.close()


def test_single_cjk_characters_match_inside_longer_runs(make_store):
    store = make_store()
    store.upsert(
        [
            make_doc("a", title="大红色"),
            make_doc("b", title="口红"),
            make_doc("c", title="红茶"),
            make_doc("d", title="绿茶"),
        ]
    )
    assert {h.id.split(":")[2] for h in store.search("红", mode="keyword")} == {"a", "b", "c"}


def test_window_stats_pages_through_a_composite_aggregation(make_store, monkeypatch):
    import indexer.elastic.store as module

    monkeypatch.setattr(module, "PAGE_SIZE", 7)  # 30 entities: five pages
    store = make_store()
    store.add_snapshots(
        [Snapshot(f"douyin:video:v{i:02d}", T1, {"views": i}) for i in range(30)]
        + [Snapshot(f"douyin:video:v{i:02d}", T2, {"views": i * 3}) for i in range(30)]
    )
    stats = store.window_stats("views", T1, T2)
    assert len(stats) == 30
    assert (stats["douyin:video:v07"].first_value, stats["douyin:video:v07"].last_value) == (7, 21)
    assert stats["douyin:video:v07"].count == 2


def test_writes_are_visible_to_the_next_read_without_a_refresh_per_document(make_store):
    store = make_store()
    refreshes = []
    original = store.client.indices.refresh

    def counting_refresh(*args, **kwargs):
        refreshes.append(kwargs.get("index"))
        return original(*args, **kwargs)

    store.client.indices.refresh = counting_refresh
    for i in range(5):
        store.upsert([make_doc(f"v{i}", views=i)])
    assert refreshes == []  # batches are written without refresh
    assert store.count() == 5 and store.count(SearchFilters(min_views=3)) == 2
    assert len(refreshes) == 1  # one refresh before the first read, none for the second


def test_what_a_closed_store_wrote_is_read_at_once_by_the_next_one(make_store):
    """`trendcart index` then `trendcart search`: two processes, two clients. With refresh off on the index,
    only the writer's close can make its writes searchable to the reader."""
    reader = make_store()  # the fixture's store deletes the indices afterwards
    writer = ElasticStore(reader.config)
    writer.upsert([make_doc("first")])
    assert writer.count() == 1  # creates the index, refreshes once
    index = writer._docs_index()
    writer.client.indices.put_settings(index=index, settings={"index": {"refresh_interval": "-1"}})
    writer.upsert([make_doc(f"later{i}") for i in range(3)])
    writer.close()
    assert reader.count() == 4


def test_per_document_failures_are_reported_together(make_store):
    store = make_store()
    bad = [
        {
            "_op_type": "index",
            "_index": f"{store.prefix}-snapshots-2026.11",
            "_id": f"x{i}",
            "_source": {"entity_id": "e", "metric": "views", "observed_at": T1, "value": "many"},
        }
        for i in range(7)
    ]
    good = store._snapshot_actions([("douyin:video:ok", "views", T1, 5, "douyin", "video")])
    with pytest.raises(BulkWriteError) as excinfo:
        store._bulk(good + bad)
    assert len(excinfo.value.failures) == 7
    assert "refused 7 of 8 writes" in str(excinfo.value) and "and 2 more" in str(excinfo.value)
    assert store.snapshots("douyin:video:ok")[0].metrics == {"views": 5}  # the good one was written


def test_chunks_of_one_write_go_in_parallel_and_failures_are_still_collected(make_store, monkeypatch):
    import indexer.elastic.bulk as module

    monkeypatch.setattr(
        module, "BULK_CHUNK_DOCS", 3
    )  # 4 docs + 8 snapshots + 2 bad rows: 5 chunks, 2 threads
    store = make_store(bulk_threads=2)
    store.set_model("m", 4)
    docs = [make_doc(f"p{i}", views=i, likes=i) for i in range(4)]
    result = store.upsert(docs, list(np.eye(4, dtype=np.float32)), ["h"] * 4)
    assert result.added == 4 and store.count() == 4
    assert len(store.snapshots("douyin:video:p2")) == 1
    bad = [
        {
            "_op_type": "index",
            "_index": f"{store.prefix}-snapshots-2026.11",
            "_id": f"x{i}",
            "_source": {"entity_id": "e", "metric": "views", "observed_at": T1, "value": "many"},
        }
        for i in range(2)
    ]
    good = store._snapshot_actions(
        [(f"douyin:video:g{i}", "views", T1, i, "douyin", "video") for i in range(5)]
    )
    with pytest.raises(BulkWriteError) as excinfo:
        store._bulk(good[:3] + bad[:1] + good[3:] + bad[1:])
    assert sorted(doc_id for doc_id, _ in excinfo.value.failures) == ["x0", "x1"]
    assert store.snapshots("douyin:video:g4")[0].metrics == {"views": 4}


def test_bulk_load_turns_refresh_off_and_restores_it(make_store):
    store = make_store()
    store.add_snapshots([Snapshot("douyin:video:a", T1, {"views": 1})])  # one monthly snapshot index exists
    index = store._docs_index()

    def settings(name: str) -> dict:
        return store.client.indices.get_settings(index=name)[name]["settings"]["index"]

    snapshot_index = store._snapshot_indices()[0]
    # a user's replica count (1: yellow on one node) is 0 during the load and comes back afterwards
    store.client.indices.put_settings(index=index, settings={"index": {"number_of_replicas": 1}})
    with store.bulk_load(async_translog=True):
        assert settings(index)["refresh_interval"] == "-1"
        assert settings(snapshot_index)["refresh_interval"] == "-1"
        assert settings(index)["translog"]["durability"] == "async"
        assert settings(index)["number_of_replicas"] == settings(snapshot_index)["number_of_replicas"] == "0"
        store.upsert([make_doc(f"b{i}") for i in range(3)])
    for name in (index, snapshot_index):
        assert "refresh_interval" not in settings(name) and "translog" not in settings(name)  # defaults again
    assert (settings(index)["number_of_replicas"], settings(snapshot_index)["number_of_replicas"]) == (
        "1",
        "0",
    )
    assert store.client.count(index=index)["count"] == 3  # refreshed once at the end, visible to everyone


def test_open_store_opens_an_elastic_store_for_urls(es_url, monkeypatch, tmp_path):
    prefix = unique_prefix()
    monkeypatch.setenv("TRENDCART_ES_INDEX_PREFIX", prefix)
    monkeypatch.setenv("TRENDCART_ES_OUTBOX", str(tmp_path / "outbox"))
    store = open_store(es_url, "model-x")
    try:
        assert isinstance(store, ElasticStore) and store.prefix == prefix
        store.upsert([make_doc("v1")])
        assert store.stats().documents == 1
    finally:
        store.destroy()
        store.close()


# -------------------------------------------------------------------------------------- errors


def test_connection_refused_is_one_clear_line(tmp_path):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = ElasticConfig.from_env(f"http://127.0.0.1:{port}", environ={}, outbox_dir=tmp_path)
    with pytest.raises(StoreUnavailable) as excinfo:
        ElasticStore(config)
    message = str(excinfo.value)
    assert "cannot reach" in message and f"127.0.0.1:{port}" in message and "\n" not in message


@pytest.mark.parametrize("version", ["7.17.0", "9.0.1"])
def test_servers_other_than_8x_are_refused(version, tmp_path):
    with TestServer() as server:
        body = json.dumps(
            {"version": {"number": version, "build_flavor": "default"}, "tagline": "You Know, for Search"}
        )
        server.add("/", body, content_type="application/json", headers={"X-Elastic-Product": "Elasticsearch"})
        config = ElasticConfig.from_env(server.url("/").rstrip("/"), environ={}, outbox_dir=tmp_path)
        with pytest.raises(
            StoreUnavailable, match=f"runs Elasticsearch {re.escape(version)}; trendcart needs 8.x"
        ):
            ElasticStore(config)


def test_capabilities_are_protocols_elastic_has_an_outbox_and_reindexes(make_store, tmp_path):
    store = make_store()
    assert isinstance(store, HasOutbox) and isinstance(store, Reindexable)
    assert not isinstance(store, Prefetching)
    assert store.outbox_location() == str(tmp_path / "outbox") and store.outbox_pending() == 0


def test_the_real_node_is_accepted_as_8x(make_store):
    assert make_store().server_version.startswith("8.")


def test_authentication_failure_is_one_clear_line(tmp_path):
    with TestServer() as server:
        error = {
            "error": {"type": "security_exception", "reason": "unable to authenticate user [bob]"},
            "status": 401,
        }
        server.add(
            "/",
            json.dumps(error),
            status=401,
            content_type="application/json",
            headers={"X-Elastic-Product": "Elasticsearch", "WWW-Authenticate": 'Basic realm="security"'},
        )
        host = server.url("/").split("//")[1].rstrip("/")
        config = ElasticConfig.from_env(f"http://bob:wrong@{host}", environ={}, outbox_dir=tmp_path)
        assert config.username == "bob" and config.hosts == [f"http://{host}"]
        with pytest.raises(StoreUnavailable) as excinfo:
            ElasticStore(config)
    message = str(excinfo.value)
    assert "refused the credentials (401)" in message and "wrong" not in message


def test_configuration_from_urls_and_environment():
    env = {
        "TRENDCART_ES_API_KEY": "key-id:secret",
        "TRENDCART_ES_CA_CERTS": "/etc/ca.pem",
        "TRENDCART_ES_VERIFY_CERTS": "false",
        "TRENDCART_ES_INDEX_PREFIX": "shop",
        "TRENDCART_ES_OUTBOX": "/tmp/ob",
        "TRENDCART_ES_VECTOR_INDEX": "int8_hnsw",
    }
    config = ElasticConfig.from_env("https://a.example:9243, https://b.example:9243/", environ=env)
    assert config.hosts == ["https://a.example:9243", "https://b.example:9243"]
    kwargs = config.client_kwargs()
    assert kwargs["api_key"] == ("key-id", "secret") and "basic_auth" not in kwargs
    assert kwargs["ca_certs"] == "/etc/ca.pem" and kwargs["verify_certs"] is False
    assert (config.index_prefix, str(config.outbox_dir), config.vector_index) == (
        "shop",
        "/tmp/ob",
        "int8_hnsw",
    )
    basic = ElasticConfig.from_env("http://u%40x:p%3Aw@h:9200", environ={}).client_kwargs()
    assert basic["basic_auth"] == ("u@x", "p:w") and basic["hosts"] == ["http://h:9200"]
    env_auth = ElasticConfig.from_env(
        "http://h:9200", environ={"TRENDCART_ES_USERNAME": "elastic", "TRENDCART_ES_PASSWORD": "pw"}
    ).client_kwargs()
    assert env_auth["basic_auth"] == ("elastic", "pw")
    cloud = ElasticConfig.from_env(
        "https://ignored:443",
        environ={"TRENDCART_ES_CLOUD_ID": "dep:abc", "TRENDCART_ES_API_KEY": "ZW5jb2RlZA=="},
    )
    assert cloud.client_kwargs()["cloud_id"] == "dep:abc" and "hosts" not in cloud.client_kwargs()
    assert cloud.client_kwargs()["api_key"] == "ZW5jb2RlZA=="
    with pytest.raises(StoreUnavailable, match="not an Elasticsearch URL"):
        ElasticConfig.from_env("ftp://h", environ={})
    assert ElasticConfig.from_env("http://h", environ={}).bulk_threads == 4
    assert ElasticConfig.from_env("http://h", environ={"TRENDCART_ES_BULK_THREADS": "1"}).bulk_threads == 1
    with pytest.raises(StoreUnavailable, match="TRENDCART_ES_BULK_THREADS"):
        ElasticConfig.from_env("http://h", environ={"TRENDCART_ES_BULK_THREADS": "0"})
    assert (
        "secret" not in config.where()
        and "p:w" not in ElasticConfig.from_env("http://u:p:w@h", environ={}).where()
    )


def test_the_fixture_fails_under_ci_and_skips_otherwise():
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        require_es({"CI": "true"})
    with pytest.raises(pytest.skip.Exception, match="tools/elasticsearch/start"):
        require_es({})


def test_the_outbox_keeps_batches_until_done(tmp_path):
    outbox = Outbox(tmp_path / "ob", "shop")
    first = outbox.put({"op": "snapshots", "rows": [["a", "views", T1, 1, None, None]]})
    outbox.put({"op": "snapshots", "rows": []})
    Outbox(tmp_path / "ob", "other").put({"op": "snapshots", "rows": []})
    assert len(outbox) == 2 and outbox.files()[0] == first
    assert list(outbox.read(first))[0]["rows"][0][0] == "a"
    outbox.done(first)
    assert len(outbox) == 1
    broken = outbox.files()[0]
    broken.write_text("{not json\n")
    with pytest.raises(ValueError):
        list(outbox.read(broken))
    outbox.quarantine(broken, "test")
    assert len(outbox) == 0 and broken.with_suffix(".bad").exists()


# --------------------------------------------------------------------------- outbox, for real


def test_nothing_is_lost_when_the_node_stops_mid_ingest(make_store, es_url):
    node = managed_node(es_url)
    if node is None:
        reason = f"{es_url} is not the node of tools/elasticsearch, which this test stops and starts"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    _, port = node
    store = make_store()
    store.set_model("m", 4)
    embed = fake_embed(4)

    def batch(numbers, when, views):
        docs = [make_doc(f"v{i}", title=f"口红 第{i}号", observed_at=when, views=views + i) for i in numbers]
        texts = [d["title"] for d in docs]
        return docs, list(embed(texts)), [f"h{i}" for i in numbers]

    assert store.upsert(*batch(range(0, 20), T1, 100)).added == 20
    run_tool("stop", port)
    try:
        result = store.upsert(*batch(range(20, 40), T1, 100))  # node down: queued, not lost, no error
        assert (result.added, result.updated) == (0, 0)
        store.upsert(*batch(range(0, 10), T2, 500))  # re-observations of documents already written
        assert store.add_snapshots([Snapshot("douyin:product:p1", T2, {"sales": 7})]) == 0
        assert store.outbox_pending() == 3
        with pytest.raises(StoreUnavailable):
            store.count()
    finally:
        assert run_tool("start", port).startswith("http://")
    assert store.replay_outbox() == 3
    assert store.outbox_pending() == 0
    assert store.count() == 40
    ids = [d["id"] for d in store.iter_documents()]
    assert sorted(ids) == sorted(f"douyin:video:v{i}" for i in range(40))  # each exactly once
    doc = store.get("douyin:video:v3")
    assert (doc["first_seen"], doc["last_seen"], doc["metrics"]["views"]) == (T1, T2, 503)
    assert [s.metrics["views"] for s in store.snapshots("douyin:video:v3")] == [103, 503]
    assert [s.metrics["views"] for s in store.snapshots("douyin:video:v33")] == [133]
    assert store.snapshots("douyin:product:p1")[0].metrics == {"sales": 7}
    assert store.stats().snapshots == 40 + 10 + 1  # one row per observation and metric, none twice
    assert store.known_hashes(["douyin:video:v25"]) == {"douyin:video:v25": "h25"}
    store.upsert(*batch(range(20, 40), T1, 100))  # the same batch once more: still no duplicates
    assert store.count() == 40 and store.stats().snapshots == 51


# ------------------------------------------------------------------------------------- reindex


def test_reindex_re_embeds_into_a_new_index_and_swaps_the_alias(make_store):
    store = make_store()
    old_embed, new_embed = fake_embed(8), fake_embed(12)
    docs = [
        make_doc(f"v{i}", title=title, views=i, observed_at=T1)
        for i, title in enumerate(["wireless earbuds", "口红 推荐", "coffee dripper", "手机壳"])
    ]
    store.set_model("fake-8", 8)
    store.upsert(docs, list(old_embed([document_text(d) for d in docs])), ["h"] * 4)
    store.upsert([make_doc("v0", title="wireless earbuds", views=50, observed_at=T2)], [None], ["h"])
    p = store.prefix
    result = store.reindex(embed=new_embed, model_name="fake-12", dim=12, batch=3)
    assert (result.old_index, result.new_index, result.documents) == (f"{p}-docs-v1", f"{p}-docs-v2", 4)
    assert set(store.client.indices.get_alias(name=f"{p}-docs")) == {f"{p}-docs-v2"}
    assert not store.client.indices.exists(index=f"{p}-docs-v1")
    assert store.model_info() == ("fake-12", 12)
    assert make_store(prefix=p).model_info() == ("fake-12", 12)
    doc = store.get("douyin:video:v0")
    assert (doc["first_seen"], doc["last_seen"], doc["metrics"]["views"]) == (T1, T2, 50)
    assert [s.metrics["views"] for s in store.snapshots("douyin:video:v0")] == [0, 50]  # snapshots untouched
    query = new_embed(["coffee dripper"])[0]
    assert store.search("", query, mode="semantic", limit=1)[0].id == "douyin:video:v2"
    with pytest.raises(ModelMismatch):
        store.search("", old_embed(["coffee"])[0], mode="semantic")
    assert len(store.known_hashes([d["id"] for d in docs])) == 4


@pytest.mark.model
def test_reindex_with_the_real_embedder(make_store, embedder):
    store = make_store()
    docs = [
        make_doc("ear", title="Wireless earbuds with noise cancelling"),
        make_doc("mug", title="陶瓷咖啡杯"),
    ]
    store.set_model("fake-4", 4)
    store.upsert(docs, list(fake_embed(4)([document_text(d) for d in docs])), ["h", "h"])
    store.reindex(embedder)
    assert store.model_info() == (embedder.model_name, embedder.dim)
    assert store.known_hashes(["douyin:video:ear"]) == {
        "douyin:video:ear": embedder.text_hash(document_text(docs[0]))
    }
    hits = store.search("headphones", embedder.embed_query("headphones"), mode="semantic", limit=1)
    assert hits[0].id == "douyin:video:ear"
