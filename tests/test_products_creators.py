"""`creator show`: tier by followers, follower growth, the products a creator pushes, videos and lives."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from indexer.sqlite_store import SqliteStore
from indexer.workflows.creators import tier_of
from search_cli import ExitCode, app


def _doc(cid, kind, at, followers, views, products):
    return {
        "id": cid, "kind": kind, "platform": cid.split(":")[0], "url": None, "title": f"{kind} {cid}",
        "creator": {"id": "u1", "name": "Lily", "handle": "@lily", "followers": followers},
        "metrics": {"views": views}, "products": products, "observed_at": at,
    }  # fmt: skip


def test_tiers():
    assert [tier_of(n) for n in (None, 5, 10_000, 100_000, 999_999, 1_000_000)] == [
        None, "nano", "micro", "mid", "mid", "top",
    ]  # fmt: skip


def test_creator_show(tmp_path, monkeypatch):
    for name in ("TRENDCART_STORE", "TRENDCART_MODEL"):
        monkeypatch.delenv(name, raising=False)
    store = SqliteStore(tmp_path / "c.db")
    blender = {"id": "tiktok:product:555", "title": "Portable Blender"}
    store.upsert([_doc("tiktok:video:a", "video", "2026-11-24T00:00:00Z", 90_000, 100, [blender])])
    store.upsert([_doc("tiktok:video:b", "video", "2026-11-25T00:00:00Z", 120_000, 5_000, [blender])])
    store.upsert([_doc("douyin:live:l", "live", "2026-11-25T06:00:00Z", 125_000, 800, [])])
    store.close()
    runner = CliRunner()
    result = runner.invoke(app, ["--store", str(tmp_path / "c.db"), "creator", "show", "@LILY", "--json"])
    assert result.exit_code == ExitCode.OK, result.output
    data = json.loads(result.stdout)
    assert data["name"] == "Lily" and data["tier"] == "mid" and data["platforms"] == ["douyin", "tiktok"]
    assert data["followers"]["latest"] == 125_000 and data["followers"]["growth"] == 35_000
    assert [v["id"] for v in data["videos"]] == ["tiktok:video:b", "tiktok:video:a"] and len(
        data["lives"]
    ) == 1
    assert data["products"] == [
        {
            "id": "tiktok:product:555",
            "title": "Portable Blender",
            "content": ["tiktok:video:a", "tiktok:video:b"],
        }
    ]
    table = runner.invoke(app, ["--store", str(tmp_path / "c.db"), "creator", "show", "u1"])
    assert table.exit_code == 0 and "tier mid" in table.stdout and "+35,000" in table.stdout
    missing = runner.invoke(app, ["--store", str(tmp_path / "c.db"), "creator", "show", "nobody"])
    assert missing.exit_code == ExitCode.NOTHING
