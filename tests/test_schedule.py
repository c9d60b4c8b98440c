"""The scheduler with a fake clock: cron times, dated reports, the lock, bad files, Ctrl-C."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from indexer.schedule import AlreadyRunning, ScheduleError, ScheduleLock, Scheduler, load_config
from indexer.sqlite_store import SqliteStore

START = datetime(2026, 11, 25, 5, 50, tzinfo=timezone.utc)

CONFIG = """
lock_file = "state/schedule.lock"
[report]
out_dir = "reports"
formats = ["html", "md"]
window = "24h"

[[jobs]]
name = "daily"
spider = "jsonld"
cron = "0 6 * * *"
args = { urls = ["https://a.example/v/1", "https://a.example/v/2"], urls_file = "urls.txt" }

[[jobs]]
name = "half-hourly"
spider = "feed"
cron = "*/30 * * * *"
settings = { DOWNLOAD_DELAY = 2 }
[jobs.report]
formats = ["csv"]
name = "%Y-%m-%dT%H%M"
"""


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "schedule.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return load_config(path)


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path / "store.db")
    yield s
    s.close()


def fake_crawl(store, clock, calls):
    """Stands in for run_spider: 'crawls' by upserting a video whose views grow with the clock."""

    def crawl(job):
        calls.append((job.name, clock()))
        hours = (clock() - START).total_seconds() / 3600
        store.upsert(
            [
                {
                    "id": f"web:video:{job.name}",
                    "kind": "video",
                    "platform": "web",
                    "title": f"<b>{job.name}</b>",
                    "observed_at": clock().isoformat(),
                    "metrics": {"views": int(1000 + 500 * hours)},
                }
            ]
        )
        clock.now += timedelta(minutes=2)  # a crawl takes time
        return {"items": 1}

    return crawl


def test_config_is_read(config, tmp_path):
    daily, half = config.jobs
    assert daily.args["urls"] == "https://a.example/v/1,https://a.example/v/2"
    assert daily.args["urls_file"] == str(tmp_path / "urls.txt")  # relative to the schedule file
    assert daily.report.formats == ("html", "md") and Path(daily.report.out_dir) == tmp_path / "reports"
    assert half.report.formats == ("csv",) and half.settings == {"DOWNLOAD_DELAY": "2"}
    assert config.lock_file == tmp_path / "state" / "schedule.lock"


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "no jobs"),
        ('[[jobs]]\nname = "x"\nspider = "jsonld"\n', "`cron` is required"),
        ('[[jobs]]\nname = "x"\nspider = "jsonld"\ncron = "every day"\n', "bad cron expression"),
        ('[[jobs]]\nname = "x/y"\nspider = "jsonld"\ncron = "0 6 * * *"\n', "letters, digits"),
        (
            '[[jobs]]\nname = "x"\nspider = "jsonld"\ncron = "0 6 * * *"\n[jobs.report]\nformats = ["pdf"]\n',
            "formats",
        ),
        (
            '[[jobs]]\nname = "x"\nspider = "jsonld"\ncron = "0 6 * * *"\n[jobs.report]\nwindow = "soon"\n',
            "bad window",
        ),
        ("jobs = [", "not valid TOML"),
    ],
)
def test_bad_files(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScheduleError, match=message):
        load_config(path)


def test_runs_on_cron_times_with_a_fake_clock(config, store, tmp_path):
    clock, calls = FakeClock(START), []
    scheduler = Scheduler(config, fake_crawl(store, clock, calls), store, now=clock, sleep=clock.sleep)
    runs = scheduler.run_forever(max_runs=4)
    # 06:00 both jobs are due (file order); the 2-minute crawls push "half-hourly" to 06:02, then 06:30, 07:00
    assert [(name, at.strftime("%H:%M")) for name, at in calls] == [
        ("daily", "06:00"),
        ("half-hourly", "06:02"),
        ("half-hourly", "06:30"),
        ("half-hourly", "07:00"),
    ]
    assert clock.sleeps[:10] == [60.0] * 10  # slept from 05:50 to 06:00, a minute at a time
    assert all(s <= 60 for s in clock.sleeps)
    assert [r.error for r in runs] == [None] * 4
    daily = tmp_path / "reports" / "daily"
    assert sorted(p.name for p in daily.iterdir()) == ["2026-11-25.html", "2026-11-25.md"]
    half = sorted(p.name for p in (tmp_path / "reports" / "half-hourly").iterdir())
    assert half == ["2026-11-25T0602.csv", "2026-11-25T0630.csv", "2026-11-25T0700.csv"]
    assert "half-hourly" in (tmp_path / "reports" / "half-hourly" / "2026-11-25T0700.csv").read_text(
        encoding="utf-8"
    )


def test_once_runs_every_job_now(config, store, tmp_path):
    clock, calls = FakeClock(START), []
    runs = Scheduler(config, fake_crawl(store, clock, calls), store, now=clock, sleep=clock.sleep).run_once()
    assert [r.job for r in runs] == ["daily", "half-hourly"] and clock.sleeps == []
    assert runs[0].reports == [
        str(tmp_path / "reports" / "daily" / "2026-11-25.html"),
        str(tmp_path / "reports" / "daily" / "2026-11-25.md"),
    ]
    only = Scheduler(config, fake_crawl(store, clock, calls), store, now=clock).run_once(["half-hourly"])
    assert [r.job for r in only] == ["half-hourly"]
    with pytest.raises(ScheduleError, match="no job named"):
        Scheduler(config, fake_crawl(store, clock, calls), store, now=clock).run_once(["nope"])


def test_a_failing_crawl_is_reported_and_the_schedule_goes_on(config, store):
    clock = FakeClock(START)

    def crawl(job):
        if job.name == "daily":
            raise RuntimeError("site down")
        return {}

    runs = Scheduler(config, crawl, store, now=clock, sleep=clock.sleep).run_once()
    assert runs[0].error == "RuntimeError: site down" and runs[0].reports == []
    assert runs[1].error is None and runs[1].reports


def test_lock_prevents_overlapping_runs(config, store):
    clock = FakeClock(START)
    with ScheduleLock(config.lock_file):
        with pytest.raises(AlreadyRunning, match="another scheduler is running"):
            Scheduler(config, lambda job: {}, store, now=clock).run_once()
    assert Scheduler(config, lambda job: {}, store, now=clock, sleep=clock.sleep).run_once()  # free again


def test_ctrl_c_stops_cleanly(config, store):
    clock = FakeClock(START)

    def interrupted(seconds):
        raise KeyboardInterrupt

    runs = Scheduler(config, lambda job: {}, store, now=clock, sleep=interrupted).run_forever()
    assert runs == []
    with ScheduleLock(config.lock_file):  # the lock was released
        pass


def test_a_report_includes_the_crawl_it_follows(config, store, tmp_path):
    """The crawl's observations are stamped after the run started: the report is computed as of the crawl's
    end, so the first report already shows what the first crawl found (it was empty, one run behind)."""
    clock = FakeClock(START)

    def crawl(job):
        clock.now += timedelta(minutes=3)  # the pages are fetched (and stamped) during the crawl
        store.upsert(
            [
                {
                    "id": f"web:video:{job.name}-first",
                    "kind": "video",
                    "platform": "web",
                    "title": f"first crawl of {job.name}",
                    "published_at": (START - timedelta(hours=10)).isoformat(),
                    "observed_at": clock().isoformat(),
                    "metrics": {"views": 5000},
                }
            ]
        )
        clock.now += timedelta(minutes=1)
        return {"items": 1}

    runs = Scheduler(config, crawl, store, now=clock, sleep=clock.sleep).run_once(["daily"])
    assert runs[0].error is None and runs[0].report_as_of == START + timedelta(minutes=4)
    assert runs[0].to_json()["report_as_of"] == "2026-11-25T05:54:00Z"
    md = (tmp_path / "reports" / "daily" / "2026-11-25.md").read_text(encoding="utf-8")
    assert "first crawl of daily" in md  # in the first report, not the next one
    assert "Generated for 2026-11-25T05:54:00Z" in md


def test_the_log_gives_error_reasons():
    from crawler.run import CrawlResult
    from indexer.workflows.scheduled import crawl_failure, crawl_summary

    result = CrawlResult(
        spider="jsonld",
        items={"video": 2},
        errors={"request_failed/http_503": 2, "parse_error/no_jsonld": 1},
        blocked={"douyin": 1},
    )
    line = crawl_summary("daily", result)
    assert line == (
        "daily: 2 items, 3 errors (request_failed/http_503 ×2, parse_error/no_jsonld ×1), 1 blocked pages (douyin 1)"
    )
    assert "1 error (" in crawl_summary("daily", CrawlResult(spider="x", errors={"index_error/store": 1}))
    assert crawl_summary("daily", CrawlResult(spider="x")) == "daily: 0 items, 0 errors, 0 blocked pages"
    result.returncode, result.finish_reason = 1, "shutdown"
    result.stderr = "2026-11-25 06:00:01 [scrapy] INFO: start\nValueError: bad urls_file\n\n"
    why = crawl_failure(result)
    assert why.startswith("scrapy exited with 1; finish reason shutdown; errors: request_failed/http_503 ×2")
    assert why.endswith("last log line: ValueError: bad urls_file")
