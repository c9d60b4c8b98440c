"""The canonical products a store's reports rank by: its product file's grouping as last made, or None."""

from __future__ import annotations

from typing import Any

from indexer.stores import StoreSpec


def canonical_of(spec: StoreSpec) -> dict[str, dict[str, Any]] | None:
    """{listing id: its canonical product} from the store's product file (ProductBook.canonical_map, what
    `trending --by product` ranks by; nothing is embedded or regrouped here), or None when the store has no
    product file (the report then ranks one row per listing)."""
    from indexer.products import ProductBook
    from indexer.workflows.products import book_path

    path = book_path(spec)
    if not path.is_file():
        return None
    book = ProductBook(path)
    try:
        return book.canonical_map() or None
    finally:
        book.close()
