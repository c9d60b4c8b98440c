"""Live rooms on Elasticsearch: live show, trending --by live and the watch's indexing, as on SQLite."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from crawler.times import utc_now
from indexer.elastic import ElasticConfig, ElasticStore
from indexer.lives import live_detail
from indexer.trends import TrendEngine
from indexer.workflows.live import Watch, live_show_lines
from tests.test_live import (
    LIVE_ID,
    SERIES,
    STEP,
    T0,
    FakeClock,
    check_sales_live,
    douyin_room,
    fill_sales_live,
    live_doc,
    room_page,
)

pytestmark = pytest.mark.elasticsearch


@pytest.fixture
def elastic(es_url, tmp_path):
    config = ElasticConfig.from_env(
        es_url, environ={}, index_prefix=f"tcl-{uuid.uuid4().hex[:12]}", outbox_dir=tmp_path / "outbox"
    )
    store = ElasticStore(config)
    yield store
    try:
        store.destroy()
    finally:
        store.close()


def test_live_show_and_trending_by_live_on_elasticsearch(elastic):
    for i, viewers in enumerate(SERIES):
        elastic.upsert([live_doc(T0 + i * STEP, viewers, views=10_000 * (i + 1), likes=500 * (i + 1))])
    detail = live_detail(elastic, LIVE_ID)
    assert [s["viewers"] for s in detail["samples"]] == list(SERIES)
    assert detail["stats"]["peak_viewers"] == 26_000 and detail["stats"]["viewer_minutes"] == 705_000
    assert "705,000 viewer-minutes" in "\n".join(live_show_lines(detail))
    now = T0 + 5 * STEP
    (live,) = TrendEngine(elastic, now=now).trending(by="live", window="1h", metric="viewers").results
    assert live.components["basis"] == "gauge" and live.components["velocity"] is None
    assert live.score == pytest.approx(5.8482, abs=1e-4)
    counter = TrendEngine(elastic, now=now).trending(by="live", window="1h", metric="views").results[0]
    assert counter.components["velocity"] == pytest.approx(60_000)
    assert counter.components["peak_viewers"] == 26_000


def test_sales_during_a_live_on_elasticsearch(elastic):
    fill_sales_live(elastic)
    check_sales_live(elastic)


def test_watch_indexes_into_elasticsearch(http_server, elastic):
    base = "/live-watch-es"
    curve = [3_000, 26_000, 9_000]
    shop = http_server.url(f"{base}/shop")

    def serve(tick: int) -> None:
        ended = tick >= len(curve)
        http_server.add(
            f"{base}/good",
            douyin_room(curve[min(tick, len(curve) - 1)], ended),
            content_type="application/json",
        )
        products = ("a", "b") if tick < 1 else ("b", "c")
        http_server.add(
            f"{base}/shop", room_page(shop, 10 * (tick + 1), "live", 59.9 if tick < 2 else 49.9, products)
        )

    serve(0)
    clock = FakeClock(utc_now() - timedelta(hours=1), on_sleep=serve)
    report = Watch(elastic, [http_server.url(f"{base}/good"), shop], 30, samples=4, clock=clock).run()
    rooms = {r.source.rsplit("/", 1)[-1]: r for r in report.rooms}
    assert rooms["good"].end_reason == "ended" and rooms["shop"].samples == 4
    detail = live_detail(elastic, rooms["good"].live_id)
    assert [s["viewers"] for s in detail["samples"]] == [*curve, None]
    assert detail["stats"]["peak_viewers"] == 26_000 and detail["status"] == "ended"
    shop_detail = live_detail(elastic, rooms["shop"].live_id)
    products = {p["title"]: p for p in shop_detail["products"]}
    assert set(products) == {"Product a", "Product b", "Product c"}
    assert products["Product a"]["samples_listed"] == 1 and products["Product b"]["samples_listed"] == 4
    assert products["Product b"]["price_changes"] == [
        {"at": shop_detail["samples"][2]["at"], "from": 59.9, "to": 49.9}
    ]
