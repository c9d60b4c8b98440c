"""The rating fields of products and linked products (issue 17 item 6): kept, checked, bounded."""

from __future__ import annotations

import re

import pytest

from crawler.bounds import MAX_COUNT, MAX_RATING
from crawler.items import InvalidItem, ProductItem, ProductRef, VideoItem, check_item, from_json


def product(**change):
    return {
        "id": "web:product:shop.example/p/1",
        "kind": "product",
        "platform": "web",
        "title": "Kettle",
        "observed_at": "2026-11-25T10:00:00Z",
        **change,
    }


def test_the_json_form_carries_rating_and_review_count():
    item = ProductItem(id="web:product:p", platform="web", title="p", rating=4.5, review_count=89)
    data = item.to_json()
    assert (data["rating"], data["review_count"]) == (4.5, 89)
    ref = VideoItem(id="web:video:v", platform="web", title="v", products=[ProductRef(title="p")]).to_json()
    assert ref["products"][0]["rating"] is None and ref["products"][0]["review_count"] is None
    assert from_json(data).rating == 4.5


def test_check_item_keeps_ratings_at_the_bounds_and_integral_counts():
    data = check_item(product(rating=MAX_RATING, review_count=float(MAX_COUNT)))
    assert data["rating"] == MAX_RATING and data["review_count"] == MAX_COUNT
    linked = check_item(
        {
            **product(),
            "id": "web:video:v",
            "kind": "video",
            "products": [{"title": "p", "rating": 0, "review_count": 12.0}],
        }
    )
    assert linked["products"][0]["rating"] == 0 and linked["products"][0]["review_count"] == 12


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rating": float("nan")}, "rating: expected a finite number in [0, 100]"),
        ({"rating": float("inf")}, "rating: expected a finite number"),
        ({"rating": -0.5}, "rating: expected a finite number"),
        ({"rating": 101}, "rating: expected a finite number in [0, 100]"),
        ({"rating": "4.5"}, "rating: expected a number or null, got '4.5'"),
        ({"rating": True}, "rating: expected a number or null"),
        ({"review_count": -1}, "review_count: expected a non-negative integer"),
        ({"review_count": 10**13}, "review_count: expected a non-negative integer"),
        ({"products": [{"title": "p", "rating": 1e9}]}, "products[].rating: expected a finite number"),
        (
            {"products": [{"title": "p", "review_count": 1.5}]},
            "products[].review_count: expected a non-negative",
        ),
    ],
)
def test_check_item_refuses_bad_ratings(change, message):
    with pytest.raises(InvalidItem, match=re.escape(message)) as excinfo:
        check_item(product(**change))
    assert excinfo.value.reason == "invalid_shape"
