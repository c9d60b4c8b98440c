"""Shared test set-up. Each plugin module is owned by one area: keep fixtures there, not here."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

pytest_plugins = [
    "tests.plugins.http_server",
    "tests.plugins.crawl",
    "tests.plugins.model",
    "tests.plugins.elasticsearch",
]
