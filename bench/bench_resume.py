"""Interrupted-and-resumed crawls: pages lost (target 0) and items duplicated over N crawls of a local site.

    python bench/bench_resume.py [--crawls 20] [--pages 500] [--delay 0.02] [--no-index] [--json PATH]

Each crawl is `trendcart crawl jsonld --job-dir DIR --out FILE` of a slow local site (tests/resume_site.py:
an index page linking N video pages), stopped at a random point (seeded) by a Ctrl-C to its process group
or by `kill -9` of the `trendcart` parent, alternating, then the same command is run again until it
finishes. Counted per crawl: pages never fetched, pages fetched twice, export lines missing or repeated,
documents missing from the store and snapshots beyond one per page (with indexing), and how long an
orphaned child took to go after its parent's kill -9.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as `python bench/bench_resume.py`: the packages live beside bench/

from tests.resume_site import (  # noqa: E402 - after the path set-up above
    ResumeSite,
    alive,
    children_of,
    crawl_command,
    ctrl_c,
    start,
    wait_for,
)

# Stop somewhere between these fractions of the pages: never before the crawl is under way, never after.
STOP_BETWEEN = (0.1, 0.9)
# A run of the local site ends well within this; an orphan must be gone within ORPHAN_TIMEOUT_S.
RUN_TIMEOUT_S = 300
ORPHAN_TIMEOUT_S = 60
# Resumes after the interrupted run before a crawl counts as stuck.
MAX_RESUMES = 3


def one_crawl(number: int, pages: int, delay: float, index: bool, rng: random.Random, tmp: Path) -> dict:
    how = "ctrl-c" if number % 2 == 0 else "kill-9"
    store, job, out = tmp / "crawl.db", tmp / "job", tmp / "items.jsonl"
    started = time.monotonic()
    row: dict = {"crawl": number, "stop": how, "orphan_gone_s": None}
    with ResumeSite(pages, delay) as site:
        cmd = crawl_command(site, store, job, out, *(() if index else ("--no-index",)))
        stop_at = int(pages * rng.uniform(*STOP_BETWEEN))
        proc = start(cmd, tmp)
        wait_for(lambda: site.fetched() >= stop_at or proc.poll() is not None, RUN_TIMEOUT_S)
        row["stopped_at"] = site.fetched()
        if how == "ctrl-c":
            ctrl_c(proc)
            proc.communicate(timeout=RUN_TIMEOUT_S)
            row["first_exit"] = proc.returncode
        else:
            children = children_of(proc.pid)
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=RUN_TIMEOUT_S)
            killed = time.monotonic()
            wait_for(lambda: not any(alive(pid) for pid in children), ORPHAN_TIMEOUT_S)
            row["orphan_gone_s"] = round(time.monotonic() - killed, 2)
            row["first_exit"] = proc.returncode
        resumes = 0
        while resumes < MAX_RESUMES:
            resumes += 1
            proc = start(cmd, tmp)
            proc.communicate(timeout=RUN_TIMEOUT_S)
            if proc.returncode in (0, 5):
                break
        row["resumes"], row["last_exit"] = resumes, proc.returncode
        hits = [site.hits.get(f"/r/{n}.html", 0) for n in range(pages)]
    ids = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
    row["pages_lost"] = sum(1 for h in hits if h == 0)
    row["pages_fetched_twice"] = sum(1 for h in hits if h > 1)
    row["export_missing"] = pages - len(set(ids))
    row["items_duplicated"] = len(ids) - len(set(ids))
    if index:
        with sqlite3.connect(store) as db:
            documents = db.execute("SELECT count(*) FROM documents").fetchone()[0]
            snapshots = db.execute("SELECT count(*) FROM snapshots").fetchone()[0]
        row["index_missing"] = pages - documents
        row["index_duplicated"] = snapshots - documents  # one views snapshot per page and fetch
    row["seconds"] = round(time.monotonic() - started, 1)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crawls", type=int, default=20)
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument(
        "--delay", type=float, default=0.02, help="seconds each page waits before it is served"
    )
    parser.add_argument("--no-index", action="store_true", help="export only (no store, no model)")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--json", type=Path, default=None)
    opts = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    rng = random.Random(opts.seed)
    rows = []
    started = time.monotonic()
    for number in range(opts.crawls):
        with tempfile.TemporaryDirectory(prefix="bench-resume-") as tmp:
            row = one_crawl(number, opts.pages, opts.delay, not opts.no_index, rng, Path(tmp))
        rows.append(row)
        print(json.dumps(row), flush=True)
    keys = ["pages_lost", "pages_fetched_twice", "export_missing", "items_duplicated"]
    keys += [] if opts.no_index else ["index_missing", "index_duplicated"]
    orphans = [r["orphan_gone_s"] for r in rows if r["orphan_gone_s"] is not None]
    summary = {
        "crawls": len(rows),
        "pages_per_crawl": opts.pages,
        "index": not opts.no_index,
        **{key: sum(r[key] for r in rows) for key in keys},
        "orphan_gone_s_max": max(orphans) if orphans else None,
        "resumes_max": max(r["resumes"] for r in rows),
        "exits": sorted({(r["first_exit"], r["last_exit"]) for r in rows}),
        "seconds": round(time.monotonic() - started, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load": os.getloadavg()[0],
    }
    print(json.dumps(summary, indent=2))
    if opts.json:
        opts.json.write_text(json.dumps({"summary": summary, "crawls": rows}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
