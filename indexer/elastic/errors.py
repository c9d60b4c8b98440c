"""The Elasticsearch store's errors, and the translation of what the client raises into one-line StoreErrors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from indexer.store import ModelMismatch, StoreError, StoreUnavailable

if TYPE_CHECKING:
    from indexer.elastic.config import ElasticConfig

# 429 (queue full) and 502/503/504 (node restarting, no master) are transient: retried, then queued.
TRANSIENT_STATUSES = (429, 502, 503, 504)
MAX_REASON_CHARS = 300  # a server's error reason can quote a whole request body


class ElasticModelMismatch(ModelMismatch):
    """ModelMismatch whose advice is the Elasticsearch reindex, not a new SQLite file."""

    def __init__(self, stored: tuple[str, int], offered: tuple[str, int | None], location: str) -> None:
        super().__init__(stored, offered)
        dim = f", {offered[1]} dims" if offered[1] is not None else ""
        self.args = (
            f"{location} holds vectors of model {stored[0]!r} ({stored[1]} dims), not {offered[0]!r}{dim}. "
            f"Use --model {stored[0]!r} (or TRENDCART_MODEL), or reindex into the new model (builds a new "
            f"index, re-embeds, swaps the alias): trendcart --store URL --model {offered[0]!r} reindex",
        )


class BulkWriteError(StoreError):
    """Documents Elasticsearch refused (mapping errors, conflicts that did not settle), all of them."""

    def __init__(self, failures: list[tuple[str, str]], total: int) -> None:
        self.failures = failures
        shown = "; ".join(f"{doc_id}: {reason}" for doc_id, reason in failures[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        super().__init__(f"Elasticsearch refused {len(failures)} of {total} writes: {shown}{more}")


class ClusterUnavailable(StoreUnavailable):
    """The cluster cannot answer now (down, unreachable, overloaded after retries) but may later: a write
    that meets it goes to the outbox instead of failing."""


def error_type(exc: BaseException) -> str | None:
    """The server's error type (`resource_already_exists_exception`, ...), when it said one."""
    info = getattr(exc, "info", None) or getattr(exc, "body", None)
    if isinstance(info, Mapping):
        error = info.get("error")
        if isinstance(error, Mapping):
            return error.get("type")
    return None


def translate(exc: BaseException, config: ElasticConfig) -> StoreError:
    """One-line StoreErrors for what the client raises (ClusterUnavailable for what may pass)."""
    if isinstance(exc, StoreError):
        return exc
    from elasticsearch import (
        ApiError,
        AuthenticationException,
        AuthorizationException,
        ConnectionError,
        ConnectionTimeout,
        UnsupportedProductError,
    )

    where = config.where()
    if isinstance(exc, AuthenticationException):
        return StoreUnavailable(
            f"{where} refused the credentials (401): set TRENDCART_ES_API_KEY, or "
            f"TRENDCART_ES_USERNAME/TRENDCART_ES_PASSWORD, or user:password@ in the URL"
        )
    if isinstance(exc, AuthorizationException):
        return StoreUnavailable(f"{where}: these credentials may not do that (403): {_reason(exc)}")
    if isinstance(exc, UnsupportedProductError):
        return StoreUnavailable(f"{where} does not answer as Elasticsearch (no X-Elastic-Product header)")
    if isinstance(exc, ConnectionTimeout):
        return ClusterUnavailable(
            f"{where} did not answer within {config.request_timeout:g} s (TRENDCART_ES_TIMEOUT)"
        )
    if isinstance(exc, ConnectionError):
        text = str(exc)
        if "CERTIFICATE" in text.upper() or "SSL" in text.upper():
            return StoreUnavailable(
                f"cannot reach {where}: TLS failed ({_describe(exc)}); set TRENDCART_ES_CA_CERTS "
                f"or TRENDCART_ES_VERIFY_CERTS=false"
            )
        return ClusterUnavailable(
            f"cannot reach {where}: {_describe(exc)} (is it running? tools/elasticsearch/start "
            f"starts a local node)"
        )
    if isinstance(exc, ApiError):
        status = _status(exc)
        if status is not None and (status in TRANSIENT_STATUSES or status >= 500):
            return ClusterUnavailable(f"{where} is unavailable (HTTP {status}): {_reason(exc)}")
        return StoreError(f"{where} refused the request (HTTP {status}): {_reason(exc)}")
    return StoreError(f"{where}: {type(exc).__name__}: {exc}")


def _status(exc: BaseException) -> int | None:
    meta = getattr(exc, "meta", None)
    status = getattr(meta, "status", None) or getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _describe(exc: BaseException) -> str:
    text = str(exc)
    if "Connection refused" in text or "ConnectionRefused" in text or "Errno 111" in text:
        return "connection refused"
    status = _status(exc)
    if status is not None:
        return f"HTTP {status} {error_type(exc) or ''}".strip()
    return (text.splitlines() or [type(exc).__name__])[0][:200]


def _reason(exc: BaseException) -> str:
    info = getattr(exc, "info", None) or getattr(exc, "body", None)
    if isinstance(info, Mapping) and isinstance(info.get("error"), Mapping):
        error = info["error"]
        cause = (error.get("root_cause") or [{}])[0]
        return str(cause.get("reason") or error.get("reason") or error.get("type"))
    return str(getattr(exc, "message", exc))[:MAX_REASON_CHARS]
