"""What the field-share benches (bench_*_fields.py) share: reading a value at a path in a body or an item."""

from __future__ import annotations

from typing import Any

# A path that leads nowhere (distinct from a value that is null).
MISSING = object()


def at(data: Any, path: str) -> Any:
    """`a.b.0.c` in nested dicts and lists, or MISSING. `a|b.c`: keys before the last `|` are taken whole
    (TikTok's `webapp.video-detail` has a dot in its key), the rest is dotted."""
    *literal, dotted = path.split("|")
    for part in [*literal, *dotted.split(".")]:
        if isinstance(data, list):
            data = data[int(part)] if part.isdigit() and int(part) < len(data) else MISSING
        elif isinstance(data, dict):
            data = data.get(part, MISSING)
        else:
            return MISSING
    return data


def same(value: Any) -> Any:
    """The transform of a field the item writes as the body has it."""
    return value
