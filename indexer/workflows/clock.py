"""The demo's clock: `demo` records its replay's time in the store it makes; reading commands default to it."""

from __future__ import annotations

from datetime import datetime

from crawler.times import parse_iso
from indexer.store import HasMetadata, Store
from indexer.stores import StoreSpec
from indexer.workflows.opening import opened

# The store metadata key (HasMetadata) under which `demo` records the last replayed day's time (ISO UTC).
DEMO_CLOCK_KEY = "demo_clock"


def record_demo_clock(store: Store, when: str) -> None:
    """Mark `store` as made by the demo, whose replayed clock stopped at `when` (ISO UTC)."""
    if isinstance(store, HasMetadata):
        store.set_meta(DEMO_CLOCK_KEY, when)


def demo_clock(spec: StoreSpec, model_name: str | None = None) -> datetime | None:
    """The demo's clock of the store at `spec`, or None: no store there, not made by the demo, or it now holds
    observations newer than the clock (real crawls were added: the real clock applies again)."""
    if not spec.exists():
        return None
    with opened(spec, model_name) as store:
        if not isinstance(store, HasMetadata):
            return None
        clock = parse_iso(store.get_meta(DEMO_CLOCK_KEY) or "")
        if clock is None:
            return None
        last = parse_iso(store.stats().last_observed or "")
    return clock if last is None or last <= clock else None
