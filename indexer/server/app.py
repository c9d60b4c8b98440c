"""create_app: the FastAPI app of `trendcart serve`: the API, the dashboard, the static files, the guards."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from indexer.products import ProductNotFound
from indexer.server import api, pages
from indexer.server.config import ServerConfig
from indexer.server.security import GuardMiddleware
from indexer.store import StoreError
from indexer.workflows.errors import HANDLED, ExitCode, exit_code_for

log = logging.getLogger("trendcart.server")
# The HTTP status of each CLI exit code a workflow error maps to (the same kinds, one table).
STATUS_OF_EXIT = {
    ExitCode.USAGE: 400,
    ExitCode.INPUT: 400,
    ExitCode.NOTHING: 404,
    ExitCode.STORE: 503,
    ExitCode.ERROR: 500,
}

# Store errors that name nothing found (the CLI's exit 3), answered 404 rather than 503 (store unavailable).
NOT_FOUND: tuple[type[Exception], ...] = (ProductNotFound,)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(config: ServerConfig) -> FastAPI:
    """The app over `config`'s store; OpenAPI at /openapi.json, no /docs (Swagger UI would load from a CDN)."""
    app = FastAPI(
        title="trendcart",
        summary="Search, trends, products, lives, watches and crawl health of one trendcart store.",
        version="1",
        docs_url=None,
        redoc_url=None,
    )
    app.state.config = config
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).with_name("static"))), name="static")
    app.add_middleware(GuardMiddleware)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_params(_request: Request, exc: RequestValidationError) -> JSONResponse:
        reasons = [
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p not in ('query', 'body'))}: {e.get('msg')}"
            for e in exc.errors()
        ]
        return _error(422, "; ".join(reasons) or "invalid request")

    async def refused(request: Request, exc: Exception) -> JSONResponse:
        status = 404 if isinstance(exc, NOT_FOUND) else STATUS_OF_EXIT.get(exit_code_for(exc), 500)
        if status == 500:
            return await unexpected(request, exc)
        return _error(status, str(exc))

    for kind in (*HANDLED, StoreError):  # a workflow's refusal: its one-line reason, with its status
        app.add_exception_handler(kind, refused)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        """Anything else: the trace goes to the log, the response says only "internal error"."""
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        return _error(500, "internal error")

    return app
