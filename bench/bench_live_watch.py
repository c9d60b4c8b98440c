"""Bench: `live watch` of N rooms at --every 30s on the local server: the work and lag per tick, memory over ticks.

Run: .venv/bin/python bench/bench_live_watch.py [--rooms 50] [--ticks 1000] [--every 30]

Each room is Douyin's room API body (tests/fixtures/platforms/douyin/room-web-enter-live.json, recognised by
its content) with its concurrent viewers changing every tick, served by crawler.localserver.LocalServer; every
fetch checks robots.txt first, as the real watch does. To reach 1,000 ticks of 30 s in bounded time, the clock
is fast-forwarded: `monotonic()` is the real monotonic clock plus every second the watch asked to sleep, and
`sleep()` returns at once. So the watch's own lag (how late a tick starts against its schedule) is measured on
real work, and a tick whose work took longer than --every would show up as lag and skipped ticks. Memory:
tracemalloc's current size and the process RSS, sampled every 100 ticks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.localserver import LocalServer, Route, send  # noqa: E402
from crawler.times import utc_now  # noqa: E402
from indexer.sqlite_store import SqliteStore  # noqa: E402
from indexer.workflows.live import Watch  # noqa: E402

ROOM = json.loads(
    (
        Path(__file__).resolve().parents[1] / "tests/fixtures/platforms/douyin/room-web-enter-live.json"
    ).read_text(encoding="utf-8")
)
MEMORY_EVERY = 100  # ticks between memory samples


class FastClock:
    """Real monotonic time plus the seconds slept, which are skipped (see the module docstring)."""

    def __init__(self, on_tick) -> None:
        self.skipped, self.start_wall, self.on_tick = 0.0, utc_now() - timedelta(days=2), on_tick
        self.work_started = time.monotonic()
        self.works: list[float] = []

    def monotonic(self) -> float:
        return time.monotonic() + self.skipped

    def wall(self):
        return self.start_wall + timedelta(seconds=self.monotonic())

    def sleep(self, seconds: float) -> None:
        now = time.monotonic()
        self.works.append(now - self.work_started)
        self.skipped += max(seconds, 0.0)
        self.on_tick(len(self.works))
        self.work_started = time.monotonic()


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--ticks", type=int, default=1000)
    parser.add_argument("--every", type=float, default=30.0)
    args = parser.parse_args()

    state = {"tick": 0}

    def body(path: str) -> bytes:
        data = json.loads(json.dumps(ROOM))
        room = data["data"]["data"][0]
        n = int(path.rsplit("/", 1)[-1])
        room["id_str"] = str(7_000_000_000_000_000_000 + n)
        room["user_count_str"] = str(1000 + (n * 37 + state["tick"] * 11) % 5000)
        return json.dumps(data).encode()

    def hook(server: LocalServer, request) -> bool:
        path = request.path.split("?", 1)[0]
        if path == "/robots.txt":
            send(request, Route(b"User-agent: *\nAllow: /\n", 200, {"Content-Type": "text/plain"}))
        elif path.startswith("/room/"):
            send(request, Route(body(path), 200, {"Content-Type": "application/json"}))
        else:
            return False
        return True

    memory: list[dict[str, float]] = []

    def on_tick(tick: int) -> None:
        state["tick"] = tick
        if tick % MEMORY_EVERY == 0:
            current, _ = tracemalloc.get_traced_memory()
            memory.append(
                {"tick": tick, "traced_mib": round(current / 2**20, 2), "rss_mib": round(rss_mib(), 1)}
            )

    tracemalloc.start()
    with LocalServer(hook=hook) as server, tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "watch.db")
        urls = [server.url(f"/room/{n}") for n in range(args.rooms)]
        clock = FastClock(on_tick)
        started = time.perf_counter()
        watch = Watch(store, urls, args.every, for_s=args.ticks * args.every, clock=clock)
        report = watch.run()
        seconds = time.perf_counter() - started
        stats = store.stats()
        store.close()
    works = sorted(clock.works)
    summary = {
        "rooms": args.rooms,
        "every_s": args.every,
        "ticks": report.ticks,
        "stored": report.stored,
        "failed": report.failed,
        "skipped_ticks": report.skipped_ticks,
        "lag_s": report.to_json()["lag_s"],
        "tick_work_s": {
            "mean": round(sum(works) / len(works), 4),
            "p95": round(works[int(0.95 * (len(works) - 1))], 4),
            "max": round(works[-1], 4),
        },
        "snapshots": stats.snapshots,
        "wall_s": round(seconds, 1),
        "memory": memory,
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
