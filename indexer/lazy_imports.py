"""Defer scikit-learn until first use: sentence-transformers imports it at start-up for one function."""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types
from typing import Any

# `sentence_transformers.util.similarity` runs `from sklearn.metrics import pairwise_distances` when it is
# imported, which loads scikit-learn and most of SciPy (measured: ~15 % of importing sentence-transformers,
# docs/SCALING.md "Cold start"); trendcart never calls it. These stand in until something reads them.
DEFERRED = ("sklearn", "sklearn.metrics")


class _Deferred(types.ModuleType):
    """A stand-in for a module that is imported for real on the first attribute read."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_real(self.__name__), name)


class _RealOnSubmodule:
    """A meta path finder: importing any other scikit-learn module first makes the real package current."""

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> None:
        if name.startswith("sklearn.") and name not in DEFERRED:
            _real("sklearn")
        return None  # the ordinary finders find it


def _real(name: str) -> types.ModuleType:
    """Drop the stand-ins and import `name` for real (then every later import gets the real modules)."""
    for deferred in DEFERRED:
        if isinstance(sys.modules.get(deferred), _Deferred):
            del sys.modules[deferred]
    if _RealOnSubmodule in sys.meta_path:
        sys.meta_path.remove(_RealOnSubmodule)  # type: ignore[arg-type]
    return importlib.import_module(name)


def _pairwise_distances(*args: Any, **kwargs: Any) -> Any:
    return _real("sklearn.metrics").pairwise_distances(*args, **kwargs)


def _stand_in(name: str, spec: importlib.machinery.ModuleSpec) -> _Deferred:
    """The stand-in with what code that walks sys.modules reads (torch.fx reads every `__file__`), so that
    such a walk does not import the real module."""
    module = _Deferred(name)
    module.__spec__, module.__loader__, module.__file__ = spec, spec.loader, spec.origin
    module.__package__ = spec.parent
    return module


def defer_sklearn() -> None:
    """Put the stand-ins in place, unless scikit-learn is imported already or not installed."""
    if any(name in sys.modules for name in DEFERRED):
        return
    spec = importlib.machinery.PathFinder.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        return
    package = _stand_in("sklearn", spec)
    package.__path__ = list(spec.submodule_search_locations)
    metrics_spec = importlib.machinery.PathFinder.find_spec("sklearn.metrics", package.__path__)
    if metrics_spec is None:
        return
    metrics = _stand_in("sklearn.metrics", metrics_spec)
    metrics.__path__ = list(metrics_spec.submodule_search_locations or [])  # `from ... import` reads it
    metrics.pairwise_distances = _pairwise_distances  # type: ignore[attr-defined]
    package.metrics = metrics  # type: ignore[attr-defined]
    sys.modules["sklearn"], sys.modules["sklearn.metrics"] = package, metrics
    sys.meta_path.insert(0, _RealOnSubmodule)  # type: ignore[arg-type]
