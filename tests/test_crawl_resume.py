"""Stopping and resuming real crawls: Ctrl-C to the process group, kill -9 of the parent, the scheduler's lock.

Each test crawls a slow local site (tests/resume_site.py) with `trendcart crawl` in a child process of its
own, sends real signals, and checks the pages fetched, the export, the store and the summaries.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from crawler.jobdir import JobDir, JobDirInUse, trim_partial_line
from crawler.run import CrawlError, run_spider
from indexer.schedule import AlreadyRunning, ScheduleLock
from indexer.workflows.errors import ExitCode
from tests.resume_site import (
    REPO,
    ResumeSite,
    alive,
    children_of,
    crawl_command,
    ctrl_c,
    start,
    wait_for,
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals and /proc: Linux")

# Pages per crawl and each page's delay: a crawl of a few seconds, stopped about a third of the way.
PAGES = 150
DELAY_S = 0.05
STOP_AFTER = PAGES // 3
# A crawl of the local site finishes well within this (the indexing one loads the model, ~10 s).
RUN_TIMEOUT_S = 90
# After kill -9 of its parent, the child must be gone within this.
ORPHAN_GONE_S = 10


def exported_ids(out: Path) -> list[str]:
    return [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]


def page_hits(site: ResumeSite) -> list[int]:
    """How often each page was fetched, over every run."""
    return [site.hits.get(f"/r/{n}.html", 0) for n in range(site.pages)]


def finish(proc, timeout: float = RUN_TIMEOUT_S) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def test_ctrl_c_stops_cleanly_and_the_same_command_resumes_indexing_every_page_once(tmp_path):
    store, job, out = tmp_path / "crawl.db", tmp_path / "job", tmp_path / "items.jsonl"
    with ResumeSite(PAGES, DELAY_S) as site:
        cmd = crawl_command(site, store, job, out)
        proc = start(cmd, tmp_path)
        assert wait_for(lambda: site.fetched() >= STOP_AFTER, RUN_TIMEOUT_S), finish(proc, 5)
        ctrl_c(proc)  # SIGINT to the whole group, as a terminal sends it
        code, stdout, stderr = finish(proc)
        assert code == ExitCode.INTERRUPTED == 130, stderr
        first = json.loads(stdout)
        assert first["interrupted"] is True and first["finish_reason"] == "shutdown", first
        assert first["job_dir"] == str(job.resolve()) and first["resumed"] is False
        assert "interrupted: run the same command again to resume" in stderr
        assert "forcing unclean shutdown" not in stderr
        assert 0 < first["pages"] < PAGES
        logged = [json.loads(line) for line in (tmp_path / "crawl.db.crawls.jsonl").read_text().splitlines()]
        assert logged[-1]["interrupted"] is True

        code, stdout, stderr = finish(start(cmd, tmp_path))  # the same command, to its end
        assert code == ExitCode.OK, stderr
        second = json.loads(stdout)
        assert second["interrupted"] is False and second["finish_reason"] == "finished"
        assert second["resumed"] is True
        assert first["items_total"] + second["items_total"] == PAGES
        assert page_hits(site) == [1] * PAGES  # every page fetched, none twice
    ids = exported_ids(out)
    assert len(ids) == PAGES and len(set(ids)) == PAGES  # appended, not truncated, on resume
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == PAGES
        # one views snapshot per page: no page was indexed twice
        assert db.execute("SELECT count(*) FROM snapshots").fetchone()[0] == PAGES


def test_kill_9_of_the_parent_stops_its_crawl_which_resumes_then_says_the_job_finished(tmp_path):
    job, out = tmp_path / "job", tmp_path / "items.jsonl"
    with ResumeSite(PAGES, DELAY_S) as site:
        cmd = crawl_command(site, tmp_path / "c.db", job, out, "--no-index")
        proc = start(cmd, tmp_path)
        assert wait_for(lambda: site.fetched() >= STOP_AFTER, RUN_TIMEOUT_S), finish(proc, 5)
        children = children_of(proc.pid)
        assert children, "the crawl's scrapy child"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert wait_for(lambda: not any(alive(pid) for pid in children), ORPHAN_GONE_S)
        fetched = site.fetched()
        assert wait_for(lambda: site.fetched() > fetched, 1.0) is False  # nothing crawls on

        resume = [*cmd[: cmd.index("--job-dir")], "--resume", *cmd[cmd.index("--job-dir") + 1 :]]
        code, stdout, stderr = finish(start(resume, tmp_path))
        assert code == ExitCode.OK, stderr
        assert json.loads(stdout)["resumed"] is True
        assert page_hits(site) == [1] * PAGES

        code, stdout, stderr = finish(start(cmd, tmp_path))  # a finished job: nothing to do, and it says so
        assert code == ExitCode.NOTHING, stderr
        assert f"nothing left to crawl in {job.resolve()}: the job finished on 20" in stderr
        assert "see the errors above" not in stderr
        assert json.loads(stdout)["requests"] == 0
    ids = exported_ids(out)
    assert len(ids) == PAGES and len(set(ids)) == PAGES


def test_a_killed_schedulers_crawl_keeps_the_lock_until_it_has_stopped(tmp_path, http_server):
    slow = [http_server.url(f"/delay/2/resume-sched-{n}") for n in range(4)]
    config = tmp_path / "schedule.toml"
    config.write_text(
        f"""
lock_file = "schedule.lock"
[[jobs]]
name = "slow"
spider = "jsonld"
cron = "0 6 * * *"
args = {{ urls = "{",".join(slow)}" }}
settings = {{ AUTOTHROTTLE_ENABLED = "False", DOWNLOAD_DELAY = "0", RETRY_TIMES = "0" }}
""",
        encoding="utf-8",
    )
    cmd = [sys.executable, str(REPO / "search_cli.py"), "--store", str(tmp_path / "s.db")]
    proc = start([*cmd, "schedule", "--config", str(config), "--once"], tmp_path)
    hit = lambda: any(http_server.hits.get(u.removeprefix(http_server.base_url)) for u in slow)  # noqa: E731
    assert wait_for(hit, RUN_TIMEOUT_S), finish(proc, 5)
    children = children_of(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # the orphan finishes its in-flight 2 s requests, holding the lock meanwhile
    with pytest.raises(AlreadyRunning, match="no longer running"):
        with ScheduleLock(tmp_path / "schedule.lock"):
            pass
    assert wait_for(lambda: not any(alive(pid) for pid in children), ORPHAN_GONE_S)
    with ScheduleLock(tmp_path / "schedule.lock"):
        pass


def test_one_crawl_at_a_time_per_job_dir(tmp_path):
    with JobDir(tmp_path / "job"):
        with pytest.raises(JobDirInUse, match="another crawl is using the job dir"):
            with JobDir(tmp_path / "job"):
                pass
        with pytest.raises(CrawlError, match="another crawl is using the job dir"):
            run_spider(
                "jsonld", {"urls": "http://127.0.0.1:9/"}, job_dir=tmp_path / "job", check_spider=False
            )
    with JobDir(tmp_path / "job") as job:
        assert job.resuming is False and job.finished_at is None


def test_a_half_written_last_line_is_cut_before_appending(tmp_path):
    out = tmp_path / "items.jsonl"
    out.write_bytes(b'{"id": 1}\n{"id": 2}\n{"id": ')
    assert trim_partial_line(out) == len(b'{"id": ')
    assert out.read_bytes() == b'{"id": 1}\n{"id": 2}\n'
    assert trim_partial_line(out) == 0
