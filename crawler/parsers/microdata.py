"""schema.org microdata (itemscope/itemprop) -> JSON-LD-shaped nodes, through extruct's W3C extractor."""

from __future__ import annotations

from typing import Any

from extruct.w3cmicrodata import MicrodataExtractor
from lxml import etree

_extractor = MicrodataExtractor()


def extract(root: etree._Element, base_url: str) -> list[dict[str, Any]]:
    """Top-level microdata items as dicts shaped like JSON-LD (`@type`, properties as keys)."""
    try:
        items = _extractor.extract_items(root, base_url)
    except Exception:  # noqa: BLE001 - extruct on hostile markup; microdata is only a fallback
        return []
    return [_to_jsonld(item) for item in items]


def _to_jsonld(value: Any) -> Any:
    if isinstance(value, list):
        return [_to_jsonld(v) for v in value]
    if isinstance(value, dict) and "properties" in value:
        node: dict[str, Any] = {}
        if value.get("type"):
            node["@type"] = value["type"]
        if value.get("id"):
            node["@id"] = value["id"]
        for key, prop in value["properties"].items():
            node[key] = _to_jsonld(prop)
        return node
    return value
