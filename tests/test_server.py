"""`trendcart serve`: the API's shapes against the CLI's --json, the guards (token, bind, sizes, errors, CSP)."""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
import urllib.parse

import pytest
from typer.testing import CliRunner

from indexer.cli import common as cli_common
from indexer.server.app import create_app
from indexer.server.config import MAX_BODY_BYTES, MAX_URL_BYTES, ModelHolder, ServerConfig
from indexer.stores import StoreSpec
from search_cli import app as cli_app
from tests.server_store import HOSTILE, NOW, build_store, iso

TOKEN = "s3cret-token"
STARTUP_DEADLINE_S = 120  # a loaded 2-core CI machine: generous, polled


class Running:
    """A real uvicorn server in a thread on a free port, serving `config`."""

    def __init__(self, config: ServerConfig) -> None:
        import uvicorn

        from indexer.cli.serve import listen

        self.app = create_app(config)
        self.sock = listen("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "the server did not start"
            time.sleep(0.05)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
            return response.status, dict(response.getheaders()), data
        finally:
            conn.close()

    def json(self, path: str, method: str = "GET", body=None, token: str | None = None, status: int = 200):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        raw = json.dumps(body).encode() if body is not None else None
        got, _headers, data = self.request(method, path, raw, headers)
        assert got == status, (got, data[:500])
        return json.loads(data)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory, embedder):
    return build_store(tmp_path_factory.mktemp("serve") / "s.db", embedder)


@pytest.fixture(scope="module")
def server(store_path, embedder):
    running = Running(
        ServerConfig(StoreSpec.parse(str(store_path)), None, "127.0.0.1", TOKEN, ModelHolder(None, embedder))
    )
    yield running
    running.stop()


@pytest.fixture
def cli(monkeypatch, embedder, store_path):
    for name in ("TRENDCART_STORE", "TRENDCART_MODEL", "TRENDCART_SERVER", "TRENDCART_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cli_common, "get_embedder", lambda: embedder)
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(cli_app, ["--store", str(store_path), *args])
        return result

    return run


def q(**params) -> str:
    return urllib.parse.urlencode(params)


# -- the shapes are the CLI's ---------------------------------------------------------------------------
@pytest.mark.model
def test_trending_search_stats_and_shows_answer_as_the_cli_json(server, cli):
    now = iso(NOW)
    api = server.json(f"/api/trending?{q(now=now, limit=5)}")
    done = cli("trending", "--json", "--now", now, "--limit", "5")
    assert done.exit_code == 0, done.output
    assert api == json.loads(done.stdout) and api["results"], api
    for mode in ("keyword", "hybrid"):
        api = server.json(f"/api/search?{q(q='portable blender', mode=mode, limit=5)}")
        done = cli("search", "portable blender", "--json", "--mode", mode, "--limit", "5")
        assert done.exit_code == 0, done.output
        assert [h["id"] for h in api] == [h["id"] for h in json.loads(done.stdout)] and api
    narrowed = server.json(f"/api/trending?{q(now=now, query='blender')}")
    assert narrowed["results"] and all(
        "blender" in (r["title"] or "").lower() or r.get("canonical") for r in narrowed["results"]
    )
    stats = server.json("/api/stats")
    assert stats["documents"] == 7 and stats["by_kind"] == {"live": 1, "product": 3, "video": 3}
    live = server.json(f"/api/live?{q(id='douyin:live:room1')}")
    done = cli("live", "show", "douyin:live:room1", "--json")
    assert live == json.loads(done.stdout) and live["stats"]["peak_viewers"] == 26_000
    product = server.json(f"/api/product?{q(id='tiktok:product:555', now=now)}")
    assert {m["id"] for m in product["members"]} >= {"tiktok:product:555", "douyin:product:777"}
    assert product["fact"]["total"] > 0 and product["sales"]
    assert server.json("/api/products")[0]["members"]
    creator = server.json(f"/api/creator?{q(id='lily')}")
    assert creator == json.loads(cli("creator", "show", "lily", "--json").stdout)
    health = server.json("/api/health")
    assert health["series"] == [] and health["new_alerts"] == []


@pytest.mark.model
def test_cli_search_goes_through_the_server_when_trendcart_server_is_set(server, cli, monkeypatch, tmp_path):
    direct = cli("search", "portable blender", "--json", "--limit", "5")
    monkeypatch.setenv("TRENDCART_SERVER", f"http://127.0.0.1:{server.port}")
    # The store named here does not exist: the hits can only have come from the server's store.
    via = CliRunner().invoke(
        cli_app,
        ["--store", str(tmp_path / "none.db"), "search", "portable blender", "--json", "--limit", "5"],
    )
    assert via.exit_code == 0, via.output
    assert json.loads(via.stdout) == json.loads(direct.stdout)
    table = CliRunner().invoke(cli_app, ["search", "portable blender", "--limit", "3"])
    assert table.exit_code == 0 and "Portable" in table.stdout
    monkeypatch.setenv("TRENDCART_SERVER", "http://127.0.0.1:9")  # nothing listens on the discard port
    down = CliRunner().invoke(cli_app, ["search", "blender", "--mode", "keyword"])
    assert down.exit_code == 3 and "TRENDCART_SERVER" in down.output


# -- watches: writes need the token -----------------------------------------------------------------------
@pytest.mark.model
def test_watch_writes_need_the_token_and_answer_as_the_cli(server):
    body = {"query": "portable blender", "name": "blenders", "top": 5, "now": iso(NOW)}
    assert "token" in server.json("/api/watches", "POST", body, status=401)["error"]
    assert server.json("/api/watches", "POST", body, token="wrong", status=401)["error"]
    added = server.json("/api/watches", "POST", body, token=TOKEN, status=201)
    assert added["watch"]["name"] == "blenders" and added["baseline"] is not None
    assert [w["name"] for w in server.json("/api/watches")] == ["blenders"]
    assert server.json("/api/watches", "POST", body, token=TOKEN, status=400)["error"]  # the name is in use
    assert server.json(f"/api/watches/check?{q(now=iso(NOW))}", "POST", status=401)
    checked = server.json(f"/api/watches/check?{q(now=iso(NOW))}", "POST", token=TOKEN)
    assert [c["watch"]["name"] for c in checked["watches"]] == ["blenders"]
    assert isinstance(server.json("/api/alerts"), list)
    assert server.json("/api/watches/blenders", "DELETE", status=401)
    assert server.json("/api/watches/blenders", "DELETE", token=TOKEN)["name"] == "blenders"
    assert "no watch" in server.json("/api/watches/blenders", "DELETE", token=TOKEN, status=404)["error"]


def test_writes_are_refused_when_the_server_has_no_token(store_path):
    running = Running(ServerConfig(StoreSpec.parse(str(store_path)), token=None))
    try:
        got = running.json("/api/watches", "POST", {"query": "x"}, token="anything", status=403)
        assert "--token" in got["error"]
        status, _, data = running.request("GET", "/watches")  # the page says so, its form off
        page = data.decode()
        assert status == 200 and 'data-writes="off"' in page and "<fieldset disabled>" in page
        assert "trendcart serve --token TOKEN" in page and 'class="watch-rm"' not in page
    finally:
        running.stop()


@pytest.mark.model
def test_the_watches_page_lists_any_name_as_text_and_removes_it(server):
    """A watch name with markup and a '/' (printable, so allowed): escaped on the page, removable by URL."""
    name = '<img src=x onerror="alert(1)"> a/b'
    body = {"query": "blender", "name": name, "now": iso(NOW)}
    server.json("/api/watches", "POST", body, token=TOKEN, status=201)
    status, _, data = server.request("GET", "/watches")
    page = data.decode()
    assert status == 200 and 'data-writes="on"' in page and "<fieldset disabled>" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; a/b" in page and "<img" not in page
    path = "/api/watches/" + urllib.parse.quote(name, safe="")
    assert server.json(path, "DELETE", token=TOKEN)["name"] == name
    assert name not in [w["name"] for w in server.json("/api/watches")]


# -- binding beyond the loopback interface ---------------------------------------------------------------
def test_binding_beyond_loopback_without_a_token_exits_2(monkeypatch):
    monkeypatch.delenv("TRENDCART_TOKEN", raising=False)
    done = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0", "--port", "0"])
    assert done.exit_code == 2 and "token" in done.output and "0.0.0.0" in done.output


def test_a_public_server_needs_the_token_for_reads_too(store_path):
    running = Running(ServerConfig(StoreSpec.parse(str(store_path)), host="0.0.0.0", token=TOKEN))
    try:
        assert running.json("/api/stats", status=401)["error"]
        assert running.json("/api/stats", token=TOKEN)["documents"] == 7
        status, headers, _ = running.request("GET", f"/?token={TOKEN}")
        assert status == 303 and "trendcart_token=" in headers.get("set-cookie", "")
        cookie = headers["set-cookie"].split(";")[0]
        assert running.request("GET", "/watches", headers={"Cookie": cookie})[0] == 200
        assert running.request("GET", "/watches")[0] == 401
    finally:
        running.stop()


# -- sizes, errors, headers ------------------------------------------------------------------------------
def test_oversized_urls_bodies_and_queries_are_refused_with_a_message(server):
    status, _, data = server.request("GET", "/api/search?q=" + "a" * (MAX_URL_BYTES + 10))
    assert status == 413 and b"at most" in data
    big = json.dumps({"query": "x" * (MAX_BODY_BYTES + 10)}).encode()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    status, _, data = server.request("POST", "/api/watches", big, headers)
    assert status == 413 and b"at most" in data
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)  # streamed, no Content-Length
    try:
        conn.putrequest("POST", "/api/watches")
        for name, value in {**headers, "Transfer-Encoding": "chunked"}.items():
            conn.putheader(name, value)
        conn.endheaders()
        chunk = b"x" * 4096
        for _ in range(MAX_BODY_BYTES // 4096 + 2):
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.send(b"0\r\n\r\n")
        assert conn.getresponse().status == 413
    finally:
        conn.close()
    got = server.json("/api/search?q=" + "a" * 600, status=422)
    assert "q:" in got["error"] and "500" in got["error"]
    assert "limit" in server.json("/api/search?q=x&limit=100000", status=422)["error"]
    assert "now" in server.json("/api/trending?now=yesterday", status=400)["error"]
    assert server.json("/api/trending?window=banana", status=400)["error"]


def test_an_internal_error_says_only_internal_error_and_logs_the_trace(server, caplog):
    def boom() -> None:
        raise ZeroDivisionError("secret detail")

    server.app.add_api_route("/api/boom-test", boom)
    with caplog.at_level(logging.ERROR, logger="trendcart.server"):
        status, _, data = server.request("GET", "/api/boom-test")
    assert status == 500 and json.loads(data) == {"error": "internal error"}
    assert b"secret" not in data and b"Traceback" not in data
    assert any("ZeroDivisionError" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_pages_escape_scraped_text_and_send_a_strict_csp(server):
    status, headers, data = server.request("GET", "/")
    assert status == 200
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "style-src 'self'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    page = data.decode()
    assert "&lt;script&gt;alert" in page and HOSTILE not in page and "<script>alert" not in page
    assert " style=" not in page and "onclick" not in page  # nothing that needs 'unsafe-inline'
    assert 'class="fact-bar' in page and 'class="curve' in page
    assert server.request("GET", "/docs")[0] == 404  # Swagger UI would load from a CDN
    spec = server.json("/openapi.json")
    assert {"/api/search", "/api/trending", "/api/watches", "/api/health"} <= set(spec["paths"])
    assert server.json("/api/product?id=nope", status=404)["error"].startswith("no canonical product")


def test_rankings_are_recomputed_when_the_store_changes(tmp_path):
    from indexer.sqlite_store import SqliteStore
    from tests.server_store import documents

    path = build_store(tmp_path / "k.db", None)  # keyword only: rankings need no model
    running = Running(ServerConfig(StoreSpec.parse(str(path))))
    try:
        url = f"/api/trending?{q(now=iso(NOW), by='video')}"
        before = running.json(url)
        assert running.json(url) == before and running.app.state.config.rankings.hits == 1
        late = [d for d in documents() if d["id"] == "douyin:video:d2"][-1]
        store = SqliteStore(path)
        store.upsert([{**late, "metrics": {"views": 10**8}, "observed_at": iso(NOW)}])
        store.close()
        after = running.json(url)
        assert after != before and after["results"][0]["id"] == "douyin:video:d2"
    finally:
        running.stop()


def test_the_main_page_is_served_from_the_ranking_made_when_the_data_changed(tmp_path):
    """The dashboard's product ranking is the snapshot ranked after the data changed (evaluate_after_run's
    rank_dashboard): a page request never ranks; a changed store is served stale while one background
    thread ranks again, and an unchanged store is never ranked again, whatever the clock says."""
    from indexer.server.cache import DASHBOARD
    from indexer.sqlite_store import SqliteStore
    from indexer.trend_cache import dashboard_path
    from indexer.workflows.queries import rank_trending
    from indexer.workflows.watches import rank_dashboard
    from tests.server_store import documents

    path = build_store(tmp_path / "d.db", None)  # keyword only: rankings need no model
    spec = StoreSpec.parse(str(path))
    snapshot = rank_dashboard(spec, NOW)
    assert dashboard_path(spec).is_file()
    expected = rank_trending(spec, "product", "24h", "views", 20, None, NOW).to_json()
    assert snapshot["rankings"]["product/24h/views"] == expected and snapshot["as_of"] == iso(NOW)
    running = Running(ServerConfig(spec))
    try:
        started = DASHBOARD.rankings_started
        for url in ("/", f"/?{q(now=iso(NOW))}", "/"):
            status, _headers, data = running.request("GET", url)
            assert status == 200 and "Ranked at" in data.decode() and "ranking again" not in data.decode()
        assert DASHBOARD.rankings_started == started  # served, not ranked
        assert expected["results"][0]["title"] in data.decode()

        late = [d for d in documents() if d["kind"] == "video"][-1]
        store = SqliteStore(path)
        store.upsert([{**late, "metrics": {"views": 10**9}, "observed_at": iso(NOW)}])
        store.close()
        _status, _headers, data = running.request("GET", "/")
        assert "ranking again" in data.decode()  # the last ranking, while the new one is made
        assert DASHBOARD.rankings_started == started + 1
        DASHBOARD.wait(timeout=120)
        _status, _headers, data = running.request("GET", "/")
        assert "Ranked at" in data.decode() and "ranking again" not in data.decode()
        assert DASHBOARD.rankings_started == started + 1
        # Another window is not in the snapshot: ranked as before (trending_json's cache).
        assert running.request("GET", f"/?{q(window='7d', now=iso(NOW))}")[0] == 200
    finally:
        running.stop()


def test_searches_share_one_warm_store_per_spec(server, store_path):
    """API searches reuse one open store (its vector side stays loaded between requests)."""
    from indexer.server.cache import WARM_STORES

    first = server.json(f"/api/search?{q(q='blender')}")
    spec = StoreSpec.parse(str(store_path))
    store = WARM_STORES.get(spec, None)
    assert store is not None and WARM_STORES.get(spec, None) is store
    assert server.json(f"/api/search?{q(q='blender')}") == first
    assert server.json(f"/api/search?{q(q='blender', mode='keyword')}")


def test_the_server_remembers_translated_query_vectors_as_the_embedder_gives_them(embedder):
    """Search asks for the query's vector moved towards its translation: the server's QueryCache remembers
    that one too (a repeated query is not embedded again), and it is the embedder's own vector."""
    import numpy as np

    from indexer.crosslingual import expand
    from indexer.server.config import QueryCache

    cache = QueryCache(embedder, size=2)
    terms = expand("平价口红").terms
    assert terms  # the dictionary translates it (else this test would test nothing)
    first = cache.embed_query_translated("平价口红", terms, 0.5)
    assert cache.embed_query_translated("平价口红", terms, 0.5) is first  # remembered, not embedded again
    np.testing.assert_array_equal(first, embedder.embed_query_translated("平价口红", terms, 0.5))
    other = cache.embed_query_translated("平价口红", terms, 0.25)  # another weight: another vector
    assert not np.array_equal(other, first)
    # No terms: the query's own vector, in the same memory as embed_query.
    assert cache.embed_query_translated("lipstick", (), 0.5) is cache.embed_query("lipstick")
    cache.embed_query("a"), cache.embed_query("b")  # size 2: the oldest are dropped
    assert cache.embed_query_translated("平价口红", terms, 0.5) is not first


def test_the_server_remembers_both_vectors_of_a_hybrid_query(embedder):
    """Hybrid search of an English query asks for two moves at once (its ranking vector and its floor
    vector): the QueryCache remembers the pair, and each is what the embedder gives for its weight."""
    import numpy as np

    from indexer.crosslingual import expand
    from indexer.server.config import QueryCache

    cache = QueryCache(embedder, size=4)
    terms = expand("lipstick").terms
    assert terms
    first = cache.embed_query_moves("lipstick", terms, (0.4, 0.0))
    assert cache.embed_query_moves("lipstick", terms, (0.4, 0.0)) is first
    np.testing.assert_allclose(first[0], embedder.embed_query_translated("lipstick", terms, 0.4), atol=1e-6)
    np.testing.assert_allclose(first[1], embedder.embed_query("lipstick"), atol=1e-6)
