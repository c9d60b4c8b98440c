"""Item pipelines: validate (drop with a counted reason), normalise, dedupe by id, emit the JSON form."""

from __future__ import annotations

import dataclasses
from typing import Any

from scrapy.exceptions import DropItem, NotConfigured

from crawler.items import (
    LIVE_STATUSES,
    METRIC_NAMES,
    TEXT_KEYS,
    BaseItem,
    CreatorRef,
    InvalidItem,
    ProductRef,
    check_id,
    check_item,
    from_json,
    require_text,
)
from crawler.normalize import (
    clean_text,
    guess_language,
    normalise_hashtags,
    parse_count,
    parse_currency,
    parse_duration,
    parse_price,
)
from crawler.times import iso_utc, parse_datetime, utc_now


def _drop(spider: Any, reason: str, item_id: Any, log_level: str | None = None) -> DropItem:
    """A DropItem for `reason`, counted in trendcart/dropped/<reason>; logged at DEFAULT_DROPITEM_LOG_LEVEL
    (WARNING) unless `log_level` says otherwise."""
    spider.crawler.stats.inc_value(f"trendcart/dropped/{reason}")
    drop = DropItem(f"{reason}: {item_id!r}")
    drop.log_level = (
        log_level  # read by Scrapy >= 2.13's LogFormatter.dropped (an attribute: older ones ignore it)
    )
    return drop


class ValidatePipeline:
    """Refuse what is not a well-formed document: wrong type, bad id, unknown platform/kind, no text."""

    def process_item(self, item: Any, spider: Any) -> BaseItem:
        if isinstance(item, dict):
            try:
                item = from_json(item)
            except InvalidItem:
                raise _drop(spider, "invalid_shape", item.get("id")) from None
        if not isinstance(item, BaseItem):
            raise _drop(spider, "not_an_item", type(item).__name__)
        try:  # the id and text rules of items.check_item; the whole check needs normalised values
            check_id(item.id, item.kind, item.platform)
            require_text(getattr(item, name, None) for name in TEXT_KEYS)
        except InvalidItem as exc:
            raise _drop(spider, exc.reason, item.id) from None
        return item


class NormalisePipeline:
    """Coerce every field to its normal form; values that cannot be read become None, never 0.

    With TRENDCART_LANGUAGE_PRELOAD (off by default) the language detector's models are loaded when the
    crawl opens, before its first request, instead of at its first Latin-script text without a language
    (~2.7 s of CPU that stalls the crawl's event loop, with requests in flight); crawls that never guess
    a language do not pay for them, hence off. The benchmarks turn it on, so the load stays off their clock."""

    def __init__(self, preload_language: bool = False) -> None:
        self.preload_language = preload_language

    @classmethod
    def from_crawler(cls, crawler: Any) -> NormalisePipeline:
        return cls(crawler.settings.getbool("TRENDCART_LANGUAGE_PRELOAD", False))

    def open_spider(self, spider: Any = None) -> None:
        if self.preload_language:
            from crawler.language import preload

            preload()

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
    price = (
        parse_price(obj.price, default_currency=parse_currency(obj.currency))
        if obj.price is not None
        else None
    )
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
    """Within one crawl an id is emitted once; later copies are dropped and counted.

    A copy is what a crawl expects (a video reached from its profile and from a list), so it is logged at
    DEBUG: at WARNING, Scrapy wrote the whole item's repr to the log for every copy (~1.5 ms of CPU each)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def process_item(self, item: BaseItem, spider: Any) -> BaseItem:
        if item.id in self.seen:
            raise _drop(spider, "duplicate", item.id, log_level="DEBUG")
        self.seen.add(item.id)
        spider.crawler.stats.inc_value(f"trendcart/items/{item.kind}")
        return item


class JsonFormPipeline:
    """Last stop: hand exporters the one JSON form of DESIGN.md, passed through items.check_item."""

    def process_item(self, item: Any, spider: Any) -> dict[str, Any]:
        if dataclasses.is_dataclass(item) and isinstance(item, BaseItem):
            try:
                return check_item(item.to_json())
            except InvalidItem as exc:
                raise _drop(spider, exc.reason, item.id) from None
        return item


class IndexPipeline:
    """Index items as they are crawled: batched through indexer.ingest, flushed when the crawl closes.

    Off (NotConfigured) unless TRENDCART_INDEX_STORE names a store; the model is TRENDCART_MODEL (setting or
    environment). The one place crawler/ touches indexer/. Stats: trendcart/indexed and
    trendcart/index_error/<reason> (invalid, model_mismatch, store_unavailable, store_error). A store that
    fails stops indexing for the rest of the crawl (the feed export still gets every item)."""

    def __init__(self, store_spec: str, model_name: str | None, batch_size: int, stats: Any) -> None:
        self.store_spec = store_spec
        self.model_name = model_name or None
        self.batch_size = batch_size
        self.stats = stats
        self.store: Any = None
        self.ingestor: Any = None
        self.failed: str | None = None  # the reason indexing stopped, if it did
        self._counted = 0
        self.accepted = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> IndexPipeline:
        spec = crawler.settings.get("TRENDCART_INDEX_STORE")
        if not spec:
            raise NotConfigured("TRENDCART_INDEX_STORE is empty: not indexing during the crawl")
        pipeline = cls(
            spec,
            crawler.settings.get("TRENDCART_MODEL"),
            crawler.settings.getint("TRENDCART_INDEX_BATCH", 64),
            crawler.stats,
        )
        # crawler.frontier reads `accepted` when a request is done and hears of each write (`stored`).
        pipeline.crawler, crawler.trendcart_index = crawler, pipeline
        return pipeline

    def open_spider(self, spider: Any = None) -> None:
        from indexer import StoreError, open_store
        from indexer.embedder import Embedder
        from indexer.ingest import Ingestor

        try:
            self.store = open_store(self.store_spec, self.model_name)
            self.ingestor = Ingestor(
                self.store, Embedder(self.model_name), self.batch_size, on_flush=self._flushed
            )
        except StoreError as exc:
            self._fail(exc, lost=0)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if self.ingestor is None:
            self.stats.inc_value(f"trendcart/index_error/{self.failed or 'not_open'}")
            return item
        data = item.to_json() if isinstance(item, BaseItem) else item
        lost = self.ingestor.pending + 1
        self.accepted += 1  # items handed to the ingestor; all but `pending` of them are written
        try:
            if not self.ingestor.add(data):
                self.stats.inc_value("trendcart/index_error/invalid")
        except Exception as exc:  # noqa: BLE001  (a failing store must not stop the crawl)
            self._fail(exc, lost)
        return item

    def close_spider(self, spider: Any = None) -> None:
        if self.ingestor is not None:
            lost = self.ingestor.pending
            try:
                self.ingestor.close()
                self._build_vector_index()
            except Exception as exc:  # noqa: BLE001
                self._fail(exc, lost)
        if self.store is not None:
            self.store.close()

    def _build_vector_index(self) -> None:
        """The store's vector index built or updated after the crawl's writes, so no search waits for it."""
        import logging

        from indexer.store import BuildsVectorIndex

        if isinstance(self.store, BuildsVectorIndex):
            log = logging.getLogger(__name__)
            self.store.build_vector_index(
                lambda done, total: log.info("building the vector index: %s / %s", f"{done:,}", f"{total:,}")
            )

    def _flushed(self, _: int) -> None:
        indexed = self.ingestor.report.indexed
        self.stats.inc_value("trendcart/indexed", indexed - self._counted)
        self._counted = indexed
        if getattr(self, "crawler", None) is not None:
            from crawler.frontier import stored

            stored(self.crawler, self.accepted - self.ingestor.pending)

    def _fail(self, exc: Exception, lost: int) -> None:
        import logging
        import re

        self.failed = re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()
        if self.failed not in ("model_mismatch", "store_unavailable", "invalid_document", "query_error"):
            self.failed = "store_error"
        logging.getLogger(__name__).error("indexing stopped (%s): %s", self.failed, exc)
        if lost:
            self.stats.inc_value(f"trendcart/index_error/{self.failed}", lost)
        self.ingestor = None
