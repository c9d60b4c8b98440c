"""search_remote: `trendcart search` through a running `trendcart serve` (TRENDCART_SERVER), same hits."""

from __future__ import annotations

import dataclasses
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from indexer.server.config import TOKEN_ENV
from indexer.store import Hit, SearchFilters, SearchMode, StoreError
from indexer.workflows.errors import BadRequest, NothingFound

# A warm search answers in milliseconds; a first semantic one loads the model (~10 s on a busy machine).
TIMEOUT_S = 120.0
# SearchFilters field -> the API's query parameter.
PARAMS = {"published_from": "since", "published_to": "until"}


def hit_from_json(data: dict[str, Any]) -> Hit:
    """The Hit whose to_json() is `data` (the API's hits are Hit.to_json)."""
    rest = dict(data)
    ident, score, explain = rest.pop("id"), rest.pop("score"), rest.pop("explain", {})
    return Hit(id=ident, score=score, doc={"id": ident, **rest}, explain=explain)


def search_remote(
    server: str,
    query: str,
    mode: SearchMode | str = SearchMode.hybrid,
    filters: SearchFilters | None = None,
    limit: int = 10,
    min_similarity: float | None = None,
    token: str | None = None,
) -> list[Hit]:
    """The hits of GET {server}/api/search; BadRequest (400/422), NothingFound (404), StoreError otherwise."""
    params: dict[str, Any] = {"q": query, "mode": SearchMode(mode).value, "limit": limit}
    for name, value in dataclasses.asdict(filters or SearchFilters()).items():
        if value is not None:
            params[PARAMS.get(name, name)] = str(value).lower() if isinstance(value, bool) else value
    if min_similarity is not None:
        params["min_similarity"] = min_similarity
    url = server.rstrip("/") + "/api/search?" + urllib.parse.urlencode(params)
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    if token := token or os.environ.get(TOKEN_ENV):
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return [hit_from_json(h) for h in json.load(response)]
    except urllib.error.HTTPError as exc:
        try:
            reason = json.load(exc).get("error") or exc.reason
        except (ValueError, AttributeError):
            reason = exc.reason
        kind = {400: BadRequest, 422: BadRequest, 404: NothingFound}.get(exc.code)
        if kind is not None:
            raise kind(f"{server}: {reason}") from None
        raise StoreError(f"the server {server} answered {exc.code}: {reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise StoreError(f"cannot search through TRENDCART_SERVER={server}: {reason}") from None
