"""The tests' server: `crawler.localserver.LocalServer` over tests/fixtures/site, plus misbehaving endpoints.

Endpoints (besides registered routes and files under tests/fixtures/site/):
  /status/<code>          answers with that status and a small HTML body
  /delay/<seconds>/<path> waits, then serves <path> (or a small page)
  /drop                   closes the connection without answering
  /truncated              announces a long body, sends half, then closes
  /robots.txt             disallows /private/ (override by registering /robots.txt)
"""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from crawler.localserver import CONTENT_TYPES, LocalServer, Route, send

SITE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "site"
DEFAULT_ROBOTS = b"User-agent: *\nDisallow: /private/\n"
# /truncated announces this many bytes and sends a few dozen: the client sees data loss.
TRUNCATED_LENGTH = 100000

__all__ = ["CONTENT_TYPES", "DEFAULT_ROBOTS", "SITE_DIR", "Route", "TestServer", "http_server"]


def misbehave(server: LocalServer, h: BaseHTTPRequestHandler) -> bool:
    """The endpoints above; False for any other path (then files, then 404)."""
    path = h.path.split("?", 1)[0]
    if path == "/robots.txt":
        send(h, Route(DEFAULT_ROBOTS, 200, {"Content-Type": "text/plain"}))
    elif path.startswith("/status/"):
        code = int(path.split("/")[2])
        send(
            h, Route(f"<html><body>status {code}</body></html>".encode(), code, {"Content-Type": "text/html"})
        )
    elif path.startswith("/delay/"):
        _, _, seconds, *rest = path.split("/")
        time.sleep(float(seconds))
        inner = server.routes.get("/" + "/".join(rest))
        send(h, inner or Route(b"<html><body>slow</body></html>", 200, {"Content-Type": "text/html"}))
    elif path == "/drop":
        h.close_connection = True
        h.connection.close()
    elif path == "/truncated":
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(TRUNCATED_LENGTH))
        h.end_headers()
        h.wfile.write(b"<html><head><title>cut")
        h.wfile.flush()
        h.close_connection = True
        h.connection.close()
    else:
        return False
    return True


class TestServer(LocalServer):
    """Start with `with TestServer() as server:`; `server.url(path)` gives absolute URLs."""

    __test__ = False  # not a test class

    def __init__(self, root: Path = SITE_DIR) -> None:
        super().__init__(root=root, hook=misbehave)


@pytest.fixture(scope="session")
def http_server():
    """One server for the whole session; tests register their own routes under unique paths."""
    with TestServer() as server:
        yield server
