"""Mentions: videos and lives that name a product without linking it (hybrid search on its titles)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from indexer.search import search
from indexer.store import SearchFilters, SearchMode, Store

# Hits per title and kind, and the cosine (title vs the content's text) a hit needs: 0.5 alone (well above
# the default model's similarity floor, so unrelated content stays out), 0.3 with a keyword match as well.
MENTION_HITS = 20
MENTION_MIN_COSINE = 0.5
MENTION_KEYWORD_COSINE = 0.3


def find_mentions(
    store: Store, titles: Iterable[str], embedder: Any, linked: set[str]
) -> list[dict[str, Any]]:
    """Content without product links whose text matches one of `titles`: a hit kept at a cosine >=
    MENTION_MIN_COSINE (or a keyword match with a cosine >= MENTION_KEYWORD_COSINE); confidence = that
    cosine, the best over the titles. Content in `linked` (it links the product) is never a mention."""
    found: dict[str, dict[str, Any]] = {}
    for title in sorted({t for t in titles if t}):
        for kind in ("video", "live"):
            filters = SearchFilters(kind=kind, has_products=False)
            for hit in search(store, title, SearchMode.hybrid, filters, MENTION_HITS, embedder=embedder):
                cosine = hit.explain.get("vector_score")
                keyword = hit.explain.get("keyword_rank") is not None
                if hit.id in linked or cosine is None:
                    continue
                if cosine < (MENTION_KEYWORD_COSINE if keyword else MENTION_MIN_COSINE):
                    continue
                creator = hit.doc.get("creator") or {}
                if hit.id not in found or found[hit.id]["confidence"] < cosine:
                    found[hit.id] = {
                        "id": hit.id,
                        "kind": hit.doc.get("kind"),
                        "platform": hit.doc.get("platform"),
                        "title": hit.doc.get("title"),
                        "creator": creator.get("name") or creator.get("handle") or creator.get("id"),
                        "confidence": round(float(cosine), 4),
                        "matched_title": title,
                        "keyword_match": keyword,
                        "doc": hit.doc,
                    }
    return sorted(found.values(), key=lambda m: (-m["confidence"], m["id"]))
