"""IndexPipeline: off unless configured, batches through the ingest path, flushes on close, counts stats."""

from __future__ import annotations

import pytest
from scrapy import Spider
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.items import from_json
from crawler.pipelines import IndexPipeline
from indexer.sqlite_store import SqliteStore
from tests.store_contract import make_doc


class _Spider(Spider):
    name = "index-test"


def make_pipeline(settings):
    crawler = get_crawler(_Spider, settings)
    return IndexPipeline.from_crawler(crawler), crawler


def test_off_unless_a_store_is_configured():
    with pytest.raises(NotConfigured):
        make_pipeline({})
    with pytest.raises(NotConfigured):
        make_pipeline({"TRENDCART_INDEX_STORE": ""})


@pytest.mark.model
def test_items_are_indexed_in_batches_and_flushed_on_close(tmp_path, embedder, monkeypatch):
    monkeypatch.delenv("TRENDCART_MODEL", raising=False)
    db = tmp_path / "crawl.db"
    pipeline, crawler = make_pipeline({"TRENDCART_INDEX_STORE": str(db), "TRENDCART_INDEX_BATCH": 3})
    pipeline.open_spider()
    items = [from_json(make_doc(f"v{i}", title=f"口红 {i}", views=i)) for i in range(7)]
    for item in items:
        assert pipeline.process_item(item) is item
    bad = {"id": "nope", "kind": "video"}
    assert pipeline.process_item(bad) is bad  # the item still goes on to the feed export
    assert crawler.stats.get_value("trendcart/indexed") == 6  # two full batches so far
    pipeline.close_spider()
    assert crawler.stats.get_value("trendcart/indexed") == 7
    assert crawler.stats.get_value("trendcart/index_error/invalid") == 1
    store = SqliteStore(db)
    assert store.count() == 7
    assert [h.id for h in store.search("口红 3", mode="keyword", limit=1)] == ["douyin:video:v3"]
    assert store.model_info() == (embedder.model_name, embedder.dim)
    store.close()


def test_a_store_that_refuses_stops_indexing_but_not_the_crawl(tmp_path):
    db = tmp_path / "other-model.db"
    store = SqliteStore(db)
    store.set_model("some/other-model", 8)
    store.close()
    pipeline, crawler = make_pipeline({"TRENDCART_INDEX_STORE": str(db), "TRENDCART_MODEL": "x/y"})
    pipeline.open_spider()
    item = from_json(make_doc("a"))
    assert pipeline.process_item(item) is item
    pipeline.close_spider()
    assert crawler.stats.get_value("trendcart/index_error/model_mismatch") == 1
    assert crawler.stats.get_value("trendcart/indexed") is None
