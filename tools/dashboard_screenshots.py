"""Regenerate docs/img/dashboard-*.png: a fresh small store with its crawl log, `trendcart serve --token`,
every page in Chromium, then the watches page after a watch was added from its form and checked.

Usage: .venv/bin/python tools/dashboard_screenshots.py   (the same pages, flow and checks as
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
    from indexer.stores import StoreSpec
    from tests import test_dashboard_browser as browser
    from tests.server_store import build_store, log_crawls

    out = ROOT / "docs" / "img"
    embedder = Embedder()
    with tempfile.TemporaryDirectory() as tmp:
        store = build_store(Path(tmp) / "s.db", embedder)
        log_crawls(StoreSpec.parse(str(store)))
        child, base = browser.start_serve(store, Path(tmp) / "serve.log", token=browser.TOKEN)
        try:
            pages = tuple(p for p in browser.PAGES if p.path != "/watches")  # that one after the flow
            shots = [(s["file"], s["shown"].colours, s["problems"]) for s in browser.shoot(base, out, pages)]
            flow = out / "dashboard-watches.png"  # a watch added from the form, checked, its alert
            problems = browser.watch_flow(base, browser.crawl_into(store, embedder), flow)
            shots.append((flow, (browser.MESSAGE_OK,), problems))
            for file, wanted, seen in shots:
                browser.check_shot(file, wanted)
                size, count = browser.colours(file)
                print(f"{file.relative_to(ROOT)}  {size[0]}x{size[1]}  {count} colours", *seen)
        finally:
            browser.stop_serve(child)


if __name__ == "__main__":
    main()
