"""Pages per second of one crawler vs two on a shared Redis frontier (crawler/frontier.py), same run.

    python bench/bench_frontier.py [--pages 600] [--delay 0.1] [--concurrency 16] [--rounds 4]

Starts a redis-server of its own (Debian's) on a free port, serves a local site whose pages each wait
`--delay` seconds (network latency: the threaded server is never the bottleneck), and crawls it with
`scrapy crawl jsonld` under TRENDCART_FRONTIER, with one process and with two, `--rounds` times,
interleaved (1 then 2 in odd rounds, 2 then 1 in even ones); each round's ratio is taken between its own
two runs and the median of the rounds is reported. The clock is the server's: from the moment every
crawler is ready (each starts at an index page of its own, `/r/index.html?c=N`, with the same links; the
server holds them until every crawler has asked for its own, so a slow start does not count; the
crawlers load their language models before that, TRENDCART_LANGUAGE_PRELOAD) to the last page served.
Where the CPU goes is measured per process: each crawler's user+sys seconds (its rusage, from wait4),
the server's (this process) and redis-server's (psutil), so pages per crawler CPU-second compare the
two set-ups whatever the machine's load. Results go to stdout (and --json PATH), with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
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


def process_cpu_s(pid: int) -> float:
    """user + sys CPU seconds of a live process (redis-server), by psutil."""
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def crawl_once(crawlers: int, args: argparse.Namespace, frontier: str, tmp: Path, redis_pid: int) -> dict:
    """`crawlers` processes on the frontier against a fresh site; pages/s by the server's clock, CPU per process."""
    with SlowSite(args.pages, args.delay, crawlers) as site:
        cmd = [sys.executable, "-m", "scrapy", "crawl", "jsonld"]
        cmd += ["-a", "follow=1", "-s", f"TRENDCART_FRONTIER={frontier}", "-s", "LOG_LEVEL=WARNING"]
        for key, value in {
            "AUTOTHROTTLE_ENABLED": "False",
            "DOWNLOAD_DELAY": "0",
            "CONCURRENT_REQUESTS": str(args.concurrency),
            "CONCURRENT_REQUESTS_PER_DOMAIN": str(args.concurrency),
            "TELNETCONSOLE_ENABLED": "False",
            "TRENDCART_LANGUAGE_PRELOAD": "True",
        }.items():
            cmd += ["-s", f"{key}={value}"]
        env = {**os.environ, "PYTHONPATH": str(REPO), "SCRAPY_SETTINGS_MODULE": "crawler.settings"}
        load = round(os.getloadavg()[0], 1)
        server_cpu, redis_cpu = time.process_time(), process_cpu_s(redis_pid)
        procs = []
        for n in range(crawlers):
            err = open(tmp / f"stderr-{crawlers}-{n}.txt", "w+", encoding="utf-8")  # noqa: SIM115 - closed below
            proc = subprocess.Popen(
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
                stderr=err,
                text=True,
            )
            procs.append((proc, err))
        crawler_cpu = []
        deadline = time.monotonic() + CRAWL_TIMEOUT_S
        for proc, err in procs:
            while (waited := os.wait4(proc.pid, os.WNOHANG))[0] == 0:  # wait4: the child's own rusage
                if time.monotonic() > deadline:
                    proc.kill()
                time.sleep(0.05)
            _, status, usage = waited
            proc.returncode = os.waitstatus_to_exitcode(status)
            crawler_cpu.append(usage.ru_utime + usage.ru_stime)
            err.seek(0)
            text = err.read()
            err.close()
            if proc.returncode != 0:
                raise SystemExit(f"crawler failed:\n{text[-3000:]}")
        server_cpu, redis_cpu = time.process_time() - server_cpu, process_cpu_s(redis_pid) - redis_cpu
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
        "load": load,
        "crawler_cpu_s": crawler_cpu,
        "server_cpu_s": server_cpu,
        "redis_cpu_s": redis_cpu,
        # Each crawler's CPU includes its start-up (imports, the language models) outside the window.
        "crawler_cpu_ms_per_page": 1000 * sum(crawler_cpu) / max(hits, 1),
    }


def report(run: dict) -> None:
    cpu = " + ".join(f"{c:.1f}" for c in run["crawler_cpu_s"])
    print(
        f"{run['crawlers']} crawler(s): {run['pages']} pages, {run['items']} items, {run['window_s']:.2f} s, "
        f"{run['pages_per_s']:.1f} pages/s, load {run['load']}; CPU-s crawlers {cpu}, "
        f"server {run['server_cpu_s']:.1f}, redis {run['redis_cpu_s']:.2f}",
        flush=True,
    )


def idle_crawler_cpu_s(args: argparse.Namespace, tmp: Path) -> float:
    """CPU of one crawler process that starts, loads its models and stops at once (robots.txt only): the
    start-up share of every crawler's CPU, subtracted to give CPU per page."""
    with SlowSite(0, 0, 1) as site:
        proc = subprocess.Popen(
            [sys.executable, "-m", "scrapy", "crawl", "jsonld", "-a", f"urls={site.url('/nothing')}"]
            + [
                "-s",
                "LOG_LEVEL=ERROR",
                "-s",
                "TRENDCART_LANGUAGE_PRELOAD=True",
                "-s",
                "TELNETCONSOLE_ENABLED=False",
            ],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), "SCRAPY_SETTINGS_MODULE": "crawler.settings"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=600)
    parser.add_argument("--delay", type=float, default=0.1, help="seconds each page waits (latency)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight per crawler")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    runs: dict[int, list[dict]] = {1: [], 2: []}
    per_round: list[dict] = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        redis_proc, frontier = start_redis(tmp)
        try:
            startup_cpu = idle_crawler_cpu_s(args, tmp)
            print(f"one crawler's start-up and stop alone: {startup_cpu:.1f} CPU-s", flush=True)
            for n in range(args.rounds):
                for crawlers in (1, 2) if n % 2 == 0 else (2, 1):
                    run = crawl_once(crawlers, args, frontier, tmp, redis_proc.pid)
                    work = sum(run["crawler_cpu_s"]) - crawlers * startup_cpu
                    run["crawler_work_cpu_ms_per_page"] = 1000 * work / max(run["pages"], 1)
                    runs[crawlers].append(run)
                    report(run)
                one, two = runs[1][-1], runs[2][-1]
                per_round.append(
                    {
                        "round": n + 1,
                        "ratio_two_to_one": two["pages_per_s"] / one["pages_per_s"],
                        "load": [one["load"], two["load"]],
                    }
                )
                print(f"round {n + 1}: two/one {per_round[-1]['ratio_two_to_one']:.2f}x", flush=True)
        finally:
            redis_proc.terminate()
            redis_proc.wait(timeout=30)
    median = {n: statistics.median(r["pages_per_s"] for r in results) for n, results in runs.items()}
    work_ms = {
        n: statistics.median(r["crawler_work_cpu_ms_per_page"] for r in results)
        for n, results in runs.items()
    }
    summary = {
        "pages": args.pages,
        "delay_s": args.delay,
        "concurrency_per_crawler": args.concurrency,
        "ceiling_pages_per_s_per_crawler": args.concurrency / args.delay,
        "median_pages_per_s": median,
        "median_ratio_two_to_one": statistics.median(r["ratio_two_to_one"] for r in per_round),
        "crawler_startup_cpu_s": startup_cpu,
        "median_crawler_work_cpu_ms_per_page": work_ms,
        "per_round": per_round,
        "nproc": os.cpu_count(),
        "runs": runs,
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
