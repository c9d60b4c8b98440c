"""Live rooms: viewers as a gauge (the issue's example), the watch against a local server, show, reports."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from crawler.items import COUNTERS, GAUGES, METRIC_NAMES
from crawler.times import iso_utc, utc_now
from indexer.lives import filled_peak, live_detail, live_stats, samples_of, sparkline
from indexer.sqlite_store import SqliteStore
from indexer.stores import StoreSpec
from indexer.trends import TrendEngine
from indexer.workflows.errors import BadRequest, NothingFound
from indexer.workflows.live import MAX_MISSES, Watch, live_show_lines, parse_every, progress_line, show_live

# The issue's six samples of one room, ten minutes apart.
SERIES = (3_000, 8_500, 12_000, 26_000, 18_000, 9_000)
STEP = timedelta(minutes=10)
T0 = datetime(2026, 11, 25, 10, 0, tzinfo=utc_now().tzinfo)
LIVE_ID = "douyin:live:room1"


def live_doc(at: datetime, viewers: int, views: int | None = None, likes: int | None = None, **extra):
    return {
        "id": LIVE_ID,
        "kind": "live",
        "platform": "douyin",
        "title": "年货节直播 live sale",
        "url": "https://live.douyin.com/room1",
        "creator": {"id": "douyin:creator:s1", "name": "主播小王"},
        "published_at": iso_utc(T0),
        "live": {"status": "live", "started_at": iso_utc(T0), "ended_at": None},
        "metrics": {"viewers": viewers, "views": views, "likes": likes},
        "observed_at": iso_utc(at),
        **extra,
    }


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path / "live.db")
    for i, viewers in enumerate(SERIES):
        s.upsert([live_doc(T0 + i * STEP, viewers, views=10_000 * (i + 1), likes=500 * (i + 1))])
    yield s
    s.close()


def test_gauges_and_counters_split_the_metrics():
    assert set(GAUGES) | set(COUNTERS) == set(METRIC_NAMES) and not set(GAUGES) & set(COUNTERS)
    assert "viewers" in GAUGES and "views" in COUNTERS and "sales" in COUNTERS


def test_the_issues_example_peak_average_viewer_minutes(store):
    stats = live_stats(samples_of(store.snapshots(LIVE_ID)), iso_utc(T0), None)
    assert stats.peak_viewers == 26_000 and stats.peak_at == iso_utc(T0 + 3 * STEP)
    # trapezoids: (3000+8500)/2 + (8500+12000)/2 + (12000+26000)/2 + (26000+18000)/2 + (18000+9000)/2, x 10 min
    assert stats.viewer_minutes == pytest.approx(705_000)
    assert stats.avg_viewers == pytest.approx(14_100) and stats.minutes_live == pytest.approx(50)
    assert stats.views_per_hour == pytest.approx(50_000 / (50 / 60))
    assert stats.likes_per_hour == pytest.approx(2_500 / (50 / 60))
    assert stats.viewers_now == 9_000 and stats.samples == 6


def test_trending_by_live_viewers_is_never_a_velocity(store):
    now = T0 + 5 * STEP
    report = TrendEngine(store, now=now).trending(by="live", window="1h", metric="viewers")
    (live,) = report.results
    c = live.components
    assert c["basis"] == "gauge" and c["velocity"] is None and c["growth"] is None
    assert c["peak_viewers"] == 26_000 and c["avg_viewers"] == pytest.approx(14_100)
    assert c["viewer_minutes"] == pytest.approx(705_000) and c["minutes_live"] == pytest.approx(50)
    assert live.score == pytest.approx(5.8482, abs=1e-4)  # log10(1 + 705,000)
    # a counter (total viewers) keeps its velocity, with the gauge numbers beside it
    counter = TrendEngine(store, now=now).trending(by="live", window="1h", metric="views").results[0]
    assert (
        counter.components["velocity"] == pytest.approx(60_000)
        and counter.components["peak_viewers"] == 26_000
    )
    with pytest.raises(ValueError, match="gauge"):
        TrendEngine(store, now=now).trending(by="video", window="1h", metric="viewers")


def test_trending_live_table_csv_and_cli(store, tmp_path):
    from indexer.reports import columns_of, rows_of
    from indexer.workflows.views import csv_text, trend_table

    report = TrendEngine(store, now=T0 + 5 * STEP).trending(by="live", window="1h", metric="viewers")
    table = trend_table(report)
    assert {"peak", "avg viewers", "viewer-min", "min live"} <= set(table.columns)
    row = table.rows[0]
    assert (
        row[table.columns.index("peak")] == "26,000" and row[table.columns.index("viewer-min")] == "705,000"
    )
    text = csv_text(rows_of(report), columns_of(report))
    assert "peak_viewers" in text.splitlines()[0] and ",26000," in text


def test_peak_is_filled_from_samples_and_the_platform():
    assert filled_peak({"viewers": 10, "peak_viewers": None}, 26) == 26
    assert filled_peak({"viewers": 30, "peak_viewers": None}, 26) == 30
    assert filled_peak({"viewers": 5, "peak_viewers": 90}, 26) == 90
    assert filled_peak({"viewers": None, "peak_viewers": None}, None) is None
    assert sparkline([0, 4, 8, None]) == "▁▅█ " and sparkline([]) == ""


def test_every_and_bad_options():
    assert parse_every("30s") == 30 and parse_every("1h30m") == 5400 and parse_every("45") == 45
    with pytest.raises(BadRequest):
        parse_every("soon")


# -- the watch --------------------------------------------------------------------------------------
class FakeClock:
    """Monotonic seconds that only move when the watch sleeps (or a test jumps the wall clock)."""

    def __init__(self, start: datetime, on_sleep=None) -> None:
        self.t, self.start, self.wall_offset, self.on_sleep = 0.0, start, 0.0, on_sleep
        self.ticks = 0

    def monotonic(self) -> float:
        return self.t

    def wall(self) -> datetime:
        return self.start + timedelta(seconds=self.t + self.wall_offset)

    def sleep(self, seconds: float) -> None:
        self.t += max(seconds, 0.0)
        self.ticks += 1
        if self.on_sleep:
            self.on_sleep(self.ticks)


def room_page(url: str, viewers: int | None, status: str = "live", price: float = 59.9, products=("a", "b")):
    """A schema.org live broadcast (VideoObject + BroadcastEvent) with the products it sells."""
    end = ', "endDate": "2026-01-01T00:00:00Z"' if status == "ended" else ""
    stats = (
        f', "interactionStatistic": {{"@type": "InteractionCounter", "interactionType": '
        f'"https://schema.org/WatchAction", "userInteractionCount": {viewers}}}'
        if viewers is not None
        else ""
    )
    offers = ", ".join(
        f'{{"@type": "Product", "name": "Product {p}", "url": "https://shop.example/p/{p}", '
        f'"offers": {{"@type": "Offer", "price": "{price}", "priceCurrency": "CNY"}}}}'
        for p in products
    )
    return (
        '<html><head><script type="application/ld+json">'
        f'{{"@context": "https://schema.org", "@type": "VideoObject", "name": "Live sale {url}", '
        f'"url": "{url}", "publication": {{"@type": "BroadcastEvent", "isLiveBroadcast": true, '
        f'"startDate": "2020-01-01T00:00:00Z"{end}}}{stats}, "about": [{offers}]}}'
        "</script></head><body></body></html>"
    )


DOUYIN_ROOM = json.loads(
    open("tests/fixtures/platforms/douyin/room-web-enter-live.json", encoding="utf-8").read()
)


def douyin_room(viewers: int, ended: bool = False) -> str:
    """Douyin's room API body (recognised by its content) with the concurrent viewers of one sample."""
    body = json.loads(json.dumps(DOUYIN_ROOM))
    room = body["data"]["data"][0]
    room["user_count_str"], room["status"] = str(viewers), 4 if ended else 2
    if ended:
        room["finish_time"] = 1593362656
    return json.dumps(body)


def test_watch_samples_indexes_and_survives_bad_rooms(http_server, tmp_path):
    base = "/live-watch-1"
    good, shop, flaky, gone = (http_server.url(f"{base}/{n}") for n in ("good", "shop", "flaky", "gone"))
    never = http_server.url(f"{base}/never-existed")  # no route: 404 from the first sample
    curve = [3_000, 8_500, 26_000, 9_000]
    captcha = open("tests/fixtures/standards/captcha.html", encoding="utf-8").read()

    def serve(tick: int) -> None:
        ended = tick >= len(curve)
        http_server.add(
            f"{base}/good",
            douyin_room(curve[min(tick, len(curve) - 1)], ended),
            content_type="application/json",
        )
        products = ("a", "b") if tick < 2 else ("b", "c")
        price = 59.9 if tick < 2 else 49.9
        http_server.add(
            f"{base}/shop", room_page(shop, 1000 * (tick + 1), "ended" if ended else "live", price, products)
        )
        # flaky: a captcha, then malformed JSON, then fine again: a glitch, not a stop
        flaky_pages = {1: captcha, 2: '<script type="application/ld+json">{"@type": "VideoObject", </script>'}
        http_server.add(f"{base}/flaky", flaky_pages.get(tick) or room_page(flaky, 100 + tick))
        if tick == 2:  # gone: removed mid-watch
            http_server.add(f"{base}/gone", "gone", status=404)

    serve(0)
    http_server.add(f"{base}/gone", room_page(gone, 7))
    lines = []
    db = SqliteStore(tmp_path / "w.db")
    clock = FakeClock(utc_now() - timedelta(hours=1), on_sleep=serve)
    rooms_in = [good, shop, flaky, gone, never]
    watch = Watch(
        db, rooms_in, 30, for_s=8 * 30, clock=clock, on_sample=lambda r: lines.append(progress_line(r))
    )
    report = watch.run()
    rooms = {r.source: r for r in report.rooms}
    assert rooms[good].end_reason == "ended" and rooms[good].samples == 5
    assert rooms[shop].end_reason == "ended" and rooms[shop].samples == 5
    assert rooms[never].end_reason == "not_found" and rooms[never].samples == 0
    assert rooms[gone].end_reason == "gone" and rooms[gone].samples == 2
    assert dict(rooms[flaky].failures) == {"captcha": 1, "malformed": 1} and rooms[flaky].misses == 0
    assert report.stopped_by == "for" and report.ticks == 8 and rooms[flaky].samples == 6
    assert report.lag_max_s == 0.0 and report.clock_changes == 0
    assert any("viewers 26,000 / peak 26,000" in line for line in lines)
    detail = live_detail(db, rooms[good].live_id)
    assert [s["viewers"] for s in detail["samples"]] == [*curve, None]  # an ended room has no viewers now
    assert detail["stats"]["peak_viewers"] == 26_000 and detail["status"] == "ended"
    # peak_viewers filled from the samples as they came
    assert [s["peak_viewers"] for s in detail["samples"]] == [3_000, 8_500, 26_000, 26_000, 26_000]
    detail = live_detail(db, rooms[shop].live_id)
    products = {p["title"]: p for p in detail["products"]}
    assert set(products) == {"Product a", "Product b", "Product c"}
    assert products["Product a"]["samples_listed"] == 2 and products["Product c"]["samples_listed"] == 3
    assert products["Product b"]["price_changes"] == [
        {"at": detail["samples"][2]["at"], "from": 59.9, "to": 49.9}
    ]
    assert products["Product b"]["first_seen"] == detail["samples"][0]["at"]
    assert products["Product a"]["last_seen"] == detail["samples"][1]["at"]
    db.close()


def test_watch_stops_after_samples_counts_misses_and_clock_changes(http_server, tmp_path):
    private = http_server.add("/live-watch-2/private", "login required", status=403)
    room = http_server.add("/live-watch-2/room", room_page(http_server.url("/live-watch-2/room"), 50))
    clock = FakeClock(utc_now() - timedelta(hours=1))

    def jump(tick: int) -> None:
        if tick == 1:
            clock.wall_offset = -3600.0  # someone set the wall clock back an hour

    clock.on_sleep = jump
    db = SqliteStore(tmp_path / "w2.db")
    report = Watch(db, [room, private], 60, samples=4, clock=clock).run()
    rooms = {r.source: r for r in report.rooms}
    assert rooms[room].samples == 4 and rooms[room].end_reason == "samples"
    assert rooms[private].failures["private"] == MAX_MISSES and rooms[private].end_reason.startswith(
        "private"
    )
    assert report.clock_changes == 1 and report.stopped_by == "samples"
    times = [s.observed_at for s in db.snapshots(rooms[room].live_id, metric="views")]
    assert len(times) == 4 and times == sorted(times)  # sample times never go backwards
    db.close()


def test_watch_for_limit_network_errors_and_interrupt(tmp_path):
    calls = []

    def broken(url):
        calls.append(url)
        if len(calls) == 3:
            raise KeyboardInterrupt
        raise ConnectionRefusedError("refused")

    db = SqliteStore(tmp_path / "w3.db")
    report = Watch(db, ["http://127.0.0.1:9/room"], 30, clock=FakeClock(utc_now()), fetch=broken).run()
    assert report.interrupted and report.stopped_by == "interrupted"
    assert report.rooms[0].failures["network"] == 2 and not report.rooms[0].done  # retried every tick
    clock = FakeClock(utc_now())
    report = Watch(
        db, ["http://127.0.0.1:9/room"], 30, for_s=90, clock=clock, fetch=lambda u: (500, None, b"")
    ).run()
    assert report.stopped_by == "for" and report.ticks == 3 and report.rooms[0].failures["http"] == 3
    db.close()


def test_live_show_and_the_cli(tmp_path, store, embedder, monkeypatch):
    from typer.testing import CliRunner

    from indexer.cli import common as cli_common
    from search_cli import app

    monkeypatch.setattr(cli_common, "get_embedder", lambda: embedder)  # one model load per test session

    spec = StoreSpec.parse(str(tmp_path / "live.db"))
    detail = show_live(spec, LIVE_ID)
    assert detail["streamer"] == "主播小王" and detail["stats"]["peak_viewers"] == 26_000
    text = "\n".join(live_show_lines(detail))
    assert "▁" in text and "█" in text and "26,000" in text and "705,000 viewer-minutes" in text
    with pytest.raises(NothingFound):
        show_live(spec, "douyin:live:nope")
    runner = CliRunner()
    result = runner.invoke(app, ["--store", str(tmp_path / "live.db"), "live", "show", LIVE_ID, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["stats"]["viewer_minutes"] == 705_000 and len(data["samples"]) == 6
    missing = runner.invoke(app, ["--store", str(tmp_path / "live.db"), "live", "show", "douyin:live:nope"])
    assert missing.exit_code == 5
    page = tmp_path / "room.html"
    page.write_text(room_page("https://shoplive.example/live/9", 1234), encoding="utf-8")
    watched = runner.invoke(
        app,
        [
            "--store",
            str(tmp_path / "cli.db"),
            "live",
            "watch",
            str(page),
            "--every",
            "1s",
            "--samples",
            "2",
            "--json",
        ],
    )
    assert watched.exit_code == 0, watched.output
    summary = json.loads(watched.stdout)
    assert summary["stored"] == 2 and summary["rooms"][0]["stopped"] == "samples"
    bad = runner.invoke(app, ["--store", str(tmp_path / "cli.db"), "live", "watch", "nofile.html"])
    assert bad.exit_code == 4


def test_report_has_a_section_per_live_room(store, tmp_path):
    from indexer.reports import build_report, render_markdown

    data = build_report(store, now=T0 + 5 * STEP, window="1h", metric="viewers")
    assert [room["id"] for room in data.live_rooms] == [LIVE_ID]
    assert LIVE_ID not in data.curves  # the live's curve is its own, not mixed into the videos'
    md = render_markdown(data)
    assert "### Live room:" in md and "peak 26,000 viewers" in md and "Viewers: `" in md


def test_schedule_live_job_watches_rooms(tmp_path):
    from indexer.schedule import ScheduleError, parse_config
    from indexer.workflows.scheduled import run_schedule

    page = tmp_path / "room.html"
    page.write_text(room_page("https://shoplive.example/live/7", 10, "ended"), encoding="utf-8")
    config = tmp_path / "schedule.toml"
    config.write_text(
        '[[jobs]]\nname = "rooms"\nkind = "live"\ncron = "*/5 * * * *"\nurls = ["room.html"]\nevery = "30s"\n'
        'samples = 3\n[jobs.report]\nformats = ["md"]\nout_dir = "reports"\n',
        encoding="utf-8",
    )
    (run,) = run_schedule(config, store=str(tmp_path / "s.db"), once=True)
    assert run.error is None and run.crawl.stored == 1  # the room had ended: one sample, then it stops
    assert run.crawl.rooms[0].end_reason == "ended" and run.reports[0].endswith(".md")
    with pytest.raises(ScheduleError, match="urls"):
        parse_config({"jobs": [{"name": "x", "kind": "live", "cron": "* * * * *"}]})
    with pytest.raises(ScheduleError, match="kind"):
        parse_config({"jobs": [{"name": "x", "kind": "stream", "cron": "* * * * *", "spider": "s"}]})


# -- sales during a live (a real store, a series of samples) ----------------------------------------
SALES_LIVE = "douyin:live:sales1"
# Per sample: {product id: (price, sales)} in the room's list at that time.
SALES_SAMPLES = (
    {"douyin:product:p1": (59.9, 100), "douyin:product:p3": (9.9, 7)},
    {"douyin:product:p1": (59.9, 140), "douyin:product:p2": (19.9, 10)},
    {"douyin:product:p1": (49.9, 190), "douyin:product:p2": (19.9, 10)},
    {"douyin:product:p1": (49.9, 260), "douyin:product:p2": (24.9, 25)},
)


def sales_live_doc(i: int, listed: dict, status: str = "live") -> dict:
    return {
        **live_doc(T0 + i * STEP, 1_000 * (i + 1)),
        "id": SALES_LIVE,
        "url": "https://live.douyin.com/sales1",
        "live": {"status": status, "started_at": iso_utc(T0), "ended_at": None},
        "products": [
            {"id": pid, "title": f"商品 {pid[-2:]}", "price": price, "currency": "CNY", "sales": sales}
            for pid, (price, sales) in listed.items()
        ],
    }


def fill_sales_live(store) -> None:
    """Four samples of one room: p1 on sale throughout (its price cut at the third), p2 from the second,
    p3 only in the first; another room lists p1 in between with its own (higher) count and price."""
    from indexer.lives import product_snapshots

    for i, listed in enumerate(SALES_SAMPLES):
        doc = sales_live_doc(i, listed)
        store.upsert([doc])
        store.add_snapshots(product_snapshots(doc))
    other = {
        **live_doc(T0 + STEP + timedelta(minutes=5), 50),
        "id": "douyin:live:other",
        "products": [{"id": "douyin:product:p1", "title": "商品 p1", "price": 39.9, "sales": 5_000}],
    }
    store.upsert([other])
    store.add_snapshots(product_snapshots(other))


def check_sales_live(store) -> None:
    detail = live_detail(store, SALES_LIVE)
    products = {p["id"]: p for p in detail["products"]}
    p1, p2, p3 = (products[f"douyin:product:{n}"] for n in ("p1", "p2", "p3"))
    times = [s["at"] for s in detail["samples"]]
    assert len(times) == 4
    # sales during the live: first and last count seen while this room listed it (the other room's 5,000
    # falls at a time this room did not list p1 and is left out)
    assert (p1["sales_first"], p1["sales_last"], p1["sales_delta"]) == (100, 260, 160)
    assert (p2["sales_first"], p2["sales_last"], p2["sales_delta"]) == (10, 25, 15)
    assert (p3["sales_first"], p3["sales_last"], p3["sales_delta"]) == (7, 7, 0)
    assert (p1["first_seen"], p1["last_seen"], p1["samples_listed"]) == (times[0], times[3], 4)
    assert (p2["first_seen"], p2["last_seen"], p2["samples_listed"]) == (times[1], times[3], 3)
    assert (p3["first_seen"], p3["last_seen"], p3["samples_listed"]) == (times[0], times[0], 1)
    assert p1["price_changes"] == [{"at": times[2], "from": 59.9, "to": 49.9}]
    assert (p1["price_first"], p1["price_last"]) == (59.9, 49.9)  # the other room's 39.9 is its own
    assert p2["price_changes"] == [{"at": times[3], "from": 19.9, "to": 24.9}] and p3["price_changes"] == []
    assert p1["listed_now"] and p2["listed_now"] and not p3["listed_now"]
    assert p3["title"] is None or p3["title"].startswith("商品")  # gone from the list: its own doc, if any
    assert [p["id"] for p in detail["products"]] == [
        "douyin:product:p1",
        "douyin:product:p2",
        "douyin:product:p3",
    ]  # largest sales during the live first


def test_sales_first_last_seen_and_price_changes_during_a_live(tmp_path):
    store = SqliteStore(tmp_path / "sales.db")
    try:
        fill_sales_live(store)
        check_sales_live(store)
        text = "\n".join(live_show_lines(live_detail(store, SALES_LIVE)))
        assert "(1 changes)" in text and "160" in text
    finally:
        store.close()


def test_a_lives_published_at_is_its_start_on_every_platform():
    """docs/DATA_MODEL.md: every parser's live items (the golden outputs of the real captures) publish
    their start as published_at, never an upload or page date; YouTube's next body knows only the day."""
    from pathlib import Path

    checked = set()
    for path in sorted(Path("tests/fixtures").glob("**/expected/*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for item in data.get("items", []) if isinstance(data, dict) else data:
            if not isinstance(item, dict) or item.get("kind") != "live":
                continue
            started = (item.get("live") or {}).get("started_at")
            if path.name == "next-X4VbdwhkE10.json.json":
                assert (
                    started is None and item["published_at"] == "2026-06-04T00:00:00Z"
                )  # "Started streaming on"
                continue
            assert item.get("published_at") == started, (path.name, item["id"])
            checked.add(item["platform"])
    assert {"youtube", "douyin", "tiktok", "bilibili", "web"} <= checked


def test_watch_reads_redirects_from_the_status_and_location(http_server, tmp_path):
    base = "/live-watch-redirect"
    real = http_server.add(f"{base}/real", room_page("https://shoplive.example/live/real", 40))
    http_server.add(f"{base}/short", "", status=302, headers={"Location": f"{base}/real"})
    http_server.add(f"{base}/login", "", status=302, headers={"Location": "/passport/login?next=/live/1"})
    http_server.add(f"{base}/home", "", status=301, headers={"Location": "/"})
    http_server.add(f"{base}/loop", "", status=302, headers={"Location": f"{base}/loop2"})
    http_server.add(f"{base}/loop2", "", status=302, headers={"Location": f"{base}/loop"})
    other = http_server.add(f"{base}/other", room_page("https://shoplive.example/live/other", 5))
    moving = http_server.url(f"{base}/moving")
    http_server.add(f"{base}/moving", room_page("https://shoplive.example/live/moving", 70))

    def serve(tick: int) -> None:  # from the second sample on, the room URL redirects to another room
        http_server.add(f"{base}/moving", "", status=302, headers={"Location": other})

    sources = [http_server.url(f"{base}/{n}") for n in ("short", "login", "home", "loop")] + [moving]
    db = SqliteStore(tmp_path / "r.db")
    try:
        clock = FakeClock(utc_now() - timedelta(hours=1), on_sleep=serve)
        report = Watch(db, sources, 30, samples=2, for_s=5 * 30, clock=clock).run()
        rooms = {r.source.rsplit("/", 1)[-1]: r for r in report.rooms}
        # a redirect to a room page is followed: the room is sampled, and where it went is said
        assert rooms["short"].samples == 2 and rooms["short"].redirected_to == real
        assert rooms["short"].live_id == "web:live:shoplive.example/live/real"
        # to a login page or a home page: known from the status and Location, counted, stopped after 3
        assert dict(rooms["login"].failures) == {"redirect_login": MAX_MISSES}
        assert rooms["login"].end_reason.startswith("redirect_login") and "/passport/login" in (
            rooms["login"].last_error or ""
        )
        assert dict(rooms["home"].failures) == {"redirect_home": MAX_MISSES}
        assert dict(rooms["loop"].failures) == {"redirect": MAX_MISSES}
        # a room URL that now redirects to another room: `moved`, with where it went
        assert rooms["moving"].samples == 1 and rooms["moving"].failures["moved"] >= 1
        assert "redirected to" in rooms["moving"].last_error and other in rooms["moving"].last_error
        summary = report.to_json()
        assert summary["failures"]["redirect_login"]["means"].startswith("the room URL redirects")
        assert summary["rooms"][0]["redirected_to"] == real
    finally:
        db.close()
