"""A crawl's job dir (Scrapy's JOBDIR): one crawl at a time holds it, and it remembers each run's outcome."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.pidlock import PidLockBusy, pid_lock

# trendcart's own files in a job dir, beside Scrapy's (requests.seen, requests.queue/, spider.state).
STATE_FILE = "trendcart-job.json"
LOCK_FILE = "trendcart-job.lock"
# Scrapy's duplicate filter file: present once a run has scheduled a request (so a later run resumes).
SEEN_FILE = "requests.seen"
# Runs kept in the state file (the newest ones): enough to read a job's story, never an unbounded file.
KEPT_RUNS = 50


class JobDirInUse(Exception):
    """Another crawl (possibly an orphan whose parent was killed) still holds this job dir."""


@dataclass
class JobDir:
    """`with JobDir(path) as job:` holds the dir's lock (an flock, passed on to the crawl's child so that an
    orphaned child keeps holding it); `job.resuming` says whether an earlier run left state here."""

    path: Path
    handle: Any = None

    def __post_init__(self) -> None:
        self.path = Path(self.path).resolve()

    # -- the lock ----------------------------------------------------------------------------------
    def __enter__(self) -> JobDir:
        try:
            self.handle = pid_lock(self.path / LOCK_FILE)
        except PidLockBusy as busy:
            raise JobDirInUse(
                f"another crawl is using the job dir {self.path} (started by pid {busy.owner}): "
                "wait for it to finish or stop it first"
            ) from None
        return self

    def __exit__(self, *exc: object) -> None:
        # Close without LOCK_UN: an unlock would also free a child still holding the inherited descriptor;
        # closing ours leaves the lock to whoever else holds it, and frees it when nobody does.
        if self.handle is not None:
            self.handle.close()
            self.handle = None

    def fileno(self) -> int:
        """The lock's file descriptor (held: only inside `with`), for the child to inherit."""
        if self.handle is None:
            raise RuntimeError("the job dir is not locked")
        return self.handle.fileno()

    # -- the state ---------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """What earlier runs recorded: {"runs": [...], "finished_at": ISO time of the last finished run}."""
        try:
            data = json.loads((self.path / STATE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"runs": []}
        return data if isinstance(data, dict) and isinstance(data.get("runs"), list) else {"runs": []}

    @property
    def resuming(self) -> bool:
        """True when an earlier run left state here (its seen requests, its queue, its runs)."""
        return (self.path / SEEN_FILE).exists() or bool(self.state()["runs"])

    @property
    def finished_at(self) -> str | None:
        """When a run last crawled this job to its end (finish reason `finished`), or None."""
        value = self.state().get("finished_at")
        return value if isinstance(value, str) else None

    def record(self, run: dict[str, Any]) -> None:
        """Add one run (started_at, finished_at, finish_reason, interrupted, pages, items, ...); a run that
        finished after fetching pages marks the job finished (a rerun that found nothing keeps that date)."""
        state = self.state()
        state["runs"] = [*state["runs"], run][-KEPT_RUNS:]
        if run.get("finish_reason") == "finished" and not run.get("interrupted"):
            if run.get("requests") or not state.get("finished_at"):
                state["finished_at"] = run.get("finished_at")
        else:
            state.pop("finished_at", None)
        tmp = self.path / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path / STATE_FILE)


def trim_partial_line(path: Path) -> int:
    """Cut a JSON-lines file back to its last complete line (a forced stop can leave half an item);
    returns the bytes removed. Appending after a partial line would glue two items into one bad line."""
    try:
        size = path.stat().st_size
    except OSError:
        return 0
    if size == 0:
        return 0
    with path.open("rb+") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return 0
        fh.seek(0)
        data = fh.read()
        keep = data.rfind(b"\n") + 1
        fh.truncate(keep)
        return size - keep
