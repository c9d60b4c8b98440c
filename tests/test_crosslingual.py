"""Bilingual query expansion (indexer/crosslingual.py): what the dictionary gives, how its index is built and
cached, and that a keyword search finds a document in the other language through it, saying so."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest

from indexer import crosslingual
from indexer.crosslingual import Dictionary, Expansion, build_index, expand, load_dictionary
from indexer.models import SearchSettings
from indexer.search import search
from indexer.sqlite_store import SqliteStore
from indexer.store import REASON_KEYWORD, SearchMode, fused_hits, score_fuse

# A few lines in CC-CEDICT's own format, for the rules of the index (the real file takes seconds to parse).
LINES = [
    "# CC-CEDICT test lines",
    "口紅 口红 [kou3 hong2] /lipstick/",
    "唇膏 唇膏 [chun2 gao1] /lip balm/lipstick/",
    "帳篷 帐篷 [zhang4 peng5] /tent/CL:頂|顶[ding3],座[zuo4]/",
    "帳幕 帐幕 [zhang4 mu4] /tent/",
    "報名 报名 [bao4 ming2] /to sign up/to enter one's name/",
    "無線 无线 [wu2 xian4] /wireless/",
    "耳機 耳机 [er3 ji1] /headphones/earphones/telephone receiver/",
    "套 套 [tao4] /cover/sheath/to encase/",
    "小米 小米 [xiao3 mi3] /millet/Xiaomi, Chinese electronics company founded in 2010/",
]
# jieba's format: word, count in its corpus, part of speech.
FREQUENCIES = ["帐篷 740 n", "帐幕 65 n", "口红 90 n", "唇膏 46 nz", "其他 1000 r"]


@pytest.fixture
def small() -> Dictionary:
    db = sqlite3.connect(":memory:", check_same_thread=False)
    build_index(LINES, FREQUENCIES, db)
    return Dictionary(db)


def test_english_words_give_chinese_headwords_the_common_one_first(small):
    assert small.chinese_for("lipstick") == ["口红", "唇膏"]  # 口红's first sense; 唇膏's second
    assert small.chinese_for("tent") == ["帐篷", "帐幕"]  # by jieba's counts: 740 before 65
    assert small.chinese_for("Lipsticks") == ["口红", "唇膏"]  # case and a plural do not matter
    assert small.chinese_for("sign up") == ["报名"]  # en -> zh keeps verb senses: the English is specific
    assert small.chinese_for("to") == []


def test_chinese_words_give_the_english_of_their_noun_senses(small):
    assert small.english_for("耳机") == ["headphones", "earphones", "telephone", "receiver"]
    assert small.english_for("报名") == []  # only verb senses ("to sign up"): they would match any text
    assert small.english_for("小米") == ["millet"]  # a long explanation is not a translation
    assert small.english_for("套") == []  # a single character is too ambiguous to be a headword here
    assert small.english_for("帐篷") == ["tent"]  # the classifier note is left out


def test_chinese_words_sharing_an_english_sense_are_synonyms(small):
    assert small.synonyms_for("唇膏") == ["口红"]  # both "lipstick"
    assert small.synonyms_for("帐篷") == ["帐幕"]
    assert small.synonyms_for("耳机") == []


def test_a_query_expands_word_by_word_into_the_other_language(small):
    expansion = small.expand("无线耳机")
    assert expansion.terms[:2] == ("wireless", "headphones")
    assert dict(expansion.to_json())["无线"] == ["wireless"]
    mixed = small.expand("lipstick 帐篷")
    assert set(mixed.terms) >= {"口红", "tent"}
    assert "lipstick" not in small.expand("lipstick 唇膏").terms  # nothing the query already says


def test_coverage_is_the_share_of_the_query_translated(small):
    assert small.expand("lipstick").coverage == 1.0
    assert small.expand("lipstick stand").coverage == pytest.approx(8 / 13)  # "stand" has no entry here
    assert small.expand("无线耳机").coverage == 1.0
    assert small.expand("无线鼠标").coverage == 0.5


def test_text_with_nothing_to_translate_expands_to_nothing(small):
    for text in ("", "   ", "🙂🙂", '"" OR * ( ^:', "\x00\x1f", "zzqxv"):
        assert small.expand(text) == Expansion()
        assert not expand(text)


def test_a_huge_query_expands_to_a_bounded_list():
    expansion = expand("lipstick tent headphones wireless camping keyboard " * 5000)
    assert 0 < len(expansion.terms) <= crosslingual.MAX_EXPANSION_TERMS


def test_the_real_dictionary_translates_product_words_both_ways():
    assert "口红" in expand("lipstick").terms
    assert "空气炸锅" in expand("air fryer").terms
    assert {"wireless", "earphones"} <= set(expand("无线耳机").terms)
    assert "tent" in expand("露营帐篷").terms


def test_matched_by_names_the_translations_a_document_contains():
    expansion = Expansion(
        terms=("口红", "唇膏", "wireless"), sources=(("lipstick", ("口红", "唇膏")), ("无线", ("wireless",)))
    )
    assert expansion.matched_by("丝绒哑光口红 #316") == {"lipstick": ["口红"]}
    assert expansion.matched_by("Wireless earbuds") == {"无线": ["wireless"]}
    assert expansion.matched_by("wirelessly") == {}  # whole words only


@pytest.fixture
def data_files(tmp_path):
    """The two data files in their packages' formats, small (the real ones take seconds to index)."""
    cedict, counts = tmp_path / "cedict.txt.gz", tmp_path / "dict.txt"
    with gzip.open(cedict, "wt", encoding="utf-8") as out:
        out.write("\n".join(LINES) + "\n")
    counts.write_text("\n".join(FREQUENCIES) + "\n", encoding="utf-8")
    return cedict, counts


def test_the_index_is_built_once_then_opened_from_the_cache(tmp_path, monkeypatch, data_files):
    monkeypatch.setenv(crosslingual.CACHE_DIR_ENV, str(tmp_path / "cache"))
    first = load_dictionary(data_files)
    files = list((tmp_path / "cache").glob("cedict-index-*.sqlite"))
    assert len(files) == 1 and not list((tmp_path / "cache").glob("*.tmp"))
    built_at = files[0].stat().st_mtime_ns
    second = load_dictionary(data_files)
    assert files[0].stat().st_mtime_ns == built_at  # opened, not built again
    assert first.chinese_for("lipstick") == second.chinese_for("lipstick") == ["口红", "唇膏"]


def test_a_new_dictionary_file_builds_a_new_index(tmp_path, monkeypatch, data_files):
    monkeypatch.setenv(crosslingual.CACHE_DIR_ENV, str(tmp_path / "cache"))
    assert load_dictionary(data_files).chinese_for("tent") == ["帐篷", "帐幕"]
    cedict, counts = data_files
    counts.write_text("帐幕 9000 n\n", encoding="utf-8")  # an upgraded package: other counts
    assert load_dictionary(data_files).chinese_for("tent") == ["帐幕", "帐篷"]


def test_a_damaged_cache_is_rebuilt_and_an_unwritable_one_only_costs_time(tmp_path, monkeypatch, data_files):
    cache = tmp_path / "cache"
    monkeypatch.setenv(crosslingual.CACHE_DIR_ENV, str(cache))
    path = crosslingual.cache_path(data_files)
    cache.mkdir()
    path.write_bytes(b"not an sqlite file at all" * 100)
    assert load_dictionary(data_files).chinese_for("lipstick") == ["口红", "唇膏"]
    assert path.read_bytes()[:15] == b"SQLite format 3"
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setenv(crosslingual.CACHE_DIR_ENV, str(blocked / "cache"))
    assert load_dictionary(data_files).chinese_for("lipstick") == ["口红", "唇膏"]  # built in memory


def test_the_packaged_dictionary_is_found():
    cedict, counts = crosslingual.sources()
    assert cedict.is_file() and counts.is_file()
    with gzip.open(cedict, "rt", encoding="utf-8") as lines:
        head = "".join(next(lines) for _ in range(10))
    assert "CC-CEDICT" in head and "creativecommons.org/licenses/by-sa/4.0" in head


# ------------------------------------------------------------------------------------------- search


def doc(doc_id: str, title: str, language: str) -> dict:
    return {
        "id": doc_id,
        "kind": "video",
        "platform": doc_id.split(":")[0],
        "url": f"https://example.com/{doc_id.replace(':', '/')}",
        "title": title,
        "language": language,
        "observed_at": "2026-11-25T10:00:00Z",
    }


DOCS = [
    doc("douyin:video:lip-1", "丝绒哑光口红 学生党必入", "zh"),
    doc("douyin:video:tent-1", "露营帐篷 一分钟速开", "zh"),
    doc("tiktok:video:lip-2", "Lipstick haul: five shades under $10", "en"),
    doc("tiktok:video:earbuds-1", "Wireless earbuds with the best battery", "en"),
    doc("youtube:video:cat-1", "What my cat eats in a day", "en"),
]


@pytest.fixture
def store(tmp_path):
    store = SqliteStore(tmp_path / "x.db")
    store.upsert(DOCS)
    yield store
    store.close()


def test_an_english_query_finds_a_chinese_only_document_by_keyword_and_says_why(store):
    hits = search(store, "lipstick", "keyword", limit=10)
    ids = [hit.id for hit in hits]
    assert ids[0] == "tiktok:video:lip-2"  # the query's own word first
    assert "douyin:video:lip-1" in ids  # through 口红
    why = hits[ids.index("douyin:video:lip-1")].explain
    assert why["keyword_rank"] is None and why["expansion_rank"] == 1
    assert why["translated"] == {"lipstick": ["口红"]}
    assert why["reason"] == "translated keyword match (lipstick → 口红)"
    assert hits[0].explain["reason"] == REASON_KEYWORD
    assert "youtube:video:cat-1" not in ids and "douyin:video:tent-1" not in ids
    json.dumps([hit.to_json() for hit in hits], ensure_ascii=False)  # the JSON output carries it


def test_a_chinese_query_finds_an_english_only_document(store):
    hits = search(store, "无线耳机", "keyword", limit=10)
    assert [hit.id for hit in hits] == ["tiktok:video:earbuds-1"]
    assert hits[0].explain["translated"] == {"无线": ["wireless"]}


def test_filters_hold_for_translated_hits(store):
    from indexer.store import SearchFilters

    hits = search(store, "lipstick", "keyword", SearchFilters(platform="douyin"), limit=10)
    assert [hit.id for hit in hits] == ["douyin:video:lip-1"]


def test_fusion_keeps_a_translated_hit_above_its_floor_and_drops_it_below():
    docs = lambda ids: {i: {"id": i, "title": "口红"} for i in ids}  # noqa: E731
    keyword = [("a", 5.0)]
    vector = [("a", 0.5), ("b", 0.3), ("c", 0.02)]
    expanded = [("c", 4.0), ("b", 2.0)]
    expansion = Expansion(terms=("口红",), sources=(("lipstick", ("口红",)),), coverage=1.0)
    settings = SearchSettings(
        vector_floor=0.25, keyword_weight=0.01, expansion_weight=0.1, expansion_floor=0.05
    )
    hits = fused_hits(SearchMode.hybrid, keyword, vector, 10, docs, settings, expanded, expansion)
    assert [h.id for h in hits] == ["a", "b"]  # c only matched the translation, at cosine 0.02 < 0.05
    assert hits[1].explain["translated"] == {"lipstick": ["口红"]}
    assert hits[1].explain["fused_score"] == pytest.approx(0.3 + 0.1 * 2.0 / 4.0)
    half = Expansion(terms=expansion.terms, sources=expansion.sources, coverage=0.5)
    hits = fused_hits(SearchMode.hybrid, keyword, vector, 10, docs, settings, expanded, half)
    assert hits[1].explain["fused_score"] == pytest.approx(0.3 + 0.1 * 0.5 * 2.0 / 4.0)  # half the evidence
    off = SearchSettings(vector_floor=0.25, keyword_weight=0.01, expansion_weight=0.0, expansion_floor=None)
    hits = fused_hits(SearchMode.hybrid, keyword, vector, 10, docs, off, expanded, expansion)
    assert [h.id for h in hits] == ["a", "b"] and hits[1].explain["expansion_rank"] is None


@pytest.mark.elasticsearch
def test_both_stores_search_the_same_translation(es_url, tmp_path, store):
    import uuid

    from indexer.elastic import ElasticConfig, ElasticStore

    config = ElasticConfig.from_env(
        es_url, environ={}, index_prefix=f"tct-xl-{uuid.uuid4().hex[:10]}", outbox_dir=tmp_path / "outbox"
    )
    es_store = ElasticStore(config)
    try:
        es_store.upsert(DOCS)
        for query in ("lipstick", "无线耳机", "露营 tent"):
            a = search(store, query, "keyword", limit=10)
            b = search(es_store, query, "keyword", limit=10)
            assert [h.id for h in a] == [h.id for h in b], query
            assert [h.explain["translated"] for h in a] == [h.explain["translated"] for h in b], query
    finally:
        es_store.destroy()
        es_store.close()


# ---------------------------------------------------------------------------- hybrid, the real model

SET = Path(__file__).parent / "fixtures" / "relevance" / "set"
QUERIES_OF_SET = json.loads((SET / "judgements.json").read_text(encoding="utf-8"))["queries"]


@pytest.fixture(scope="module")
def set_store(tmp_path_factory, embedder):
    from indexer.ingest import ingest_jsonl

    path = tmp_path_factory.mktemp("xl-set") / "set.db"
    store = SqliteStore(path)
    ingest_jsonl(SET / "corpus.jsonl", store, embedder)
    store.close()
    return path


@pytest.mark.model
def test_the_json_of_a_hybrid_search_says_which_hits_the_translation_found(set_store, monkeypatch):
    from typer.testing import CliRunner

    from search_cli import app

    for name in ("TRENDCART_STORE", "TRENDCART_MODEL", "TRENDCART_VECTOR_FLOOR", "TRENDCART_SERVER"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, ["--store", str(set_store), "search", "lipstick", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    judged = json.loads((SET / "judgements.json").read_text(encoding="utf-8"))["queries"]
    grades = next(q for q in judged if q["query"] == "lipstick")["judgements"]
    assert all(grades.get(hit["id"], 0) >= 1 for hit in hits[:5])  # the five lipstick videos, zh and en
    translated = [
        hit for hit in hits if hit["explain"]["keyword_rank"] is None and hit["explain"]["translated"]
    ]
    assert translated, hits
    for hit in translated:
        assert hit["explain"]["reason"].startswith("translated keyword match (lipstick → ")
        assert hit["language"] == "zh"


@pytest.mark.model
def test_a_platform_filter_keeps_translated_filler_out(set_store, embedder):
    from indexer.store import SearchFilters

    with SqliteStore(set_store) as store:
        hits = search(store, "wireless earbuds", "hybrid", SearchFilters(platform="tiktok"), 10, embedder)
    assert {hit.doc["platform"] for hit in hits} == {"tiktok"}
    assert [h.id for h in hits][:2] == ["tiktok:video:earbuds-0", "tiktok:product:earbuds-2"]
    assert all("earbuds" in h.id or "airpods" in h.id for h in hits), [h.id for h in hits]


def test_translate_off_turns_the_expansion_off(store, monkeypatch):
    assert expand("lipstick")
    monkeypatch.setenv("TRENDCART_TRANSLATE", "off")
    assert not expand("lipstick") and not expand("无线耳机")
    assert search(store, "无线耳机", "keyword", limit=10) == []  # the English document needed the translation
    monkeypatch.setenv("TRENDCART_TRANSLATE", "on")
    assert [hit.id for hit in search(store, "无线耳机", "keyword", limit=10)] == ["tiktok:video:earbuds-1"]


@pytest.mark.model
def test_a_chinese_querys_vector_joins_its_translation_and_off_keeps_its_own(
    set_store, embedder, monkeypatch
):
    import numpy as np

    query = "无线耳机"
    terms = expand(query).terms
    assert "wireless" in terms
    own = embedder.embed_query(query)
    mean = np.mean([embedder.embed_query(term) for term in terms], axis=0)
    moved = own + 0.7 * mean / np.linalg.norm(mean)
    vector = embedder.embed_query_translated(query, terms, 0.7)
    assert np.allclose(vector, moved / np.linalg.norm(moved), atol=1e-3)
    assert np.allclose(embedder.embed_query_translated(query, (), 0.7), own)

    def cosines() -> dict[str, float]:
        with SqliteStore(set_store) as store:
            hits = search(store, query, "semantic", limit=10, embedder=embedder, min_similarity=-1)
        return {hit.id: hit.explain["vector_score"] for hit in hits}

    monkeypatch.setenv("TRENDCART_TRANSLATE", "on")
    translated = cosines()
    monkeypatch.setenv("TRENDCART_TRANSLATE", "off")
    alone = cosines()
    assert translated != alone  # semantic mode searched another vector: the query's own, without translation
    assert set(translated) & set(alone)  # the same earbuds documents, by other cosines


@pytest.mark.model
def test_no_translate_searches_the_querys_own_words(set_store, monkeypatch):
    from typer.testing import CliRunner

    from search_cli import app

    for name in ("TRENDCART_STORE", "TRENDCART_MODEL", "TRENDCART_VECTOR_FLOOR", "TRENDCART_SERVER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRENDCART_TRANSLATE", "on")  # restored after the test: --no-translate sets it off
    result = CliRunner().invoke(
        app, ["--store", str(set_store), "search", "lipstick", "--json", "--no-translate"]
    )
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert hits and all(hit["explain"]["expansion_rank"] is None for hit in hits)
    assert all(not hit["explain"]["translated"] for hit in hits)


def test_fusion_adds_the_translations_hits_by_rank_times_coverage():
    """expansion_rank_weight x coverage / (expansion_rank_k + rank): a rank term with no BM25 scale in it."""
    docs = lambda ids: {i: {"id": i, "title": "口红"} for i in ids}  # noqa: E731
    keyword = [("a", 5.0)]
    vector = [("a", 0.5), ("b", 0.3), ("c", 0.299)]
    expanded = [("c", 40.0), ("b", 39.0)]  # BM25 values play no part at expansion_weight 0
    expansion = Expansion(terms=("口红",), sources=(("lipstick", ("口红",)),), coverage=1.0)
    settings = SearchSettings(vector_floor=0.25, keyword_weight=0.01, expansion_weight=0.0,
                              expansion_floor=0.05, expansion_rank_weight=2.0, expansion_rank_k=30)  # fmt: skip
    hits = fused_hits(SearchMode.hybrid, keyword, vector, 10, docs, settings, expanded, expansion)
    assert [h.id for h in hits] == ["a", "c", "b"]  # c, first in the translation's ranking, passes b
    assert hits[1].explain["fused_score"] == pytest.approx(0.299 + 2.0 / 31)
    assert hits[2].explain["fused_score"] == pytest.approx(0.3 + 2.0 / 32)
    half = Expansion(terms=expansion.terms, sources=expansion.sources, coverage=0.5)
    hits = fused_hits(SearchMode.hybrid, keyword, vector, 10, docs, settings, expanded, half)
    fused = {h.id: h.explain["fused_score"] for h in hits}
    assert fused["b"] == pytest.approx(0.3 + 0.5 * 2.0 / 32)  # half the query translated: half the term
    assert score_fuse(keyword, vector, 0.01, expanded, 0.0, 2.0, 30) == score_fuse(
        keyword, vector, 0.01, [("c", 1.0), ("b", 0.5)], 0.0, 2.0, 30
    )  # the same ranks with other BM25 values: the same scores


def test_hybrid_moves_a_chinese_query_by_its_own_weight_semantic_keeps_the_calibrated_one():
    from indexer.models import search_settings

    settings = search_settings("use-multilingual-v3")
    assert settings.query_translation_weight(hybrid=False) == 0.7  # semantic: zh_paraphrase Recall@10 0.81
    assert settings.query_translation_weight(hybrid=True) == 0.5
    assert search_settings("minilm").query_translation_weight(hybrid=True) == 0.0  # no translated vector
    # An English query moves towards its Chinese translation in hybrid search only.
    assert settings.query_translation_weight(hybrid=True, chinese=False) == 0.4
    assert settings.query_translation_weight(hybrid=False, chinese=False) == 0.0
    assert search_settings("minilm").query_translation_weight(hybrid=True, chinese=False) == 0.0


@pytest.mark.model
def test_hybrid_finds_the_power_bank_video_that_the_translations_rank_brings_up(set_store, embedder):
    """充电宝 ("power bank") on the labelled set: the bilibili power-bank video (grade 3) was 11th and a juicer
    video (ungraded, ranked by its BM25 share of 充电 in the translation) was 8th; with the hybrid vector
    (weight 0.5) and the rank term it is in the top 10 and the juicer is out, without the semantic mode's
    ranking changing (its vector keeps weight 0.7)."""
    query = next(q for q in QUERIES_OF_SET if q["query"] == "充电宝")
    assert query["judgements"]["bilibili:video:power-bank-3"] == 3
    assert "tiktok:video:juicer-2" not in query["judgements"]
    with SqliteStore(set_store) as store:
        hybrid = [hit.id for hit in search(store, "充电宝", "hybrid", limit=10, embedder=embedder)]
        semantic = search(store, "充电宝", "semantic", limit=10, embedder=embedder, min_similarity=-1)
        terms = expand("充电宝").terms
        moved = embedder.embed_query_translated("充电宝", terms, 0.7)
        again = store.search("充电宝", moved, "semantic", limit=10, min_similarity=-1)
    assert "bilibili:video:power-bank-3" in hybrid and "tiktok:video:juicer-2" not in hybrid
    assert [h.id for h in semantic] == [h.id for h in again]
