"""What a workflow refuses, by kind, so that a face maps each kind to one exit code or HTTP status."""

from __future__ import annotations

from enum import IntEnum

from crawler.run import CrawlError, UnknownSpider
from indexer.store import StoreError


class ExitCode(IntEnum):
    """The CLI's exit codes, documented in README.md, section 'Exit codes'."""

    OK = 0
    ERROR = 1  # anything unexpected (run with --debug for the traceback)
    USAGE = 2  # bad option or argument (Typer's own code)
    STORE = 3  # the store cannot be opened/reached, or refuses the operation (model mismatch, ...)
    INPUT = 4  # an input file or page is unreadable or invalid
    NOTHING = 5  # the command ran but found nothing to act on
    INTERRUPTED = 130  # stopped by Ctrl-C (128 + SIGINT, the shells' convention); a job dir resumes


class WorkflowError(Exception):
    """A workflow cannot do what was asked; the message says why, in one line."""


class BadRequest(WorkflowError):
    """Options that contradict each other or name nothing (`--no-index` without `--out`, an unknown job)."""


class BadInput(WorkflowError):
    """An input file or page is missing, unreadable or invalid (also: an output file that cannot be written)."""


class NothingFound(WorkflowError):
    """It ran but found nothing to act on (an empty store to report on)."""


class Busy(WorkflowError):
    """Another run holds the lock (a second scheduler, or `schedule --once` beside one)."""


class StoreMissing(StoreError):
    """A command that reads a store found none at the spec (reading never creates a store)."""


# Library errors a command may meet, and the exit code each becomes (the first matching class wins).
EXIT_CODES: tuple[tuple[type[Exception], ExitCode], ...] = (
    (UnknownSpider, ExitCode.USAGE),
    (BadRequest, ExitCode.USAGE),
    (BadInput, ExitCode.INPUT),
    (NothingFound, ExitCode.NOTHING),
    (StoreError, ExitCode.STORE),
    (CrawlError, ExitCode.ERROR),
    (Busy, ExitCode.ERROR),
    (WorkflowError, ExitCode.ERROR),
)
HANDLED = tuple(cls for cls, _ in EXIT_CODES)


def exit_code_for(exc: BaseException) -> ExitCode:
    """The documented exit code of a library error (ERROR for anything EXIT_CODES does not name)."""
    return next((code for cls, code in EXIT_CODES if isinstance(exc, cls)), ExitCode.ERROR)
