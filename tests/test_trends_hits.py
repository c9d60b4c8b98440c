"""Search hits carry their trend components (issue 13 item 5): `search --json` hits gain a `trend`."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from crawler.times import iso_utc, utc_now
from indexer.sqlite_store import SqliteStore
from indexer.stores import StoreSpec
from indexer.workflows.queries import search_store
from search_cli import ExitCode, app


@pytest.fixture
def store_path(tmp_path, monkeypatch):
    for name in ("TRENDCART_STORE", "TRENDCART_MODEL"):
        monkeypatch.delenv(name, raising=False)
    now = utc_now()
    path = tmp_path / "hits.db"
    store = SqliteStore(path)
    ref = {"id": "tiktok:product:555", "title": "Portable blender cup"}
    for hours, views in ((2, 100), (0, 1_100)):
        at = iso_utc(now - timedelta(hours=hours))
        store.upsert(
            [
                {"id": "tiktok:video:rising", "kind": "video", "platform": "tiktok", "url": None,
                 "title": "portable blender review", "creator": {"id": "tiktok:creator:lily", "name": "Lily"},
                 "metrics": {"views": views}, "products": [ref], "observed_at": at},
                {"id": "tiktok:product:555", "kind": "product", "platform": "tiktok", "url": None,
                 "title": "Portable blender cup", "price": 12.99, "currency": "USD",
                 "metrics": {"sales": None}, "observed_at": at, "featured_in": []},
            ]
        )  # fmt: skip
    store.upsert(  # seen once, long ago, no publication time: no trend
        [{"id": "tiktok:video:old", "kind": "video", "platform": "tiktok", "url": None,
          "title": "blender from last year", "metrics": {"views": 5}, "observed_at": iso_utc(now - timedelta(days=300))}]
    )  # fmt: skip
    store.close()
    return path


def test_search_hits_carry_their_trend(store_path):
    hits = {h.id: h for h in search_store(StoreSpec.parse(str(store_path)), "blender", "keyword", limit=10)}
    video = hits["tiktok:video:rising"].doc["trend"]
    assert video["window"] == "24h" and video["metric"] == "views" and video["id"] == "tiktok:video:rising"
    assert video["components"]["velocity"] == pytest.approx(500, rel=1e-3)
    assert video["components"]["basis"] == "snapshots" and video["score"] > 0
    product = hits["tiktok:product:555"].doc["trend"]  # by the videos that link it
    assert (
        product["components"]["velocity"] == pytest.approx(500, rel=1e-3)
        and product["components"]["items"] == 1
    )
    assert "trend" not in hits["tiktok:video:old"].doc
    plain = search_store(StoreSpec.parse(str(store_path)), "blender", "keyword", limit=10, trend_window=None)
    assert all("trend" not in h.doc for h in plain)


def test_search_json_shows_the_trend(store_path):
    result = CliRunner().invoke(
        app, ["--store", str(store_path), "search", "blender", "--mode", "keyword", "--json"]
    )
    assert result.exit_code == ExitCode.OK, result.output
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert rows["tiktok:video:rising"]["trend"]["components"]["velocity"] == pytest.approx(500, rel=1e-3)
    assert "trend" not in rows["tiktok:video:old"]
