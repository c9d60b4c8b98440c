"""schema.org nodes (JSON-LD-shaped dicts, from JSON-LD blocks or converted microdata) -> trendcart items."""

from __future__ import annotations

import html
import math
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from crawler.bounds import MAX_RATING
from crawler.items import (
    BaseItem,
    CreatorRef,
    LiveInfo,
    LiveItem,
    Metrics,
    ProductItem,
    ProductRef,
    VideoItem,
    make_id,
    split_id,
)
from crawler.normalize import (
    clean_text,
    extract_hashtags,
    guess_language,
    normalise_hashtags,
    parse_count,
    parse_currency,
    parse_datetime,
    parse_duration,
    parse_price,
)
from crawler.parsers.web import absolute_url, web_id, web_native_id

VIDEO_TYPES = frozenset({"VideoObject"})
# Product and its schema.org subtypes (a Car on a dealer's page, a ProductModel, a DietarySupplement are products).
PRODUCT_TYPES = frozenset(
    {
        "Product",
        "ProductGroup",
        "ProductCollection",
        "IndividualProduct",
        "ProductModel",
        "SomeProducts",
        "Vehicle",
        "Car",
        "Motorcycle",
        "MotorizedBicycle",
        "BusOrCoach",
        "DietarySupplement",
    }
)
# schema.org's default bestRating when a Rating does not say (https://schema.org/bestRating).
DEFAULT_BEST_RATING = 5.0
_RATING_NUMBER_RE = re.compile(r"^\s*([0-9]{1,3}(?:[.,][0-9]{1,6})?)\s*$")
CREATOR_TYPES = frozenset({"Person", "Organization", "Corporation", "Brand", "OnlineStore", "Store"})
OFFER_TYPES = frozenset({"Offer", "AggregateOffer"})
# interactionStatistic.interactionType -> our metric (BookmarkAction: a saved/collected video).
INTERACTION_METRICS = {
    "WatchAction": "views",
    "ViewAction": "views",
    "LikeAction": "likes",
    "CommentAction": "comments",
    "ShareAction": "shares",
    "BookmarkAction": "collects",
}
# The pre-2014 form `interactionCount: "UserLikes:123"` (schema.org's UserInteraction subtypes).
LEGACY_INTERACTIONS = {"UserPlays": "views", "UserLikes": "likes", "UserComments": "comments"}
# Properties that link a video to the products it shows, and a product to the videos that show it.
VIDEO_TO_PRODUCT = ("about", "mentions", "itemListElement", "subjectOf")
PRODUCT_TO_VIDEO = ("subjectOf", "video", "associatedMedia", "mentions")
# A live BroadcastEvent lists what is on sale in the room: its `offers` (an Offer of a Product, or an Offer that
# names the product itself) and the products among its `workFeatured`; a VideoObject there is the stream.
EVENT_TO_PRODUCT = ("offers", "workFeatured", "about")
# Hostile pages nest objects thousands deep; real pages stay under ten.
MAX_DEPTH = 32
# How far a link may pass through ItemList / ListItem / Offer wrappers before reaching a product.
MAX_LINK_HOPS = 4


def local_name(value: Any) -> str:
    """`https://schema.org/VideoObject`, `schema:VideoObject`, `VideoObject` -> `VideoObject`; '' for a
    value that is not a string (a type name is never an object or a list)."""
    if not isinstance(value, str):
        return ""
    text = value.strip()
    for sep in ("/", "#", ":"):
        text = text.rsplit(sep, 1)[-1]
    return text


def types_of(node: Any) -> set[str]:
    if not isinstance(node, dict):
        return set()
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw] if raw else []
    return {local_name(v) for v in values if isinstance(v, str)}


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class Graph:
    """Every typed node of a page's structured data, with `@id` references resolvable."""

    def __init__(self, roots: list[Any]) -> None:
        self.nodes: list[dict[str, Any]] = []
        self.top: list[dict[str, Any]] = []
        self.by_id: dict[str, dict[str, Any]] = {}
        for root in roots:
            self._walk(root, 0, top=True)

    def _walk(self, value: Any, depth: int, top: bool) -> None:
        if depth > MAX_DEPTH:
            return
        if isinstance(value, list):
            for child in value:
                self._walk(child, depth + 1, top)
            return
        if not isinstance(value, dict):
            return
        if "@graph" in value:
            self._walk(value["@graph"], depth + 1, top=True)
        if types_of(value):
            self.nodes.append(value)
            if top:
                self.top.append(value)
            node_id = value.get("@id")
            if isinstance(node_id, str) and node_id not in self.by_id:
                self.by_id[node_id] = value
        for key, child in value.items():
            if key != "@graph" and isinstance(child, (dict, list)):
                self._walk(child, depth + 1, top=False)

    def resolve(self, value: Any) -> Any:
        """A bare `{"@id": ...}` reference becomes the node it names (when the page defines it)."""
        if isinstance(value, dict) and not types_of(value) and isinstance(value.get("@id"), str):
            return self.by_id.get(value["@id"], value)
        return value

    def get(self, node: dict[str, Any], name: str) -> list[Any]:
        """All values of a property, references resolved; accepts `schema:name` and full-IRI keys too."""
        for key in (name, f"schema:{name}", f"http://schema.org/{name}", f"https://schema.org/{name}"):
            if key in node:
                return [self.resolve(v) for v in as_list(node[key])]
        return []

    def first(self, node: dict[str, Any], *names: str) -> Any:
        for name in names:
            for value in self.get(node, name):
                if value not in (None, "", []):
                    return value
        return None

    def text(self, node: dict[str, Any], *names: str, max_length: int = 5000) -> str | None:
        value = scalar(self.first(node, *names))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        return clean_text(html.unescape(value), max_length) if isinstance(value, str) else None


def scalar(value: Any) -> Any:
    """`{"@value": x}` -> x; a list -> its first element."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict) and "@value" in value:
        value = value["@value"]
    return value


def truthy(value: Any) -> bool:
    value = scalar(value)
    if isinstance(value, str):
        return value.strip().lower() in (
            "true",
            "yes",
            "1",
            "https://schema.org/true",
            "http://schema.org/true",
        )
    return value is True


class SchemaOrgMapper:
    """Turns one page's Graph into items. `source` names the parser, `page_url` resolves relative URLs,
    `canonical` is the page's canonical URL (the native id of its main video or product)."""

    def __init__(
        self, graph: Graph, page_url: str, canonical: str, observed_at: datetime, source: str
    ) -> None:
        self.g = graph
        self.page_url = page_url
        self.canonical = canonical
        self.observed_at = observed_at
        self.observed_iso = parse_datetime(observed_at.isoformat())
        self.source = source
        self.host = (urlsplit(canonical).hostname or "").lower().removeprefix("www.")
        # Offers a product was found through (an Offer whose itemOffered is the product, on a live event):
        # their price, URL and seller stand for the product's own when it has no offers of its own.
        self.wrapping: dict[int, list[dict[str, Any]]] = {}
        self.events = self._live_events()

    # -- which nodes -------------------------------------------------------------------------------
    def videos(self) -> list[dict[str, Any]]:
        """VideoObjects, and each live BroadcastEvent that no VideoObject stands for (the event is the live)."""
        videos = [n for n in self.g.nodes if types_of(n) & VIDEO_TYPES]
        covered = {id(event) for video in videos if (event := self.live_broadcast(video)) is not None}
        standalone = [e for e in self.events.values() if id(e) not in covered]
        return _unique([*videos, *standalone])

    def products(self) -> list[dict[str, Any]]:
        return _unique(n for n in self.g.nodes if types_of(n) & PRODUCT_TYPES)

    def _live_events(self) -> dict[int, dict[str, Any]]:
        """Live BroadcastEvents by id(): every one with isLiveBroadcast true (top level, in a `@graph`, or a
        VideoObject's `publication`)."""
        return {
            id(n): n
            for n in self.g.nodes
            if "BroadcastEvent" in types_of(n) and truthy(self.g.first(n, "isLiveBroadcast"))
        }

    def event_products(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """What a live event sells: Products among its offers (through Offer.itemOffered), workFeatured and
        about; an Offer that offers no Product but names one (a name and a URL or SKU) is that product."""
        found: list[dict[str, Any]] = []
        for prop in EVENT_TO_PRODUCT:
            for value in self.g.get(event, prop):
                value = self.g.resolve(value)
                if types_of(value) & PRODUCT_TYPES:
                    found.append(value)
                    continue
                if not types_of(value) & OFFER_TYPES:
                    continue
                offered = [
                    p
                    for p in (self.g.resolve(v) for v in self.g.get(value, "itemOffered"))
                    if types_of(p) & PRODUCT_TYPES
                ]
                for product in offered:
                    self.wrapping.setdefault(id(product), []).append(value)
                found.extend(offered)
                if not offered and self.g.text(value, "name") and self.g.first(value, "url", "sku", "gtin13"):
                    found.append(value)
        return _unique(found)

    def _collect(self, values: list[Any], wanted: frozenset[str], hops: int = 0) -> list[dict[str, Any]]:
        """Nodes of the wanted types among values, looking through ItemList/ListItem/Offer wrappers."""
        found: list[dict[str, Any]] = []
        for value in values:
            value = self.g.resolve(value)
            kinds = types_of(value)
            if kinds & wanted:
                found.append(value)
            elif isinstance(value, dict) and hops < MAX_LINK_HOPS:
                inner = (
                    self.g.get(value, "itemListElement")
                    + self.g.get(value, "item")
                    + self.g.get(value, "itemOffered")
                )
                found.extend(self._collect(inner, wanted, hops + 1))
        return found

    def links(
        self, videos: list[dict[str, Any]], products: list[dict[str, Any]]
    ) -> dict[int, list[dict[str, Any]]]:
        """video node id() -> products it shows, from links in either direction, then one documented fallback."""
        linked: dict[int, list[dict[str, Any]]] = {id(v): [] for v in videos}
        for video in videos:
            for prop in VIDEO_TO_PRODUCT:
                linked[id(video)].extend(self._collect(self.g.get(video, prop), PRODUCT_TYPES))
            event = self.live_broadcast(video)
            if event is not None:
                linked[id(video)].extend(self.event_products(event))
        for product in products:
            for prop in PRODUCT_TO_VIDEO:
                for video in self._collect(self.g.get(product, prop), VIDEO_TYPES):
                    if id(video) in linked:
                        linked[id(video)].append(product)
        if len(videos) == 1 and not any(linked.values()):
            # Fallback: a page with one video and, beside it, one product or a top-level ItemList of
            # products is a product page that embeds its video (or a video page listing its goods).
            top_lists = [n for n in self.g.top if "ItemList" in types_of(n)]
            listed = self._collect(top_lists, PRODUCT_TYPES)
            if listed:
                linked[id(videos[0])] = listed
            elif len(products) == 1:
                linked[id(videos[0])] = list(products)
        return {key: _unique(value) for key, value in linked.items()}

    # -- items -------------------------------------------------------------------------------------
    def items(self) -> list[BaseItem]:
        videos, products = self.videos(), self.products()
        links = self.links(videos, products)
        # Offers that are the product themselves (on a live event) are products of the page too.
        products = _unique([*products, *(p for linked in links.values() for p in linked)])
        top_products = [p for p in products if any(p is t for t in self.g.top)]
        # The page's main product (its id falls back to the canonical URL): the only product, on a page
        # whose videos, if any, are nested in it rather than beside it.
        top_videos = [v for v in videos if any(v is t for t in self.g.top)]
        main_product = None
        if not top_videos:
            main_product = (
                top_products[0] if len(top_products) == 1 else (products[0] if len(products) == 1 else None)
            )
        product_ids = {id(p): self.product_id(p, main=p is main_product) for p in products}
        featured: dict[int, list[str]] = {id(p): [] for p in products}
        out: list[BaseItem] = []
        seen: set[str] = set()
        for index, video in enumerate(videos):
            item = self.video_item(video, index, single=len(videos) == 1)
            if item is None or item.id in seen:
                continue
            seen.add(item.id)
            for product in links.get(id(video), []):
                item.products.append(self.product_ref(product, product_ids.get(id(product))))
                featured.setdefault(id(product), []).append(item.id)
            out.append(item)
        for product in products:
            product_id = product_ids[id(product)]
            if product_id is None or product_id in seen:
                continue
            seen.add(product_id)
            out.append(self.product_item(product, product_id, list(dict.fromkeys(featured[id(product)]))))
        return out

    def video_item(self, node: dict[str, Any], index: int, single: bool) -> VideoItem | LiveItem | None:
        g = self.g
        own_url = absolute_url(scalar(g.first(node, "url")), self.page_url)
        node_iri = absolute_url(node.get("@id"), self.page_url) if isinstance(node.get("@id"), str) else None
        media_url = absolute_url(scalar(g.first(node, "embedUrl", "contentUrl")), self.page_url)
        if own_url:
            url = own_url
        elif single:
            url = self.canonical
        else:
            url = node_iri or media_url or f"{self.canonical}#video-{index + 1}"
        title = g.text(node, "name", "headline", max_length=500)
        description = g.text(node, "description", "caption")
        broadcast = self.live_broadcast(node)
        kind = "live" if broadcast is not None else "video"
        native = web_native_id(url)
        if native is None:
            return None
        if url.endswith(f"#video-{index + 1}"):
            native += f"#video-{index + 1}"
        fields: dict[str, Any] = dict(
            id=make_id("web", kind, native),
            platform="web",
            url=own_url or self.canonical,
            title=title,
            description=description,
            hashtags=self.hashtags(node, title, description),
            language=guess_language(" ".join(t for t in (title, description) if t)),
            published_at=parse_datetime(
                scalar(g.first(node, "uploadDate", "datePublished", "dateCreated")), self.observed_at
            ),
            creator=self.creator(g.first(node, "author", "creator", "organizer", "performer")),
            metrics=self.metrics(node),
            observed_at=self.observed_iso,
            source=self.source,
            duration_s=parse_duration(scalar(g.first(node, "duration"))),
            thumbnail=self.image(node, "thumbnailUrl", "thumbnail", "image"),
        )
        if broadcast is not None:
            live = self.live_info(broadcast)
            # A live's published_at is its start (the scheduled start of a scheduled live) on every platform
            # (docs/DATA_MODEL.md): the upload date of a page says when the page was made, not the live.
            fields["published_at"] = live.started_at
            return LiveItem(live=live, **fields)
        return VideoItem(**fields)

    def hashtags(self, node: dict[str, Any], title: str | None, description: str | None) -> list[str]:
        keywords: list[str] = []
        for value in self.g.get(node, "keywords"):
            value = scalar(value)
            if isinstance(value, str):
                keywords.extend(normalise_hashtags(html.unescape(value)))
        return normalise_hashtags(keywords + extract_hashtags(title) + extract_hashtags(description))

    def metrics(self, node: dict[str, Any]) -> Metrics:
        metrics = Metrics()
        for stat in self.g.get(node, "interactionStatistic"):
            if not isinstance(stat, dict):
                continue
            kind = self.g.resolve(scalar(stat.get("interactionType")))
            name = local_name(kind.get("@type", "")) if isinstance(kind, dict) else local_name(kind or "")
            metric = INTERACTION_METRICS.get(name)
            if metric and getattr(metrics, metric) is None:
                setattr(metrics, metric, parse_count(scalar(stat.get("userInteractionCount"))))
        for value in self.g.get(node, "interactionCount"):
            value = scalar(value)
            if isinstance(value, str) and ":" in value:
                name, _, count = value.partition(":")
                metric = LEGACY_INTERACTIONS.get(local_name(name.strip()))
            else:
                metric, count = "views", value  # a bare interactionCount is a play count (old YouTube markup)
            if metric and getattr(metrics, metric) is None:
                setattr(metrics, metric, parse_count(count))
        if metrics.comments is None:
            metrics.comments = parse_count(scalar(self.g.first(node, "commentCount")))
        return metrics

    def creator(self, value: Any) -> CreatorRef | None:
        value = self.g.resolve(scalar(value))
        if isinstance(value, str):
            name = clean_text(html.unescape(value), 200)
            return CreatorRef(name=name) if name else None
        if not isinstance(value, dict):
            return None
        name = self.g.text(value, "name", max_length=200)
        url = absolute_url(scalar(self.g.first(value, "url", "sameAs")), self.page_url)
        handle = self.g.text(value, "alternateName", max_length=200)
        if name is None and url is None and handle is None:
            return None
        followers = None
        for stat in self.g.get(value, "interactionStatistic"):
            kind = scalar(stat.get("interactionType")) if isinstance(stat, dict) else None
            kind = kind.get("@type") if isinstance(kind, dict) else kind
            if kind and local_name(kind) in ("FollowAction", "SubscribeAction"):
                followers = parse_count(scalar(stat.get("userInteractionCount")))
        return CreatorRef(
            id=web_id("creator", url),
            name=name,
            handle=handle.lstrip("@") if handle else None,
            url=url,
            followers=followers,
        )

    def live_broadcast(self, node: dict[str, Any]) -> dict[str, Any] | None:
        """The live BroadcastEvent of a node: the node itself, its `publication`, or an event whose
        `workFeatured` is this video."""
        if id(node) in self.events:
            return node
        for event in self.g.get(node, "publication"):
            if id(self.g.resolve(event)) in self.events:
                return self.g.resolve(event)
        for event in self.events.values():
            if any(self.g.resolve(v) is node for v in self.g.get(event, "workFeatured")):
                return event
        return None

    def live_info(self, event: dict[str, Any]) -> LiveInfo:
        started = parse_datetime(scalar(self.g.first(event, "startDate")), self.observed_at)
        ended = parse_datetime(scalar(self.g.first(event, "endDate")), self.observed_at)
        return LiveInfo(
            status=live_status(started, ended, self.observed_iso), started_at=started, ended_at=ended
        )

    # -- products ----------------------------------------------------------------------------------
    def product_id(self, node: dict[str, Any], main: bool) -> str | None:
        """Its own URL, else its offer's URL, else (for the page's main product) the canonical URL,
        else its SKU/product id/GTIN scoped by the page's host; None when nothing stable is known."""
        url = absolute_url(scalar(self.g.first(node, "url")), self.page_url) or self.offer_url(node)
        if (
            url is None
            and isinstance(node.get("@id"), str)
            and node["@id"].startswith(("http://", "https://"))
        ):
            url = node["@id"]
        if url is None and main:
            url = self.canonical
        if url:
            return web_id("product", url)
        for key in ("sku", "productID", "gtin13", "gtin14", "gtin12", "gtin8", "gtin", "mpn"):
            code = scalar(self.g.first(node, key))
            if isinstance(code, (str, int)) and str(code).strip() and self.host:
                return make_id("web", "product", f"{self.host}/sku/{str(code).strip()}")
        return None

    def offers(self, node: dict[str, Any]) -> list[dict[str, Any]]:
        """The node's offers; else the offers it was found through; an Offer standing for a product is its own."""
        if types_of(node) & OFFER_TYPES and not types_of(node) & PRODUCT_TYPES:
            return [node]
        own = [o for o in self.g.get(node, "offers") if isinstance(o, dict)]
        return own or self.wrapping.get(id(node), [])

    def offer_url(self, node: dict[str, Any]) -> str | None:
        for offer in self.offers(node):
            url = absolute_url(scalar(self.g.first(offer, "url")), self.page_url)
            if url:
                return url
        return None

    def price(self, node: dict[str, Any]) -> tuple[float | None, float | None, str | None]:
        """(low, high or None, currency) over every Offer, AggregateOffer and priceSpecification."""
        lows: list[float] = []
        highs: list[float] = []
        currency: str | None = None
        for offer in self.offers(node):
            specs = [offer] + [s for s in self.g.get(offer, "priceSpecification") if isinstance(s, dict)]
            for spec in specs:
                code = parse_currency(scalar(self.g.first(spec, "priceCurrency")))
                for key, bucket in (("price", lows), ("lowPrice", lows), ("highPrice", highs)):
                    price = parse_price(scalar(self.g.first(spec, key)), default_currency=code)
                    if price is None:
                        continue
                    bucket.append(price.amount)
                    if price.amount_max is not None:
                        highs.append(price.amount_max)
                    currency = currency or price.currency
        if not lows and not highs:
            return None, None, currency
        low = min(lows or highs)
        high = max(highs + lows)
        return low, (high if high > low else None), currency

    def shop(self, node: dict[str, Any]) -> str | None:
        for offer in self.offers(node):
            seller = self.g.resolve(scalar(self.g.first(offer, "seller", "offeredBy")))
            name = (
                self.g.text(seller, "name", max_length=200)
                if isinstance(seller, dict)
                else (clean_text(seller, 200) if isinstance(seller, str) else None)
            )
            if name:
                return name
        brand = self.g.resolve(scalar(self.g.first(node, "brand", "manufacturer")))
        if isinstance(brand, dict):
            return self.g.text(brand, "name", max_length=200)
        return clean_text(html.unescape(brand), 200) if isinstance(brand, str) else None

    def product_url(self, node: dict[str, Any], product_id: str | None) -> str | None:
        url = absolute_url(scalar(self.g.first(node, "url")), self.page_url) or self.offer_url(node)
        if (
            url is None
            and isinstance(node.get("@id"), str)
            and node["@id"].startswith(("http://", "https://"))
        ):
            url = node["@id"]
        if url is None and product_id and web_native_id(self.canonical) == split_id(product_id)[2]:
            url = self.canonical
        return url

    def product_ref(self, node: dict[str, Any], product_id: str | None) -> ProductRef:
        low, high, currency = self.price(node)
        rating, reviews = self.rating(node)
        return ProductRef(
            id=product_id,
            title=self.g.text(node, "name", max_length=500),
            price=low,
            price_max=high,
            currency=currency,
            url=self.product_url(node, product_id),
            shop=self.shop(node),
            thumbnail=self.image(node),
            rating=rating,
            review_count=reviews,
        )

    def image(self, node: dict[str, Any], *names: str) -> str | None:
        """The first image URL of `image` (or the given properties): a URL string or an ImageObject."""
        for name in names or ("image",):
            for value in self.g.get(node, name):
                value = scalar(value)
                if isinstance(value, dict):
                    value = scalar(self.g.first(value, "url", "contentUrl", "thumbnailUrl"))
                url = absolute_url(value, self.page_url)
                if url:
                    return url
        return None

    def rating(self, node: dict[str, Any]) -> tuple[float | None, int | None]:
        """(ratingValue, ratingCount else reviewCount) of the node's aggregateRating. A value is kept only when
        it is a finite number in [0, bestRating] (bestRating 5 when unsaid, at most MAX_RATING)."""
        for aggregate in self.g.get(node, "aggregateRating"):
            if not isinstance(aggregate, dict):
                continue
            best = rating_number(scalar(self.g.first(aggregate, "bestRating")))
            best = best if best is not None and 0 < best <= MAX_RATING else DEFAULT_BEST_RATING
            value = rating_number(scalar(self.g.first(aggregate, "ratingValue")))
            reviews = parse_count(scalar(self.g.first(aggregate, "ratingCount")))
            if reviews is None:
                reviews = parse_count(scalar(self.g.first(aggregate, "reviewCount")))
            return (value if value is not None and value <= best else None), reviews
        return None, None

    def product_item(self, node: dict[str, Any], product_id: str, featured_in: list[str]) -> ProductItem:
        low, high, currency = self.price(node)
        rating, reviews = self.rating(node)
        title = self.g.text(node, "name", max_length=500)
        description = self.g.text(node, "description")
        category = self.g.first(node, "category")
        category = (
            self.g.text(category, "name", max_length=200)
            if isinstance(category, dict)
            else (clean_text(html.unescape(category), 200) if isinstance(category, str) else None)
        )
        return ProductItem(
            id=product_id,
            platform="web",
            url=self.product_url(node, product_id),
            title=title,
            description=description,
            hashtags=[],
            language=guess_language(" ".join(t for t in (title, description) if t)),
            observed_at=self.observed_iso,
            source=self.source,
            price=low,
            price_max=high,
            currency=currency,
            shop=self.shop(node),
            category=category,
            featured_in=featured_in,
            thumbnail=self.image(node),
            rating=rating,
            review_count=reviews,
        )


def rating_number(value: Any) -> float | None:
    """A rating from a number or a string such as `4.5` or `4,5`; None for anything else, negative or not finite."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        match = _RATING_NUMBER_RE.match(value)
        value = float(match.group(1).replace(",", ".")) if match else None
    if isinstance(value, (int, float)) and math.isfinite(value) and value >= 0:
        return float(value)
    return None


def live_status(started: str | None, ended: str | None, now_iso: str | None) -> str | None:
    """ended when the end has passed; scheduled before the start; live between; None without dates.
    ISO strings in UTC with a Z compare correctly as text."""
    if not now_iso:
        return None
    if ended and ended <= now_iso:
        return "ended"
    if started and started > now_iso:
        return "scheduled"
    if started:
        return "live"
    return None


def _unique(nodes: Any) -> list[dict[str, Any]]:
    seen: set[int] = set()
    out = []
    for node in nodes:
        if id(node) not in seen:
            seen.add(id(node))
            out.append(node)
    return out
