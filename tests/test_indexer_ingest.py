"""Ingest: validation, skip-unchanged across runs, broken lines reported by number, model refusal."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from crawler.items import check_item
from indexer.documents import CheckedDocument
from indexer.embedder import Embedder, document_text
from indexer.ingest import Ingestor, IngestReport, ingest_jsonl, validate
from indexer.sqlite_store import SqliteStore
from indexer.store import InvalidDocument, ModelMismatch
from tests.store_contract import T2, make_doc

pytestmark = pytest.mark.model
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(tmp_path):
    store = SqliteStore(tmp_path / "ingest.db")
    yield store
    store.close()


def write_jsonl(path, lines):
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines)
        + "\n",
        encoding="utf-8",
    )
    return path


class CountingEmbedder(Embedder):
    """The real embedder, counting how many texts it was asked to embed."""

    def __init__(self, base: Embedder) -> None:
        super().__init__(base.model_name, batch_size=base.batch_size, query_prompt="", document_prompt="")
        self.calls: list[int] = []

    def embed_documents(self, texts):
        self.calls.append(len(texts))
        return super().embed_documents(texts)


def test_fresh_ingest_then_reingest_embeds_nothing_twice(tmp_path, store, embedder):
    counting = CountingEmbedder(embedder)
    docs = [make_doc(f"v{i}", title=f"口红 推荐 {i}", views=i * 10) for i in range(10)]
    first = ingest_jsonl(write_jsonl(tmp_path / "a.jsonl", docs), store, counting, batch_size=4)
    assert (first.added, first.updated, first.embedded, first.unchanged_text) == (10, 0, 10, 0)
    assert sum(counting.calls) == 10
    again = [make_doc(f"v{i}", title=f"口红 推荐 {i}", views=i * 10 + 5, observed_at=T2) for i in range(10)]
    again[3] = make_doc("v3", title="口红 changed title", views=1, observed_at=T2)
    second = ingest_jsonl(write_jsonl(tmp_path / "b.jsonl", again), store, counting, batch_size=4)
    assert (second.added, second.updated, second.embedded, second.unchanged_text) == (0, 10, 1, 9)
    assert sum(counting.calls) == 11
    assert store.get("douyin:video:v5")["metrics"]["views"] == 55
    assert len(store.snapshots("douyin:video:v5", "views")) == 2


def test_skip_unchanged_holds_across_store_reopen(tmp_path, embedder):
    path = write_jsonl(tmp_path / "a.jsonl", [make_doc("v1", title="hello")])
    store = SqliteStore(tmp_path / "s.db")
    ingest_jsonl(path, store, embedder)
    store.close()
    store = SqliteStore(tmp_path / "s.db")
    counting = CountingEmbedder(embedder)
    report = ingest_jsonl(path, store, counting)
    assert report.unchanged_text == 1 and counting.calls == []
    store.close()


def test_same_text_twice_in_one_batch_is_embedded_once(store, embedder):
    counting = CountingEmbedder(embedder)
    ingestor = Ingestor(store, counting, batch_size=10)
    for i in range(3):
        ingestor.add(make_doc(f"v{i}", title="same words"))
    report = ingestor.close()
    assert report.added == 3 and counting.calls == [1]
    assert len(store.known_hashes([f"douyin:video:v{i}" for i in range(3)])) == 3


def test_file_ingest_in_small_batches_writes_every_vector_of_its_own_text(tmp_path, store, embedder):
    """Batches of two: every document is written with the vector of its own (last) text, a document
    repeated in the next batch with the same text is not embedded again, a changed text is."""
    counting = CountingEmbedder(embedder)
    lines = [make_doc(f"b{i}", title=f"露营帐篷 {i}" if i % 2 else f"wireless earbuds {i}") for i in range(7)]
    lines.insert(2, lines[1])  # the same document and text again, in the next batch of two
    lines.append({**lines[0], "title": "a new title", "observed_at": T2})  # changed text: embedded again
    report = ingest_jsonl(write_jsonl(tmp_path / "bg.jsonl", lines), store, counting, batch_size=2)
    assert (report.added, report.updated, report.unchanged_text, report.embedded) == (7, 2, 1, 8)
    assert sum(counting.calls) == 8
    texts = {d["id"]: document_text(validate(d)) for d in lines}  # the last text of each id
    for doc_id, text in texts.items():
        vector = embedder.embed_documents([text])[0]
        hits = store.search("", vector, mode="semantic", limit=1)
        assert [h.id for h in hits] == [doc_id], text
    assert store.get("douyin:video:b0")["title"] == "a new title"


def test_broken_lines_are_reported_with_numbers_and_the_rest_is_indexed(tmp_path, store, embedder):
    good = make_doc("good", title="零食 开箱")
    lines = [
        good,  # 1
        "{not json",  # 2
        "",  # 3 blank: ignored
        [1, 2, 3],  # 4 not an object
        {**make_doc("x"), "metrics": {"views": "1.2万"}},  # 5 unnormalised count
        {**make_doc("x"), "metrics": {"views": -5}},  # 6
        {**make_doc("x"), "metrics": {"likes": True}},  # 7
        {**make_doc("x"), "title": 42},  # 8
        {**make_doc("x"), "hashtags": "notalist"},  # 9
        {**make_doc("x"), "id": "mars:video:1"},  # 10
        {**make_doc("x"), "kind": "unicorn"},  # 11
        {**make_doc("x"), "observed_at": "last tuesday"},  # 12
        {**make_doc("x"), "title": None, "description": None},  # 13 no text
        {**make_doc("x"), "products": [{"title": "p", "price": "cheap"}]},  # 14
        "\udcff" if False else "\x00garbage",  # 15
        make_doc("good2", title="earbuds"),  # 16
    ]
    report = ingest_jsonl(write_jsonl(tmp_path / "mixed.jsonl", lines), store, embedder)
    assert report.added == 2
    assert report.skipped_invalid == 13
    assert [line for line, _ in report.errors] == [2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    reasons = dict(report.errors)
    assert "invalid JSON" in reasons[2]
    assert "metrics.views" in reasons[5] and "1.2万" in reasons[5]
    assert "title" in reasons[8]
    assert store.count() == 2


def test_undecodable_bytes_are_an_invalid_line(tmp_path, store):
    path = tmp_path / "bytes.jsonl"
    path.write_bytes(json.dumps(make_doc("a")).encode() + b"\n\xff\xfe{\n")
    report = ingest_jsonl(path, store, None)
    assert report.added == 1 and [line for line, _ in report.errors] == [2]


def test_keyword_only_ingest_without_an_embedder(tmp_path, store):
    report = ingest_jsonl(write_jsonl(tmp_path / "a.jsonl", [make_doc("a", title="口红")]), store, None)
    assert report.added == 1 and report.embedded == 0
    assert store.model_info() is None
    assert [h.id for h in store.search("口红", mode="hybrid")] == ["douyin:video:a"]


def test_another_model_is_refused_before_anything_is_loaded(tmp_path, store, embedder):
    ingest_jsonl(write_jsonl(tmp_path / "a.jsonl", [make_doc("a")]), store, embedder)
    other = Embedder("intfloat/multilingual-e5-small")
    with pytest.raises(ModelMismatch, match="reindex"):
        Ingestor(store, other)
    assert not other.loaded


def test_progress_reports_bytes_up_to_the_file_size(tmp_path, store):
    path = write_jsonl(tmp_path / "a.jsonl", [make_doc(f"v{i}") for i in range(7)])
    seen = []
    ingest_jsonl(path, store, None, batch_size=2, progress=lambda done, total: seen.append((done, total)))
    size = path.stat().st_size
    assert seen[-1] == (size, size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert len(seen) >= 4


def test_validate_is_the_one_check_of_the_json_form():
    doc = {"id": "web:video:x", "kind": "video", "platform": "web", "title": "t", "metrics": {"views": 12.0}}
    assert validate(doc, NOW) == check_item(doc, NOW)
    assert isinstance(validate(doc, NOW), CheckedDocument)


def test_ingest_checks_each_document_once_and_a_public_upsert_still_checks(tmp_path, store, monkeypatch):
    """Ingest validates every line; the store trusts what ingest checked (no second check_item), while
    a plain mapping handed to upsert is checked there."""
    import indexer.documents

    calls = []

    def counting_check_item(*args, **kwargs):
        calls.append(1)
        return check_item(*args, **kwargs)

    monkeypatch.setattr(indexer.documents, "check_item", counting_check_item)
    lines = [make_doc(f"c{i}", title=f"标题 {i}") for i in range(5)]
    report = ingest_jsonl(write_jsonl(tmp_path / "once.jsonl", lines), store, None)
    assert report.added == 5 and len(calls) == 5
    assert store.get("douyin:video:c3")["title"] == "标题 3"
    bad = {**make_doc("bad"), "metrics": {"views": -1}}
    with pytest.raises(InvalidDocument, match="views"):
        store.upsert([bad])
    assert len(calls) == 6
    assert store.get("douyin:video:bad") is None


def test_document_text_has_every_searchable_field():
    doc = make_doc(
        "a",
        title="Title",
        description="Desc",
        hashtags=["好物"],
        creator={"name": "Ann", "handle": "@ann"},
        products=[{"title": "Prod A"}, {"title": "Prod B"}],
    )
    text = document_text(doc)
    for part in ("Title", "Desc", "#好物", "Prod A", "Prod B", "Ann", "@ann"):
        assert part in text


def test_report_json_shape():
    report = IngestReport(added=1, errors=[(3, "bad")])
    assert report.to_json()["errors"] == [{"line": 3, "reason": "bad"}]
    assert report.indexed == 1


# -- a bad line never costs good ones (issue 10, item 2) -------------------------------------------------
def numbered_lines(bad: dict, total: int = 300, at: int = 250) -> list:
    lines = [make_doc(f"v{i}", title=f"零食 {i}") for i in range(1, total + 1)]
    lines.insert(at - 1, {**make_doc("bad", title="bad"), **bad})
    return lines


@pytest.mark.parametrize(
    "bad",
    [
        {"metrics": {"views": 2**63}},
        {"metrics": {"views": 1e308}},
        {"creator": {"name": "a", "followers": 10**30}},
        {"published_at": "0001-01-01T00:00:00+01:00"},
        {"published_at": "9999-12-31T23:59:59-01:00"},
        {"creator": {"name": {"first": "a"}}},
        {"products": [{"title": "p", "price": float("nan")}]},
        {"price": float("inf")},
        {"kind": "product", "id": "douyin:product:bad", "featured_in": [{"id": "douyin:video:v1"}]},
    ],
)
def test_one_bad_line_is_reported_and_every_good_line_is_stored(tmp_path, store, bad):
    path = write_jsonl(tmp_path / "a.jsonl", numbered_lines(bad))
    report = ingest_jsonl(path, store, None, batch_size=100)
    assert store.count() == 300 and report.added == 300
    assert [line for line, _ in report.errors] == [250] and report.skipped_invalid == 1
    assert store.get("douyin:video:bad") is None and store.get("douyin:product:bad") is None


def test_nan_and_infinity_in_a_line_are_refused_and_search_json_stays_valid(tmp_path, store):
    path = tmp_path / "nan.jsonl"
    good = json.dumps(make_doc("ok", title="耳机"))
    path.write_text(
        good + "\n" + good.replace('"ok"', '"nan"').replace('"products": []', '"price": NaN') + "\n"
        '{"id": "douyin:video:inf", "kind": "video", "platform": "douyin", "title": "耳机", '
        '"observed_at": "2026-11-25T10:00:00Z", "products": [{"title": "p", "price": Infinity}]}\n'
    )
    report = ingest_jsonl(path, store, None)
    assert report.added == 1 and [line for line, _ in report.errors] == [2, 3]
    for hit in store.search("耳机", mode="keyword"):
        json.loads(json.dumps(hit.to_json(), allow_nan=False))  # strict JSON: no NaN reached the store


def test_a_document_the_store_refuses_costs_only_its_own_line(tmp_path, embedder):
    """A batch the store refuses is written document by document: a real SQLite trigger refuses one id."""
    db = tmp_path / "refusing.db"
    SqliteStore(db).close()
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON documents WHEN NEW.id = 'douyin:video:v250' "
            "BEGIN SELECT RAISE(ABORT, 'this one is refused'); END"
        )
    store = SqliteStore(db)
    lines = [make_doc(f"v{i}", title=f"零食 {i}") for i in range(1, 301)]
    report = ingest_jsonl(write_jsonl(tmp_path / "a.jsonl", lines), store, embedder, batch_size=100)
    assert store.count() == 299 and report.added == 299
    assert [line for line, _ in report.errors] == [250]
    assert "this one is refused" in report.errors[0][1]
    assert len(store.known_hashes([f"douyin:video:v{i}" for i in range(1, 301)])) == 299  # vectors kept
    store.close()


def test_a_full_disk_stops_the_ingest_with_its_reason_and_keeps_what_was_written(tmp_path, store):
    """SQLite's max_page_count on the real file: the disk is "full" once the first file is stored."""
    from indexer.store import StoreError

    ingest_jsonl(write_jsonl(tmp_path / "a.jsonl", [make_doc(f"v{i}") for i in range(50)]), store, None)
    before = store.count()
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")
    big = [make_doc(f"big{i}", description="x" * 5000) for i in range(200)]
    with pytest.raises(StoreError, match="database or disk is full") as excinfo:
        ingest_jsonl(write_jsonl(tmp_path / "big.jsonl", big), store, None, batch_size=50)
    assert "rollback" not in str(excinfo.value)
    assert store.count() == before
