"""StoreSpec: which store a spec names (a SQLite path, an Elasticsearch URL), where its crawl log is, how to open it."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from indexer.store import Store, StoreError, StoreUnavailable

# Where documents live when neither --store nor TRENDCART_STORE says: beside the user's work, visible.
DEFAULT_STORE_PATH = Path("trendcart-data") / "trendcart.db"
STORE_ENV = "TRENDCART_STORE"
# The crawl log (one JSON line per finished crawl, read by `stats`): `<db>.crawls.jsonl` beside a SQLite
# file, `<dir>/crawls.jsonl` for a folder spec, and this file for a store that is not on this machine.
CRAWL_LOG_NAME = "crawls.jsonl"
REMOTE_CRAWL_LOG = Path("trendcart-data") / CRAWL_LOG_NAME
# `scheme://...`: a spec that names its backend (a Windows drive letter `C:\x` has no `//`).
_SCHEME_RE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")


class BadStoreSpec(StoreError):
    """A store spec that names no store (`sqlite://` without a path)."""


class UnknownStoreScheme(BadStoreSpec):
    """A spec with a URL scheme no backend serves (`postgres://...`): refused, never taken for a file path."""


def _open_sqlite(spec: StoreSpec, model_name: str | None, environ: Mapping[str, str]) -> Store:
    from indexer.sqlite_store import SqliteStore

    return SqliteStore(spec.path)  # the SQLite store records the model on first use


def _open_elasticsearch(spec: StoreSpec, model_name: str | None, environ: Mapping[str, str]) -> Store:
    try:
        from indexer.elastic import ElasticConfig, ElasticStore
    except ImportError as exc:
        raise StoreUnavailable(f"the Elasticsearch store is not available: {exc}") from exc
    return ElasticStore(ElasticConfig.from_env(spec.url, environ), model_name=model_name)


@dataclass(frozen=True)
class Backend:
    """One store implementation: the URL schemes that name it, whether it is a local file, how to open it."""

    name: str
    schemes: tuple[str, ...]
    local: bool  # a file on this machine (StoreSpec.path) rather than a server (StoreSpec.url)
    opener: Callable[[StoreSpec, str | None, Mapping[str, str]], Store]


# A new backend = its module + one line here + the contract suite's fixture.
BACKENDS = (
    Backend("sqlite", ("sqlite",), True, _open_sqlite),
    Backend("elasticsearch", ("http", "https"), False, _open_elasticsearch),
)
_BY_NAME = {backend.name: backend for backend in BACKENDS}
_BY_SCHEME = {scheme: backend for backend in BACKENDS for scheme in backend.schemes}
_LOCAL_DEFAULT = _BY_NAME["sqlite"]  # a plain path


def default_store_spec(environ: Mapping[str, str] = os.environ) -> str:
    """$TRENDCART_STORE, else ./trendcart-data/trendcart.db."""
    return (environ.get(STORE_ENV) or "").strip() or str(DEFAULT_STORE_PATH)


@dataclass(frozen=True)
class StoreSpec:
    """A parsed store spec: `backend` plus `path` (local backends) or `url` (servers)."""

    backend: str
    path: Path | None = None
    url: str | None = None
    in_directory: bool = False  # the spec named a folder: the database is the default file inside it

    @classmethod
    def parse(cls, spec: str | None = None, environ: Mapping[str, str] = os.environ) -> StoreSpec:
        """None or blank -> $TRENDCART_STORE or ./trendcart-data/trendcart.db; `http(s)://` -> Elasticsearch;
        `sqlite:///path`, a file path or a folder -> SQLite; any other `scheme://` -> UnknownStoreScheme."""
        text = (spec or "").strip() or default_store_spec(environ)
        match = _SCHEME_RE.match(text)
        if match is None:
            return cls._local(_LOCAL_DEFAULT, text)
        scheme = match.group("scheme").lower()
        backend = _BY_SCHEME.get(scheme)
        if backend is None:
            known = ", ".join(f"{s}://" for s in _BY_SCHEME)
            raise UnknownStoreScheme(
                f"no store backend for {scheme}:// in {text!r}: use a SQLite file path or one of {known}"
            )
        if backend.local:  # `sqlite:///rel.db`, `sqlite:////abs.db`: the host part is empty
            rest = text[match.end() :]
            return cls._local(backend, rest[1:] if rest.startswith("/") else rest)
        return cls(backend=backend.name, url=text)

    @classmethod
    def _local(cls, backend: Backend, text: str) -> StoreSpec:
        if not text:
            raise BadStoreSpec(f"a {backend.name} store spec needs a path")
        path = Path(text).expanduser()
        if path.is_dir():
            return cls(backend=backend.name, path=path / DEFAULT_STORE_PATH.name, in_directory=True)
        return cls(backend=backend.name, path=path)

    @property
    def is_local(self) -> bool:
        return self.path is not None

    def resolved(self) -> StoreSpec:
        """The same store with an absolute path (for a child process that runs elsewhere); URLs unchanged."""
        return replace(self, path=self.path.resolve()) if self.path is not None else self

    def exists(self) -> bool:
        """False when there is surely nothing there yet (no SQLite file, or an empty one: opening it would
        create the store); a server is checked when opened."""
        if self.path is None:
            return True
        if not self.path.exists():
            return False
        try:  # a directory or a device is there: opening it says what is wrong with it
            return not self.path.is_file() or self.path.stat().st_size > 0
        except OSError:
            return True

    @property
    def crawl_log_path(self) -> Path:
        """`<db>.crawls.jsonl` beside a SQLite file, `<dir>/crawls.jsonl` for a folder spec,
        ./trendcart-data/crawls.jsonl for a server."""
        if self.path is None:
            return REMOTE_CRAWL_LOG
        if self.in_directory:
            return self.path.parent / CRAWL_LOG_NAME
        return self.path.with_name(f"{self.path.name}.{CRAWL_LOG_NAME}")

    def beside(self, name: str) -> Path:
        """A file of the store's own where its crawl log is: `<db>.<name>` beside a SQLite file, `<dir>/<name>`
        for a folder spec, ./trendcart-data/<name> for a server (the watch file, the dashboard snapshot, the
        product file)."""
        log = self.crawl_log_path
        return log.with_name(log.name.replace(CRAWL_LOG_NAME, name))

    def open(self, model_name: str | None = None, environ: Mapping[str, str] = os.environ) -> Store:
        """Open (or create) the store. `model_name` lets a backend pick its model's index; the SQLite store
        records the model on first use instead. `environ` carries a server's settings (TRENDCART_ES_*).
        StoreError subclasses when it cannot."""
        return _BY_NAME[self.backend].opener(self, model_name, environ)

    def __str__(self) -> str:
        return self.url if self.url is not None else str(self.path)


def open_store(spec: str | StoreSpec | None = None, model_name: str | None = None) -> Store:
    """`StoreSpec.parse(spec).open(model_name)`."""
    return (spec if isinstance(spec, StoreSpec) else StoreSpec.parse(spec)).open(model_name)
