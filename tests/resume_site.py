"""A slow local site for interrupted crawls (tests/test_crawl_resume.py, bench/bench_resume.py): an index
page linking N video pages, each served after a delay so that a crawl can be stopped half-way, and a
`trendcart crawl` child process to stop (Ctrl-C to its process group, or kill -9) and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from crawler.localserver import HTML, LocalServer, Route, send

REPO = Path(__file__).resolve().parents[1]
# Settings for crawls of the local site: no politeness delay, a few requests at a time (so that a stop
# leaves many pages scheduled and not yet fetched). The timeout is long because the index pipeline embeds
# inside the crawl's event loop (the model's first load takes seconds on a busy machine): a shorter one
# would time out requests in flight meanwhile and fetch their pages twice (retried, not lost).
CRAWL_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS": "8",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    "DOWNLOAD_TIMEOUT": "60",
    "RETRY_TIMES": "1",
    "TELNETCONSOLE_ENABLED": "False",
}
PAGE = """<!DOCTYPE html><html><head><title>Resume video {n}</title>
<script type="application/ld+json">{data}</script></head><body><h1>Resume video {n}</h1></body></html>"""


def page(n: int, base: str) -> bytes:
    data = {
        "@context": "https://schema.org",
        "@type": "VideoObject",
        "name": f"Resume video {n}: gadget {n % 17} review",
        "url": f"{base}/r/{n}.html",
        "uploadDate": "2026-11-20T08:00:00Z",
        "interactionStatistic": {
            "@type": "InteractionCounter",
            "interactionType": "https://schema.org/WatchAction",
            "userInteractionCount": 1000 + n,
        },
    }
    return PAGE.format(n=n, data=json.dumps(data)).encode("utf-8")


class ResumeSite(LocalServer):
    """`/r/index.html` links `/r/0.html` ... `/r/{pages-1}.html`; each page waits `delay` seconds.
    `fetched()` counts the page requests answered (robots.txt and the index excluded)."""

    __test__ = False

    def __init__(self, pages: int, delay: float) -> None:
        super().__init__(hook=self._answer)
        self.pages, self.delay = pages, delay

    @property
    def start_url(self) -> str:
        return self.url("/r/index.html")

    def page_urls(self) -> list[str]:
        return [self.url(f"/r/{n}.html") for n in range(self.pages)]

    def fetched(self) -> int:
        return sum(count for path, count in self.hits.items() if path[3:-5].isdigit())

    def _answer(self, server: LocalServer, request: BaseHTTPRequestHandler) -> bool:
        path = request.path.split("?", 1)[0]
        if path == "/robots.txt":
            send(request, Route(b"User-agent: *\nAllow: /\n", 200, {"Content-Type": "text/plain"}))
        elif path == "/r/index.html":
            links = "".join(f'<a href="/r/{n}.html">{n}</a> ' for n in range(self.pages))
            send(request, Route(f"<html><body>{links}</body></html>".encode(), 200, {"Content-Type": HTML}))
        elif path.startswith("/r/") and path[3:-5].isdigit() and int(path[3:-5]) < self.pages:
            time.sleep(self.delay)
            send(request, Route(page(int(path[3:-5]), self.base_url), 200, {"Content-Type": HTML}))
        else:
            return False
        return True


def crawl_command(site: ResumeSite, store: Path, job_dir: Path, out: Path, *extra: str) -> list[str]:
    """`trendcart crawl jsonld` of the whole site, indexing into `store`, resumable in `job_dir`."""
    cmd = [sys.executable, str(REPO / "search_cli.py"), "--store", str(store), "crawl", "jsonld"]
    cmd += ["--urls", site.start_url, "--arg", "follow=1", "--job-dir", str(job_dir), "--out", str(out)]
    for key, value in CRAWL_SETTINGS.items():
        cmd += ["--set", f"{key}={value}"]
    return [*cmd, "--json", *extra]


# Runs argv[1:] with SIGINT at its default (in place of this process: same pid). A job that a
# non-interactive shell starts in the background (`bench_resume.py &`) inherits SIGINT ignored, and
# Python then never raises KeyboardInterrupt.
WITH_SIGINT = "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"


def start(cmd: list[str], cwd: Path) -> subprocess.Popen:
    """Start `cmd` as a terminal would run a job: in a process group of its own (Ctrl-C reaches the group)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", WITH_SIGINT, *cmd],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for(condition, timeout: float, step: float = 0.05) -> bool:
    """Poll `condition()` until it is true or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


def ctrl_c(proc: subprocess.Popen) -> None:
    """What a terminal's Ctrl-C does: SIGINT to the whole foreground process group."""
    os.killpg(proc.pid, signal.SIGINT)


def children_of(pid: int) -> list[int]:
    """Pids whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
