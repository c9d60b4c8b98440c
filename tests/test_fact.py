"""FACT on the worked example of docs/PRODUCTS.md: field, alliance and top_kol shares of a product's gain,
the campaign share (a Black Friday window and a tag), and the breakdown in `product show --json`."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from typer.testing import CliRunner

from indexer.campaigns import CampaignFileError, load_campaigns
from indexer.cli import common as cli_common
from indexer.fact import breakdown, classify, contributions, own_accounts
from indexer.sqlite_store import SqliteStore
from search_cli import ExitCode, app

T = ("2026-11-25T00:00:00Z", "2026-11-26T12:00:00Z", "2026-11-27T12:00:00Z")  # the last inside Black Friday
NOW = "2026-11-28T00:00:00Z"
BLENDER_ZH = {"id": "douyin:product:777", "title": "家美 便携榨汁杯 380ml", "price": 89.0, "currency": "CNY",
              "shop": "Hommly", "url": None}  # fmt: skip
BLENDER_EN = {"id": "tiktok:product:555", "title": "Hommly Portable Blender Cup 380ml", "price": 12.99,
              "currency": "USD", "shop": "Hommly", "url": None}  # fmt: skip
# content id, kind, creator, followers, hashtags, linked product, views at T0, T1, T2
CONTENT = [
    ("douyin:live:self", "live", "Hommly", 30_000, [], BLENDER_ZH, (1_000, 21_000, 31_000)),
    ("tiktok:video:kol", "video", "BigStar", 2_000_000, [], BLENDER_EN, (0, 15_000, 25_000)),
    ("douyin:video:a1", "video", "小美", 50_000, [], BLENDER_ZH, (100, 3_100, 5_100)),
    ("youtube:video:a2", "video", "Tom", 8_000, ["blackfriday"], BLENDER_EN, (500, 2_500, 3_000)),
]


def fill(store):
    for i, at in enumerate(T):
        docs = []
        for cid, kind, name, followers, tags, product, views in CONTENT:
            docs.append(
                {
                    "id": cid,
                    "kind": kind,
                    "platform": cid.split(":")[0],
                    "url": None,
                    "title": f"{name} blender",
                    "creator": {"id": name.lower(), "name": name, "followers": followers},
                    "hashtags": tags,
                    "metrics": {"views": views[i]},
                    "products": [product],
                    "observed_at": at,
                }  # fmt: skip
            )
        for product in (BLENDER_ZH, BLENDER_EN):
            docs.append({**product, "kind": "product", "platform": product["id"].split(":")[0],
                         "metrics": {"sales": None}, "observed_at": at, "featured_in": []})  # fmt: skip
        store.upsert(docs)


def _utc(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def test_the_worked_example(tmp_path):
    store = SqliteStore(tmp_path / "fact.db")
    fill(store)
    docs = {d["id"]: d for d in store.iter_documents() if d["kind"] in ("video", "live")}
    found = contributions(
        store, list(docs.values()), "views", _utc("2026-11-21T00:00:00Z"), _utc(NOW), load_campaigns()
    )
    fact = breakdown(found, docs, own_accounts([BLENDER_ZH, BLENDER_EN])).to_json()
    store.close()
    assert fact["total"] == 62_500
    assert (fact["field"]["gain"], fact["field"]["share"]) == (30_000, 0.48)
    assert (fact["top_kol"]["gain"], fact["top_kol"]["share"]) == (25_000, 0.4)
    assert (fact["alliance"]["gain"], fact["alliance"]["share"]) == (7_500, 0.12)
    assert [c["creator"] for c in fact["alliance"]["contributors"]] == ["小美", "Tom"]
    assert fact["campaign"] == {
        "gain": 24_500, "share": 0.392, "campaigns": ["Black Friday"], "rule": fact["campaign"]["rule"],
    }  # fmt: skip
    assert "1,000,000" in fact["top_kol"]["rule"]


def test_classify_rules():
    own = own_accounts([{"shop": "Hommly 官方旗舰店"}], ["@brand_live"])
    assert classify({"name": "Hommly官方旗舰店"}, own) == "field"
    assert classify({"handle": "@brand_live"}, own) == "field"
    assert classify({"name": "x", "followers": 1_000_000}, own) == "top_kol"
    assert classify({"name": "x", "followers": 999_999}, own) == "alliance"
    assert classify({"name": "x", "followers": 5_000}, own, threshold=1_000) == "top_kol"


def test_campaign_file_extends_the_calendar(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        '[[campaign]]\nname = "Brand day"\nstart = 2026-03-01\nend = 2026-03-03\ntags = ["brandday"]\n'
    )
    names = [c.name for c in load_campaigns(path)]
    assert "Brand day" in names and "618" in names and "双11" in names
    path.write_text('[[campaign]]\nname = "x"\n')
    with pytest.raises(CampaignFileError, match="campaign #1"):
        load_campaigns(path)


@pytest.mark.model
def test_product_show_has_the_fact_block(tmp_path, monkeypatch, embedder):
    for name in ("TRENDCART_STORE", "TRENDCART_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cli_common, "get_embedder", lambda: embedder)
    store = SqliteStore(tmp_path / "fact.db")
    fill(store)
    store.close()
    args = ["--store", str(tmp_path / "fact.db"), "product", "show", "tiktok:product:555", "--now", NOW]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == ExitCode.OK, result.output
    data = json.loads(result.stdout)
    assert data["members"][0]["id"] == "douyin:product:777" and len(data["members"]) == 2  # one product
    assert data["fact"]["field"]["share"] == 0.48 and data["fact"]["campaign"]["share"] == 0.392
    assert data["links"][0] == {**data["links"][0], "id": "douyin:live:self", "gain": 30_000, "share": 0.48}
    table = CliRunner().invoke(app, [*args, "--top-kol-followers", "10000"])
    assert table.exit_code == 0 and "top_kol" in table.stdout and "BigStar" in table.stdout
    bad = CliRunner().invoke(app, [*args, "--campaigns", str(tmp_path / "missing.toml")])
    assert bad.exit_code == ExitCode.INPUT
    trend = [args[0], args[1], "trending", "--window", "7d", "--now", NOW, "--json"]
    ranked = CliRunner().invoke(app, [*trend, "--listings"])  # one row per listing, naming its group
    rows = {r["id"]: r for r in json.loads(ranked.stdout)["results"]}  # the product file names the group
    assert rows["tiktok:product:555"]["canonical"]["members"] == ["douyin:product:777", "tiktok:product:555"]
    assert rows["douyin:product:777"]["canonical"]["id"] == data["id"]
    # by default one row per canonical product: both listings' content, the FACT of the whole product
    ranked = CliRunner().invoke(app, trend)
    assert ranked.exit_code == ExitCode.OK, ranked.output
    (row,) = json.loads(ranked.stdout)["results"]
    assert row["id"] == data["id"] and row["canonical"]["members"] == [
        "douyin:product:777",
        "tiktok:product:555",
    ]
    assert row["components"]["items"] == 4 and row["components"]["velocity"] == pytest.approx(
        sum(r["components"]["velocity"] for r in rows.values()), rel=1e-3
    )
    assert row["fact"]["total"] == 62_500 and row["fact"]["field"]["share"] == 0.48  # as product show
    assert row["fact"]["field"]["contributors"][0] == {"creator": "Hommly", "gain": 30_000, "via": "link"}


def test_trending_by_product_has_fact_and_query_narrows(tmp_path, monkeypatch):
    for name in ("TRENDCART_STORE", "TRENDCART_MODEL"):
        monkeypatch.delenv(name, raising=False)
    store = SqliteStore(tmp_path / "fact.db")
    fill(store)
    store.upsert(
        [
            {
                "id": "kuaishou:video:other",
                "kind": "video",
                "platform": "kuaishou",
                "url": None,
                "title": "口红试色 lipstick",
                "creator": {"id": "z", "name": "Zoe"},
                "metrics": {"views": v},
                "products": [{"id": "kuaishou:product:lip", "title": "哑光口红"}],
                "observed_at": at,
            }  # fmt: skip
            for at, v in zip(T, (0, 100, 200), strict=True)
        ]
    )
    store.close()
    args = [
        "--store",
        str(tmp_path / "fact.db"),
        "trending",
        "--by",
        "product",
        "--window",
        "7d",
        "--now",
        NOW,
    ]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == ExitCode.OK, result.output
    rows = {r["id"]: r for r in json.loads(result.stdout)["results"]}
    zh = rows["douyin:product:777"]["fact"]
    assert zh["total"] == 35_000 and zh["field"]["gain"] == 30_000 and zh["alliance"]["gain"] == 5_000
    assert rows["tiktok:product:555"]["fact"]["top_kol"]["share"] == 0.9091  # 25,000 of 27,500
    narrowed = CliRunner().invoke(app, [*args, "--query", "blender", "--json"])
    assert narrowed.exit_code == ExitCode.OK, narrowed.output
    kept = json.loads(narrowed.stdout)["results"]
    assert {r["id"] for r in kept} == {"douyin:product:777", "tiktok:product:555"}
    assert [r["rank"] for r in kept] == [1, 2] and kept[0]["query"]["hits"]
    nothing = CliRunner().invoke(app, [*args, "--query", "zzzqqq"])
    assert nothing.exit_code == ExitCode.NOTHING


def test_reports_show_the_fact_split(tmp_path):
    from indexer.reports import write_report

    store = SqliteStore(tmp_path / "fact.db")
    fill(store)
    for name in ("r.md", "r.html"):
        write_report(store, tmp_path / name, now=_utc(NOW), window="7d")
    store.close()
    md = (tmp_path / "r.md").read_text("utf-8")
    assert "## FACT: who drives each product" in md
    # 30,000 field + 5,000 alliance; 12,000 in Black Friday
    assert "| 35,000 | 85.7% | 14.3% | 0.0% | 34.3% |" in md
    html = (tmp_path / "r.html").read_text("utf-8")
    assert 'alt="FACT: shares of each product' in html


def test_trending_by_creator_names_the_products_behind_the_gain(tmp_path, monkeypatch):
    for name in ("TRENDCART_STORE", "TRENDCART_MODEL"):
        monkeypatch.delenv(name, raising=False)
    store = SqliteStore(tmp_path / "fact.db")
    fill(store)
    store.close()
    args = [
        "--store",
        str(tmp_path / "fact.db"),
        "trending",
        "--by",
        "creator",
        "--window",
        "7d",
        "--now",
        NOW,
    ]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == ExitCode.OK, result.output
    rows = {r["id"]: r for r in json.loads(result.stdout)["results"]}
    assert rows["tiktok:bigstar"]["title"] == "BigStar"
    assert rows["tiktok:bigstar"]["products"] == [
        {"id": "tiktok:product:555", "title": "Hommly Portable Blender Cup 380ml", "gain": 25_000}
    ]


def test_trending_has_a_second_fact_block_for_sales_where_public(tmp_path, monkeypatch):
    for name in ("TRENDCART_STORE", "TRENDCART_MODEL"):
        monkeypatch.delenv(name, raising=False)
    store = SqliteStore(tmp_path / "fact.db")
    fill(store)
    live = next(c for c in CONTENT if c[0] == "douyin:live:self")
    kol = next(c for c in CONTENT if c[0] == "tiktok:video:kol")
    for at, live_sales, kol_sales in zip(T, (10, 60, 110), (0, 20, 25), strict=True):  # counts they publish
        for (cid, kind, name, followers, tags, product, views), sales in (
            (live, live_sales),
            (kol, kol_sales),
        ):
            store.upsert(
                [{"id": cid, "kind": kind, "platform": cid.split(":")[0], "url": None, "title": f"{name} blender",
                  "creator": {"id": name.lower(), "name": name, "followers": followers}, "hashtags": tags,
                  "metrics": {"views": views[T.index(at)], "sales": sales}, "products": [product], "observed_at": at}]
            )  # fmt: skip
    store.close()
    args = ["--store", str(tmp_path / "fact.db"), "trending", "--window", "7d", "--now", NOW, "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == ExitCode.OK, result.output
    rows = {r["id"]: r for r in json.loads(result.stdout)["results"]}
    zh, en = rows["douyin:product:777"], rows["tiktok:product:555"]
    assert zh["fact"]["metric"] == "views" and zh["fact"]["total"] == 35_000  # exposure, unchanged
    assert zh["fact_sales"]["metric"] == "sales" and zh["fact_sales"]["total"] == 100
    assert zh["fact_sales"]["field"]["share"] == 1.0  # the shop's own live sold them
    assert en["fact_sales"]["total"] == 25 and en["fact_sales"]["top_kol"]["share"] == 1.0
