"""The trend engine gives the same rankings and components on Elasticsearch as on SQLite (same scenario)."""

from __future__ import annotations

import uuid

import pytest

from indexer.elastic import ElasticConfig, ElasticStore
from indexer.sqlite_store import SqliteStore
from indexer.trends import TrendEngine
from tests.test_trends import NOW, fill_scenario

pytestmark = pytest.mark.elasticsearch


@pytest.fixture
def stores(es_url, tmp_path):
    config = ElasticConfig.from_env(
        es_url, environ={}, index_prefix=f"tct-{uuid.uuid4().hex[:12]}", outbox_dir=tmp_path / "outbox"
    )
    elastic = fill_scenario(ElasticStore(config))
    sqlite = fill_scenario(SqliteStore(tmp_path / "trends.db"))
    yield sqlite, elastic
    sqlite.close()
    try:
        elastic.destroy()
    finally:
        elastic.close()


@pytest.mark.parametrize("by", ["video", "live", "product", "creator", "hashtag"])
@pytest.mark.parametrize("metric", ["views", "likes"])
def test_elastic_trends_match_sqlite(stores, by, metric):
    sqlite, elastic = stores
    expected = TrendEngine(sqlite, now=lambda: NOW).trending(by=by, window="24h", metric=metric).to_json()
    got = TrendEngine(elastic, now=lambda: NOW).trending(by=by, window="24h", metric=metric).to_json()
    assert [r["id"] for r in got["results"]] == [r["id"] for r in expected["results"]]
    assert got == expected
    if by in ("video", "product") and metric == "views":
        assert expected["results"], "the scenario must rank something, or this test proves nothing"
