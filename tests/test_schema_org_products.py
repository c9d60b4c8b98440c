"""schema.org Product subtypes and aggregateRating (issue 17 item 6), and the products of a live BroadcastEvent."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.parsers import parse_page
from crawler.parsers.base import Page
from tests.golden import GoldenCase, check_golden

FIXTURES = Path(__file__).parent / "fixtures" / "standards"
URL = "https://autohaus.example/fahrzeuge/vw-golf-1-5-tsi"
LIVE_URL = "https://shoplive.example/live/201"
CASES = [
    GoldenCase(FIXTURES / "car-dealer-rating.html", url=URL, parser="jsonld"),
    GoldenCase(FIXTURES / "live-broadcast-offers.html", url=LIVE_URL, parser="jsonld"),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_golden(case):
    check_golden(case)


def items():
    page = Page(url=URL, body=(FIXTURES / "car-dealer-rating.html").read_bytes(), content_type="text/html")
    return {item.id: item for item in parse_page(page, "jsonld").items}


def test_subtypes_are_products_with_ratings():
    found = items()
    car = found["web:product:autohaus.example/fahrzeuge/vw-golf-1-5-tsi"]
    assert (car.rating, car.review_count) == (8.6, 37)  # "8,6" of 10
    assert car.thumbnail == "https://autohaus.example/img/golf-front.jpg" and car.language == "de"
    assert (car.price, car.currency, car.shop) == (21490.0, "EUR", "Autohaus Example")
    model = found["web:product:autohaus.example/modelle/golf-variant"]
    assert model.rating is None and model.review_count == 12  # 7.2 is above the default bestRating 5
    assert (model.price, model.price_max) == (28990.0, 35990.0)
    wheels = found["web:product:autohaus.example/zubehoer/winterraeder"]
    assert (wheels.rating, wheels.review_count) == (4.7, 233)


def test_broadcast_event_offers_are_the_lives_products():
    page = Page(
        url=LIVE_URL, body=(FIXTURES / "live-broadcast-offers.html").read_bytes(), content_type="text/html"
    )
    found = {item.id: item for item in parse_page(page, "jsonld").items}
    # offers on a top-level event whose workFeatured is the stream's VideoObject: the video is the live
    kitchen = found["web:live:shoplive.example/live/201"]
    assert kitchen.kind == "live" and kitchen.live.status is not None
    assert kitchen.published_at == kitchen.live.started_at == "2026-11-25T09:00:00Z"  # not the uploadDate
    refs = {p.id: p for p in kitchen.products}
    blender = refs[
        "web:product:shoplive.example/p/blender"
    ]  # Offer.itemOffered: the offer's price and seller
    assert (blender.title, blender.price, blender.currency, blender.shop) == (
        "Portable blender cup 380 ml",
        39.9,
        "EUR",
        "ShopLive",
    )
    assert (blender.rating, blender.review_count) == (4.6, 88)
    knives = refs["web:product:shoplive.example/p/knives"]  # an Offer that names the product itself
    assert (knives.title, knives.price) == ("Chef knife set (5 pieces)", 59.0)
    # an event with no VideoObject is the live itself; workFeatured products are on sale too
    coats = found["web:live:shoplive.example/live/202"]
    assert coats.kind == "live" and coats.live.status == "ended" and coats.creator.name == "CoatCo"
    assert {p.id for p in coats.products} == {
        "web:product:coatco.example/p/down-navy",
        "web:product:coatco.example/p/scarf",
    }
    # offers on a VideoObject's publication event
    cases = found["web:live:shoplive.example/live/203"]
    assert [p.id for p in cases.products] == ["web:product:shoplive.example/p/case"]
    assert cases.published_at == "2026-11-25T09:30:00Z"
    # every product is an item of its own, featured in its live
    assert found["web:product:shoplive.example/p/knives"].featured_in == [
        "web:live:shoplive.example/live/201"
    ]
    assert found["web:product:coatco.example/p/scarf"].price == 25.0


def test_watch_reads_the_products_of_a_broadcast_event(http_server, tmp_path):
    from indexer.lives import live_detail
    from indexer.sqlite_store import SqliteStore
    from indexer.workflows.live import Watch

    body = (FIXTURES / "live-broadcast-offers.html").read_text(encoding="utf-8")
    url = http_server.add("/schema-live/201", body)
    store = SqliteStore(tmp_path / "w.db")
    try:
        report = Watch(store, [url], 30, samples=1).run()
        assert report.stored == 1
        detail = live_detail(store, report.rooms[0].live_id)
        assert {p["title"] for p in detail["products"]} == {
            "Portable blender cup 380 ml",
            "Chef knife set (5 pieces)",
        }
        assert {p["price_last"] for p in detail["products"]} == {39.9, 59.0}
    finally:
        store.close()
