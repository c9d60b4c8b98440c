"""schema.org Product subtypes and aggregateRating (issue 17 item 6): a car dealer's page."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.parsers import parse_page
from crawler.parsers.base import Page
from tests.golden import GoldenCase, check_golden

FIXTURES = Path(__file__).parent / "fixtures" / "standards"
URL = "https://autohaus.example/fahrzeuge/vw-golf-1-5-tsi"
CASES = [GoldenCase(FIXTURES / "car-dealer-rating.html", url=URL, parser="jsonld")]


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
