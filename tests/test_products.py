"""Canonical products: the matcher's rules, grouping (incremental, overrides), the labelled set's targets,
sales that never run backwards, ECB conversion, and `product list|show|merge|split` through the CLI."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from indexer.cli import common as cli_common
from indexer.currency import CurrencyError, convert
from indexer.product_match import Offer, conflicts, features, match
from indexer.products import group_offers
from indexer.sqlite_store import SqliteStore
from search_cli import ExitCode, app

ROOT = Path(__file__).resolve().parents[1]
SET = ROOT / "tests" / "fixtures" / "products"
T0, T1, T2 = "2026-11-24T00:00:00Z", "2026-11-24T12:00:00Z", "2026-11-25T00:00:00Z"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_matching", ROOT / "bench" / "bench_matching.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- features and rules (no model) ----------------------------------------------------------------
def test_features_read_sizes_colours_years_packs_and_models():
    f = features("【爆款】戴森 V12 无绳吸尘器 2024款 黑色 0.5L 3支装")
    assert f.models == {"v12"} and f.colours == {"black"} and f.years == {"2024"} and f.packs == {"3"}
    assert ("volume", 500.0) in f.sizes
    assert features("扫地机器人Pro").variants == {"pro"}  # a Latin word touching Chinese is still a word


@pytest.mark.parametrize(
    "a,b,why",
    [
        ("Portable Blender 380ml", "Portable Blender 500ml", "size (volume)"),
        ("耐克空军一号 白色", "耐克空军一号 黑色", "colour"),
        ("Dyson V12 2023", "Dyson V12 2024款", "year"),
        ("Roborock S8", "Roborock S8 Pro", "edition"),
        ("Sony WH-1000XM5", "Sony WH-1000XM4", "model number"),
    ],
)
def test_near_misses_conflict(a, b, why):
    assert why in conflicts(features(a), features(b))


def test_same_url_and_shared_model_number_are_evidence():
    a = Offer("tiktok:product:555", "Hommly Portable Blender X2", "tiktok", 12.99, "USD", url="https://s/x")
    b = Offer("douyin:product:777", "家美 便携榨汁杯 X2", "douyin", 89.0, "CNY", url="https://s/x")
    assert match(a, b, 0.1).evidence["rule"] == "same url"
    c = Offer("douyin:product:777", "家美 便携榨汁杯 X2", "douyin", 89.0, "CNY")
    verdict = match(a, c, 0.3)
    assert verdict.same and verdict.evidence["model_numbers"] == ["x2"]
    far = Offer("web:product:1", "Hommly Portable Blender X2", "web", 99.0, "USD")
    assert not match(a, far, 0.9).same and "price" in match(a, far, 0.9).evidence["conflicts"]


def test_grouping_is_incremental_and_keeps_overrides():
    offers = [
        Offer("a:1", "Blender X2 380ml"),
        Offer("b:2", "Blender X2 380ml"),
        Offer("c:3", "Blender X2 500ml"),
        Offer("d:4", "Lamp 1S"),
    ]
    vectors = np.eye(4, dtype=np.float32)
    vectors[1] = vectors[2] = vectors[0]
    first = group_offers(offers, vectors, range(4), {})
    assert first["a:1"][0] == first["b:2"][0] != first["c:3"][0]  # 500ml conflicts
    assert len({g for g, _, _ in first.values()}) == 3
    existing = {o: g for o, (g, _, _) in first.items()}
    again = group_offers(offers, vectors, [], existing)  # nothing new: nothing moves
    assert {o: g for o, (g, _, _) in again.items()} == existing
    merged = group_offers(offers, vectors, [], existing, [("merge", "a:1", "d:4")])
    assert merged["d:4"][0] == merged["a:1"][0] and merged["d:4"][2]["rule"] == "merged by the user"
    split = group_offers(
        offers, vectors, [1], {k: v for k, v in existing.items() if k != "b:2"}, [("split", "b:2", None)]
    )
    assert split["b:2"][0] != split["a:1"][0] and split["b:2"][2]["rule"] == "split by the user"


def test_currency_conversion_is_dated():
    rate = convert(10, "USD", "CNY", "2024-01-06T10:00:00Z")  # a Saturday: Friday's rate
    assert rate.rate_date == "2024-01-05" and 70 < rate.amount < 73
    with pytest.raises(CurrencyError):
        convert(1, "XXX", "CNY")


# -- the labelled set (the real model) ------------------------------------------------------------
@pytest.mark.model
def test_labelled_set_meets_the_targets(embedder):
    pairs = [json.loads(line) for line in (SET / "pairs.jsonl").read_text("utf-8").splitlines()]
    offers = [json.loads(line) for line in (SET / "offers.jsonl").read_text("utf-8").splitlines()]
    assert len(pairs) >= 300 and {o["platform"] for o in offers} >= {
        "tiktok",
        "douyin",
        "youtube",
        "kuaishou",
    }
    assert sum(not p["same"] for p in pairs if p["kind"].startswith("near miss")) >= 100
    result = _bench().evaluate(offers, pairs, embedder)
    assert result["precision"] >= 0.95 and result["recall"] >= 0.8, result


# -- store, book and CLI ---------------------------------------------------------------------------
def _product(pid, title, at, sales, price, currency, platform):
    return {
        "id": pid, "kind": "product", "platform": platform, "url": None, "title": title, "price": price,
        "currency": currency, "shop": None, "metrics": {"sales": sales}, "observed_at": at, "featured_in": [],
    }  # fmt: skip


def _video(vid, at, views, products, creator):
    return {
        "id": vid, "kind": "video", "platform": vid.split(":")[0], "url": None, "title": "review " + vid,
        "creator": {"id": creator, "name": creator}, "metrics": {"views": views}, "products": products,
        "observed_at": at,
    }  # fmt: skip


@pytest.fixture
def product_store(tmp_path):
    path = tmp_path / "products.db"
    fill_products(SqliteStore(path))
    return str(path)


def fill_products(store):
    """Three listings (two of one blender, 380 lagging behind 400), a shelf link, two linking videos;
    closes the store."""
    for at, s1, s2 in ((T0, 400, 100), (T1, 380, 150), (T2, 600, 170)):  # 380: a source that lags behind
        store.upsert(
            [
                _product(
                    "tiktok:product:555", "Hommly Portable Blender Cup 380ml", at, s1, 12.99, "USD", "tiktok"
                ),
                _product(
                    "douyin:product:777", "家美 便携榨汁杯 380ml 官方旗舰店", at, s2, 89.0, "CNY", "douyin"
                ),
                _product("douyin:product:888", "小米 LED 台灯 1S", at, 10, 169.0, "CNY", "douyin"),
            ]
        )
    rated = _product(
        "tiktok:product:555", "Hommly Portable Blender Cup 380ml", T2, 600, 12.99, "USD", "tiktok"
    )
    store.upsert([{**rated, "rating": 4.6, "review_count": 120}])
    link = {"id": "youtube:product:shelf-1", "title": "Hommly Portable Blender Cup 380ml", "price": 13.5,
            "currency": "USD", "url": None, "shop": "Hommly", "rating": 4.0, "review_count": 30}  # fmt: skip
    store.upsert([_video("youtube:video:v1", T2, 5000, [link], "BlendQueen")])
    store.upsert([_video("tiktok:video:t1", T2, 9000, [{"id": "tiktok:product:555", "title": "x"}], "Lily")])
    store.close()


@pytest.fixture
def cli(monkeypatch, embedder):
    for name in ("TRENDCART_STORE", "TRENDCART_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cli_common, "get_embedder", lambda: embedder)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


@pytest.mark.model
def test_product_commands_group_show_merge_split(cli, product_store, tmp_path):
    listed = cli("--store", product_store, "product", "list", "--json")
    assert listed.exit_code == ExitCode.OK, listed.output
    products = json.loads(listed.stdout)
    blender = products[0]
    assert blender["members"] == ["douyin:product:777", "tiktok:product:555", "youtube:product:shelf-1"]
    assert blender["platforms"] == ["douyin", "tiktok", "youtube"] and blender["id"].startswith("cp-")
    assert (tmp_path / "products.db.products.sqlite").is_file()

    shown = cli(
        "--store", product_store, "product", "show", "tiktok:product:555", "--currency", "cny", "--json",
        "--window", "2d", "--now", "2026-11-25T06:00:00Z",
    )  # fmt: skip
    assert shown.exit_code == ExitCode.OK, shown.output
    data = json.loads(shown.stdout)
    assert data["id"] == blender["id"]
    assert {m["id"]: m["source"] for m in data["members"]}["youtube:product:shelf-1"] == "link"
    assert all("rule" in m["evidence"] for m in data["members"])
    assert [link["creator"] for link in data["links"]] == ["Lily", "BlendQueen"]
    # never backwards: 400+100 -> max(400,380)+150 -> 600+170
    assert [s["sales"] for s in data["sales"]] == [500, 550, 770]
    usd = data["prices"]["by_currency"]["USD"]
    assert {k: usd[k] for k in ("min", "max", "listings")} == {"min": 12.99, "max": 13.5, "listings": 2}
    assert data["prices"]["converted"]["currency"] == "CNY" and data["prices"]["converted"]["rate_date"]
    assert (
        data["quality"]["rating"] == 4.48 and data["quality"]["review_count"] == 150
    )  # (4.6x120 + 4x30)/150
    # GMV: 200 more sold at 12.99 USD (400 -> 600, the lagging 380 ignored), 70 more at 89 CNY
    assert data["gmv"]["sales_gained"] == 270
    assert data["gmv"]["by_currency"] == {"USD": 2598.0, "CNY": 6230.0}
    assert data["gmv"]["converted"]["currency"] == "CNY" and data["gmv"]["converted"]["amount"] > 6230.0
    table = cli("--store", product_store, "product", "show", blender["id"])
    assert table.exit_code == 0 and "linked from 2" in table.stdout

    split = cli("--store", product_store, "product", "split", "youtube:product:shelf-1")
    assert split.exit_code == ExitCode.OK, split.output
    after = {
        p["id"]: p["members"]
        for p in json.loads(cli("--store", product_store, "product", "list", "--json").stdout)
    }
    assert ["youtube:product:shelf-1"] in after.values() and after[blender["id"]] == blender["members"][:2]

    merged = cli(
        "--store", product_store, "product", "merge", "youtube:product:shelf-1", "douyin:product:888"
    )
    assert merged.exit_code == ExitCode.OK, merged.output
    assert json.loads(merged.stdout)["members"] == ["douyin:product:888", "youtube:product:shelf-1"]
    # a re-crawl (new observations, a new offer) keeps the overrides
    store = SqliteStore(product_store)
    store.upsert(
        [_product("web:product:9", "Hommly Portable Blender Cup 380ml", T2, None, 12.5, "USD", "web")]
    )
    store.close()
    final = {
        tuple(p["members"])
        for p in json.loads(cli("--store", product_store, "product", "list", "--json").stdout)
    }
    assert ("douyin:product:888", "youtube:product:shelf-1") in final
    assert ("douyin:product:777", "tiktok:product:555", "web:product:9") in final

    missing = cli("--store", product_store, "product", "show", "nope:product:1")
    assert missing.exit_code == ExitCode.STORE and "no canonical product" in missing.output
    bad = cli("--store", product_store, "product", "show", blender["id"], "--currency", "XYZ")
    assert bad.exit_code == ExitCode.USAGE


def test_trending_sales_has_titles_and_sales_from_documents_and_links(tmp_path):
    from crawler.items import Snapshot
    from indexer.trends import TrendEngine

    store = SqliteStore(tmp_path / "sales.db")
    for at, sales in ((T0, 300), (T1, 350), (T2, 400)):
        store.upsert(
            [_product("tiktok:product:555", "Hommly Portable Blender Cup", at, sales, 12.99, "USD", "tiktok")]
        )
    store.add_snapshots([Snapshot("douyin:product:777", at, {"sales": s}) for at, s in ((T0, 10), (T2, 90))])
    link = {
        "id": "douyin:product:777",
        "title": "家美 便携榨汁杯",
        "price": 89.0,
        "currency": "CNY",
        "shop": "家美",
    }
    store.upsert([_video("douyin:video:d1", T2, 100, [link], "小美")])
    report = TrendEngine(store, now=T2).trending("product", "2d", "sales")
    store.close()
    rows = {r["id"]: r for r in report.to_json()["results"]}
    assert rows["tiktok:product:555"]["title"] == "Hommly Portable Blender Cup"
    assert rows["tiktok:product:555"]["sales"] == 400
    assert (
        rows["douyin:product:777"]["title"] == "家美 便携榨汁杯"
        and rows["douyin:product:777"]["shop"] == "家美"
    )
    assert rows["douyin:product:777"]["sales"] == 90 and rows["douyin:product:777"]["price"] == 89.0


@pytest.mark.model
def test_price_history_keeps_every_change(tmp_path, embedder):
    from indexer.products import ProductBook, offers_in_store
    from indexer.workflows.products import _prices

    store = SqliteStore(tmp_path / "p.db")
    book = ProductBook(tmp_path / "p.db.products.sqlite")
    for at, price in ((T0, 39.99), (T1, 29.99), ("2026-11-24T18:00:00Z", 29.99), (T2, 19.99)):
        store.upsert(
            [_product("tiktok:product:1", "Hommly Portable Blender", at, None, price, "USD", "tiktok")]
        )
        book.add_offers(offers_in_store(store), embedder.embed_documents)
    book.regroup()
    product = book.product("tiktok:product:1")
    usd = _prices(product, None, book.price_history(["tiktok:product:1"]))["by_currency"]["USD"]
    book.close()
    store.close()
    assert [h["price"] for h in usd["history"]] == [
        39.99,
        29.99,
        19.99,
    ]  # the repeat of 29.99 is not a change
    assert (usd["current"], usd["lowest_seen"], usd["highest_seen"]) == (19.99, 19.99, 39.99)


@pytest.mark.model
def test_mentions_are_shown_apart_from_links(cli, tmp_path, embedder):
    from indexer.ingest import ingest_jsonl

    docs = [
        _product("douyin:product:777", "便携榨汁杯 Portable Blender Cup", T2, 100, 89.0, "CNY", "douyin"),
        _video("douyin:video:link", T2, 100, [{"id": "douyin:product:777", "title": "便携榨汁杯"}], "小美"),
        {
            **_video("youtube:video:hype", T2, 900, [], "Tom"),
            "title": "Portable blender cup: worth the hype?",
        },
        {
            **_video("youtube:video:coat", T2, 900, [], "Ann"),
            "title": "Winter down jacket haul, 3 coats compared",
        },
    ]
    path = tmp_path / "m.jsonl"
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), "utf-8")
    store = SqliteStore(tmp_path / "m.db")
    ingest_jsonl(path, store, embedder)
    store.close()
    shown = cli("--store", tmp_path / "m.db", "product", "show", "douyin:product:777", "--now", T2, "--json")
    assert shown.exit_code == ExitCode.OK, shown.output
    data = json.loads(shown.stdout)
    assert [link["id"] for link in data["links"]] == ["douyin:video:link"]
    assert [m["id"] for m in data["mentions"]] == ["youtube:video:hype"]
    assert 0.3 <= data["mentions"][0]["confidence"] <= 1.0 and data["mentions"][0]["creator"] == "Tom"


@pytest.mark.model
def test_mentions_are_counted_in_fact_apart_from_links(cli, tmp_path, embedder):
    from indexer.ingest import ingest_jsonl

    docs = []
    for at, link_views, hype_views in ((T1, 100, 900), (T2, 300, 2_900)):
        docs += [
            _product("douyin:product:777", "便携榨汁杯 Portable Blender Cup", at, 100, 89.0, "CNY", "douyin"),
            _video("douyin:video:link", at, link_views, [{"id": "douyin:product:777", "title": "便携榨汁杯"}], "小美"),
            {**_video("youtube:video:hype", at, hype_views, [], "Tom"), "title": "Portable blender cup: worth the hype?"},
            {**_video("youtube:video:coat", at, hype_views, [], "Ann"), "title": "Winter down jacket haul, 3 coats"},
        ]  # fmt: skip
    path = tmp_path / "m.jsonl"
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), "utf-8")
    store = SqliteStore(tmp_path / "m.db")
    ingest_jsonl(path, store, embedder)
    store.close()
    shown = cli("--store", tmp_path / "m.db", "product", "show", "douyin:product:777", "--now", T2, "--json")
    assert shown.exit_code == ExitCode.OK, shown.output
    fact = json.loads(shown.stdout)["fact"]
    assert fact["total"] == 200 and fact["alliance"]["contributors"][0]["via"] == "link"  # links only
    mentioned = fact["mentions"]
    assert mentioned["total"] == 2_000 and mentioned["alliance"]["gain"] == 2_000
    assert mentioned["alliance"]["contributors"] == [{"creator": "Tom", "gain": 2_000, "via": "mention"}]
    (content,) = mentioned["content"]
    assert content["id"] == "youtube:video:hype" and content["via"] == "mention" and content["gain"] == 2_000
    assert 0.3 <= content["confidence"] <= 1.0 and "without linking" in mentioned["rule"]
    table = cli("--store", tmp_path / "m.db", "product", "show", "douyin:product:777", "--now", T2)
    assert (
        table.exit_code == ExitCode.OK
        and "from 1 video(s)/live(s) that name it without a link" in table.stdout
    )
    # trending: the same blocks with --mentions, none without it (the model is not loaded then)
    args = ["--store", tmp_path / "m.db", "trending", "--window", "2d", "--now", T2, "--json"]
    ranked = cli(*args, "--mentions")
    assert ranked.exit_code == ExitCode.OK, ranked.output
    (row,) = json.loads(ranked.stdout)["results"]  # the canonical product (product show made the file)
    assert row["canonical"]["members"] == ["douyin:product:777"]
    assert row["fact"]["total"] == 200 and row["fact"]["mentions"]["total"] == 2_000
    assert row["fact"]["mentions"]["content"][0]["id"] == "youtube:video:hype"
    plain = json.loads(cli(*args).stdout)["results"]
    assert all("mentions" not in r["fact"] for r in plain)
