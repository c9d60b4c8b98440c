"""Elasticsearch request bodies: filter clauses, the keyword query, kNN, msearch, scans and aggregations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from indexer.documents import filter_number, filter_time, lower_key
from indexer.elastic.mapping import DATE_FORMAT
from indexer.store import QueryError, SearchFilters
from indexer.textsearch import BM25_WEIGHTS, TEXT_FIELDS, is_cjk_run, query_terms

# kNN: HNSW explores num_candidates per shard (per segment): 2x k, at least 400. Measured Recall@10 against
# exact cosine on the bench corpus (bench_elastic --profile, 20k docs): 0.963 at 100, 0.979 at 200, 0.996 at
# 400, 1.0 at 1000 — SqliteStore's vector side is exact or rescored ANN (0.999), so 100 made the two stores'
# semantic answers differ (docs/ELASTICSEARCH.md, "Ranking"; latency per num_candidates in SCALING.md).
KNN_CANDIDATE_FACTOR = 2
KNN_MIN_CANDIDATES = 400
KNN_MAX_CANDIDATES = 10_000  # Elasticsearch's own limit
PAGE_SIZE = 1_000  # search_after / composite / mget page size for scans
TERMS_CHUNK = 10_000  # ids per terms query, far below index.max_terms_count (65 536)
# Fuzzy matching stands in for stemming (the node has no stemmer filter): 0 edits up to 3 characters, 1 up
# to 6, 2 beyond, never on the first character — "earbud" finds "earbuds", "snowboard" finds nothing.
FUZZINESS = "AUTO:4,7"
FUZZY_PREFIX_LENGTH = 1
FUZZY_MAX_EXPANSIONS = 10  # variants per word (Lucene's default is 50): plurals and typos, not a thesaurus
# A fuzzy match's score is scaled by this: it only finds what exact words miss (a fuzzy-only match ranks
# below exact ones; an exact match's own score, the BM25F one both stores share, stays what decides).
FUZZY_BOOST = 0.02
# Unique sort keys for search_after: snapshots by (entity, metric, time), documents by id.
SNAPSHOT_SORT = [{"entity_id": "asc"}, {"metric": "asc"}, {"observed_at": "asc"}]
DOCS_SORT = [{"id": "asc"}]


def range_clause(field_name: str, low: str | None, high: str | None) -> list[dict[str, Any]]:
    """A range filter (inclusive bounds), or nothing when both bounds are None."""
    bounds = {k: v for k, v in (("gte", low), ("lte", high)) if v is not None}
    return [{"range": {field_name: bounds}}] if bounds else []


def filter_clauses(filters: SearchFilters | None) -> list[dict[str, Any]]:
    """SearchFilters as Elasticsearch filter clauses (the same list for BM25 and for kNN)."""
    if filters is None:
        return []
    f = filters
    clauses: list[dict[str, Any]] = []
    if f.platform is not None:
        clauses.append({"term": {"platform": f.platform}})
    if f.kind is not None:
        clauses.append({"term": {"kind": f.kind}})
    clauses += range_clause(
        "published_at",
        filter_time(f.published_from, "published_from") if f.published_from else None,
        filter_time(f.published_to, "published_to") if f.published_to else None,
    )
    clauses += range_clause(
        "last_seen",
        filter_time(f.observed_from, "observed_from") if f.observed_from else None,
        filter_time(f.observed_to, "observed_to") if f.observed_to else None,
    )
    if f.min_views is not None:
        clauses.append({"range": {"views": {"gte": filter_number(f.min_views, "min_views")}}})
    if f.min_likes is not None:
        clauses.append({"range": {"likes": {"gte": filter_number(f.min_likes, "min_likes")}}})
    if f.price_min is not None:
        clauses.append({"range": {"price_high": {"gte": filter_number(f.price_min, "price_min")}}})
    if f.price_max is not None:
        clauses.append({"range": {"price_low": {"lte": filter_number(f.price_max, "price_max")}}})
    if f.has_products is True:
        clauses.append({"range": {"product_count": {"gt": 0}}})
    elif f.has_products is False:
        clauses.append({"term": {"product_count": 0}})
    if f.creator is not None:
        key = lower_key(f.creator)
        clauses.append({"term": {"creator_keys": key}} if key else {"match_none": {}})
    return clauses


def number_variants(terms: Sequence[str]) -> list[str]:
    """The other grammatical number of each Latin query word, where Porter's first step makes both one word:
    `toys` -> `toy`, `earbud` -> `earbuds` (a word ending in s, not ss/ies/sses, loses it; any other gains
    one). SqliteStore's FTS5 tokenizer (`porter unicode61`) stems documents and queries alike, so `toys` finds
    `toy` there at full weight; the node has no stemmer, so without these the other form was only a fuzzy
    match at FUZZY_BOOST, ranked below every exact one (docs/ELASTICSEARCH.md, "Ranking"). Only forms Porter
    conflates: `boxes`/`box` stem apart there too, so `es` is left alone."""
    out: list[str] = []
    for term in terms:
        word = term.lower()
        if not (word.isascii() and word.isalpha()) or len(word) < 3:
            continue
        if word.endswith("s"):
            if not word.endswith(("ss", "ies", "sses")) and len(word) > 3:
                out.append(word[:-1])
        else:
            out.append(word + "s")
    return [w for w in dict.fromkeys(out) if w not in {t.lower() for t in terms}]


def keyword_query(text: str, clauses: list[dict[str, Any]]) -> dict[str, Any] | None:
    """BM25 over the text fields with the shared field weights (textsearch.BM25_WEIGHTS), scored as the
    SQLite store scores it: `combined_fields` is BM25F — one score per document over all fields, each
    field's term frequency multiplied by its weight — which is what FTS5's bm25() with column weights
    computes (docs/ELASTICSEARCH.md, "Ranking"). `match`-style queries only (never query_string), so no
    user text is syntax. CJK runs are bigrams through the `cjk` analyzer.

    Two fallbacks join it in a dis_max (a document counts its best clause, not their sum): a lone CJK
    character searches the per-character `.std` sub-fields; Latin words match fuzzily (the node has no
    stemmer, the SQLite store stems) at FUZZY_BOOST, so a fuzzy-only match ranks below the exact ones
    and never changes their order. None when the text has no word."""
    terms = query_terms(text)
    if not terms:
        return None
    fields = [f"text.{name}^{BM25_WEIGHTS[name]}" for name in TEXT_FIELDS]
    words = " ".join(terms)
    exact_words = " ".join([*terms, *number_variants(terms)])
    clauses_any: list[dict[str, Any]] = [
        {"combined_fields": {"query": exact_words, "fields": fields, "operator": "or"}},
        {
            "multi_match": {
                "query": words,
                "fields": fields,
                "type": "most_fields",
                "operator": "or",
                "fuzziness": FUZZINESS,
                "prefix_length": FUZZY_PREFIX_LENGTH,
                "max_expansions": FUZZY_MAX_EXPANSIONS,
                "lenient": True,
                "boost": FUZZY_BOOST,
            }
        },
    ]
    singles = [t for t in terms if len(t) == 1 and is_cjk_run(t)]
    if singles:
        std_fields = [f"text.{name}.std^{BM25_WEIGHTS[name]}" for name in TEXT_FIELDS]
        clauses_any.append(
            {
                "multi_match": {
                    "query": " ".join(singles),
                    "fields": std_fields,
                    "type": "most_fields",
                    "operator": "or",
                }
            }
        )
    return {"bool": {"must": [{"dis_max": {"queries": clauses_any, "tie_breaker": 0.0}}], "filter": clauses}}


def knn_query(unit: np.ndarray, clauses: list[dict[str, Any]], k: int) -> dict[str, Any]:
    """Top-level kNN on `vector` for a unit-length query vector, with the same filters as the keyword side."""
    return {
        "field": "vector",
        "query_vector": unit.tolist(),
        "k": k,
        "num_candidates": min(max(k * KNN_CANDIDATE_FACTOR, KNN_MIN_CANDIDATES), KNN_MAX_CANDIDATES),
        "filter": {"bool": {"filter": clauses}},
    }


def ranked_ids_body(size: int, **query: Any) -> dict[str, Any]:
    """A search body that returns only ids and scores (`query=` or `knn=`)."""
    return {**query, "size": size, "_source": False, "track_total_hits": False}


def msearch_request(index: str, bodies: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The searches of one `_msearch` (both sides of a hybrid search in one round trip), in `bodies` order."""
    searches: list[dict[str, Any]] = []
    for body in bodies.values():
        searches += [{"index": index}, body]
    return searches


def msearch_hits(names: list[str], response: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The hits of each named search of an `_msearch` answer; QueryError when one of them failed."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name, answer in zip(names, response["responses"], strict=True):
        if "error" in answer:
            error = answer["error"]
            reason = error.get("reason") if isinstance(error, dict) else str(error)
            raise QueryError(f"Elasticsearch could not run the {name} search: {reason}")
        out[name] = answer["hits"]["hits"]
    return out


def scan_body(
    query: dict[str, Any], fields: list[str], page: int, sort: list[dict[str, str]], after: list[Any] | None
) -> dict[str, Any]:
    """One page of a search_after scan."""
    body: dict[str, Any] = {
        "query": query,
        "size": page,
        "sort": sort,
        "_source": fields or False,
        "track_total_hits": False,
    }
    if after is not None:
        body["search_after"] = after
    return body


def window_aggs(page: int, after: Mapping[str, Any] | None) -> dict[str, Any]:
    """One page of the composite aggregation over entity_id behind window_stats: per entity, the first and
    the last observation (top_hits of size 1, ascending and descending by time) and the bucket's count."""
    composite: dict[str, Any] = {"size": page, "sources": [{"entity": {"terms": {"field": "entity_id"}}}]}
    if after:
        composite["after"] = after
    edge = {"size": 1, "_source": ["observed_at", "value"]}
    return {
        "entities": {
            "composite": composite,
            "aggs": {
                "first": {"top_hits": {**edge, "sort": [{"observed_at": "asc"}]}},
                "last": {"top_hits": {**edge, "sort": [{"observed_at": "desc"}]}},
            },
        }
    }


def window_kind_aggs(
    page: int, after: Mapping[str, Any] | None, windows: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """window_aggs for several windows at once: one composite page over (entity_id, kind), and in each
    bucket, per window `w<i>`, its first and last observation and count (window_stats_by_kind)."""
    composite: dict[str, Any] = {
        "size": page,
        "sources": [{"entity": {"terms": {"field": "entity_id"}}}, {"kind": {"terms": {"field": "kind"}}}],
    }
    if after:
        composite["after"] = after
    edge = {"size": 1, "_source": ["observed_at", "value"]}
    edges = {
        "first": {"top_hits": {**edge, "sort": [{"observed_at": "asc"}]}},
        "last": {"top_hits": {**edge, "sort": [{"observed_at": "desc"}]}},
    }
    per_window = {
        f"w{i}": {"filter": range_clause("observed_at", start, end)[0], "aggs": edges}
        for i, (start, end) in enumerate(windows)
    }
    return {"entities": {"composite": composite, "aggs": per_window}}


def stats_aggs(has_vectors: bool) -> dict[str, Any]:
    """Counts by kind and platform, documents with a vector, and the first and last observation."""
    date = {"format": DATE_FORMAT}
    return {
        "by_kind": {"terms": {"field": "kind", "size": 50}},
        "by_platform": {"terms": {"field": "platform", "size": 50}},
        "vectors": {"filter": {"exists": {"field": "vector"}} if has_vectors else {"match_none": {}}},
        "first": {"min": {"field": "first_seen", **date}},
        "last": {"max": {"field": "last_seen", **date}},
    }
