"""StoreSpec: backend choice, paths, sqlite:///, folders, URLs, unknown schemes, crawl log paths, existence."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer import StoreError, StoreSpec, open_store
from indexer.crawl_log import last_crawl, record_crawl
from indexer.stores import DEFAULT_STORE_PATH, REMOTE_CRAWL_LOG, UnknownStoreScheme


class Summary:
    """Stands in for crawler.run.CrawlResult: the log only needs its JSON form."""

    def __init__(self, spider: str) -> None:
        self.spider = spider

    def to_json(self) -> dict:
        return {"spider": self.spider, "items_total": 1}


def test_default_is_the_environment_then_the_default_path(tmp_path):
    assert StoreSpec.parse(None, environ={}) == StoreSpec("sqlite", path=DEFAULT_STORE_PATH)
    assert StoreSpec.parse("  ", environ={}).path == DEFAULT_STORE_PATH
    named = StoreSpec.parse(None, environ={"TRENDCART_STORE": str(tmp_path / "env.db")})
    assert named.backend == "sqlite" and named.path == tmp_path / "env.db"
    assert (
        StoreSpec.parse(str(tmp_path / "cli.db"), environ={"TRENDCART_STORE": "x.db"}).path.name == "cli.db"
    )


def test_paths_and_sqlite_urls_are_sqlite(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    plain = StoreSpec.parse(str(tmp_path / "a.db"))
    assert (plain.backend, plain.path, plain.url) == ("sqlite", tmp_path / "a.db", None)
    assert StoreSpec.parse(f"sqlite:///{tmp_path}/b.db").path == tmp_path / "b.db"
    assert StoreSpec.parse("sqlite:///rel/c.db").path == Path("rel/c.db")
    assert StoreSpec.parse("~/d.db").path == tmp_path / "d.db"  # ~ is expanded
    assert str(plain) == str(tmp_path / "a.db")


def test_a_folder_holds_the_default_file(tmp_path):
    spec = StoreSpec.parse(str(tmp_path))
    assert spec.backend == "sqlite" and spec.path == tmp_path / DEFAULT_STORE_PATH.name
    assert spec.crawl_log_path == tmp_path / "crawls.jsonl"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9200", "https://user:pw@es.example:443", "HTTP://a:9200,http://b:9200"]
)
def test_http_urls_are_elasticsearch(url):
    spec = StoreSpec.parse(url)
    assert (spec.backend, spec.url, spec.path) == ("elasticsearch", url, None)
    assert str(spec) == url and spec.resolved() == spec
    assert spec.exists()  # a server is checked when opened, not guessed at
    assert spec.crawl_log_path == REMOTE_CRAWL_LOG == Path("trendcart-data") / "crawls.jsonl"


@pytest.mark.parametrize("spec", ["postgres://db.example/trendcart", "redis://x", "s3://bucket/key"])
def test_unknown_schemes_are_refused_not_taken_for_paths(spec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnknownStoreScheme, match="no store backend") as caught:
        StoreSpec.parse(spec)
    assert isinstance(caught.value, StoreError)  # the CLI's exit code 3
    with pytest.raises(UnknownStoreScheme):
        open_store(spec)
    assert list(tmp_path.iterdir()) == []  # nothing was created on disk


def test_a_sqlite_url_needs_a_path():
    with pytest.raises(StoreError, match="needs a path"):
        StoreSpec.parse("sqlite:///")


def test_crawl_log_sits_beside_a_sqlite_file(tmp_path):
    assert StoreSpec.parse(str(tmp_path / "s.db")).crawl_log_path == tmp_path / "s.db.crawls.jsonl"
    assert StoreSpec.parse("trendcart-data/trendcart.db").crawl_log_path == Path(
        "trendcart-data/trendcart.db.crawls.jsonl"
    )
    assert StoreSpec.parse(f"sqlite:///{tmp_path}/u.db").crawl_log_path == tmp_path / "u.db.crawls.jsonl"


def test_resolved_is_absolute_and_exists_follows_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = StoreSpec.parse("rel/x.db")
    assert not spec.path.is_absolute() and spec.resolved().path == tmp_path / "rel" / "x.db"
    assert not spec.exists()
    spec.open().close()
    assert spec.exists() and spec.resolved().exists()


def test_open_picks_the_backend(tmp_path):
    store = StoreSpec.parse(str(tmp_path / "o.db")).open()
    try:
        assert store.stats().backend == "sqlite"
    finally:
        store.close()


def test_the_crawl_log_records_and_reads_back(tmp_path):
    spec = StoreSpec.parse(str(tmp_path / "log.db"))
    assert last_crawl(spec) is None
    record_crawl(spec, Summary("jsonld"), finished_at="2026-11-25T12:00:00Z")
    record_crawl(spec, Summary("feed"))
    latest = last_crawl(spec)
    assert latest["spider"] == "feed" and latest["finished_at"].endswith("Z")
    assert len(spec.crawl_log_path.read_text(encoding="utf-8").splitlines()) == 2
