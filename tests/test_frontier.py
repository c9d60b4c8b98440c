"""The shared crawl frontier (crawler/frontier.py): two `trendcart crawl --frontier` processes, one Redis.

The test starts its own redis-server (Debian's, as .ci/run installs it) on a free port in a temporary
folder, and crawls the slow local site of tests/resume_site.py with two crawlers indexing into one SQLite
store: every page fetched once, every item indexed once; then one crawler is killed (SIGKILL, no chance to
clean up) half-way and started again: no page is lost, none is stored twice (pages it had in flight may be
fetched again: the frontier is at least once).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.workflows.errors import ExitCode
from tests.resume_site import REPO, ResumeSite, alive, children_of, start, wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals and /proc: Linux")

REDIS_SERVER = shutil.which("redis-server")
# Pages and each page's delay: a crawl of several seconds with two crawlers, so one can be killed mid-way.
PAGES = 120
DELAY_S = 0.2
KILL_AFTER = PAGES // 3
# Requests per crawler: few, so that the crawl lasts and a kill leaves requests queued and in flight.
CONCURRENCY = 4
# A dead crawler's requests go back to the queue this long after its last lease renewal (s).
LEASE_S = 10
# Generous: each crawler loads the embedding model (~10 s on a busy machine) before it indexes.
RUN_TIMEOUT_S = 240
REDIS_READY_S = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    """A redis-server of the test's own on a free port, its files in a temporary folder."""
    if REDIS_SERVER is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (.ci/run installs Debian's redis-server)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    folder = tmp_path / "redis"
    folder.mkdir()
    cmd = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)]
    cmd += ["--save", "", "--appendonly", "no", "--protected-mode", "no"]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)

    def ready() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        assert wait_for(ready, REDIS_READY_S, step=0.1), "redis-server did not start"
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=30)


def crawl_command(site: ResumeSite, store: Path, out: Path, frontier: str) -> list[str]:
    cmd = [sys.executable, str(REPO / "search_cli.py"), "--store", str(store), "crawl", "jsonld"]
    cmd += ["--urls", site.start_url, "--arg", "follow=1", "--out", str(out), "--frontier", frontier]
    settings = {
        "AUTOTHROTTLE_ENABLED": "False",
        "DOWNLOAD_DELAY": "0",
        "CONCURRENT_REQUESTS": str(CONCURRENCY),
        "CONCURRENT_REQUESTS_PER_DOMAIN": str(CONCURRENCY),
        "DOWNLOAD_TIMEOUT": "120",  # the model's first load blocks the event loop: no timeouts meanwhile
        "RETRY_TIMES": "1",
        "TELNETCONSOLE_ENABLED": "False",
        "TRENDCART_FRONTIER_LEASE_S": str(LEASE_S),
    }
    for key, value in settings.items():
        cmd += ["--set", f"{key}={value}"]
    return [*cmd, "--json"]


def finish(proc: subprocess.Popen, timeout: float = RUN_TIMEOUT_S) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def page_hits(site: ResumeSite) -> list[int]:
    return [site.hits.get(f"/r/{n}.html", 0) for n in range(site.pages)]


def exported_ids(*outs: Path) -> list[str]:
    ids = []
    for out in outs:
        if out.exists():
            ids += [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines() if line]
    return ids


def stored(store: Path) -> tuple[int, int, int]:
    """(documents, distinct ids, snapshots) in the SQLite store."""
    with sqlite3.connect(store) as db:
        docs, distinct = db.execute("SELECT count(*), count(DISTINCT id) FROM documents").fetchone()
        snapshots = db.execute("SELECT count(*) FROM snapshots").fetchone()[0]
    return docs, distinct, snapshots


def frontier_keys(url: str) -> list[bytes]:
    import redis

    client = redis.Redis.from_url(url)
    try:
        return client.keys("trendcart:frontier:*")
    finally:
        client.close()


def test_two_crawlers_share_one_queue_and_fetch_and_index_every_page_once(tmp_path, redis_url):
    store = tmp_path / "crawl.db"
    with ResumeSite(PAGES, DELAY_S) as site:
        outs = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
        procs = [start(crawl_command(site, store, out, redis_url), tmp_path) for out in outs]
        results = [finish(proc) for proc in procs]
        for code, _, stderr in results:
            assert code in (ExitCode.OK, ExitCode.NOTHING), stderr
        summaries = [json.loads(stdout) for _, stdout, _ in results]
        assert page_hits(site) == [1] * PAGES  # every page fetched, by one crawler only
    assert all(s["finish_reason"] == "finished" for s in summaries), summaries
    assert sum(s["items_total"] for s in summaries) == PAGES
    ids = exported_ids(*outs)
    assert len(ids) == PAGES and len(set(ids)) == PAGES  # no page's item in both exports
    assert stored(store) == (PAGES, PAGES, PAGES)  # one document and one snapshot per page
    assert frontier_keys(redis_url) == []  # the last one out removed the queue and the seen-set


def test_a_killed_crawler_loses_nothing_and_its_pages_are_stored_once(tmp_path, redis_url):
    store = tmp_path / "crawl.db"
    with ResumeSite(PAGES, DELAY_S) as site:
        out_a, out_b, out_a2 = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "a2.jsonl"
        victim = start(crawl_command(site, store, out_a, redis_url), tmp_path)
        other = start(crawl_command(site, store, out_b, redis_url), tmp_path)
        assert wait_for(lambda: site.fetched() >= KILL_AFTER, RUN_TIMEOUT_S), finish(victim, 5)
        children = children_of(victim.pid)
        assert children, "the crawl's scrapy child"
        for pid in children:
            os.kill(pid, signal.SIGKILL)  # the crawler itself: no close, no requeue, no flush
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        assert wait_for(lambda: not any(alive(pid) for pid in children), 30)
        killed_at = site.fetched()
        assert killed_at < PAGES, "killed before the crawl's end"
        restarted = start(crawl_command(site, store, out_a2, redis_url), tmp_path)
        for proc in (other, restarted):
            code, stdout, stderr = finish(proc)
            assert code in (ExitCode.OK, ExitCode.NOTHING), stderr
            assert json.loads(stdout)["finish_reason"] == "finished"
        hits = page_hits(site)
    assert min(hits) == 1, hits  # no page lost
    refetched = sum(h - 1 for h in hits)
    # only what the killed crawler held (in flight, or fetched but not yet stored) is fetched again
    assert refetched <= killed_at, hits
    docs, distinct, snapshots = stored(store)
    assert docs == distinct == PAGES  # every page's item in the store, once
    assert PAGES <= snapshots <= PAGES + refetched
    assert frontier_keys(redis_url) == []


def test_frontier_and_job_dir_do_not_combine(tmp_path):
    cmd = [sys.executable, str(REPO / "search_cli.py"), "--store", str(tmp_path / "s.db"), "crawl", "jsonld"]
    cmd += ["--urls", "http://127.0.0.1:9/", "--frontier", "redis://127.0.0.1:9/0", "--job-dir", "job"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == ExitCode.USAGE, proc.stderr
    assert "does not combine with --job-dir" in proc.stderr
    bad = [*cmd[: cmd.index("--frontier")], "--frontier", "http://127.0.0.1:9/"]
    proc = subprocess.run(bad, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == ExitCode.USAGE and "must be a Redis URL" in proc.stderr, proc.stderr
