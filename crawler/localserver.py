"""A small local HTTP server on 127.0.0.1 (port 0) for the demo site, the tests and the benchmarks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HTML = "text/html; charset=utf-8"
# Content types by file suffix for files served from a static root (and for `add_file`).
CONTENT_TYPES = {
    ".html": HTML,
    ".json": "application/json; charset=utf-8",
    ".xml": "application/xml",
    ".gz": "application/gzip",
    ".txt": "text/plain; charset=utf-8",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
}
OCTET_STREAM = "application/octet-stream"
# How often the serve loop checks for shutdown (s): `stop()` returns within this; idle cost stays negligible.
SHUTDOWN_POLL_S = 0.05
# Connections waiting to be accepted. socketserver's default of 5 is below one crawler's burst (16 concurrent
# requests): on a busy machine the kernel then drops SYNs, the client resends them a second later, and
# requests time out before the server ever sees them (a flaky 2 s-timeout test showed exactly that).
LISTEN_BACKLOG = 128


@dataclass
class Route:
    """One canned answer: body, status and headers (Content-Length is added when sent)."""

    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


NOT_FOUND = Route(b"<html><body>not found</body></html>", 404, {"Content-Type": "text/html"})

# A hook sees every request that no route answered; it returns True when it answered the request itself.
Hook = Callable[["LocalServer", BaseHTTPRequestHandler], bool]


def content_type_of(path: Path | str) -> str:
    return CONTENT_TYPES.get(Path(path).suffix, OCTET_STREAM)


class _Server(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True


def send(request: BaseHTTPRequestHandler, route: Route) -> None:
    """Answer one request with `route` (no body for HEAD)."""
    request.send_response(route.status)
    for key, value in route.headers.items():
        request.send_header(key, value)
    request.send_header("Content-Length", str(len(route.body)))
    request.end_headers()
    if request.command != "HEAD":
        request.wfile.write(route.body)


class LocalServer:
    """A ThreadingHTTPServer in a daemon thread: `with LocalServer() as server: server.url("/x")`.

    A request is answered by its route (the exact path with its query first, then the path alone), else by
    the hook, else by a file under `root`, else 404. `hits` counts requests by path (query included).
    The socket is bound on first use (`url`, `base_url`, `start`), so pages may embed the server's URL
    before it serves them.
    """

    def __init__(
        self,
        routes: Mapping[str, Route] | None = None,
        *,
        root: Path | str | None = None,
        hook: Hook | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.root = Path(root).resolve() if root is not None else None
        self.hook = hook
        self.hits: dict[str, int] = {}
        self._address = (host, port)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- routes ------------------------------------------------------------------------------------
    def add(
        self,
        path: str,
        body: bytes | str,
        status: int = 200,
        content_type: str = HTML,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Serve `body` at `path` (a query string makes it a route of its own); returns its URL."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(data, status, {"Content-Type": content_type, **(headers or {})})
        return self.url(path)

    def add_file(self, path: str, file: Path, content_type: str | None = None) -> str:
        return self.add(path, file.read_bytes(), content_type=content_type or content_type_of(file))

    def set_routes(self, routes: Mapping[str, Route]) -> None:
        """Replace every route at once (a request sees the old set or the new one, never a mix)."""
        self.routes = dict(routes)

    def route_for(self, target: str) -> Route | None:
        """The route for a request target (path with query, then path alone), or None."""
        routes = self.routes
        return routes.get(target) or routes.get(target.split("?", 1)[0])

    # -- addresses ---------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._bind().server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    @property
    def total_hits(self) -> int:
        return sum(self.hits.values())

    # -- life cycle --------------------------------------------------------------------------------
    def _bind(self) -> ThreadingHTTPServer:
        if self._httpd is None:
            self._httpd = _Server(self._address, self._handler_class())
            self._httpd.daemon_threads = True
        return self._httpd

    def start(self) -> LocalServer:
        httpd = self._bind()
        if self._thread is None:
            self._thread = threading.Thread(
                target=httpd.serve_forever, args=(SHUTDOWN_POLL_S,), name="localserver", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        if self._thread is not None:  # shutdown() waits for serve_forever, so only once it runs
            self._httpd.shutdown()
            self._thread = None
        self._httpd.server_close()
        self._httpd = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- answering ---------------------------------------------------------------------------------
    def handle(self, request: BaseHTTPRequestHandler) -> None:
        """Answer one request: route, hook, static file, 404."""
        route = self.route_for(request.path)
        if route is not None:
            return send(request, route)
        if self.hook is not None and self.hook(self, request):
            return None
        route = self.static_route(request.path.split("?", 1)[0])
        return send(request, route or NOT_FOUND)

    def static_route(self, path: str) -> Route | None:
        """A file under `root` (never outside it) as a route, or None."""
        if self.root is None:
            return None
        file = (self.root / path.lstrip("/")).resolve()
        if self.root in file.parents and file.is_file():
            return Route(file.read_bytes(), 200, {"Content-Type": content_type_of(file)})
        return None

    def _count(self, target: str) -> None:
        with self._lock:
            self.hits[target] = self.hits.get(target, 0) + 1

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep callers' output quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server._count(self.path)
                server.handle(self)

            do_HEAD = do_GET

        return Handler


__all__ = ["CONTENT_TYPES", "HTML", "Hook", "LocalServer", "NOT_FOUND", "Route", "content_type_of", "send"]
