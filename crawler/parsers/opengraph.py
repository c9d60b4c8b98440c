"""OpenGraph (`og:*`, `video:*`, `product:*` meta tags) -> one video or product item, the last fallback."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from lxml import etree

from crawler.items import BaseItem, ProductItem, VideoItem
from crawler.normalize import (
    clean_text,
    extract_hashtags,
    guess_language,
    iso_utc,
    normalise_hashtags,
    parse_currency,
    parse_datetime,
    parse_duration,
    parse_price,
)
from crawler.parsers.web import absolute_url, web_id

PREFIXES = ("og:", "video:", "product:", "article:")


def extract(root: etree._Element) -> dict[str, list[str]]:
    """Every OpenGraph property of the page: name -> values in document order (`video:tag` repeats)."""
    found: dict[str, list[str]] = {}
    for meta in root.iter("meta"):
        name = (meta.get("property") or meta.get("name") or "").strip().lower()
        content = meta.get("content")
        if name.startswith(PREFIXES) and content is not None:
            found.setdefault(name, []).append(content)
    return found


def items(
    props: dict[str, list[str]], page_url: str, canonical: str, observed_at: datetime, source: str
) -> list[BaseItem]:
    """A VideoItem for `og:type video.*` or a page with `og:video`; a ProductItem for `og:type product`."""

    def first(*names: str) -> str | None:
        for name in names:
            for value in props.get(name, []):
                if value.strip():
                    return value
        return None

    og_type = (first("og:type") or "").lower()
    url = absolute_url(first("og:url"), page_url) or canonical
    title = clean_text(html.unescape(first("og:title") or ""), 500)
    description = clean_text(html.unescape(first("og:description") or ""))
    language = guess_language(" ".join(t for t in (title, description) if t))
    observed = iso_utc(observed_at)
    common: dict[str, Any] = dict(
        platform="web",
        url=url,
        title=title,
        description=description,
        language=language,
        observed_at=observed,
        source=source,
    )
    has_video = og_type.startswith("video") or first("og:video", "og:video:url", "og:video:secure_url")
    if has_video and (title or description):
        item_id = web_id("video", url)
        if item_id is None:
            return []
        tags = [html.unescape(t) for t in props.get("video:tag", [])]
        return [
            VideoItem(
                id=item_id,
                hashtags=normalise_hashtags(tags + extract_hashtags(title) + extract_hashtags(description)),
                published_at=parse_datetime(
                    first("video:release_date", "article:published_time"), observed_at
                ),
                duration_s=parse_duration(first("video:duration", "og:video:duration")),
                **common,
            )
        ]
    if og_type in ("product", "og:product", "product.item") and title:
        item_id = web_id("product", url)
        amount = first("product:price:amount", "og:price:amount", "product:sale_price:amount")
        code = parse_currency(
            first("product:price:currency", "og:price:currency", "product:sale_price:currency")
        )
        price = parse_price(amount, default_currency=code) if amount else None
        if item_id is None:
            return []
        return [
            ProductItem(
                id=item_id,
                price=price.amount if price else None,
                price_max=price.amount_max if price else None,
                currency=(price.currency if price else None) or code,
                shop=clean_text(first("og:site_name", "product:brand") or "", 200),
                **common,
            )
        ]
    return []
