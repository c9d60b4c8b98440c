"""The server's guards: bounded URLs and bodies, security headers with a strict CSP, the bearer token."""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import HTTPException, Request

from indexer.server.config import MAX_BODY_BYTES, MAX_URL_BYTES, ServerConfig

# No inline script or style anywhere: the pages load /static/app.js and /static/style.css only; charts are
# inline SVG drawn with presentation attributes (not style attributes), images are SVG or data: screenshots.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
)
TOKEN_COOKIE = "trendcart_token"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + list(SECURITY_HEADERS)})
    await send({"type": "http.response.body", "body": body})


class GuardMiddleware:
    """ASGI middleware: 413 for a URL over MAX_URL_BYTES or a body over MAX_BODY_BYTES (declared or
    streamed), and the security headers on every response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        url_bytes = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        if url_bytes > MAX_URL_BYTES:
            await _refuse(send, 413, f"the URL is {url_bytes} bytes; at most {MAX_URL_BYTES}")
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
            await _refuse(send, 413, f"request bodies are at most {MAX_BODY_BYTES} bytes")
            return
        chunks, size, more = [], 0, True
        while more:  # bodies are small: read all (bounded) first, then hand them on in one message
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > MAX_BODY_BYTES:
                await _refuse(send, 413, f"request bodies are at most {MAX_BODY_BYTES} bytes")
                return
            more = message.get("more_body", False)
        body, sent = b"".join(chunks), False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, replay, with_headers)


def _given(request: Request) -> str | None:
    auth = request.headers.get("authorization") or ""
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.cookies.get(TOKEN_COOKIE)


def token_matches(config: ServerConfig, given: str | None) -> bool:
    return bool(config.token) and given is not None and hmac.compare_digest(given, config.token or "")


def check_read(request: Request) -> None:
    """Reads are open on the loopback interface; bound beyond it, they need the token too."""
    config: ServerConfig = request.app.state.config
    if config.public and not token_matches(config, _given(request)):
        raise HTTPException(401, "this server needs its token: 'Authorization: Bearer TOKEN' (or /?token=)")


def check_write(request: Request) -> None:
    """Writes (watches) always need the token, sent as 'Authorization: Bearer TOKEN'."""
    config: ServerConfig = request.app.state.config
    if not config.token:
        raise HTTPException(403, "writes need a token: start serve with --token or TRENDCART_TOKEN")
    auth = request.headers.get("authorization") or ""
    given = auth[7:].strip() if auth.lower().startswith("bearer ") else None
    if not token_matches(config, given):
        raise HTTPException(401, "writes need 'Authorization: Bearer TOKEN' with the server's token")
