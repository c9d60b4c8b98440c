"""Crawl health: rates per platform and spider from the real crawl log, the rise rule, alerted once, the CLI."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from crawler.run import CrawlResult
from indexer.crawl_log import record_crawl
from indexer.health import MIN_PAGES, health, read_runs
from indexer.stores import StoreSpec
from indexer.workflows.errors import ExitCode
from indexer.workflows.health import check_health, crawl_health, health_lines
from indexer.workflows.watches import evaluate_after_run, recent_alerts
from search_cli import app

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def log_run(
    spec: StoreSpec, at: datetime, spider: str = "tiktok", pages: int = 50, blocked: int = 0, **more
) -> None:
    result = CrawlResult(spider=spider, pages=pages, requests=more.pop("requests", pages), **more)
    if blocked:
        result.blocked = {spider if spider != "jsonld" else "web": blocked}
    record_crawl(spec, result, finished_at=iso(at))


@pytest.fixture
def spec(tmp_path, monkeypatch):
    for name in ("TRENDCART_STORE", "TRENDCART_ALERT_JSONL", "TRENDCART_WEBHOOK", "TRENDCART_SMTP"):
        monkeypatch.delenv(name, raising=False)
    return StoreSpec.parse(str(tmp_path / "h.db"))


def week(spec: StoreSpec, blocked_per_day: int = 1, days: int = 7) -> None:
    for day in range(1, days + 1):
        log_run(spec, NOW - timedelta(days=day, hours=1), blocked=blocked_per_day)


def test_a_sudden_rise_of_blocked_pages_is_alerted_once_with_its_numbers(spec):
    week(spec)
    log_run(spec, NOW - timedelta(hours=2), blocked=41)
    result = check_health(spec, now=NOW)
    (alert,) = result.alerts
    assert alert.kind == "health" and alert.key == "health:tiktok/tiktok:blocked"
    assert alert.message.startswith(
        "tiktok: 41 of 50 pages blocked today (82%), 1 of 50 on average last week"
    )
    assert alert.detail["baseline"] == 0.02 and alert.detail["today"] == {
        "count": 41,
        "of": 50,
        "runs": 1,
        "rate": 0.82,
    }
    assert alert.detail["trend"][-1] == 0.82 and len(alert.detail["trend"]) == 8
    assert check_health(spec, now=NOW + timedelta(minutes=30)).alerts == []  # once per rise
    assert [a["key"] for a in recent_alerts(spec)] == ["health:tiktok/tiktok:blocked"]
    # A calm day closes the episode; the next rise is alerted again.
    calm = NOW + timedelta(days=1)
    log_run(spec, calm - timedelta(hours=1), blocked=1)
    assert check_health(spec, now=calm).alerts == []
    again = calm + timedelta(days=1)
    log_run(spec, again - timedelta(hours=1), blocked=45)
    assert [a.key for a in check_health(spec, now=again).alerts] == ["health:tiktok/tiktok:blocked"]


def test_the_rule_needs_pages_a_factor_and_points(spec):
    week(spec, blocked_per_day=10)  # 20 % blocked every day
    log_run(spec, NOW - timedelta(hours=2), blocked=25)  # 50 %: +30 points but only 2.5×
    log_run(spec, NOW - timedelta(hours=3), spider="youtube", pages=MIN_PAGES - 1, blocked=MIN_PAGES - 1)
    report = crawl_health(spec, now=NOW)
    rates = {(s.platform, r.rate): r for s in report.series for r in s.rates.values()}
    assert not rates["tiktok", "blocked"].alert and "not above 3×" in rates["tiktok", "blocked"].reason
    assert (
        not rates["youtube", "blocked"].alert and "fewer than 20 pages" in rates["youtube", "blocked"].reason
    )
    low = StoreSpec.parse(str(spec.path.with_name("low.db")))
    for day in range(1, 8):
        log_run(low, NOW - timedelta(days=day), blocked=0)
    log_run(low, NOW - timedelta(hours=1), blocked=5)  # 0 % -> 10 %: far above 3×, but only 10 points
    assert not crawl_health(low, now=NOW).firing


def test_a_new_spider_blocked_from_the_start_alerts_and_empty_and_error_rates_count(spec):
    log_run(spec, NOW - timedelta(hours=1), spider="douyin", pages=30, blocked=30)
    log_run(spec, NOW - timedelta(hours=1), spider="jsonld", pages=40, empty={"jsonld": 35})
    log_run(
        spec,
        NOW - timedelta(hours=1),
        spider="sitemap",
        pages=20,
        requests=60,
        errors={"request_failed/timeout": 45},
    )
    report = crawl_health(spec, now=NOW)
    firing = {(s.key, r.rate) for s, r in report.firing}
    assert firing == {("douyin/douyin", "blocked"), ("web/jsonld", "empty"), ("web/sitemap", "error")}
    (text,) = [line for line in health_lines(report) if line.startswith("douyin") and " blocked " in line]
    assert "30 of 30" in text and "ALERT: no baseline yet" in text


def test_runs_older_than_the_baseline_and_unreadable_lines_are_left_out(spec):
    log_run(spec, NOW - timedelta(days=9), blocked=50)
    with spec.crawl_log_path.open("a") as fh:
        fh.write("not json\n{}\n")
    assert len(read_runs(spec.crawl_log_path)) == 1
    assert health(read_runs(spec.crawl_log_path), NOW).series == []


def test_cli_health_json_and_table(spec, tmp_path):
    runner = CliRunner()
    store = ["--store", str(spec.path)]
    assert runner.invoke(app, [*store, "health"]).exit_code == ExitCode.NOTHING  # nothing crawled
    week(spec)
    log_run(spec, NOW - timedelta(hours=2), blocked=41)
    jsonl = tmp_path / "a.jsonl"
    result = runner.invoke(app, [*store, "health", "--now", iso(NOW), "--json", "--alert-jsonl", str(jsonl)])
    assert result.exit_code == ExitCode.OK, result.output
    data = json.loads(result.stdout)
    assert data["rule"]["rise_factor"] == 3.0 and data["alerts"] == ["health:tiktok/tiktok:blocked"]
    series = data["series"][0]
    assert series["platform"] == "tiktok" and series["rates"]["blocked"]["alert"] is True
    assert series["rates"]["blocked"]["baseline_mean"] == {"count": 1.0, "of": 50.0}
    assert data["new_alerts"][0]["key"] == "health:tiktok/tiktok:blocked" and data["delivery"]["failed"] == 0
    assert json.loads(jsonl.read_text("utf-8").splitlines()[0])["kind"] == "health"
    table = runner.invoke(app, [*store, "health", "--now", iso(NOW)])
    assert table.exit_code == 0 and "ALERT" in table.stdout and "41 of 50" in table.stdout


def test_evaluate_after_run_raises_health_alerts_into_the_environment_sinks(spec, tmp_path, monkeypatch):
    week(spec)
    log_run(spec, NOW - timedelta(hours=2), blocked=41)
    out = tmp_path / "env.jsonl"
    monkeypatch.setenv("TRENDCART_ALERT_JSONL", str(out))
    result = evaluate_after_run(spec, now=NOW)
    assert result.errors == [] and [a.key for a in result.alerts] == ["health:tiktok/tiktok:blocked"]
    assert result.delivery.to_json()["sinks"][0]["sent"] == 1 and out.is_file()


def test_a_real_crawl_of_empty_pages_raises_a_health_alert(tmp_path, http_server, monkeypatch):
    urls = [
        http_server.add(f"/health/empty-{i}.html", "<html><body><p>nothing here</p></body></html>")
        for i in range(MIN_PAGES)
    ]
    out = tmp_path / "alerts.jsonl"
    monkeypatch.setenv("TRENDCART_ALERT_JSONL", str(out))
    for name in ("TRENDCART_STORE", "TRENDCART_MODEL"):
        monkeypatch.delenv(name, raising=False)
    args = ["--store", str(tmp_path / "c.db"), "crawl", "jsonld", "--urls", ",".join(urls), "--no-index"]
    settings = ["--set", "AUTOTHROTTLE_ENABLED=False", "--set", "DOWNLOAD_DELAY=0", "--set", "RETRY_TIMES=0"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "items.jsonl"), *settings, "--json"])
    assert result.exit_code == ExitCode.NOTHING, result.output  # no items: exit 5, as before
    assert json.loads(result.stdout)["empty"] == {"jsonld": MIN_PAGES}
    (alert,) = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert alert["key"] == "health:web/jsonld:empty"
    # The pages received include robots.txt: 20 empty pages of 21.
    assert alert["message"].startswith("web: 20 of 21 pages empty today (95%), no baseline yet")
    assert "alert: web: 20 of 21 pages empty" in result.stderr


def test_a_schedule_delivers_to_its_alerts_table_and_reports_show_the_alerts(tmp_path):
    from crawler.times import utc_now
    from indexer.workflows.scheduled import run_schedule

    db = tmp_path / "s.db"
    spec = StoreSpec.parse(str(db))
    now = utc_now()
    for day in range(1, 8):
        log_run(spec, now - timedelta(days=day, hours=1), blocked=1)
    log_run(spec, now - timedelta(hours=1), blocked=41)
    room = tmp_path / "room.html"
    room.write_text(
        '<html><head><script type="application/ld+json">{"@context": "https://schema.org", "@type": '
        '"VideoObject", "name": "Live sale", "url": "https://shoplive.example/live/7", "publication": '
        '{"@type": "BroadcastEvent", "isLiveBroadcast": true, "startDate": "2020-01-01T00:00:00Z", '
        '"endDate": "2026-01-01T00:00:00Z"}}</script></head><body></body></html>',
        encoding="utf-8",
    )
    config = tmp_path / "schedule.toml"
    config.write_text(
        '[alerts]\njsonl = "out/alerts.jsonl"\nwebhook = "http://127.0.0.1:9/gone"\n\n'
        '[[jobs]]\nname = "rooms"\nkind = "live"\ncron = "*/5 * * * *"\nurls = ["room.html"]\nsamples = 1\n'
        '[jobs.report]\nformats = ["md", "html"]\nout_dir = "reports"\n',
        encoding="utf-8",
    )
    said: list[str] = []
    (run,) = run_schedule(config, store=str(db), once=True, say=said.append)
    assert run.error is None, run
    (alert,) = [
        json.loads(line) for line in (tmp_path / "out" / "alerts.jsonl").read_text("utf-8").splitlines()
    ]
    assert alert["key"] == "health:tiktok/tiktok:blocked"
    assert any(line.startswith("alert: tiktok: 41 of 50 pages blocked today") for line in said)
    assert any(line.startswith("alert sink failed: webhook:http://127.0.0.1:9/gone") for line in said)
    md = next(p for p in run.reports if p.endswith(".md"))
    text = open(md, encoding="utf-8").read()
    assert "## Alerts" in text and "41 of 50 pages blocked today" in text
    html = open(next(p for p in run.reports if p.endswith(".html")), encoding="utf-8").read()
    assert "<h2>Alerts</h2>" in html
    bad = tmp_path / "bad.toml"
    bad.write_text(config.read_text("utf-8").replace("jsonl =", "jsnl ="), encoding="utf-8")
    with pytest.raises(Exception, match="unknown keys: jsnl"):
        run_schedule(bad, store=str(db), once=True)
