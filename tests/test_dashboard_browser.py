"""The dashboard in a real browser (Debian's Chromium via Playwright): every page with its own content, no
console or CSP errors, screenshots checked (not blank, the page's charts and rows drawn in them), the
watches form (add, list, check now, alerts, remove, every error a readable line, a hostile name as text),
and the pages on Elasticsearch. With CI set it must run, not skip."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from indexer.stores import StoreSpec
from tests.server_store import NOW, breakout_documents, build_store, fill_store, iso, log_crawls

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
STARTUP_DEADLINE_S = 180  # `serve` imports FastAPI and the store on a loaded machine: polled, generous
WAIT_MS = 120_000  # every wait on page state (a write embeds a query and ranks: seconds at load 16)
MIN_COLOURS = 8  # a rendered page with a table, bars and curves has far more; a blank one has 1 or 2
ROOT = Path(__file__).resolve().parents[1]
TOKEN = "dash-test-token"
# A watch name a page must show as text: as markup it would be an image whose onerror runs script.
HOSTILE_NAME = '<img src=x onerror="alert(1)"> blender/2'
# Colours the screenshots must contain where the page draws them (indexer/server/svg.py).
CURVE = (0x6A, 0x1B, 0x9A)
FACT_TOP_KOL = (0xEF, 0x6C, 0x00)
ALERTING_ROW = (0xFF, 0xEB, 0xEE)
MESSAGE_OK = (0xE8, 0xF5, 0xE9)  # static/style.css: .message.ok
# What the main page says while its first ranking is made in the background (templates/trending.html).
FIRST_RANKING = "Being ranked for the first time"


class Shown:
    """What a page must show: `text` in its main part, at least N of each selector (the first visible),
    curves with at least 2 points, and `colours` (RGB) in its screenshot."""

    def __init__(
        self,
        path: str,
        file: str,
        text: str,
        counts: dict[str, int],
        curves: bool = False,
        colours: tuple = (),
    ) -> None:
        self.path, self.file, self.text, self.counts = path, file, text, counts
        self.curves, self.colours = curves, colours


PAGES = (
    Shown(
        "/", "dashboard-trending.png", "Hommly",
        {"table.trending tbody tr": 2, "svg.fact-bar rect.fact-top_kol": 1}, True, (FACT_TOP_KOL, CURVE),
    ),
    Shown(
        "/product?id=tiktok:product:555", "dashboard-product.png", "Members across platforms",
        {"table.members tbody tr": 2, "table.links tbody tr": 1}, True, (CURVE,),
    ),
    Shown("/lives", "dashboard-lives.png", "主播小王", {"table.lives tbody tr": 1}, True, (CURVE,)),
    Shown(
        "/search?q=portable+blender", "dashboard-search.png", "Portable blender review",
        {"table.hits tbody tr": 3},
    ),
    Shown("/watches", "dashboard-watches.png", "Add a watch", {"form#watch-form input[name=query]": 1}),
    Shown(
        "/health", "dashboard-health.png", "douyin",
        {"table.health tbody tr": 6, "table.health tr.alerting": 1}, True, (CURVE, ALERTING_ROW),
    ),
)  # fmt: skip


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


def start_serve(
    store: str | Path,
    log: Path,
    token: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
) -> tuple[subprocess.Popen, str]:
    """`trendcart serve --port 0` (with `--token` when given) in a child process; its URL, read from the
    line it prints. `env` adds variables (TRENDCART_ES_INDEX_PREFIX); `cwd` holds ./trendcart-data/."""
    environ = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
    environ.pop("TRENDCART_TOKEN", None)
    args = [sys.executable, str(ROOT / "search_cli.py"), "--store", str(store), "serve", "--port", "0"]
    handle = log.open("w")
    child = subprocess.Popen(
        args + (["--token", token] if token else []), stdout=handle, stderr=subprocess.STDOUT, env=environ,
        cwd=cwd,
    )  # fmt: skip
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while time.monotonic() < deadline and child.poll() is None:
        found = re.search(r"http://127\.0\.0\.1:\d+/", log.read_text(encoding="utf-8", errors="replace"))
        if found:
            return child, found.group(0).rstrip("/")
        time.sleep(0.2)
    child.kill()
    raise AssertionError(f"serve did not start: {log.read_text(errors='replace')[-2000:]}")


def stop_serve(child: subprocess.Popen) -> None:
    child.terminate()
    try:
        child.wait(timeout=60)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(timeout=60)


def _pixels(png: Path):
    """The screenshot's RGB pixels as an (n, 3) uint8 array (matplotlib reads PNG; no Pillow needed)."""
    import matplotlib.image as mpimg
    import numpy as np

    pixels = mpimg.imread(str(png))
    return pixels.shape[1], pixels.shape[0], (pixels[..., :3] * 255).round().astype(np.uint8).reshape(-1, 3)


def colours(png: Path) -> tuple[tuple[int, int], int]:
    """(width, height) and the number of distinct colours of a PNG."""
    import numpy as np

    width, height, flat = _pixels(png)
    return (width, height), len(np.unique(flat, axis=0))


def pixels_of(png: Path, rgb: tuple[int, int, int], tolerance: int = 24) -> int:
    """How many pixels of the PNG are within `tolerance` (per channel) of `rgb`."""
    import numpy as np

    _, _, flat = _pixels(png)
    return int((np.abs(flat.astype(int) - np.array(rgb)).max(axis=1) <= tolerance).sum())


def check_shot(png: Path, wanted: tuple = ()) -> None:
    """A screenshot that is a page: wide enough, many colours, and `wanted` colours drawn (>= 20 pixels)."""
    size, count = colours(png)
    assert size[0] >= 1000 and size[1] >= 300, (png.name, size)
    assert count > MIN_COLOURS, (png.name, count)
    for rgb in wanted:
        assert pixels_of(png, rgb) >= 20, (png.name, "#{:02x}{:02x}{:02x} is not drawn".format(*rgb))


def watch_problems(page) -> list[str]:
    """Collect what must not happen on `page`: script errors, CSP violations, failed requests, and console
    errors other than the browser's own line for an API answer the page shows as a message (4xx)."""
    problems: list[str] = []

    def console(message) -> None:
        if message.type not in ("error", "warning"):
            return
        if re.match(r"Failed to load resource: the server responded with a status of 4\d\d", message.text):
            return  # a refused write: its {"error"} is shown in the page (asserted where it happens)
        problems.append(f"console {message.type}: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    return problems


def check_page(page, base: str, shown: Shown) -> None:
    """Load `shown.path`, wait until app.js ran, and assert what it must show."""
    response = page.goto(base + shown.path, wait_until="load", timeout=WAIT_MS)
    assert response is not None and response.status == 200, (shown.path, response and response.status)
    page.wait_for_selector("body[data-ready='1']", timeout=WAIT_MS)  # app.js ran (the CSP let it)
    deadline = time.monotonic() + WAIT_MS / 1000
    while FIRST_RANKING in page.inner_text("main") and time.monotonic() < deadline:
        page.wait_for_timeout(
            500
        )  # the server ranks the main page in the background: reload, as a user would
        page.reload(wait_until="load", timeout=WAIT_MS)
        page.wait_for_selector("body[data-ready='1']", timeout=WAIT_MS)
    assert shown.text in page.inner_text("main"), (shown.path, shown.text)
    for selector, least in shown.counts.items():
        found = page.locator(selector)
        assert found.count() >= least, (shown.path, selector, found.count())
        assert found.first.is_visible(), (shown.path, selector)
    if shown.curves:
        points = page.locator("svg.curve polyline").first.get_attribute("points") or ""
        assert len(points.split()) >= 2, (shown.path, points)


def shoot(base: str, out_dir: Path, pages: tuple[Shown, ...] = PAGES) -> list[dict]:
    """Load every page in Chromium, check it, screenshot it into `out_dir`; what each page showed."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    seen = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            problems = watch_problems(page)
            for shown in pages:
                check_page(page, base, shown)
                shot = out_dir / shown.file
                page.screenshot(path=str(shot), full_page=True)
                seen.append({"path": shown.path, "file": shot, "problems": list(problems), "shown": shown})
                problems.clear()
        finally:
            browser.close()
    return seen


def watch_flow(base: str, crawl: Callable[[], Any], shot: Path) -> list[str]:
    """Drive the watches form as a user would (a fresh tab, no token yet): every refusal shown as a line,
    a watch added and listed, a hostile name shown as text and removed, `crawl()` bringing a breakout,
    "Check now" and its alert, the screenshot into `shot`, the watch removed. The problems seen."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            problems = watch_problems(page)
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            message = page.locator("#message")

            def submit(expected: str, **fields: str) -> None:
                for name, value in fields.items():
                    box = page.locator(f"#watch-form [name={name}]")
                    if name == "by":
                        box.select_option(value)
                    else:
                        box.fill(value)
                page.locator("#watch-submit").click()
                expect(message).to_contain_text(expected, timeout=WAIT_MS)

            page.goto(base + "/watches", wait_until="load", timeout=WAIT_MS)
            page.wait_for_selector("body[data-ready='1']", timeout=WAIT_MS)
            expect(page.locator("#token-field")).to_be_visible()
            submit("Enter a query", query="  ")
            blender = {"query": "portable blender", "name": "blenders", "by": "video", "top": "1"}
            submit("needs its token for writes", **blender)
            submit("The server refused the token", **blender, token="wrong-token")
            expect(message).to_have_class(re.compile(r"\berror\b"))
            submit("Added watch 'blenders': 1 row in its top now", **blender, token=TOKEN)
            expect(page.locator("table.watches td.name")).to_have_text(["blenders"], timeout=WAIT_MS)
            expect(page.locator("#token-field")).to_be_hidden()  # asked once: kept for the tab
            assert page.evaluate("sessionStorage.getItem('trendcart.token')") == TOKEN
            assert TOKEN not in page.url and TOKEN not in page.content()
            assert "token" not in str(page.context.cookies())  # reads on 127.0.0.1 need no cookie
            submit("a watch named 'blenders' exists", **blender)
            submit("a watch needs a query with something to search", query="\u0001\u0002", name="bad")
            submit("window:", query="blender", name="bad", window="banana")
            submit("Top must be a whole number", query="blender", name="bad", window="24h", top="1.5")
            submit("top: Input should be greater than or equal to 1", top="0")
            submit(f"Added watch '{HOSTILE_NAME}'", query="blender", name=HOSTILE_NAME, by="product", top="5")
            hostile = page.locator("table.watches tr", has_text=HOSTILE_NAME)
            expect(hostile).to_have_count(1, timeout=WAIT_MS)
            assert page.locator("main img").count() == 0 and dialogs == []
            hostile.locator("button.watch-rm").click()
            expect(message).to_contain_text(f"Removed watch '{HOSTILE_NAME}'", timeout=WAIT_MS)
            expect(page.locator("table.watches td.name")).to_have_text(["blenders"], timeout=WAIT_MS)
            crawl()  # a crawl brings a blender video whose views soar
            page.locator("#watch-check").click()
            expect(message).to_contain_text(f"Checked 1 watch as of {iso(NOW)}: 1 new alert", timeout=WAIT_MS)
            alert = page.locator("ul.alerts li.alert-breakout")
            expect(alert).to_contain_text("watch 'blenders'", timeout=WAIT_MS)
            expect(alert).to_contain_text("Portable blender smoothie hack broke out at #1")
            row = page.locator("table.watches tbody tr", has_text="blenders")
            expect(row.locator("td.num")).to_have_text("1")  # its breakouts
            page.screenshot(path=str(shot), full_page=True)
            page.locator("button.watch-rm[data-name='blenders']").click()
            expect(message).to_contain_text("Removed watch 'blenders'", timeout=WAIT_MS)
            expect(page.locator("main")).to_contain_text("No watches yet")
            expect(alert).to_contain_text("watch 'blenders'")  # the history stays
            assert dialogs == []
            return problems
        finally:
            browser.close()


def crawl_into(store: Path, embedder: Any) -> Callable[[], None]:
    """What a crawl would do to the SQLite store at `store`: index the breakout's observations."""
    from indexer.sqlite_store import SqliteStore

    return lambda: fill_store(SqliteStore(store), embedder, breakout_documents())


@pytest.fixture(scope="module")
def served(tmp_path_factory, embedder):
    """`serve --token` over the test store with its crawl log: (its URL, the folder, the store's path)."""
    _browser_or_skip()
    where = tmp_path_factory.mktemp("dashboard")
    store = build_store(where / "s.db", embedder)
    log_crawls(StoreSpec.parse(str(store)))
    child, base = start_serve(store, where / "serve.log", token=TOKEN)
    yield base, where, store
    stop_serve(child)


@pytest.mark.model
def test_every_page_renders_in_chromium_with_its_content_drawn(served):
    base, where, _ = served
    seen = shoot(base, where / "shots")
    assert [s["path"] for s in seen] == [p.path for p in PAGES]
    for shown in seen:
        assert shown["problems"] == [], shown  # CSP violations are console errors in Chromium
        check_shot(shown["file"], shown["shown"].colours)


@pytest.mark.model
def test_add_check_and_remove_a_watch_from_the_page(served, embedder):
    base, where, store = served
    shot = where / "dashboard-watches-flow.png"
    problems = watch_flow(base, crawl_into(store, embedder), shot)
    assert problems == []
    check_shot(shot, (MESSAGE_OK,))  # the line saying what "Check now" did


@pytest.mark.model
def test_scraped_markup_shows_as_text_in_the_browser(served):
    from playwright.sync_api import sync_playwright

    base, _, _ = served
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(base + "/search?q=unboxing&mode=keyword", wait_until="load", timeout=WAIT_MS)
            assert '<script>alert("x")</script>' in page.inner_text("main")
            assert page.locator("main b").count() == 0 and dialogs == []
        finally:
            browser.close()


def test_without_a_token_the_watch_form_is_off_and_says_why(tmp_path):
    """A server started without a token takes no writes: the page shows the form off and how to turn it on."""
    from playwright.sync_api import expect, sync_playwright

    _browser_or_skip()
    store = build_store(tmp_path / "k.db", None)  # keyword only: this page needs no model
    child, base = start_serve(store, tmp_path / "serve.log")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            try:
                page = browser.new_page()
                problems = watch_problems(page)
                page.goto(base + "/watches", wait_until="load", timeout=WAIT_MS)
                page.wait_for_selector("body[data-ready='1']", timeout=WAIT_MS)
                expect(page.locator("#writes-off")).to_contain_text("trendcart serve --token TOKEN")
                expect(page.locator("#watch-form fieldset")).to_have_attribute("disabled", "")
                expect(page.locator("#watch-form [name=query]")).to_be_disabled()
                expect(page.locator("#watch-submit")).to_be_disabled()
                expect(page.locator("#token-field")).to_be_hidden()
                assert problems == []
            finally:
                browser.close()
    finally:
        stop_serve(child)


@pytest.mark.elasticsearch
@pytest.mark.model
def test_the_pages_on_elasticsearch(es_url, tmp_path, embedder):
    """`serve --store http://...`: every page shows the same content from the same corpus on a real node."""
    from indexer.elastic import ElasticConfig, ElasticStore

    _browser_or_skip()
    prefix = f"tcd-{uuid.uuid4().hex[:10]}"
    config = ElasticConfig.from_env(es_url, environ={}, index_prefix=prefix, outbox_dir=tmp_path / "outbox")
    fill_store(ElasticStore(config), embedder)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)  # the crawl log of a server store is ./trendcart-data/crawls.jsonl
        log_crawls(StoreSpec.parse(es_url))
    child, base = start_serve(
        es_url, tmp_path / "serve.log", TOKEN, {"TRENDCART_ES_INDEX_PREFIX": prefix}, tmp_path
    )
    try:
        seen = shoot(base, tmp_path / "shots")
        for shown in seen:
            assert shown["problems"] == [], shown
            check_shot(shown["file"], shown["shown"].colours)
    finally:
        stop_serve(child)
        store = ElasticStore(config)
        try:
            store.destroy()
        finally:
            store.close()
