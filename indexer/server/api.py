"""The JSON API: each route is one workflow call, answering in the shape of the CLI's --json (docs/API.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from crawler.items import KINDS, PLATFORMS
from crawler.times import parse_iso, resolve_time, utc_now
from indexer.server.config import MAX_LIMIT, MAX_QUERY_CHARS, ServerConfig
from indexer.server.security import check_read, check_write
from indexer.store import SearchFilters, SearchMode
from indexer.trends import METRICS, TrendBy
from indexer.workflows.errors import BadRequest

router = APIRouter(prefix="/api", dependencies=[Depends(check_read)])
Platform = Literal[tuple(PLATFORMS)]  # type: ignore[valid-type]
Kind = Literal[tuple(KINDS)]  # type: ignore[valid-type]
MetricName = Literal[tuple(METRICS)]  # type: ignore[valid-type]
Text = Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS)]
OptText = Annotated[str | None, Query(max_length=MAX_QUERY_CHARS)]
Ident = Annotated[str, Query(min_length=1, max_length=300)]
Window = Annotated[str, Query(max_length=32)]
Now = Annotated[
    str | None, Query(max_length=40, description="As of this ISO 8601 time (default: the clock).")
]


def config_of(request: Request) -> ServerConfig:
    return request.app.state.config


def as_of(config: ServerConfig, now: str | None) -> datetime:
    """`now` (ISO 8601) or, as the CLI does, the demo's clock for a demo store, else the clock."""
    if now:
        when = parse_iso(now)
        if when is None:
            raise BadRequest(f"now: not an ISO 8601 time: {now!r}")
        return when
    from indexer.workflows.clock import demo_clock

    return demo_clock(config.spec, config.model_name) or utc_now()


def _time(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    resolved = resolve_time(value)
    if resolved is None:
        raise BadRequest(f"{name}: cannot read {value!r} as a time (try 2026-11-20, 7d or 24h)")
    return resolved


@router.get("/search")
def search(
    request: Request,
    q: Text,
    mode: SearchMode = SearchMode.hybrid,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
    platform: Platform | None = None,
    kind: Kind | None = None,
    since: OptText = None,
    until: OptText = None,
    min_views: Annotated[int | None, Query(ge=0)] = None,
    min_likes: Annotated[int | None, Query(ge=0)] = None,
    price_min: Annotated[float | None, Query(ge=0)] = None,
    price_max: Annotated[float | None, Query(ge=0)] = None,
    has_products: bool | None = None,
    creator: OptText = None,
    min_similarity: Annotated[float | None, Query(ge=-1.0, le=1.0)] = None,
) -> list[dict[str, Any]]:
    """`trendcart search --json`: the hits, each saying why it ranked."""
    from indexer.workflows.queries import search_store

    config = config_of(request)
    filters = SearchFilters(
        platform=platform, kind=kind, published_from=_time("since", since), published_to=_time("until", until),
        min_views=min_views, min_likes=min_likes, price_min=price_min, price_max=price_max,
        has_products=has_products, creator=creator,
    )  # fmt: skip
    from indexer.server.cache import WARM_STORES

    args = (config.spec, q, mode, filters, limit)
    store = WARM_STORES.get(config.spec, config.model_name)  # None: no store yet (search_store says so)
    options = {"model_name": config.model_name, "min_similarity": min_similarity, "store": store}
    if mode is SearchMode.keyword:
        hits = search_store(*args, **options)
    else:
        with config.models.using() as embedder:
            hits = search_store(*args, embedder=embedder, **options)
    return [hit.to_json() for hit in hits]


def trending_json(
    config: ServerConfig,
    by: str = "product",
    window: str = "24h",
    metric: str = "views",
    limit: int = 20,
    platform: str | None = None,
    query: str | None = None,
    now: str | None = None,
    listings: bool = False,
) -> dict[str, Any]:
    """`trendcart trending --json` (the dashboard's first page too)."""
    from indexer.server.cache import store_version
    from indexer.workflows.products import book_path
    from indexer.workflows.queries import rank_trending

    when = as_of(config, now)
    if not now:  # the clock: to the minute, so that reloads within it share one ranking
        when = when.replace(second=0, microsecond=0)
    args = (config.spec, by, window, metric, limit, platform, when, config.model_name, query)

    def compute() -> dict[str, Any]:
        if not query:
            return rank_trending(*args, listings=listings).to_json()
        with config.models.using() as embedder:
            return rank_trending(*args, embedder, listings=listings).to_json()

    version = store_version(config.spec, (book_path(config.spec),))
    return config.rankings.get((*args[1:], listings), version, compute)


def dashboard_json(
    config: ServerConfig,
    window: str = "24h",
    platform: str | None = None,
    query: str | None = None,
    now: str | None = None,
    limit: int = 20,
) -> dict[str, Any]:
    """The dashboard's product ranking: from the snapshot ranked when the data changed (indexer.server
    .cache.DASHBOARD: `ranked_at`, `stale`, `pending`), never ranked inside the request; a ranking the
    snapshot does not hold (a query, a platform, another window or `now`) is trending_json's."""
    from indexer.server.cache import DASHBOARD

    if not query and platform is None:
        when = as_of(config, now)
        if not now:
            when = when.replace(second=0, microsecond=0)
        report = DASHBOARD.report(
            config.spec, config.model_name, "product", window, "views", when, explicit=bool(now)
        )
        if report is not None:
            return {**report, "results": report["results"][:limit]}
    return trending_json(config, "product", window, "views", limit, platform, query, now)


@router.get("/trending")
def trending(
    request: Request,
    by: TrendBy = TrendBy.product,
    window: Window = "24h",
    metric: MetricName = "views",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    platform: Platform | None = None,
    query: OptText = None,
    listings: bool = False,
    now: Now = None,
) -> dict[str, Any]:
    """`trendcart trending --json`: the ranking with every component; `query` narrows it (hybrid search)."""
    return trending_json(config_of(request), by.value, window, metric, limit, platform, query, now, listings)


@router.get("/products")
def product_list(request: Request) -> list[dict[str, Any]]:
    """`trendcart product list --json`: every canonical product (new offers grouped first)."""
    from indexer.workflows.products import list_products

    config = config_of(request)
    with config.models.using() as embedder:
        return list_products(config.spec, config.model_name, embedder)


def product_json(
    config: ServerConfig, ident: str, window: str = "7d", now: str | None = None, currency: str | None = None
) -> dict[str, Any]:
    """`trendcart product show ID --json` (the dashboard's product page too)."""
    from indexer.workflows.products import show_product

    when = as_of(config, now)
    cur = currency.upper() if currency else None
    with config.models.using() as embedder:
        return show_product(config.spec, ident, config.model_name, embedder, cur, window, when)


@router.get("/product")
def product_show(
    request: Request,
    id: Ident,
    window: Window = "7d",
    currency: Annotated[str | None, Query(pattern="^[A-Za-z]{3}$")] = None,
    now: Now = None,
) -> dict[str, Any]:
    """`trendcart product show ID --json`: members, links, prices, sales, FACT in the window."""
    return product_json(config_of(request), id, window, now, currency)


@router.get("/live")
def live_show(request: Request, id: Ident) -> dict[str, Any]:
    """`trendcart live show ID --json`: the room, its viewer samples and stats, its products."""
    from indexer.workflows.live import show_live

    config = config_of(request)
    return show_live(config.spec, id, config.model_name)


@router.get("/creator")
def creator_show(request: Request, id: Ident) -> dict[str, Any]:
    """`trendcart creator show ID --json`: tier, followers over time, content, products."""
    from indexer.workflows.creators import show_creator

    config = config_of(request)
    return show_creator(config.spec, id, config.model_name)


@router.get("/stats")
def stats(request: Request) -> dict[str, Any]:
    """`trendcart stats --json`: counts, the platform x kind matrix, the crawl log in one."""
    from indexer.workflows.overview import store_overview

    config = config_of(request)
    return store_overview(config.spec, config.model_name)


@router.get("/health")
def health(request: Request, now: Now = None) -> dict[str, Any]:
    """Crawl health as `trendcart health --json` computes it, read only: nothing is recorded or delivered
    here (`new_alerts` stays empty; `health` and `watch check` record and deliver)."""
    from indexer.workflows.health import crawl_health

    config = config_of(request)
    return {**crawl_health(config.spec, as_of(config, now)).to_json(), "new_alerts": [], "delivery": None}


@router.get("/watches")
def watch_list(request: Request) -> list[dict[str, Any]]:
    """`trendcart watch list --json`."""
    from indexer.workflows.watches import list_watches

    return list_watches(config_of(request).spec)


@router.get("/alerts")
def alerts(request: Request, limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100) -> list[dict[str, Any]]:
    """The alert history, newest first (breakouts and crawl-health rises)."""
    from indexer.workflows.watches import recent_alerts

    return recent_alerts(config_of(request).spec, limit=limit)


class WatchIn(BaseModel):
    """`trendcart watch add` as a JSON body."""

    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    by: TrendBy = TrendBy.product
    platform: Platform | None = None
    min_score: float | None = None
    name: str | None = Field(default=None, max_length=200)
    top: int = Field(default=10, ge=1, le=MAX_LIMIT)
    window: str = Field(default="24h", max_length=32)
    now: str | None = Field(default=None, max_length=40)


@router.post("/watches", dependencies=[Depends(check_write)], status_code=201)
def watch_add(request: Request, watch: WatchIn) -> dict[str, Any]:
    """`trendcart watch add --json`: the watch and its baseline (needs the token)."""
    from indexer.trends import parse_window
    from indexer.workflows.watches import add_watch

    config = config_of(request)
    try:
        parse_window(watch.window)
    except ValueError as exc:
        raise BadRequest(f"window: {exc}") from None
    when = as_of(config, watch.now)
    with config.models.using() as embedder:
        return add_watch(
            config.spec, watch.query, by=watch.by.value, platform=watch.platform, min_score=watch.min_score,
            name=watch.name, top=watch.top, window=watch.window, now=when, model_name=config.model_name,
            embedder=embedder,
        )  # fmt: skip


@router.delete("/watches/{name:path}", dependencies=[Depends(check_write)])
def watch_rm(request: Request, name: str) -> dict[str, Any]:
    """`trendcart watch rm NAME --json` (needs the token); 404 when there is no such watch. NAME is
    percent-encoded; it may hold a '/' (sent as %2F), as any printable name can."""
    from indexer.workflows.watches import remove_watch

    return remove_watch(config_of(request).spec, name)


@router.post("/watches/check", dependencies=[Depends(check_write)])
def watch_check(request: Request, now: Now = None) -> dict[str, Any]:
    """`trendcart watch check --json`: every watch checked now, breakouts recorded and delivered to the
    sinks of the environment (TRENDCART_ALERT_JSONL, ...); needs the token (it writes the history)."""
    from indexer.workflows.errors import NothingFound
    from indexer.workflows.watches import check_now, list_watches

    config = config_of(request)
    if not list_watches(config.spec):
        raise NothingFound("no watches yet: POST /api/watches")
    when = as_of(config, now)
    with config.models.using() as embedder:
        result = check_now(
            config.spec, crawl_health=False, now=when, model_name=config.model_name, embedder=embedder
        )
    return result.to_json()
