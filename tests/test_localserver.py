"""The shared local HTTP server (crawler/localserver.py): routes, files, hook, HEAD, hits, life cycle."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from crawler.localserver import LocalServer, Route, send


def fetch(url: str, method: str = "GET") -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def test_routes_query_routes_head_and_hits():
    with LocalServer() as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        page = server.add("/a", "<p>a</p>", headers={"X-Test": "1"})
        server.add("/a?v=2", b"second", content_type="text/plain")
        assert fetch(page)[:2] == (200, b"<p>a</p>") and fetch(page)[2]["X-Test"] == "1"
        assert fetch(server.url("/a?v=2"))[1] == b"second"
        assert fetch(server.url("/a?other=1"))[1] == b"<p>a</p>"  # no route with this query: the path's
        status, body, headers = fetch(page, "HEAD")
        assert status == 200 and body == b"" and headers["Content-Length"] == "8"
        assert fetch(server.url("/missing"))[0] == 404
        assert server.hits == {"/a": 3, "/a?v=2": 1, "/a?other=1": 1, "/missing": 1}
        assert server.total_hits == 6


def test_static_root_never_serves_outside_it(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "page.html").write_text("<p>file</p>", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("no", encoding="utf-8")
    with LocalServer(root=tmp_path / "site") as server:
        status, body, headers = fetch(server.url("/page.html"))
        assert (status, body) == (200, b"<p>file</p>") and headers["Content-Type"].startswith("text/html")
        assert fetch(server.url("/../secret.txt"))[0] == 404
        assert fetch(server.url("/%2e%2e/secret.txt"))[0] == 404


def test_hook_answers_what_no_route_does_and_routes_swap_at_once():
    def teapot(server: LocalServer, request) -> bool:
        if request.path.startswith("/tea"):
            send(request, Route(b"short and stout", 418))
            return True
        return False

    with LocalServer({"/tea": Route(b"routes first")}, hook=teapot) as server:
        assert fetch(server.url("/tea"))[1] == b"routes first"
        assert fetch(server.url("/tea/pot"))[:2] == (418, b"short and stout")
        assert fetch(server.url("/coffee"))[0] == 404
        server.set_routes({"/coffee": Route(b"day two")})
        assert fetch(server.url("/coffee"))[1] == b"day two" and fetch(server.url("/tea"))[0] == 418


def test_urls_exist_before_serving_and_stop_is_safe_unstarted():
    server = LocalServer()
    assert server.url("/later").startswith("http://127.0.0.1:")  # bound on first use, before it serves
    server.stop()  # never started: closes the socket without waiting for a serve loop
    with LocalServer() as again:
        url = again.add("/x", "x")
        assert fetch(url)[1] == b"x"
    with pytest.raises(urllib.error.URLError):
        fetch(url)  # stopped: the port is closed
