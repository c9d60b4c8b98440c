"""Regenerate docs/img/dashboard-*.png: a fresh small store, `trendcart serve`, every page in Chromium.

Usage: .venv/bin/python tools/dashboard_screenshots.py   (the same pages and checks as
tests/test_dashboard_browser.py; needs /usr/bin/chromium and the default model)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def main() -> None:
    from indexer.embedder import Embedder
    from tests.server_store import build_store
    from tests.test_dashboard_browser import colours, shoot, start_serve

    with tempfile.TemporaryDirectory() as tmp:
        store = build_store(Path(tmp) / "s.db", Embedder())
        child, base = start_serve(store, Path(tmp) / "serve.log")
        try:
            for shown in shoot(base, ROOT / "docs" / "img"):
                size, count = colours(shown["file"])
                print(
                    f"{shown['file'].relative_to(ROOT)}  {size[0]}x{size[1]}  {count} colours",
                    *shown["problems"],
                )
        finally:
            child.terminate()
            child.wait(timeout=60)


if __name__ == "__main__":
    main()
