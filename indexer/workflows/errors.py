"""What a workflow refuses, by kind, so that a face maps each kind to one exit code or HTTP status."""

from __future__ import annotations

from indexer.store import StoreError


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
