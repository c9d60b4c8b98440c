"""`trendcart serve` on Elasticsearch: the same corpus in a real node and in SQLite, served side by side,
answers every endpoint in the same JSON shapes (search, trending with a query, product, live, creator,
stats, health, watches with a breakout). With CI set these tests must run, not skip (es_url)."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

from indexer.elastic import ElasticConfig, ElasticStore
from indexer.server.config import ModelHolder, ServerConfig
from indexer.stores import StoreSpec
from tests.server_store import NOW, breakout_documents, build_store, fill_store, iso, log_crawls
from tests.test_server import TOKEN, Running, q

pytestmark = [pytest.mark.elasticsearch, pytest.mark.model]
BACKENDS = ("sqlite", "elasticsearch")
NOW_Q = iso(NOW)
# GET endpoints over the test corpus, each answered by both servers.
READS = (
    f"/api/trending?{q(now=NOW_Q)}",
    f"/api/trending?{q(now=NOW_Q, query='blender')}",
    f"/api/trending?{q(now=NOW_Q, by='video', window='7d')}",
    f"/api/trending?{q(now=NOW_Q, by='live')}",
    f"/api/trending?{q(now=NOW_Q, by='creator', query='portable blender')}",
    f"/api/product?{q(id='tiktok:product:555', now=NOW_Q)}",
    "/api/products",
    f"/api/live?{q(id='douyin:live:room1')}",
    f"/api/creator?{q(id='lily')}",
    "/api/stats",
    f"/api/health?{q(now=NOW_Q)}",
)
# Where the two backends may honestly differ in value (never in shape): what a store says of itself.
OWN = {"backend", "location", "size_bytes"}


def shape(value: Any) -> Any:
    """The JSON value's structure: keys and the kind of each leaf (numbers as one kind), lists element by
    element (so lengths count too)."""
    if isinstance(value, dict):
        return {key: shape(v) for key, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(v) for v in value]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "null" if value is None else type(value).__name__


def by_id(hits: list[dict[str, Any]]) -> dict[str, Any]:
    """Search hits keyed by id: the two engines' BM25 can order ties differently, not find other things."""
    return {hit["id"]: hit for hit in hits}


@pytest.fixture(scope="module")
def servers(es_url, tmp_path_factory, embedder):
    """{backend: a running server} over the same documents and crawl log, both with the token."""
    where = tmp_path_factory.mktemp("serve-es")
    prefix = f"tcs-{uuid.uuid4().hex[:10]}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRENDCART_ES_INDEX_PREFIX", prefix)  # the server opens its store from the environment
        patch.setenv("TRENDCART_ES_OUTBOX", str(where / "outbox"))
        patch.chdir(where)  # ./trendcart-data/: the server store's crawl log, watch and product files
        config = ElasticConfig.from_env(es_url, environ=os.environ)
        fill_store(ElasticStore(config), embedder)
        sqlite = build_store(where / "s.db", embedder)
        specs = {"sqlite": StoreSpec.parse(str(sqlite)), "elasticsearch": StoreSpec.parse(es_url)}
        for spec in specs.values():
            log_crawls(spec)
        running = {
            name: Running(ServerConfig(spec, None, "127.0.0.1", TOKEN, ModelHolder(None, embedder)))
            for name, spec in specs.items()
        }
        try:
            yield running, specs
        finally:
            for server in running.values():
                server.stop()
            store = ElasticStore(config)
            try:
                store.destroy()
            finally:
                store.close()


def both(servers, path: str, **kwargs) -> dict[str, Any]:
    running, _ = servers
    return {name: running[name].json(path, **kwargs) for name in BACKENDS}


def test_reads_answer_in_the_same_shapes_as_on_sqlite(servers):
    for path in READS:
        got = both(servers, path)
        lite, elastic = got["sqlite"], got["elasticsearch"]
        assert shape(lite) == shape(elastic), path
        assert lite, path
        if path.startswith("/api/trending"):
            assert [r["id"] for r in lite["results"]] == [r["id"] for r in elastic["results"]], path
            assert lite["results"], path
    stats = both(servers, "/api/stats")
    assert stats["elasticsearch"]["backend"] == "elasticsearch" and stats["sqlite"]["backend"] == "sqlite"
    assert {k: v for k, v in stats["elasticsearch"].items() if k not in OWN} == {
        k: v for k, v in stats["sqlite"].items() if k not in OWN
    }
    health = both(servers, f"/api/health?{q(now=NOW_Q)}")
    assert health["elasticsearch"] == health["sqlite"] and health["sqlite"]["alerts"] == [
        "health:douyin/douyin:blocked"
    ]
    live = both(servers, f"/api/live?{q(id='douyin:live:room1')}")
    assert live["elasticsearch"] == live["sqlite"] and live["sqlite"]["stats"]["peak_viewers"] == 26_000
    product = both(servers, f"/api/product?{q(id='tiktok:product:555', now=NOW_Q)}")
    assert product["elasticsearch"] == product["sqlite"] and product["sqlite"]["fact"]["total"] > 0


def test_search_finds_the_same_hits_in_the_same_shapes(servers):
    for mode in ("keyword", "semantic", "hybrid"):
        got = both(servers, f"/api/search?{q(q='portable blender', mode=mode, limit=20)}")
        lite, elastic = by_id(got["sqlite"]), by_id(got["elasticsearch"])
        assert lite and set(lite) == set(elastic), mode
        assert shape(lite) == shape(elastic), mode
    narrowed = both(servers, f"/api/search?{q(q='榨汁杯', platform='douyin', kind='video')}")
    assert [h["id"] for h in narrowed["sqlite"]] == [h["id"] for h in narrowed["elasticsearch"]]
    assert shape(narrowed["sqlite"]) == shape(narrowed["elasticsearch"]) and narrowed["sqlite"]
    bad = both(servers, f"/api/search?{q(q='x', limit=0)}", status=422)
    assert bad["sqlite"] == bad["elasticsearch"]
    missing = both(servers, f"/api/product?{q(id='nope')}", status=404)
    assert missing["sqlite"] == missing["elasticsearch"]


def test_watches_add_check_and_remove_alike_on_both(servers, embedder):
    running, specs = servers
    body = {"query": "portable blender", "name": "blenders", "by": "video", "top": 1, "now": NOW_Q}
    added = both(servers, "/api/watches", method="POST", body=body, token=TOKEN, status=201)
    assert shape(added["sqlite"]) == shape(added["elasticsearch"])
    assert added["sqlite"]["watch"] == added["elasticsearch"]["watch"]
    listed = both(servers, "/api/watches")
    assert listed["sqlite"] == listed["elasticsearch"] and [w["name"] for w in listed["sqlite"]] == [
        "blenders"
    ]
    refused = both(servers, "/api/watches", method="POST", body=body, token=TOKEN, status=400)
    assert refused["sqlite"] == refused["elasticsearch"] and "exists" in refused["sqlite"]["error"]
    # a crawl brings a blender video whose views soar into both stores: it breaks out of both watches
    for spec in specs.values():  # (the fixture's environment names the Elasticsearch store's prefix)
        fill_store(spec.open(), embedder, breakout_documents())
    checked = both(servers, f"/api/watches/check?{q(now=NOW_Q)}", method="POST", token=TOKEN)
    lite, elastic = checked["sqlite"], checked["elasticsearch"]
    assert shape({**lite, "timings": {}}) == shape({**elastic, "timings": {}})
    assert [a["message"] for a in lite["alerts"]] == [a["message"] for a in elastic["alerts"]]
    (alert,) = lite["alerts"]
    assert "Portable blender smoothie hack broke out at #1" in alert["message"]
    alerts = both(servers, "/api/alerts")
    assert shape(alerts["sqlite"]) == shape(alerts["elasticsearch"]) and len(alerts["sqlite"]) == 1
    assert [w["breakouts"] for w in both(servers, "/api/watches")["elasticsearch"]] == [1]
    removed = both(servers, "/api/watches/blenders", method="DELETE", token=TOKEN)
    assert removed["sqlite"] == removed["elasticsearch"]
    gone = both(servers, "/api/watches/blenders", method="DELETE", token=TOKEN, status=404)
    assert gone["sqlite"] == gone["elasticsearch"]
