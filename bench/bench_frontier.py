"""Pages per second of one crawler vs two on a shared Redis frontier (crawler/frontier.py), same run.

    python bench/bench_frontier.py [--pages 400] [--delay 0.1] [--concurrency 8] [--rounds 2]

Starts a redis-server of its own (Debian's) on a free port, serves a local site whose pages each wait
`--delay` seconds (network latency: the threaded server is never the bottleneck), and crawls it with
`scrapy crawl jsonld` under TRENDCART_FRONTIER, first with one process, then with two, `--rounds` times.
The clock is the server's: from the moment every crawler is ready (each starts at an index page of its
own, `/r/index.html?c=N`, with the same links; the server holds them until every crawler has asked for
its own, so a slow start does not count) to the last page served. Results go to
stdout (and --json PATH), with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as `python bench/bench_frontier.py`: the package lives beside bench/

from crawler.localserver import HTML, LocalServer, Route, send  # noqa: E402 - after the path set-up
from tests.resume_site import page  # noqa: E402

# How long the site holds the index pages for the last crawler to ask for its own before it lets them go (s).
READY_TIMEOUT_S = 300
CRAWL_TIMEOUT_S = 900


class SlowSite(LocalServer):
    """`/r/index.html` links `/r/N.html`; each page waits `delay`; the index waits for `crawlers` requests of it."""

    def __init__(self, pages: int, delay: float, crawlers: int) -> None:
        super().__init__(hook=self._answer)
        self.pages, self.delay, self.crawlers = pages, delay, crawlers
        self.ready = threading.Event()
        self.index_hits = 0
        self.released_at = 0.0
        self.last_page_at = 0.0
        self.page_hits = 0

    def _answer(self, server: LocalServer, request: BaseHTTPRequestHandler) -> bool:
        path = request.path.split("?", 1)[0]
        if path == "/robots.txt":
            send(request, Route(b"User-agent: *\nAllow: /\n", 200, {"Content-Type": "text/plain"}))
        elif path == "/r/index.html":
            with self._lock:
                self.index_hits += 1
                if self.index_hits >= self.crawlers:
                    self.ready.set()
            self.ready.wait(READY_TIMEOUT_S)
            self.released_at = time.monotonic()
            links = "".join(f'<a href="/r/{n}.html">{n}</a> ' for n in range(self.pages))
            send(request, Route(f"<html><body>{links}</body></html>".encode(), 200, {"Content-Type": HTML}))
        elif path.startswith("/r/") and path[3:-5].isdigit() and int(path[3:-5]) < self.pages:
            time.sleep(self.delay)
            send(request, Route(page(int(path[3:-5]), self.base_url), 200, {"Content-Type": HTML}))
            with self._lock:
                self.page_hits += 1
                self.last_page_at = time.monotonic()
        else:
            return False
        return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", ""]
    proc = subprocess.Popen(
        [*cmd, "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    import redis

    client = redis.Redis(port=port)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.1)
    client.close()
    return proc, f"redis://127.0.0.1:{port}/0"


def crawl_once(crawlers: int, args: argparse.Namespace, frontier: str, tmp: Path) -> dict:
    """`crawlers` processes on the frontier against a fresh site; pages/s by the server's clock."""
    with SlowSite(args.pages, args.delay, crawlers) as site:
        cmd = [sys.executable, "-m", "scrapy", "crawl", "jsonld"]
        cmd += ["-a", "follow=1", "-s", f"TRENDCART_FRONTIER={frontier}", "-s", "LOG_LEVEL=WARNING"]
        for key, value in {
            "AUTOTHROTTLE_ENABLED": "False",
            "DOWNLOAD_DELAY": "0",
            "CONCURRENT_REQUESTS": str(args.concurrency),
            "CONCURRENT_REQUESTS_PER_DOMAIN": str(args.concurrency),
            "TELNETCONSOLE_ENABLED": "False",
        }.items():
            cmd += ["-s", f"{key}={value}"]
        env = {**os.environ, "PYTHONPATH": str(REPO), "SCRAPY_SETTINGS_MODULE": "crawler.settings"}
        procs = [
            subprocess.Popen(
                [
                    *cmd,
                    "-a",
                    f"urls={site.url(f'/r/index.html?c={n}')}",
                    "-O",  # overwrite: -o appends, and every round writes the same file names
                    str(tmp / f"items-{crawlers}-{n}.jsonl"),
                ],
                cwd=REPO,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(crawlers)
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=CRAWL_TIMEOUT_S)
            if proc.returncode != 0:
                raise SystemExit(f"crawler failed:\n{err[-3000:]}")
        window = site.last_page_at - site.released_at
        hits = site.page_hits
    items = sum(
        (tmp / f"items-{crawlers}-{n}.jsonl").read_text(encoding="utf-8").count("\n") for n in range(crawlers)
    )
    return {
        "crawlers": crawlers,
        "pages": hits,
        "items": items,
        "window_s": window,
        "pages_per_s": hits / window,
    }


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--delay", type=float, default=0.1, help="seconds each page waits (latency)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight per crawler")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    runs: dict[int, list[dict]] = {1: [], 2: []}
    loads = [load_average()]
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        redis_proc, frontier = start_redis(tmp)
        try:
            for _ in range(args.rounds):
                for crawlers in (1, 2):
                    run = crawl_once(crawlers, args, frontier, tmp)
                    runs[crawlers].append(run)
                    print(
                        f"{crawlers} crawler(s): {run['pages']} pages, {run['items']} items, "
                        f"{run['window_s']:.2f} s, {run['pages_per_s']:.1f} pages/s",
                        flush=True,
                    )
                loads.append(load_average())
        finally:
            redis_proc.terminate()
            redis_proc.wait(timeout=30)
    best = {n: max(r["pages_per_s"] for r in results) for n, results in runs.items()}
    summary = {
        "pages": args.pages,
        "delay_s": args.delay,
        "concurrency_per_crawler": args.concurrency,
        "ceiling_pages_per_s_per_crawler": args.concurrency / args.delay,
        "best_pages_per_s": best,
        "ratio_two_to_one": best[2] / best[1],
        "load_average": loads,
        "nproc": os.cpu_count(),
        "runs": runs,
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
