"""The store contract every backend implements (SqliteStore, ElasticStore); see docs/INDEXER.md."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from crawler import times
from crawler.items import Snapshot
from indexer.crosslingual import NO_EXPANSION, Expansion
from indexer.models import SearchSettings, search_settings
from indexer.textsearch import text_fields

# Reciprocal rank fusion constant (rrf_fuse, kept for callers that fuse rank lists of unknown scales).
# 60 is the value from Cormack, Clarke & Büttcher (SIGIR 2009), used unchanged by Elasticsearch.
RRF_K = 60
# How many candidates each side (keyword, vector) contributes to fusion, at least. A document outside
# both top-N lists cannot reach a fused top-`limit`, so N only needs to exceed `limit`; on the labelled set
# depths 20, 50 and 100 rank alike (bench/bench_relevance.py), 100 leaves room for filters.
HYBRID_CANDIDATES = 100
# Why a hit is there (Hit.explain["reason"]).
REASON_KEYWORD = "keyword match"
REASON_TRANSLATED = "translated keyword match"
# Keyword mode ranks the query's own matches as BM25 does; documents only its translation matched
# (indexer.crosslingual) follow, scored at most this share of the last own match.
KEYWORD_EXPANSION_SHARE = 0.5


class SearchMode(str, Enum):
    hybrid = "hybrid"
    keyword = "keyword"
    semantic = "semantic"


# ---------------------------------------------------------------------------------------------- errors


class StoreError(Exception):
    """Base class: anything a store refuses or cannot do. The CLI turns it into one line and exit 3."""


class StoreUnavailable(StoreError):
    """The store cannot be opened or reached (bad path, permissions, Elasticsearch down)."""


class ModelMismatch(StoreError):
    """Vectors of another model or dimension than the one the store was built with."""

    def __init__(self, stored: tuple[str, int], offered: tuple[str, int | None]) -> None:
        self.stored, self.offered = stored, offered
        dim = f", {offered[1]} dims" if offered[1] is not None else ""
        super().__init__(
            f"this store holds vectors of model {stored[0]!r} ({stored[1]} dims), not {offered[0]!r}{dim}. "
            f"Use --model {stored[0]!r} (or TRENDCART_MODEL, or no --model at all: a store keeps its model), "
            f"or re-embed the store with the new model: trendcart --model {offered[0]!r} reindex"
        )


class InvalidDocument(StoreError):
    """A document that is not in the JSON form (bad id, unknown kind/platform, unreadable time)."""


class QueryError(StoreError):
    """A search the store cannot answer (semantic search without vectors, bad filter values)."""


# ------------------------------------------------------------------------------------------ data types


@dataclass
class SearchFilters:
    """All optional; None means "no condition". Times are ISO 8601 strings or aware datetimes.

    Prices compare against every price on the document (its own, or the products it links), ignoring
    currency: a document matches when its price span [lowest, highest] overlaps [price_min, price_max].
    `observed_from/to` apply to the latest observation (last_seen). `creator` matches the creator's id,
    name or handle (case-insensitive, a leading @ ignored)."""

    platform: str | None = None
    kind: str | None = None
    published_from: str | datetime | None = None
    published_to: str | datetime | None = None
    observed_from: str | datetime | None = None
    observed_to: str | datetime | None = None
    min_views: int | None = None
    min_likes: int | None = None
    price_min: float | None = None
    price_max: float | None = None
    has_products: bool | None = None
    creator: str | None = None

    def is_empty(self) -> bool:
        return all(value is None for value in self.__dict__.values())


@dataclass
class Hit:
    """One search result. `doc` is the stored document (JSON form + first_seen/last_seen).

    `explain` always has: keyword_rank, keyword_score (BM25, higher is better), vector_rank, vector_score
    (cosine), fused_score (hybrid only: cosine + keyword weight x BM25 / best BM25 + expansion weight x
    coverage x expansion BM25 / its best + expansion rank weight x coverage / (k + expansion rank)), mode,
    floor (the similarity floor in force, None when none), expansion_rank and expansion_score (the hit's
    place in the keyword ranking of the query's translation, indexer.crosslingual), translated (which query words' translations the hit contains, `{"lipstick":
    ["口红"]}`, None when none) and reason ("keyword match"; "translated keyword match (lipstick → 口红)"
    for a hit that only the translation found; "similar (0.41 >= floor 0.19)" for a hit that only the
    vector side found), and floor_score (hybrid: the cosine with the floor vector that kept a vector-only hit,
    when it is not the one it ranks by; else None). Ranks are 1-based; None when that side did not find it."""

    id: str
    score: float
    doc: dict[str, Any]
    explain: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "score": self.score,
            **{k: v for k, v in self.doc.items() if k != "id"},
            "explain": self.explain,
        }


@dataclass
class WindowStat:
    """First and last observation of one metric of one entity inside a time window."""

    entity_id: str
    metric: str
    first_at: str
    first_value: int
    last_at: str
    last_value: int
    count: int


@dataclass
class UpsertResult:
    added: int = 0
    updated: int = 0


@dataclass
class StoreStats:
    backend: str
    location: str
    documents: int
    by_kind: dict[str, int]
    by_platform: dict[str, int]
    vectors: int
    snapshots: int
    model: str | None
    dim: int | None
    first_observed: str | None
    last_observed: str | None
    size_bytes: int | None = None


# ------------------------------------------------------------------------------------------- contract


@runtime_checkable
class Store(Protocol):
    """What the indexer, the CLI, trends and reports rely on. Documents are dicts in the JSON form.

    Writes are visible to the next read on the same store object (backends refresh as needed)."""

    def upsert(
        self,
        docs: Sequence[Mapping[str, Any]],
        vectors: Sequence[Any] | None = None,
        text_hashes: Sequence[str | None] | None = None,
    ) -> UpsertResult:
        """Insert or update documents by id.

        The document keeps the fields and metrics of its latest observation (by `observed_at`); an older
        observation arriving late only moves `first_seen` back. Every observation's known metrics also go
        to snapshots (idempotent per entity, metric and time). `vectors[i]` (float32, the store's model
        dimension, normalised by the store) replaces the document's vector; an all-zero vector counts as
        None (indexer.vectors: the document is indexed for keyword search only). None keeps the stored
        vector when `text_hashes[i]` equals the stored hash (or is None), and drops it when the text changed.
        Raises InvalidDocument (nothing written) or ModelMismatch (vector dimension, or no model set)."""
        ...

    def add_snapshots(self, snapshots: Sequence[Snapshot]) -> int:
        """Record observations of entities that may or may not be documents. Returns rows written."""
        ...

    def get(self, doc_id: str) -> dict[str, Any] | None:
        """The stored document (JSON form plus `first_seen`, `last_seen`), or None."""
        ...

    def get_many(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Documents by id; missing ids are absent from the result."""
        ...

    def count(self, filters: SearchFilters | None = None) -> int:
        """Number of documents matching the filters."""
        ...

    def delete(self, ids: Sequence[str]) -> int:
        """Delete documents, their vectors and their snapshots. Returns documents deleted."""
        ...

    def prune(self, before: str | datetime) -> int:
        """Delete snapshots observed strictly before `before`. Returns snapshot rows deleted."""
        ...

    def search(
        self,
        query_text: str,
        query_vector: Any | None = None,
        mode: SearchMode | str = SearchMode.hybrid,
        filters: SearchFilters | None = None,
        limit: int = 10,
        min_similarity: float | None = None,
        floor_vector: Any | None = None,
    ) -> list[Hit]:
        """Best documents first. keyword: BM25 on title, description, hashtags, product titles, creator
        (CJK-aware); any text is a valid query (operators and punctuation are plain text). semantic:
        cosine with `query_vector`. hybrid: both, fused by score (fused_hits); without a query vector
        it degrades to keyword. A hit that matched no keyword is kept only at a cosine >= the floor of
        the store's model (indexer.models.search_settings), or `min_similarity` when given (<= -1: no
        floor); in hybrid search, by its cosine with `floor_vector` when given (the vector semantic search
        would use, where hybrid ranks by a moved one: indexer.search). An empty query gives []. Raises
        QueryError for semantic search without vector, ModelMismatch for a vector of the wrong dimension."""
        ...

    def known_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        """The text hash of each stored vector, by document id (documents without vector are absent)."""
        ...

    def iter_documents(
        self, filters: SearchFilters | None = None, batch: int = 500
    ) -> Iterator[dict[str, Any]]:
        """Every matching document, fetched `batch` at a time."""
        ...

    def snapshots(
        self,
        entity_id: str,
        metric: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
    ) -> list[Snapshot]:
        """Observations of one entity, oldest first; one Snapshot per observation time (with only `metric`
        in its metrics when given). `since`/`until` are inclusive."""
        ...

    def window_stats(
        self,
        metric: str,
        start: str | datetime,
        end: str | datetime,
        kind: str | None = None,
        platform: str | None = None,
        ids: Sequence[str] | None = None,
    ) -> dict[str, WindowStat]:
        """Per entity, the first and last observation of `metric` inside [start, end] and how many there
        were; computed inside the store. Entities without an observation in the window are absent."""
        ...

    def stats(self) -> StoreStats: ...

    def model_info(self) -> tuple[str, int] | None:
        """(model name, dimension) the vectors were made with, or None for a store without vectors."""
        ...

    def set_model(self, name: str, dim: int) -> None:
        """Record the model on first use; raise ModelMismatch if another model or dimension is recorded."""
        ...

    def close(self) -> None: ...


# ----------------------------------------------------------------------------------------- capabilities
# Optional abilities beyond the contract. Callers test for them with isinstance (runtime_checkable checks
# that the methods exist), never with getattr probes: `if isinstance(store, HasOutbox): ...`.


@runtime_checkable
class Prefetching(Protocol):
    """A store that can load what a semantic search reads (SqliteStore: the vector matrix) ahead of the
    search; `indexer.search.search` calls it in a thread while the embedding model loads."""

    def prefetch(self) -> None: ...


@runtime_checkable
class BulkWindowStats(Protocol):
    """A store that answers `window_stats` for every kind and several windows in one query (both backends);
    the trend cache (indexer/trend_cache.py) uses it to read a ranking's snapshots once."""

    def window_stats_by_kind(
        self,
        metric: str,
        windows: Sequence[tuple[str | datetime, str | datetime]],
        platform: str | None = None,
    ) -> list[dict[str, dict[str, WindowStat]]]: ...


@runtime_checkable
class BuildsVectorIndex(Protocol):
    """A store with an approximate vector index of its own (SqliteStore: the ANN file beside the store, above
    its threshold). Loaders call it once at the end of a load, so that no search waits for a build."""

    def build_vector_index(self, progress: Callable[[int, int], None] | None = None) -> bool:
        """Build the index, or fold the pending changes into it, when the store wants one; `progress(added,
        total)` while vectors are added. True when the store now has an index file."""
        ...


@runtime_checkable
class HasOutbox(Protocol):
    """A store that queues on disk the writes it cannot deliver now (ElasticStore) and replays them later."""

    def outbox_pending(self) -> int:
        """Batches waiting to be written."""
        ...

    def replay_outbox(self) -> int:
        """Write every queued batch now, oldest first; returns batches replayed (StoreUnavailable if it cannot)."""
        ...

    def outbox_location(self) -> str:
        """Where the queued batches are kept (a folder), for messages."""
        ...


@runtime_checkable
class HasMetadata(Protocol):
    """A store that keeps a few named text values about itself beside its model (SqliteStore: its `meta`
    table; ElasticStore: the docs mapping's `_meta`), such as the clock of the demo that made it."""

    def get_meta(self, key: str) -> str | None:
        """The value recorded under `key`, or None."""
        ...

    def set_meta(self, key: str, value: str | None) -> None:
        """Record `value` under `key` (None removes it)."""
        ...


@runtime_checkable
class Reindexable(Protocol):
    """A store that can re-embed every document with another model in place (ElasticStore: a new versioned
    index, then an alias swap; SqliteStore: new vectors staged aside, then swapped in one transaction).
    Afterwards the store records the embedder's model. Returns a dataclass describing what was done."""

    def reindex(
        self,
        embedder: Any = None,
        *,
        batch: int = 256,
        keep_old: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> Any: ...


# ---------------------------------------------------------------------------------------------- helpers


def to_iso(value: str | datetime | None, what: str = "time") -> str | None:
    """Canonical ISO 8601 UTC with Z (crawler.times.to_iso), or InvalidDocument naming `what`."""
    try:
        return times.to_iso(value)
    except ValueError as exc:
        raise InvalidDocument(f"{what}: {exc}") from None


def resolve_mode(
    mode: SearchMode | str, query_text: str | None, query_vector: Any | None, *, has_vectors: bool, limit: int
) -> SearchMode | None:
    """The search mode a store will really run, shared by every backend; None when there is nothing to search.

    Hybrid degrades to keyword when there is no query vector or the store holds no vectors yet; semantic
    without a vector, an unknown mode, or vectors asked of a vector-less store raise QueryError."""
    try:
        mode = SearchMode(mode)
    except ValueError:
        raise QueryError(f"unknown search mode {mode!r}; expected hybrid, keyword or semantic") from None
    if limit <= 0:
        return None
    if mode is SearchMode.semantic and query_vector is None:
        raise QueryError("semantic search needs a query vector (an embedding model)")
    if mode is SearchMode.hybrid and (query_vector is None or not has_vectors):
        mode = SearchMode.keyword  # a store without vectors, or no model: keyword is all there is
    if mode is not SearchMode.keyword and not has_vectors:
        raise QueryError("this store has no vectors yet: index documents with an embedding model first")
    if not (query_text or "").strip() and mode is not SearchMode.semantic:
        return None
    return mode


def fused_hits(
    mode: SearchMode,
    keyword: Sequence[tuple[str, float]],
    vector: Sequence[tuple[str, float]],
    limit: int,
    get_many: Callable[[list[str]], dict[str, dict[str, Any]]],
    settings: SearchSettings | None = None,
    expanded: Sequence[tuple[str, float]] = (),
    expansion: Expansion = NO_EXPANSION,
    floor_cosines: Callable[[list[str]], Mapping[str, float]] | None = None,
) -> list[Hit]:
    """Hits that explain themselves, from each side's ranked `(id, score)` lists (BM25 best first, cosine
    best first), shared by every backend so that they rank alike. Ids the store no longer holds are left out.
    `expanded` is the keyword ranking of `expansion.text` (indexer.crosslingual: the query's words in the
    other language), searched by the store as its keyword side searches the query.

    A hit that matched no keyword (every semantic hit, a vector-only hybrid hit) is kept only at a cosine
    >= `settings.vector_floor` (None: no floor): no filler; one that matched only a translation, at a cosine
    >= `settings.expansion_floor`. `floor_cosines(ids)`, when given, is the cosine of each id with the floor
    vector (Store.search `floor_vector`): hybrid's vector-only hits are kept by it instead of by the cosine
    they rank by (ids it leaves out are dropped); it is asked once, for the vector-only candidates.

    Hybrid ranks by score fusion, chosen on the labelled set over weighted RRF (bench/bench_relevance.py):
    fused = cosine + keyword_weight x (BM25 / the best BM25 of the query) + expansion_weight x
    expansion.coverage x (expansion BM25 / its best) + expansion_rank_weight x expansion.coverage /
    (expansion_rank_k + expansion rank); a keyword hit outside the vector list counts
    the lowest cosine in it. Keyword mode ranks the query's own matches by BM25, then what only the translation
    matched (keyword_fuse)."""
    settings = settings or search_settings(None)
    floor = settings.vector_floor
    if mode is SearchMode.hybrid and settings.expansion_weight <= 0 and settings.expansion_rank_weight <= 0:
        expanded = ()  # a model whose hybrid search does without the translation
    kw_rank = {doc_id: (rank, score) for rank, (doc_id, score) in enumerate(keyword, start=1)}
    vec_rank = {doc_id: (rank, score) for rank, (doc_id, score) in enumerate(vector, start=1)}
    exp_rank = {doc_id: (rank, score) for rank, (doc_id, score) in enumerate(expanded, start=1)}

    own: dict[str, float] | None = None  # cosines with the floor vector, of the vector-only candidates

    def similar(doc_id: str) -> bool:
        if floor is None:
            return True
        if own is not None:
            return doc_id in own and own[doc_id] >= floor
        return vec_rank[doc_id][1] >= floor

    if mode is SearchMode.hybrid:
        weight = settings.expansion_weight * expansion.coverage  # half the query translated: half the weight
        rank_weight = settings.expansion_rank_weight * expansion.coverage
        ranked = score_fuse(keyword, vector, settings.keyword_weight, expanded, weight,
                            rank_weight, settings.expansion_rank_k)  # fmt: skip
        lowest = min((score for _, score in vector), default=0.0)
        translated_floor = settings.expansion_floor
        if floor_cosines is not None and floor is not None:
            alone = [d for d, _ in ranked if d not in kw_rank and d not in exp_rank]
            own = dict(floor_cosines(alone)) if alone else {}

        def kept(doc_id: str) -> bool:
            if doc_id in kw_rank:
                return True
            if doc_id in exp_rank:
                cosine = vec_rank[doc_id][1] if doc_id in vec_rank else lowest
                return translated_floor is None or cosine >= translated_floor
            return similar(doc_id)

        ranked = [(d, s) for d, s in ranked if kept(d)][:limit]
    elif mode is SearchMode.semantic:
        ranked = [(d, s) for d, s in vector if similar(d)][:limit]
    else:
        ranked = keyword_fuse(keyword, expanded, limit)
    docs = get_many([doc_id for doc_id, _ in ranked])
    hits = []
    for doc_id, score in ranked:
        kw = kw_rank.get(doc_id, (None, None))
        vec = vec_rank.get(doc_id, (None, None))
        exp = exp_rank.get(doc_id, (None, None))
        doc = docs.get(doc_id)
        translated = expansion.matched_by(document_words(doc)) if exp[0] is not None and doc else {}
        if kw[0] is not None:
            reason = REASON_KEYWORD
        elif exp[0] is not None:
            reason = translation_reason(translated)
        else:
            reason = similarity_reason(own[doc_id] if own is not None else vec[1], floor)
        explain = {
            "mode": mode.value,
            "keyword_rank": kw[0],
            "keyword_score": kw[1],
            "vector_rank": vec[0],
            "vector_score": vec[1],
            "fused_score": score if mode is SearchMode.hybrid else None,
            "floor": floor if mode is not SearchMode.keyword else None,
            "floor_score": own.get(doc_id) if own is not None else None,
            "expansion_rank": exp[0],
            "expansion_score": exp[1],
            "translated": translated or None,
            "reason": reason,
        }
        if doc is not None:
            hits.append(Hit(id=doc_id, score=float(score), doc=doc, explain=explain))
    return hits


def floor_cosines_of(
    mode: SearchMode,
    floor_vector: Any | None,
    to_unit: Callable[[Any], Any | None],
    cosines: Callable[[Any, list[str]], dict[str, float]],
) -> Callable[[list[str]], dict[str, float]] | None:
    """fused_hits' `floor_cosines` for a store's hybrid search with a floor vector (None otherwise): each id's
    cosine with the floor vector made unit by `to_unit` (the store's unit_vector), as `cosines(unit, ids)`
    reads them; none at all for a vector without direction (nothing is similar to it)."""
    if floor_vector is None or mode is not SearchMode.hybrid:
        return None
    unit = to_unit(floor_vector)
    return (lambda ids: cosines(unit, ids)) if unit is not None else (lambda ids: {})


def document_words(doc: Mapping[str, Any]) -> str:
    """A stored document's searchable text, all fields in one string (what a translation is looked for in)."""
    return " ".join(text_fields(doc).values())


def translation_reason(translated: Mapping[str, Sequence[str]]) -> str:
    """Why a hit that matched only the query's translation is shown: `translated (lipstick → 口红)`."""
    if not translated:
        return REASON_TRANSLATED
    pairs = ", ".join(f"{source} → {' '.join(words)}" for source, words in translated.items())
    return f"{REASON_TRANSLATED} ({pairs})"


def similarity_reason(cosine: float, floor: float | None) -> str:
    """Why a hit that matched no keyword is shown: `similar (0.41 >= floor 0.18)`."""
    if floor is None:
        return f"similar ({cosine:.2f}, no floor)"
    return f"similar ({cosine:.2f} >= floor {floor:.2f})"


def score_fuse(
    keyword: Sequence[tuple[str, float]],
    vector: Sequence[tuple[str, float]],
    keyword_weight: float,
    expanded: Sequence[tuple[str, float]] = (),
    expansion_weight: float = 0.0,
    expansion_rank_weight: float = 0.0,
    expansion_rank_k: int = 30,
) -> list[tuple[str, float]]:
    """Score fusion: cosine + keyword_weight x BM25 / max BM25 + expansion_weight x expansion BM25 / its max
    + expansion_rank_weight / (expansion_rank_k + expansion rank), best first, ties by id. Each BM25 is
    scaled by the query's best so that one weight fits every query; the rank term does without any scale
    (the same on backends whose BM25 differ). A keyword or expansion hit missing from the vector list counts
    the lowest cosine the list has (an upper bound of its own), or 0 when the list is empty."""
    cosine = dict(vector)
    lowest = min(cosine.values()) if cosine else 0.0
    scores = {doc_id: score for doc_id, score in vector}
    for ranked, weight in ((keyword, keyword_weight), (expanded, expansion_weight)):
        best = max((score for _, score in ranked), default=0.0)
        scale = weight / best if best > 0 else 0.0
        for doc_id, bm25 in ranked:
            scores[doc_id] = scores.get(doc_id, cosine.get(doc_id, lowest)) + scale * max(bm25, 0.0)
    if expansion_rank_weight > 0:
        for rank, (doc_id, _) in enumerate(expanded, start=1):
            scores[doc_id] += expansion_rank_weight / (expansion_rank_k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def keyword_fuse(
    keyword: Sequence[tuple[str, float]], expanded: Sequence[tuple[str, float]], limit: int
) -> list[tuple[str, float]]:
    """Keyword mode with an expansion: the query's own matches first, exactly as BM25 ranks them (their
    score is their BM25); then, while fewer than `limit`, documents that only the translation matched, in
    its BM25 order, scored below the last own match (KEYWORD_EXPANSION_SHARE of it, times their BM25 over
    the translation's best)."""
    ranked = list(keyword)[:limit]
    seen = {doc_id for doc_id, _ in ranked}
    rest = [(doc_id, score) for doc_id, score in expanded if doc_id not in seen]
    if not rest or len(ranked) >= limit:
        return ranked
    below = ranked[-1][1] if ranked else 1.0
    best = max(score for _, score in rest)
    scale = KEYWORD_EXPANSION_SHARE * below / best if best > 0 else 0.0
    return ranked + [(doc_id, scale * max(score, 0.0)) for doc_id, score in rest][: limit - len(ranked)]


def rrf_fuse(
    keyword_ids: Sequence[str], vector_ids: Sequence[str], k: int = RRF_K
) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: score(d) = sum over lists of 1 / (k + rank). Best first, ties by id."""
    scores: dict[str, float] = {}
    for ranked in (keyword_ids, vector_ids):
        for rank, doc_id in enumerate(ranked, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
