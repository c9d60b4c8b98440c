"""Item pipelines: validate (drop with a counted reason), normalise, dedupe by id, emit the JSON form."""

from __future__ import annotations

import dataclasses
from typing import Any

from scrapy.exceptions import DropItem

from crawler.items import KINDS, LIVE_STATUSES, METRIC_NAMES, PLATFORMS, BaseItem, CreatorRef, ProductRef, from_json
from crawler.normalize import (
    clean_text,
    guess_language,
    iso_utc,
    normalise_hashtags,
    parse_count,
    parse_currency,
    parse_datetime,
    parse_duration,
    parse_price,
    utc_now,
)


def _drop(spider: Any, reason: str, item_id: Any) -> DropItem:
    spider.crawler.stats.inc_value(f"trendcart/dropped/{reason}")
    return DropItem(f"{reason}: {item_id!r}")


class ValidatePipeline:
    """Refuse what is not a well-formed document: wrong type, bad id, unknown platform/kind, no text."""

    def process_item(self, item: Any, spider: Any) -> BaseItem:
        if isinstance(item, dict):
            try:
                item = from_json(item)
            except ValueError:
                raise _drop(spider, "invalid_shape", item.get("id")) from None
        if not isinstance(item, BaseItem):
            raise _drop(spider, "not_an_item", type(item).__name__)
        parts = item.id.split(":", 2) if isinstance(item.id, str) else []
        if len(parts) != 3 or not parts[2]:
            raise _drop(spider, "bad_id", item.id)
        if item.platform not in PLATFORMS or parts[0] != item.platform:
            raise _drop(spider, "bad_platform", item.id)
        if item.kind not in KINDS or parts[1] != item.kind:
            raise _drop(spider, "bad_kind", item.id)
        texts = [item.title, item.description, getattr(item, "name", None), getattr(item, "handle", None)]
        if not any(isinstance(t, str) and t.strip() for t in texts):
            raise _drop(spider, "no_text", item.id)
        return item


class NormalisePipeline:
    """Coerce every field to its normal form; values that cannot be read become None, never 0."""

    def process_item(self, item: BaseItem, spider: Any) -> BaseItem:
        normalise_item(item)
        return item


def normalise_item(item: BaseItem, now: Any = None) -> BaseItem:
    now = now or utc_now()
    item.title = clean_text(item.title, 500)
    item.description = clean_text(item.description)
    item.url = clean_text(item.url, 2000)
    item.hashtags = normalise_hashtags(item.hashtags)
    item.observed_at = parse_datetime(item.observed_at, now) or iso_utc(now)
    item.published_at = parse_datetime(item.published_at, now)
    if item.language is None:
        item.language = guess_language(" ".join(t for t in (item.title, item.description) if t))
    for name in METRIC_NAMES:
        setattr(item.metrics, name, parse_count(getattr(item.metrics, name)))
    if isinstance(item.creator, CreatorRef):
        item.creator.name = clean_text(item.creator.name, 200)
        item.creator.handle = clean_text(item.creator.handle, 200)
        item.creator.followers = parse_count(item.creator.followers)
        if not isinstance(item.creator.verified, bool):
            item.creator.verified = None
    elif item.creator is not None:
        item.creator = None
    if hasattr(item, "duration_s"):
        item.duration_s = parse_duration(item.duration_s)
    live = getattr(item, "live", None)
    if live is not None:
        live.status = live.status if live.status in LIVE_STATUSES else None
        live.started_at = parse_datetime(live.started_at, now)
        live.ended_at = parse_datetime(live.ended_at, now)
    if hasattr(item, "products"):
        item.products = [_normalise_product(p) for p in item.products if isinstance(p, ProductRef)]
        item.products = [p for p in item.products if p.title or p.id]
    if hasattr(item, "price"):
        _normalise_price_fields(item)
    for name in ("followers",):
        if hasattr(item, name):
            setattr(item, name, parse_count(getattr(item, name)))
    return item


def _normalise_product(product: ProductRef) -> ProductRef:
    product.title = clean_text(product.title, 500)
    product.shop = clean_text(product.shop, 200)
    product.sales = parse_count(product.sales)
    _normalise_price_fields(product)
    return product


def _normalise_price_fields(obj: Any) -> None:
    price = parse_price(obj.price, default_currency=parse_currency(obj.currency)) if obj.price is not None else None
    if price is None:
        obj.price = None
        obj.price_max = None
    else:
        obj.price = price.amount
        high = parse_price(obj.price_max) if obj.price_max is not None else None
        obj.price_max = high.amount if high else price.amount_max
        obj.currency = price.currency or parse_currency(obj.currency)
    if obj.currency is not None:
        obj.currency = parse_currency(obj.currency)


class DedupePipeline:
    """Within one crawl an id is emitted once; later copies are dropped and counted."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def process_item(self, item: BaseItem, spider: Any) -> BaseItem:
        if item.id in self.seen:
            raise _drop(spider, "duplicate", item.id)
        self.seen.add(item.id)
        spider.crawler.stats.inc_value(f"trendcart/items/{item.kind}")
        return item


class JsonFormPipeline:
    """Last stop: hand exporters (and the index pipeline) the one JSON form of DESIGN.md."""

    def process_item(self, item: Any, spider: Any) -> dict[str, Any]:
        if dataclasses.is_dataclass(item) and isinstance(item, BaseItem):
            return item.to_json()
        return item
