"""`creator show`: one creator's tier, followers over time, videos and lives, and the products they push."""

from __future__ import annotations

from typing import Any

from indexer.fact import TOP_KOL_FOLLOWERS
from indexer.store import SearchFilters
from indexer.stores import StoreSpec
from indexer.workflows.errors import NothingFound
from indexer.workflows.opening import opened

# Tiers by followers, the trade's usual cut points (素人/尾部 < 10k, 腰部 100k-1M, 头部 >= 1M = FACT's top_kol).
TIERS = ((TOP_KOL_FOLLOWERS, "top"), (100_000, "mid"), (10_000, "micro"), (0, "nano"))


def tier_of(followers: int | None) -> str | None:
    """`top`, `mid`, `micro` or `nano` by followers; None when unknown."""
    if followers is None:
        return None
    return next(name for floor, name in TIERS if followers >= floor)


def show_creator(spec: StoreSpec, ident: str, model_name: str | None = None) -> dict[str, Any]:
    """The creator matching `ident` (id, name or handle, case-insensitive, @ ignored): NothingFound if none."""
    with opened(spec, model_name) as store:
        docs = [
            d
            for d in store.iter_documents(SearchFilters(creator=ident))
            if d.get("kind") in ("video", "live")
        ]
    if not docs:
        raise NothingFound(f"no video or live by creator {ident!r} in {spec}")
    creator = max((d.get("creator") or {} for d in docs), key=lambda c: len(c))
    seen = sorted(
        (d.get("last_seen") or d.get("observed_at"), (d.get("creator") or {}).get("followers"))
        for d in docs
        if (d.get("creator") or {}).get("followers") is not None
    )
    followers = None
    if seen:
        followers = {
            "latest": seen[-1][1],
            "first": seen[0][1],
            "first_at": seen[0][0],
            "last_at": seen[-1][0],
            "growth": seen[-1][1] - seen[0][1],
        }
    products: dict[str, dict[str, Any]] = {}
    for doc in docs:
        for ref in doc.get("products") or []:
            if isinstance(ref, dict) and ref.get("id"):
                entry = products.setdefault(
                    ref["id"], {"id": ref["id"], "title": ref.get("title"), "content": []}
                )
                entry["title"] = entry["title"] or ref.get("title")
                entry["content"].append(doc["id"])

    def content(kind: str) -> list[dict[str, Any]]:
        rows = [
            {
                "id": d["id"],
                "platform": d.get("platform"),
                "title": d.get("title"),
                "views": (d.get("metrics") or {}).get("views"),
                "products": [r.get("id") for r in d.get("products") or [] if isinstance(r, dict)],
            }
            for d in docs
            if d.get("kind") == kind
        ]
        return sorted(rows, key=lambda r: (-(r["views"] or 0), r["id"]))

    return {
        "id": creator.get("id"),
        "name": creator.get("name"),
        "handle": creator.get("handle"),
        "url": creator.get("url"),
        "platforms": sorted({d.get("platform") for d in docs if d.get("platform")}),
        "followers": followers,
        "tier": tier_of(followers["latest"] if followers else None),
        "videos": content("video"),
        "lives": content("live"),
        "products": sorted(products.values(), key=lambda p: (-len(p["content"]), p["id"])),
    }
