"""A real local HTTP server on 127.0.0.1, port 0, serving saved pages plus misbehaving endpoints.

Endpoints (besides registered routes and files under tests/fixtures/site/):
  /status/<code>          answers with that status and a small HTML body
  /delay/<seconds>/<path> waits, then serves <path> (or a small page)
  /drop                   closes the connection without answering
  /truncated              announces a long body, sends half, then closes
  /robots.txt             disallows /private/ (override by registering /robots.txt)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SITE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "site"
DEFAULT_ROBOTS = b"User-agent: *\nDisallow: /private/\n"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".xml": "application/xml",
    ".gz": "application/gzip",
    ".txt": "text/plain; charset=utf-8",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
}


@dataclass
class Route:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class TestServer:
    """Start with `with TestServer() as server:`; `server.url(path)` gives absolute URLs."""

    __test__ = False  # not a test class

    def __init__(self, root: Path = SITE_DIR) -> None:
        self.root = root
        self.routes: dict[str, Route] = {}
        self.hits: dict[str, int] = {}
        self._httpd: ThreadingHTTPServer | None = None

    # -- set-up ------------------------------------------------------------------------------------
    def add(
        self,
        path: str,
        body: bytes | str,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(data, status, {"Content-Type": content_type, **(headers or {})})
        return self.url(path)

    def add_file(self, path: str, file: Path, content_type: str | None = None) -> str:
        return self.add(
            path,
            file.read_bytes(),
            content_type=content_type or CONTENT_TYPES.get(file.suffix, "application/octet-stream"),
        )

    def url(self, path: str = "/") -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def __enter__(self) -> TestServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                server.handle(self)

            do_HEAD = do_GET

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    # -- answering ---------------------------------------------------------------------------------
    def handle(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        if h.path in self.routes or path in self.routes:
            route = self.routes.get(h.path) or self.routes[path]
            return self._send(h, route.status, route.body, route.headers)
        if path == "/robots.txt":
            return self._send(h, 200, DEFAULT_ROBOTS, {"Content-Type": "text/plain"})
        if path.startswith("/status/"):
            code = int(path.split("/")[2])
            return self._send(
                h, code, f"<html><body>status {code}</body></html>".encode(), {"Content-Type": "text/html"}
            )
        if path.startswith("/delay/"):
            _, _, seconds, *rest = path.split("/")
            time.sleep(float(seconds))
            inner = "/" + "/".join(rest)
            if inner in self.routes:
                route = self.routes[inner]
                return self._send(h, route.status, route.body, route.headers)
            return self._send(h, 200, b"<html><body>slow</body></html>", {"Content-Type": "text/html"})
        if path == "/drop":
            h.close_connection = True
            h.connection.close()
            return None
        if path == "/truncated":
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", "100000")
            h.end_headers()
            h.wfile.write(b"<html><head><title>cut")
            h.wfile.flush()
            h.close_connection = True
            h.connection.close()
            return None
        file = (self.root / path.lstrip("/")).resolve()
        if self.root in file.parents and file.is_file():
            return self._send(
                h,
                200,
                file.read_bytes(),
                {"Content-Type": CONTENT_TYPES.get(file.suffix, "application/octet-stream")},
            )
        return self._send(h, 404, b"<html><body>not found</body></html>", {"Content-Type": "text/html"})

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
        h.send_response(status)
        for key, value in headers.items():
            h.send_header(key, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)


@pytest.fixture(scope="session")
def http_server():
    """One server for the whole session; tests register their own routes under unique paths."""
    with TestServer() as server:
        yield server
