"""Typed items (video, live, product, creator, snapshot) and their one JSON form (see docs/DATA_MODEL.md)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crawler.bounds import (
    EARLIEST_TIME,
    MAX_COUNT,
    MAX_DURATION_S,
    MAX_LIST_ITEMS,
    MAX_PRICE,
    MAX_RATING,
    MAX_TEXT_CHARS,
    believable_time,
)
from crawler.times import parse_iso, to_iso, utc_now

PLATFORMS = ("douyin", "tiktok", "kuaishou", "bilibili", "youtube", "web")
KINDS = ("video", "live", "product", "creator")
LIVE_STATUSES = ("scheduled", "live", "ended")
METRIC_NAMES = ("views", "likes", "comments", "shares", "collects", "viewers", "peak_viewers", "sales")
# The two kinds of metric (docs/TRENDS.md "Gauges and counters"). A counter only grows (a total: views, likes,
# comments, shares, collects, sales; on a live `views` is the total of viewers so far), so its change per hour is
# a velocity. A gauge is a value *now* that goes up and down (a live's concurrent `viewers`, the platform's
# published `peak_viewers`): it has a peak, a time-weighted average and a curve, never a velocity.
GAUGES = ("viewers", "peak_viewers")
COUNTERS = tuple(name for name in METRIC_NAMES if name not in GAUGES)


def make_id(platform: str, kind: str, native_id: str | int) -> str:
    """The stable document id `platform:kind:native_id`; re-crawling the same thing gives the same id."""
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}")
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    native = str(native_id).strip()
    if not native:
        raise ValueError("empty native id")
    return f"{platform}:{kind}:{native}"


def split_id(doc_id: str) -> tuple[str, str, str]:
    """Inverse of make_id: `(platform, kind, native_id)`; the native id may itself contain colons.

    Raises ValueError when `doc_id` does not have three parts."""
    parts = doc_id.split(":", 2) if isinstance(doc_id, str) else []
    if len(parts) != 3:
        raise ValueError(f"id: {doc_id!r} is not 'platform:kind:native_id'")
    return parts[0], parts[1], parts[2]


def parse_id(doc_id: Any) -> tuple[str, str, str] | None:
    """`(platform, kind, native_id)` of a well-formed id (known platform and kind, a native id); else None."""
    try:
        platform, kind, native = split_id(doc_id)
    except ValueError:
        return None
    return (platform, kind, native) if native and platform in PLATFORMS and kind in KINDS else None


def is_count(value: Any) -> bool:
    """The one count rule: an int in [0, MAX_COUNT], not a bool (check_item turns integral floats into ints
    first)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT


class InvalidItem(ValueError):
    """An item that is not in the JSON form; `reason` is a short code (bad_id, bad_platform, bad_kind,
    no_text, invalid_shape) that pipelines count, the message says what is wrong."""

    def __init__(self, message: str, reason: str = "invalid_shape") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class Metrics:
    """Counters as plain integers; None means unknown (a missing like count is not zero likes)."""

    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    collects: int | None = None
    viewers: int | None = None
    peak_viewers: int | None = None
    sales: int | None = None

    def known(self) -> dict[str, int]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclass
class CreatorRef:
    id: str | None = None
    name: str | None = None
    handle: str | None = None
    url: str | None = None
    followers: int | None = None
    verified: bool | None = None


@dataclass
class ProductRef:
    """A product as linked from a video or live room."""

    id: str | None = None
    title: str | None = None
    price: float | None = None
    price_max: float | None = None
    currency: str | None = None
    url: str | None = None
    shop: str | None = None
    sales: int | None = None
    thumbnail: str | None = None  # the product image's URL (never fetched)
    rating: float | None = None  # aggregateRating.ratingValue, on the page's own scale (<= its bestRating)
    review_count: int | None = None  # ratingCount, else reviewCount


@dataclass
class LiveInfo:
    status: str | None = None  # scheduled | live | ended
    started_at: str | None = None
    ended_at: str | None = None


@dataclass
class BaseItem:
    """Fields every document has. Subclasses fix `kind`."""

    id: str
    platform: str
    url: str | None = None
    title: str | None = None
    description: str | None = None
    hashtags: list[str] = field(default_factory=list)
    language: str | None = None
    published_at: str | None = None
    creator: CreatorRef | None = None
    metrics: Metrics = field(default_factory=Metrics)
    observed_at: str | None = None
    source: str | None = None  # which parser produced it: jsonld, sitemap, feed, tiktok, ...

    kind = "video"

    def to_json(self) -> dict[str, Any]:
        return to_json(self)


@dataclass
class VideoItem(BaseItem):
    duration_s: int | None = None
    products: list[ProductRef] = field(default_factory=list)
    live: LiveInfo | None = None
    thumbnail: str | None = None  # cover image URL (never fetched)
    kind = "video"


@dataclass
class LiveItem(BaseItem):
    live: LiveInfo = field(default_factory=LiveInfo)
    products: list[ProductRef] = field(default_factory=list)
    duration_s: int | None = None
    thumbnail: str | None = None  # cover image URL (never fetched)
    kind = "live"


@dataclass
class ProductItem(BaseItem):
    price: float | None = None
    price_max: float | None = None
    currency: str | None = None
    shop: str | None = None
    category: str | None = None
    featured_in: list[str] = field(default_factory=list)
    thumbnail: str | None = None  # cover image URL (never fetched)
    rating: float | None = None  # aggregateRating.ratingValue, on the page's own scale (<= its bestRating)
    review_count: int | None = None  # ratingCount, else reviewCount
    kind = "product"


@dataclass
class CreatorItem(BaseItem):
    name: str | None = None
    handle: str | None = None
    followers: int | None = None
    verified: bool | None = None
    kind = "creator"


@dataclass
class Snapshot:
    """One observation of an entity's metrics at one time."""

    entity_id: str
    observed_at: str
    metrics: dict[str, int]

    @classmethod
    def from_item(cls, item: BaseItem | dict[str, Any]) -> Snapshot:
        data = item if isinstance(item, dict) else to_json(item)
        metrics = {k: v for k, v in (data.get("metrics") or {}).items() if v is not None}
        return cls(entity_id=data["id"], observed_at=data["observed_at"], metrics=metrics)


ITEM_CLASSES: dict[str, type[BaseItem]] = {
    "video": VideoItem,
    "live": LiveItem,
    "product": ProductItem,
    "creator": CreatorItem,
}

# Keys every JSON form carries, whatever the kind, so consumers never need .get() guesses.
_COMMON_KEYS = (
    "id",
    "kind",
    "platform",
    "url",
    "title",
    "description",
    "hashtags",
    "language",
    "published_at",
    "duration_s",
    "creator",
    "live",
    "metrics",
    "products",
    "observed_at",
    "source",
)


def to_json(item: BaseItem) -> dict[str, Any]:
    """The JSON form of DESIGN.md: every common key present, unknown values None."""
    data = dataclasses.asdict(item)
    out: dict[str, Any] = {key: None for key in _COMMON_KEYS}
    out["hashtags"] = []
    out["products"] = []
    out.update(data)
    out["kind"] = item.kind
    out["metrics"] = {name: data["metrics"].get(name) for name in METRIC_NAMES}
    return out


def from_json(data: dict[str, Any]) -> BaseItem:
    """Build the typed item from its JSON form; unknown keys are ignored, wrong shapes raise ValueError."""
    if not isinstance(data, dict):
        raise InvalidItem(f"item must be a JSON object, got {type(data).__name__}")
    kind = data.get("kind")
    cls = ITEM_CLASSES.get(kind)  # type: ignore[arg-type]
    if cls is None:
        raise InvalidItem(f"unknown kind {kind!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {k: v for k, v in data.items() if k in names}
    if isinstance(kwargs.get("metrics"), dict):
        kwargs["metrics"] = Metrics(**{k: v for k, v in kwargs["metrics"].items() if k in METRIC_NAMES})
    elif "metrics" in kwargs:
        kwargs["metrics"] = Metrics()
    if isinstance(kwargs.get("creator"), dict):
        kwargs["creator"] = _build(CreatorRef, kwargs["creator"])
    if isinstance(kwargs.get("live"), dict):
        kwargs["live"] = _build(LiveInfo, kwargs["live"])
    elif cls is LiveItem:
        kwargs["live"] = LiveInfo()
    if "products" in kwargs:
        kwargs["products"] = [_build(ProductRef, p) for p in kwargs["products"] or [] if isinstance(p, dict)]
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise InvalidItem(f"item {data.get('id')!r}: {exc}") from exc


def _build(cls: type, data: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


# -- the one check of the JSON form ------------------------------------------------------------------
# Every reader of the JSON form (pipelines, ingest, the stores, from_json callers) goes through
# check_item, so a new rule (a bound on counts, dates or prices) is added here once. The bounds themselves
# live in crawler/bounds.py (docs/RELIABILITY.md, "Bad input").
STRING_FIELDS = (
    "title",
    "description",
    "url",
    "published_at",
    "observed_at",
    "language",
    "source",
    "currency",
    "shop",
    "category",
    "name",
    "handle",
    "thumbnail",
)
LIST_FIELDS = ("hashtags", "products", "featured_in")
# Lists whose elements are strings (tags, ids of the videos and lives featuring a product).
STRING_LIST_FIELDS = ("hashtags", "featured_in")
OBJECT_FIELDS = ("metrics", "creator", "live")
PRICE_FIELDS = ("price", "price_max")
# The nested objects: their string fields, count fields and flags.
CREATOR_STRINGS = ("id", "name", "handle", "url")
PRODUCT_STRINGS = ("id", "title", "currency", "url", "shop", "thumbnail")
LIVE_STRINGS = ("status", "started_at", "ended_at")
# A document needs one of these to be searchable at all.
TEXT_KEYS = ("title", "description", "name", "handle")


def check_item(data: Any, now: datetime | None = None) -> dict[str, Any]:
    """The canonical JSON form of one item (every common key, counts as ints, times as ISO UTC with Z; a
    missing observed_at becomes `now`), or InvalidItem saying what is wrong with it.

    Refused: wrong types at any depth, counts outside [0, MAX_COUNT], durations over MAX_DURATION_S, prices
    that are not finite numbers in [0, MAX_PRICE], unreadable times and times outside the believable range
    (crawler.bounds.believable_time; publication and live times relative to observed_at), strings longer
    than MAX_TEXT_CHARS, lists longer than MAX_LIST_ITEMS."""
    if not isinstance(data, Mapping):
        raise InvalidItem(f"expected a JSON object, got {type(data).__name__}")
    check_id(data.get("id"), data.get("kind"), data.get("platform"))
    _check_strings(data, STRING_FIELDS, "")
    for name in LIST_FIELDS:
        if data.get(name) is not None and not isinstance(data[name], list):
            raise InvalidItem(f"{name}: expected a list, got {type(data[name]).__name__}")
        if len(data.get(name) or ()) > MAX_LIST_ITEMS:
            raise InvalidItem(f"{name}: {len(data[name])} elements, more than {MAX_LIST_ITEMS}")
    for name in STRING_LIST_FIELDS:
        for element in data.get(name) or []:
            if not isinstance(element, str):
                raise InvalidItem(f"{name}: expected a list of strings, got a {type(element).__name__} in it")
            _check_length(name, element)
    for name in OBJECT_FIELDS:
        if data.get(name) is not None and not isinstance(data[name], Mapping):
            raise InvalidItem(f"{name}: expected an object, got {type(data[name]).__name__}")
    _check_flag(data, "verified", "")
    doc = dict(data)
    doc["metrics"] = {
        name: _count(f"metrics.{name}", value) if name in METRIC_NAMES else value
        for name, value in (data.get("metrics") or {}).items()
    }
    products = []
    for product in data.get("products") or []:
        if not isinstance(product, Mapping):
            raise InvalidItem("products: expected a list of objects")
        _check_strings(product, PRODUCT_STRINGS, "products[].")
        _check_prices(product, "products[].")
        _check_rating(product, "products[].")
        products.append(
            {
                **product,
                "sales": _count("products[].sales", product.get("sales")),
                "review_count": _count("products[].review_count", product.get("review_count")),
            }
        )
    doc["products"] = products
    _check_prices(data, "")
    _check_rating(data, "")
    if "review_count" in doc:
        doc["review_count"] = _count("review_count", doc["review_count"])
    if "followers" in doc:
        doc["followers"] = _count("followers", doc["followers"])
    if "duration_s" in doc:
        doc["duration_s"] = _count("duration_s", doc["duration_s"], MAX_DURATION_S)
    creator = doc.get("creator")
    if isinstance(creator, Mapping):
        _check_strings(creator, CREATOR_STRINGS, "creator.")
        _check_flag(creator, "verified", "creator.")
        doc["creator"] = {**creator, "followers": _count("creator.followers", creator.get("followers"))}
    if isinstance(doc.get("live"), Mapping):
        _check_strings(doc["live"], LIVE_STRINGS, "live.")
    out = to_json(from_json(doc))
    clock = now or utc_now()
    observed = _time("observed_at", out.get("observed_at") or clock, clock)
    out["observed_at"] = observed
    observed_moment = parse_iso(observed)
    out["published_at"] = _time("published_at", out.get("published_at"), observed_moment)
    if isinstance(out.get("live"), dict):
        for name in ("started_at", "ended_at"):
            out["live"][name] = _time(f"live.{name}", out["live"].get(name), observed_moment)
    require_text(out.get(name) for name in TEXT_KEYS)
    return out


def check_id(doc_id: Any, kind: Any, platform: Any) -> tuple[str, str, str]:
    """`(platform, kind, native_id)` of an id that is well formed and matches the item's kind and platform."""
    if not isinstance(doc_id, str):
        raise InvalidItem(f"id: expected a string 'platform:kind:native_id', got {doc_id!r}", "bad_id")
    try:
        parts = split_id(doc_id)
    except ValueError as exc:
        raise InvalidItem(str(exc), "bad_id") from None
    if not parts[2]:
        raise InvalidItem(f"id: {doc_id!r} is not 'platform:kind:native_id'", "bad_id")
    for value, known, reason in ((parts[0], PLATFORMS, "bad_platform"), (parts[1], KINDS, "bad_kind")):
        if value not in known:
            raise InvalidItem(
                f"id: {doc_id!r} is not 'platform:kind:native_id' with a known platform and kind", reason
            )
    if platform != parts[0] or kind != parts[1]:
        raise InvalidItem(
            f"kind/platform {kind!r}/{platform!r} do not match id {doc_id!r}",
            "bad_platform" if platform != parts[0] else "bad_kind",
        )
    return parts[0], parts[1], parts[2]


def require_text(texts: Iterable[Any]) -> None:
    """InvalidItem (reason no_text) unless one of the texts (title, description, name, handle) is non-blank."""
    if not any(isinstance(t, str) and t.strip() for t in texts):
        raise InvalidItem("no text: a document needs a title, description, name or handle", "no_text")


def _count(name: str, value: Any, ceiling: int = MAX_COUNT) -> int | None:
    value = _integral(value)
    if value is not None and not (is_count(value) and value <= ceiling):
        raise InvalidItem(
            f"{name}: expected a non-negative integer (at most {ceiling}) or null, got {_shown(value)}"
        )
    return value


def _integral(value: Any) -> Any:
    """An integral float (`12.0`, as JSON writers emit counts) as the int it stands for; other values as they
    are (`1e308` and infinities stay floats: no count, refused by the count rule)."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_COUNT:
        return int(value)
    return value


def _check_prices(obj: Mapping[str, Any], prefix: str) -> None:
    for key in PRICE_FIELDS:
        value = obj.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidItem(f"{prefix}{key}: expected a number or null, got {_shown(value)}")
        if not (math.isfinite(value) and 0 <= value <= MAX_PRICE):
            raise InvalidItem(f"{prefix}{key}: expected a finite number in [0, {MAX_PRICE}], got {value!r}")


def _check_rating(obj: Mapping[str, Any], prefix: str) -> None:
    """A rating is a finite number in [0, MAX_RATING] or null (the parser keeps it under its own bestRating)."""
    value = obj.get("rating")
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidItem(f"{prefix}rating: expected a number or null, got {_shown(value)}")
    if not (math.isfinite(value) and 0 <= value <= MAX_RATING):
        raise InvalidItem(f"{prefix}rating: expected a finite number in [0, {MAX_RATING}], got {value!r}")


def _check_strings(obj: Mapping[str, Any], names: tuple[str, ...], prefix: str) -> None:
    for name in names:
        value = obj.get(name)
        if value is not None and not isinstance(value, str):
            raise InvalidItem(f"{prefix}{name}: expected a string or null, got {type(value).__name__}")
        _check_length(prefix + name, value)


def _check_length(name: str, value: Any) -> None:
    """A string no longer than MAX_TEXT_CHARS that is Unicode text (no lone surrogate: JSON's `"\\udcff"`
    decodes to one, and no store or encoder can write it)."""
    if not isinstance(value, str):
        return
    if len(value) > MAX_TEXT_CHARS:
        raise InvalidItem(f"{name}: {len(value)} characters, more than {MAX_TEXT_CHARS}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidItem(
                f"{name}: not Unicode text (a lone surrogate at character {exc.start})"
            ) from None


def _check_flag(obj: Mapping[str, Any], name: str, prefix: str) -> None:
    value = obj.get(name)
    if value is not None and not isinstance(value, bool):
        raise InvalidItem(f"{prefix}{name}: expected true, false or null, got {_shown(value)}")


def _time(name: str, value: Any, observed: datetime | None) -> str | None:
    """The canonical form of a time that is readable and believable relative to `observed`; None stays None."""
    try:
        text = to_iso(value)
    except (ValueError, OverflowError) as exc:  # year 1 or 9999 with an offset overflows on the way to UTC
        raise InvalidItem(
            f"{name}: {exc if isinstance(exc, ValueError) else f'out of range: {value!r}'}"
        ) from None
    moment = parse_iso(text)
    if moment is not None and not believable_time(moment, observed):
        raise InvalidItem(
            f"{name}: {text} is not believable (before {EARLIEST_TIME.year} or too far after the observation)"
        )
    return text


def _shown(value: Any) -> str:
    """A value for a message: its repr, cut short (a hostile line may hold a megabyte in one field)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
