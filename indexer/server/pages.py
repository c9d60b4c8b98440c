"""The dashboard: HTML pages drawn from the same workflow calls as the API, charts as inline SVG."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from crawler.items import PLATFORMS
from indexer.server import svg
from indexer.server.api import Now, OptText, Platform, Window, as_of, config_of, product_json, trending_json
from indexer.server.config import MAX_LIMIT, MAX_QUERY_CHARS, ServerConfig
from indexer.server.security import TOKEN_COOKIE, check_read, token_matches
from indexer.store import SearchMode
from indexer.trends import TrendBy
from indexer.watches import DEFAULT_TOP, DEFAULT_WINDOW
from indexer.workflows.errors import NothingFound
from indexer.workflows.opening import opened

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))  # autoescape: .html
TEMPLATES.env.globals.update(
    fact_bar=svg.fact_bar, curve=svg.curve, fact_parts=[n for n, _ in svg.FACT_PARTS]
)
# Rows drawn on the dashboard's rankings (the API takes up to MAX_LIMIT).
SHOWN_ROWS = 20
router = APIRouter()
read = [Depends(check_read)]


def page(request: Request, name: str, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, {"page": name.removesuffix(".html"), **context})


def _sum_series(config: ServerConfig, ids: list[str], metric: str) -> list[tuple[str, float | None]]:
    """The metric of `ids` summed per observation time, oldest first (each id's last value carried)."""
    with opened(config.spec, config.model_name) as store:
        per_id = {
            i: [(s.observed_at, s.metrics.get(metric)) for s in store.snapshots(i, metric)] for i in ids
        }
    times = sorted({at for points in per_id.values() for at, v in points if v is not None})
    out, last = [], dict.fromkeys(ids, 0)
    for at in times:
        for i, points in per_id.items():
            for when, value in points:
                if when == at and value is not None:
                    last[i] = value
        out.append((at, float(sum(last.values()))))
    return out


def _members(row: dict[str, Any]) -> list[str]:
    canonical = row.get("canonical") or {}
    return list(canonical.get("members") or []) or [row["id"]]


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    window: Window = "24h",
    platform: Platform | None = None,
    query: OptText = None,
    now: Now = None,
    token: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Trending products with their FACT split and sales curves; `?token=` stores the token in a cookie."""
    config = config_of(request)
    if token is not None:
        if not token_matches(config, token):
            return HTMLResponse("wrong token", status_code=401)
        done = RedirectResponse("/", status_code=303)
        done.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return done
    check_read(request)
    from indexer.server.api import dashboard_json  # the ranking as last ranked, never ranked here

    report = dashboard_json(config, window, platform, query or None, now, SHOWN_ROWS)
    curves = {
        r["id"]: svg.curve(_sum_series(config, _members(r), "sales"), label="sales")
        for r in report["results"]
    }
    return page(request, "trending.html", report=report, curves=curves, query=query or "", window=window)


@router.get("/product", response_class=HTMLResponse, dependencies=read)
def product(
    request: Request, id: Annotated[str, Query(min_length=1, max_length=300)], now: Now = None
) -> Response:
    """One canonical product: members across platforms, FACT, price and sales history, linking content."""
    config = config_of(request)
    shown = product_json(config, id, "7d", now)
    sales = svg.curve([(p["at"], p.get("sales")) for p in shown.get("sales") or []], 480, 120, "sales")
    prices = {
        cur: svg.curve([(h["at"], h["price"]) for h in info.get("history") or []], 480, 80, f"price {cur}")
        for cur, info in (shown.get("prices") or {}).get("by_currency", {}).items()
    }
    return page(request, "product.html", p=shown, sales_curve=sales, price_curves=prices)


@router.get("/lives", response_class=HTMLResponse, dependencies=read)
def lives(request: Request, window: Window = "24h", now: Now = None) -> Response:
    """Live rooms ranked by their viewer curves, each with its curve."""
    from indexer.workflows.live import show_live

    config = config_of(request)
    report = trending_json(config, "live", window, "views", SHOWN_ROWS, None, None, now)
    rooms = []
    for row in report["results"]:
        try:
            detail = show_live(config.spec, row["id"], config.model_name)
        except NothingFound:
            continue
        points = [(s["at"], s.get("viewers")) for s in detail["samples"]]
        rooms.append({"row": row, "live": detail, "curve": svg.curve(points, 240, 48, "viewers")})
    return page(request, "lives.html", report=report, rooms=rooms)


@router.get("/live", response_class=HTMLResponse, dependencies=read)
def live(request: Request, id: Annotated[str, Query(min_length=1, max_length=300)]) -> Response:
    """One live room: its viewer curve, stats and products."""
    from indexer.workflows.live import show_live

    config = config_of(request)
    detail = show_live(config.spec, id, config.model_name)
    points = [(s["at"], s.get("viewers")) for s in detail["samples"]]
    return page(request, "live.html", live=detail, curve=svg.curve(points, 480, 120, "viewers"))


@router.get("/search", response_class=HTMLResponse, dependencies=read)
def search(
    request: Request,
    q: Annotated[str | None, Query(max_length=MAX_QUERY_CHARS)] = None,
    mode: SearchMode = SearchMode.hybrid,
) -> Response:
    """The search box and its hits."""
    from indexer.workflows.queries import search_store

    config = config_of(request)
    hits: list[dict[str, Any]] = []
    if q:
        if mode is SearchMode.keyword:
            found = search_store(config.spec, q, mode, None, 20, model_name=config.model_name)
        else:
            with config.models.using() as embedder:
                found = search_store(
                    config.spec, q, mode, None, 20, model_name=config.model_name, embedder=embedder
                )
        hits = [h.to_json() for h in found]
    return page(request, "search.html", q=q or "", mode=mode.value, hits=hits)


@router.get("/watches", response_class=HTMLResponse, dependencies=read)
def watches(request: Request) -> Response:
    """The saved watches, the form that adds one (the token-holding writes of app.js; off when the server
    has no token: it takes no writes) and the alert history."""
    from indexer.workflows.watches import list_watches, recent_alerts

    config = config_of(request)
    spec = config.spec
    return page(
        request, "watches.html", watches=list_watches(spec), alerts=recent_alerts(spec, limit=50),
        writes=bool(config.token), bys=[b.value for b in TrendBy], platforms=PLATFORMS,
        default_top=DEFAULT_TOP, default_window=DEFAULT_WINDOW, max_query=MAX_QUERY_CHARS, max_limit=MAX_LIMIT,
    )  # fmt: skip


@router.get("/health", response_class=HTMLResponse, dependencies=read)
def health(request: Request, now: Now = None) -> Response:
    """Crawl health per platform and spider, each rate with its daily trend."""
    from indexer.workflows.health import crawl_health

    config = config_of(request)
    report = crawl_health(config.spec, as_of(config, now)).to_json()
    trends = {
        f"{s['platform']}/{s['spider']}/{name}": svg.curve(
            [(str(i), None if v is None else v * 100) for i, v in enumerate(r["trend"])], 120, 28, name
        )
        for s in report["series"]
        for name, r in s["rates"].items()
    }
    return page(request, "health.html", report=report, trends=trends)
