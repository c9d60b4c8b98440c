"""A real Elasticsearch node for tests: its URL from TRENDCART_TEST_ES_URL; missing under CI is a failure."""

from __future__ import annotations

import os
from collections.abc import Mapping

import pytest

ES_URL_ENV = "TRENDCART_TEST_ES_URL"
# A node that does not answer its root within this long is not there (a healthy local node answers in ms).
PING_TIMEOUT_S = 5.0


def es_problem(url: str | None) -> str | None:
    """Why `url` cannot serve the tests, or None when an Elasticsearch node answers there."""
    if not url:
        return f"{ES_URL_ENV} is not set"
    from elasticsearch import Elasticsearch

    client = Elasticsearch(url, request_timeout=PING_TIMEOUT_S, max_retries=0)
    try:
        version = client.info()["version"]["number"]
    except Exception as exc:  # refused, timed out, not Elasticsearch
        return f"no Elasticsearch answers at {url} ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})"
    finally:
        client.close()
    return None if str(version).startswith("8.") else f"{url} runs Elasticsearch {version}, not 8.x"


def require_es(environ: Mapping[str, str]) -> str:
    """The node's URL; otherwise pytest.fail when CI is set (never skip in CI), else pytest.skip."""
    url = (environ.get(ES_URL_ENV) or "").strip() or None
    problem = es_problem(url)
    if problem is None:
        assert url is not None
        return url
    advice = f"start one with tools/elasticsearch/start and export {ES_URL_ENV}=http://127.0.0.1:9200"
    if environ.get("CI"):
        pytest.fail(f"{problem}: CI is set, so the Elasticsearch tests must run ({advice})", pytrace=False)
    pytest.skip(f"{problem}: {advice}")


@pytest.fixture(scope="session")
def es_url() -> str:
    """URL of a running Elasticsearch 8.x node (tools/elasticsearch/start, Docker, or your own)."""
    return require_es(os.environ)
