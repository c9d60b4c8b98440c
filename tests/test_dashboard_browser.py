"""The dashboard in a real browser (Debian's Chromium via Playwright): pages, content, no console or CSP
errors, and screenshots that are not blank. With CI set it must run, not skip."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.server_store import build_store

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
STARTUP_DEADLINE_S = 180  # `serve` imports FastAPI and the store on a loaded machine: polled, generous
MIN_COLOURS = 8  # a rendered page with a table, bars and curves has far more; a blank one has 1 or 2
ROOT = Path(__file__).resolve().parents[1]
# (path, file name, what must be on the page: a CSS selector that must exist, text that must show)
PAGES = (
    ("/", "dashboard-trending.png", "svg.fact-bar rect.fact-top_kol", "Hommly"),
    (
        "/product?id=tiktok:product:555",
        "dashboard-product.png",
        "svg.curve polyline",
        "Members across platforms",
    ),
    ("/lives", "dashboard-lives.png", "svg.curve polyline", "主播小王"),
    ("/search?q=portable+blender", "dashboard-search.png", "table.hits td.title", "Portable blender review"),
    ("/watches", "dashboard-watches.png", "main h1", "Watches"),
    ("/health", "dashboard-health.png", "main h1", "Crawl health"),
)


def _browser_or_skip():
    missing = [
        what
        for what, ok in (("chromium", os.path.exists(CHROMIUM)), ("playwright", _has_playwright()))
        if not ok
    ]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {', '.join(missing)} is missing (.ci/run installs chromium)")
        pytest.skip(f"needs {', '.join(missing)}")


def _has_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def start_serve(store: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """`trendcart serve --port 0` in a child process; its URL, read from the line it prints."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("TRENDCART_TOKEN", None)
    handle = log.open("w")
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "search_cli.py"), "--store", str(store), "serve", "--port", "0"],
        stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
    )  # fmt: skip
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while time.monotonic() < deadline and child.poll() is None:
        found = re.search(r"http://127\.0\.0\.1:\d+/", log.read_text(encoding="utf-8", errors="replace"))
        if found:
            return child, found.group(0).rstrip("/")
        time.sleep(0.2)
    child.kill()
    raise AssertionError(f"serve did not start: {log.read_text(errors='replace')[-2000:]}")


def colours(png: Path) -> tuple[tuple[int, int], int]:
    """(width, height) and the number of distinct colours of a PNG (matplotlib reads it; no Pillow needed)."""
    import matplotlib.image as mpimg
    import numpy as np

    pixels = mpimg.imread(str(png))
    flat = (pixels[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    return (pixels.shape[1], pixels.shape[0]), len(np.unique(flat, axis=0))


def shoot(base: str, out_dir: Path, wait_ready: bool = True) -> list[dict]:
    """Load every page in Chromium, check it, screenshot it into `out_dir`; what each page showed."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    seen = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            problems: list[str] = []
            page.on(
                "console",
                lambda m: (
                    problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None
                ),
            )
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            for path, name, selector, text in PAGES:
                response = page.goto(base + path, wait_until="load", timeout=120_000)
                assert response is not None and response.status == 200, (path, response and response.status)
                page.wait_for_selector("body[data-ready='1']", timeout=60_000)  # app.js ran (CSP let it)
                assert page.locator(selector).count() > 0, (path, selector)
                assert text in page.inner_text("main"), (path, text)
                shot = out_dir / name
                page.screenshot(path=str(shot), full_page=True)
                seen.append({"path": path, "file": shot, "problems": list(problems)})
                problems.clear()
        finally:
            browser.close()
    return seen


@pytest.fixture(scope="module")
def served(tmp_path_factory, embedder):
    _browser_or_skip()
    where = tmp_path_factory.mktemp("dashboard")
    store = build_store(where / "s.db", embedder)
    child, base = start_serve(store, where / "serve.log")
    yield base, where
    child.terminate()
    child.wait(timeout=60)


@pytest.mark.model
def test_every_page_renders_in_chromium_without_console_or_csp_errors(served):
    base, where = served
    seen = shoot(base, where / "shots")
    assert [s["path"] for s in seen] == [p[0] for p in PAGES]
    for shown in seen:
        assert shown["problems"] == [], shown  # CSP violations are console errors in Chromium
        size, count = colours(shown["file"])
        assert size[0] >= 1000 and size[1] >= 300, (shown["path"], size)
        assert count > MIN_COLOURS, (shown["path"], count)


@pytest.mark.model
def test_scraped_markup_shows_as_text_in_the_browser(served):
    from playwright.sync_api import sync_playwright

    base, _ = served
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(base + "/search?q=unboxing&mode=keyword", wait_until="load", timeout=120_000)
            assert '<script>alert("x")</script>' in page.inner_text("main")
            assert page.locator("main b").count() == 0 and dialogs == []
        finally:
            browser.close()
