"""Saved watches: the watch file, breakouts (alerted once, explained by their numbers), the CLI, the hooks."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from indexer.cli import common as cli_common
from indexer.search import search
from indexer.sqlite_store import SqliteStore
from indexer.stores import StoreSpec
from indexer.trend_query import QUERY_HITS, narrow
from indexer.trends import TrendEngine
from indexer.watches import Evaluator, SavedWatch, WatchBook, related_rows
from indexer.workflows.errors import ExitCode
from indexer.workflows.watches import (
    add_watch,
    check_now,
    evaluate_after_run,
    list_watches,
    query_vectors,
    recent_alerts,
    remove_watch,
    watch_book_path,
)
from search_cli import app

T0 = datetime(2026, 11, 20, tzinfo=timezone.utc)
T1, T2 = T0 + timedelta(hours=12), T0 + timedelta(hours=24)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def video(native: str, title: str, views: int, at: datetime, product: str | None = None) -> dict:
    doc = {
        "id": f"tiktok:video:{native}",
        "kind": "video",
        "platform": "tiktok",
        "url": f"https://www.tiktok.com/@c{native}/video/{native}",
        "title": title,
        "creator": {"id": f"c{native}", "name": f"Creator {native}"},
        "metrics": {"views": views},
        "observed_at": iso(at),
    }
    if product:
        doc["products"] = [{"id": f"tiktok:product:{product}", "title": f"{title} (shop)"}]
    return doc


# Views at T0, T1, T2: `a` and `b` lead at T1; `c` takes off between T1 and T2; `tent` is loud but unrelated.
SERIES = {
    "a": ("red lipstick matte review", (0, 12_000, 24_000), "lip-a"),
    "b": ("nude lipstick try-on", (0, 6_000, 12_000), "lip-b"),
    "c": ("glossy lipstick haul", (0, 1_200, 200_000), "lip-c"),
    "tent": ("camping tent setup", (0, 90_000, 180_000), None),
}


def fill(store: SqliteStore, upto: int) -> None:
    """Observations T0..T`upto` of every video (keyword-only store: no vectors)."""
    for i, at in enumerate((T0, T1, T2)[: upto + 1]):
        store.upsert([video(n, t, views[i], at, p) for n, (t, views, p) in SERIES.items()])


@pytest.fixture
def spec(tmp_path, monkeypatch):
    for name in (
        "TRENDCART_STORE",
        "TRENDCART_MODEL",
        "TRENDCART_ALERT_JSONL",
        "TRENDCART_WEBHOOK",
        "TRENDCART_SMTP",
    ):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "w.db"
    store = SqliteStore(path)
    fill(store, 1)
    store.close()
    return StoreSpec.parse(str(path))


def grow(spec: StoreSpec) -> None:
    store = SqliteStore(spec.path)
    fill(store, 2)
    store.close()


def test_a_breakout_is_a_row_entering_the_top_n_alerted_once(spec):
    added = add_watch(spec, "lipstick", by="video", top=2, now=T1)
    assert added["watch"]["name"] == "lipstick" and added["watch"]["checked_at"] == iso(T1)
    base = added["baseline"]
    assert base["baseline"] is True and base["breakouts"] == []  # what leads already is noted, not alerted
    assert [r["id"] for r in base["rows"]] == ["tiktok:video:a", "tiktok:video:b"]
    assert watch_book_path(spec).name == "w.db.watches.sqlite"

    grow(spec)
    result = check_now(spec, crawl_health=False, now=T2)
    (alert,) = result.alerts
    assert alert.kind == "breakout" and alert.key == "watch:lipstick:tiktok:video:c"
    row = alert.detail["row"]
    assert row["rank"] == 1 and alert.detail["previous_rank"] == 3  # tracked below the top at T1
    assert "glossy lipstick haul broke out at #1 of the top 2" in alert.message
    assert f"score {row['score']:.2f}" in alert.message and "views/h" in alert.message
    assert "#3 at the last check" in alert.message and "tent" not in json.dumps(result.to_json())
    again = check_now(spec, crawl_health=False, now=T2 + timedelta(minutes=5))
    assert again.alerts == []  # once per breakout, not on every run
    history = recent_alerts(spec)
    assert [a["key"] for a in history] == ["watch:lipstick:tiktok:video:c"]
    assert history[0]["delivery"] == {"alerts": 1, "failed": 0, "sinks": []}
    assert list_watches(spec)[0]["breakouts"] == 1


def test_min_score_is_part_of_the_breakout_and_the_release_rule(spec):
    store = SqliteStore(spec.path)
    watch = SavedWatch(name="w", query="lipstick", by="video", top=1, checked_at=iso(T0))
    rows = Evaluator(store, T1).check(watch, {}).rows
    leader = rows[0].result
    assert rows[0].qualifies and rows[0].breakout and rows[0].held
    # Held at #2 (within the top 2N it is tracked to): back at #1 it is not a new breakout.
    held = Evaluator(store, T1).check(watch, {leader.key: (2, 1.0, True)})
    assert held.alerts == [] and held.rows[0].held
    # Released (it fell below the tracked depth, so it is absent from `previous`): a new breakout.
    assert len(Evaluator(store, T1).check(watch, {}).alerts) == 1
    high = SavedWatch(
        name="h", query="lipstick", by="video", top=1, min_score=leader.score + 1, checked_at=iso(T0)
    )
    above = Evaluator(store, T1).check(high, {})
    assert above.alerts == [] and not above.rows[0].qualifies and not above.rows[0].held
    store.close()


def test_related_rows_is_narrow_for_every_kind(spec):
    grow(spec)
    store = SqliteStore(spec.path)
    for by in ("video", "product", "creator"):
        ranking = TrendEngine(store, now=T2).trending(by=by, window="24h", limit=0)
        expected = narrow(store, ranking, "lipstick", None, 5).results
        hits = store.search("lipstick", None, "keyword", None, 200)
        got = related_rows(ranking.results, hits, 5)
        assert [(r.key, r.rank, r.extra["query"]) for r in got] == [
            (r.key, r.rank, r.extra["query"]) for r in expected
        ], by
        assert got
    store.close()


def test_by_product_breakout_and_remove(spec):
    add_watch(spec, "lipstick", by="product", top=1, name="lips", now=T1)
    grow(spec)
    result = check_now(spec, crawl_health=False, now=T2)
    assert [a.detail["row"]["id"] for a in result.alerts] == ["tiktok:product:lip-c"]
    assert remove_watch(spec, "lips")["name"] == "lips"
    assert list_watches(spec) == [] and recent_alerts(spec)  # the history stays


def test_evaluate_after_run_never_raises_and_makes_no_file_unasked(tmp_path, spec):
    nothing = StoreSpec.parse(str(tmp_path / "none.db"))
    assert evaluate_after_run(nothing).to_json()["alerts"] == []
    assert not watch_book_path(nothing).exists()
    add_watch(spec, "lipstick", by="video", top=2, now=T1)
    watch_book_path(spec).write_bytes(b"not a database at all" * 100)
    broken = evaluate_after_run(spec, now=T2)
    assert broken.errors and "is not a database" in broken.errors[0]


def test_cli_watch_add_list_check_rm(spec, tmp_path):
    store = ["--store", str(spec.path)]
    runner = CliRunner()
    added = runner.invoke(
        app, [*store, "watch", "add", "lipstick", "--by", "video", "--top", "2", "--now", iso(T1), "--json"]
    )
    assert added.exit_code == ExitCode.OK, added.output
    assert json.loads(added.stdout)["baseline"]["rows"][0]["id"] == "tiktok:video:a"
    dup = runner.invoke(app, [*store, "watch", "add", "lipstick"])
    assert dup.exit_code == ExitCode.USAGE and "exists" in dup.output
    listed = runner.invoke(app, [*store, "watch", "list"])
    assert "lipstick: videos like 'lipstick', top 2, window 24h" in listed.stdout
    grow(spec)
    jsonl = tmp_path / "alerts.jsonl"
    checked = runner.invoke(
        app, [*store, "watch", "check", "--now", iso(T2), "--alert-jsonl", str(jsonl), "--json"]
    )
    assert checked.exit_code == ExitCode.OK, checked.output
    data = json.loads(checked.stdout)
    assert data["alerts"][0]["key"] == "watch:lipstick:tiktok:video:c" and data["delivery"]["failed"] == 0
    assert data["watches"][0]["rows"][0]["breakout"] is True
    (line,) = jsonl.read_text("utf-8").splitlines()
    assert json.loads(line)["key"] == "watch:lipstick:tiktok:video:c"
    table = runner.invoke(app, [*store, "watch", "check", "--now", iso(T2)])
    assert table.exit_code == 0 and "#1" in table.stdout and "BREAKOUT" not in table.stdout
    gone = runner.invoke(app, [*store, "watch", "rm", "nope"])
    assert gone.exit_code == ExitCode.NOTHING
    assert runner.invoke(app, [*store, "watch", "rm", "lipstick"]).exit_code == 0
    assert runner.invoke(app, [*store, "watch", "check"]).exit_code == ExitCode.NOTHING
    bad = runner.invoke(app, [*store, "watch", "check", "--webhook", "ftp://x"])
    assert bad.exit_code == ExitCode.USAGE


@pytest.mark.model
def test_semantic_watch_embeds_its_query_once(tmp_path, monkeypatch, embedder):
    from indexer.embedder import document_text

    for name in ("TRENDCART_STORE", "TRENDCART_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cli_common, "get_embedder", lambda: embedder)
    path = tmp_path / "sem.db"
    store = SqliteStore(path)
    store.set_model(embedder.model_name, embedder.dim)
    for i, at in enumerate((T0, T1, T2)):
        docs = [video(n, t, views[i], at, p) for n, (t, views, p) in SERIES.items()]
        store.upsert(docs, list(embedder.embed_documents([document_text(d) for d in docs])))
    store.close()
    spec = StoreSpec.parse(str(path))
    add_watch(
        spec, "口红", by="video", top=1, now=T1, embedder=embedder
    )  # Chinese for lipstick: no keyword hit
    book = WatchBook(watch_book_path(spec))
    key = f"{embedder.model_name}|hybrid|translated"  # the vectors hybrid search ranks and floors by
    assert (
        book.query_vector(key, "口红") is not None and book.query_vector(f"{key}|floor", "口红") is not None
    )
    assert book.query_vector(embedder.model_name, "口红") is None  # an older trendcart's key: not used
    vectors = query_vectors(book, SqliteStore(path))

    class NoModel:  # the cached vectors are used: a second embedding would fail here
        model_name = embedder.model_name

        def embed_query(self, text):
            raise AssertionError("embedded again")

        embed_query_translated = embed_query_moves = embed_query

    result = check_now(spec, crawl_health=False, now=T2, embedder=NoModel())
    assert [a.detail["row"]["id"] for a in result.alerts] == ["tiktok:video:c"]
    # The watch searches what `trendcart search` and `trending --query` search: the same hits.
    with SqliteStore(path) as store:
        watch = book.get(book.watches()[0].name)
        hits = Evaluator(store, T2, vectors).hits(watch)
        searched = search(store, "口红", "hybrid", None, QUERY_HITS, embedder=embedder)
        assert [(h.id, h.score) for h in hits] == [(h.id, h.score) for h in searched]
        assert hits
    book.close()


def test_a_live_watch_evaluates_every_few_minutes_and_at_its_end(spec):
    from indexer.workflows.watches import BatchEvaluator

    add_watch(spec, "lipstick", by="video", top=2, now=T1)
    grow(spec)
    clock = [0.0]
    seen = []
    batches = BatchEvaluator(spec, after_run=seen.append, every_s=300, monotonic=lambda: clock[0])
    batches.tick()  # a tick right after the start: not yet
    assert seen == []
    clock[0] = 301.0
    batches.tick()
    assert len(seen) == 1 and seen[0].errors == [] and [c.watch.name for c in seen[0].checks] == ["lipstick"]
    batches.tick()
    batches.close()  # the end of the watch: always
    assert batches.runs == 2 and len(seen) == 2


@pytest.mark.elasticsearch
def test_a_watch_on_an_elasticsearch_store(es_url, tmp_path, monkeypatch):
    import uuid

    monkeypatch.chdir(tmp_path)  # the watch file of a server's store is ./trendcart-data/watches.sqlite
    monkeypatch.setenv("TRENDCART_ES_INDEX_PREFIX", f"h15a-{uuid.uuid4().hex[:10]}")
    monkeypatch.setenv("TRENDCART_ES_OUTBOX", str(tmp_path / "outbox"))
    spec = StoreSpec.parse(es_url)

    def observe(*times: int) -> None:  # as a crawl does: its own store object, closed when done
        store = spec.open()
        for i in times:
            store.upsert([video(n, t, views[i], (T0, T1, T2)[i], p) for n, (t, views, p) in SERIES.items()])
        store.close()
        # Other clients see a write after the index's refresh interval (about a second): wait for it.
        reader, deadline = spec.open(), time.monotonic() + 60
        now = (T0, T1, T2)[max(times)]
        while time.monotonic() < deadline:
            rows = TrendEngine(reader, now=now).trending(by="video", window="24h", limit=0).results
            if len(rows) == len(SERIES) and reader.count() == len(SERIES):
                snaps = reader.snapshots("tiktok:video:c", metric="views")
                if len(snaps) == max(times) + 1:
                    break
            time.sleep(0.2)
        reader.close()

    observe(0, 1)
    base = add_watch(spec, "lipstick", by="video", top=2, now=T1)["baseline"]
    assert [r["id"] for r in base["rows"]] == ["tiktok:video:a", "tiktok:video:b"]
    observe(2)
    result = check_now(spec, crawl_health=False, now=T2)
    assert [a.key for a in result.alerts] == ["watch:lipstick:tiktok:video:c"]
    assert watch_book_path(spec).resolve() == tmp_path / "trendcart-data" / "watches.sqlite"
    store = spec.open()
    store.destroy()
    store.close()


def test_evaluate_after_run_ranks_the_dashboard_for_the_new_data(spec):
    """After the watches, a crawl's evaluation ranks the dashboard's main page once and writes the snapshot
    the server serves (the same rows as `trending --by product`), unless told not to."""
    from indexer.trend_cache import dashboard_path, read_dashboard
    from indexer.workflows.queries import rank_trending

    add_watch(spec, "lipstick", by="video", top=2, now=T1)
    grow(spec)
    skipped = evaluate_after_run(spec, now=T2, dashboard=False)
    assert not skipped.errors and "dashboard_s" not in skipped.timings
    assert not dashboard_path(spec).exists()
    done = evaluate_after_run(spec, now=T2)
    assert not done.errors and done.timings["dashboard_s"] >= 0
    snapshot = read_dashboard(dashboard_path(spec))
    assert snapshot is not None and snapshot["as_of"] == iso(T2)
    assert snapshot["store"] == f"SqliteStore({str(spec.path)!r})"
    expected = rank_trending(spec, "product", "24h", "views", 20, None, T2).to_json()
    assert snapshot["rankings"]["product/24h/views"] == expected
    assert snapshot["state"] is not None  # nothing wrote during the ranking
