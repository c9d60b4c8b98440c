"""An exclusive, non-blocking flock on a file that records the holder's pid (job dirs, the scheduler)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO


class PidLockBusy(Exception):
    """Another process holds the lock; `owner` is the pid it recorded (or "unknown")."""

    def __init__(self, owner: str) -> None:
        super().__init__(owner)
        self.owner = owner


def pid_lock(path: Path) -> IO[str]:
    """The open, locked file at `path` holding this process's pid, or PidLockBusy. Close it to release the lock,
    never LOCK_UN: an unlock would also free a child still holding the inherited descriptor."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        owner = handle.read().strip() or "unknown"
        handle.close()
        raise PidLockBusy(owner) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle
