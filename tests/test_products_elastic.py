"""Product commands on Elasticsearch: grouping, overrides and canonical trending per store, each server
store with a product file of its own (keyed by its URL and index prefix), never a shared one."""

from __future__ import annotations

import json
import uuid

import pytest
from typer.testing import CliRunner

from indexer.cli import common as cli_common
from indexer.elastic import ElasticConfig, ElasticStore
from indexer.stores import StoreSpec
from indexer.workflows.products import book_path
from search_cli import ExitCode, app
from tests.test_products import fill_products

pytestmark = [pytest.mark.elasticsearch, pytest.mark.model]


def test_product_commands_keep_groups_and_overrides_per_store(es_url, tmp_path, monkeypatch, embedder):
    for name in ("TRENDCART_STORE", "TRENDCART_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cli_common, "get_embedder", lambda: embedder)
    monkeypatch.chdir(tmp_path)  # ./trendcart-data/ of the server stores' product files
    prefixes = [f"tcp-{uuid.uuid4().hex[:10]}", f"tcp-{uuid.uuid4().hex[:10]}"]
    stores = []
    for prefix in prefixes:
        config = ElasticConfig.from_env(
            es_url, environ={}, index_prefix=prefix, outbox_dir=tmp_path / "outbox"
        )
        stores.append(ElasticStore(config))
        fill_products(ElasticStore(config))
    runner = CliRunner()

    def cli(prefix, *args):
        monkeypatch.setenv("TRENDCART_ES_INDEX_PREFIX", prefix)
        return runner.invoke(app, ["--store", es_url, *[str(a) for a in args]])

    try:
        first, second = prefixes
        listed = cli(first, "product", "list", "--json")
        assert listed.exit_code == ExitCode.OK, listed.output
        blender = json.loads(listed.stdout)[0]
        assert blender["members"] == ["douyin:product:777", "tiktok:product:555", "youtube:product:shelf-1"]
        split = cli(first, "product", "split", "youtube:product:shelf-1")
        assert split.exit_code == ExitCode.OK, split.output
        # the override stays with the first store: the second still groups all three
        groups = {tuple(p["members"]) for p in json.loads(cli(first, "product", "list", "--json").stdout)}
        assert ("youtube:product:shelf-1",) in groups
        other = json.loads(cli(second, "product", "list", "--json").stdout)
        assert other[0]["members"] == blender["members"]
        files = {book_path(StoreSpec.parse(es_url), {"TRENDCART_ES_INDEX_PREFIX": p}) for p in prefixes}
        assert len(files) == 2 and all(f.is_file() for f in files)
        assert all(f.parent.name == "trendcart-data" and f.name.startswith("products-") for f in files)
        shown = cli(first, "product", "show", "tiktok:product:555", "--json", "--window", "2d",
                    "--now", "2026-11-25T06:00:00Z")  # fmt: skip
        assert shown.exit_code == ExitCode.OK, shown.output
        assert [s["sales"] for s in json.loads(shown.stdout)["sales"]] == [500, 550, 770]
        # trending by canonical product on the server store: one row for the two listings of the blender
        ranked = cli(first, "trending", "--metric", "sales", "--window", "2d", "--now", "2026-11-25T06:00:00Z",
                     "--json")  # fmt: skip
        assert ranked.exit_code == ExitCode.OK, ranked.output
        rows = {r["id"]: r for r in json.loads(ranked.stdout)["results"]}
        assert rows[blender["id"]]["canonical"]["members"] == ["douyin:product:777", "tiktok:product:555"]
        assert rows[blender["id"]]["sales"] == 770 and "tiktok:product:555" not in rows
    finally:
        for store in stores:
            try:
                store.destroy()
            finally:
                store.close()
