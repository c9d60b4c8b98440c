"""Typed items (video, live, product, creator, snapshot) and their one JSON form (see docs/DATA_MODEL.md)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

PLATFORMS = ("douyin", "tiktok", "kuaishou", "bilibili", "youtube", "web")
KINDS = ("video", "live", "product", "creator")
LIVE_STATUSES = ("scheduled", "live", "ended")
METRIC_NAMES = ("views", "likes", "comments", "shares", "collects", "viewers", "peak_viewers", "sales")


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
    """Inverse of make_id: `(platform, kind, native_id)`; the native id may itself contain colons."""
    platform, kind, native = doc_id.split(":", 2)
    return platform, kind, native


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
    kind = "video"


@dataclass
class LiveItem(BaseItem):
    live: LiveInfo = field(default_factory=LiveInfo)
    products: list[ProductRef] = field(default_factory=list)
    duration_s: int | None = None
    kind = "live"


@dataclass
class ProductItem(BaseItem):
    price: float | None = None
    price_max: float | None = None
    currency: str | None = None
    shop: str | None = None
    category: str | None = None
    featured_in: list[str] = field(default_factory=list)
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
        raise ValueError(f"item must be a JSON object, got {type(data).__name__}")
    kind = data.get("kind")
    cls = ITEM_CLASSES.get(kind)  # type: ignore[arg-type]
    if cls is None:
        raise ValueError(f"unknown kind {kind!r}")
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
        raise ValueError(f"item {data.get('id')!r}: {exc}") from exc


def _build(cls: type, data: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})
