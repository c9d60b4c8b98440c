"""The search vocabulary both stores share: text fields, BM25 weights, CJK runs, query terms, FTS5 phrases."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Scripts written without spaces between words: Han (incl. extension A and compatibility ideographs),
# kana, Hangul syllables. Runs of these are indexed as overlapping character bigrams.
CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
CJK_RUN_RE = re.compile(f"[{CJK_CHARS}]+")
# A query token: a CJK run, or a run of letters/digits of any other script (what FTS5's unicode61
# tokenizer calls a token). Everything else (quotes, operators' punctuation, emoji, *) separates tokens.
QUERY_TOKEN_RE = re.compile(f"[{CJK_CHARS}]+|[^\\W_{CJK_CHARS}]+")
# Longer queries are cut: a pasted paragraph should still answer quickly, and 64 terms is far beyond
# what a search box query needs.
MAX_QUERY_TERMS = 64
# Longer query tokens are cut: no product word is 64 characters long, and fuzzy automata grow with length.
MAX_QUERY_TOKEN_CHARS = 64

# English function words dropped from keyword queries (unless nothing else is left): OR-ed, they match
# almost every English document and push real matches down — "dinner for my cat" must not rank a
# "running shoes for marathons" video first. The same words as Lucene's English stop set, plus a few
# query words (how, what, best ...) that say nothing about a product.
STOP_WORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there "
    "these they this to was will with my me i you your we our what which who how best top good "
    "under over from about".split()
)

# The fields that make up a document's searchable text, in the order the embedder reads them.
TEXT_FIELDS = ("title", "description", "hashtags", "products", "creator")
# BM25 field weights, in TEXT_FIELDS order, the same on every backend: a word in the title or a product
# title says more about what a video sells than the same word deep in a description.
BM25_WEIGHTS = {"title": 4.0, "description": 1.0, "hashtags": 2.0, "products": 3.0, "creator": 1.5}


def text_fields(doc: Mapping[str, Any]) -> dict[str, str]:
    """Title, description, hashtags, product titles and creator name/handle of a JSON-form document."""
    creator = doc.get("creator") or {}
    creator_parts = [creator.get("name"), creator.get("handle")] if isinstance(creator, Mapping) else []
    if doc.get("kind") == "creator":
        creator_parts = [doc.get("name"), doc.get("handle"), *creator_parts]
    products = doc.get("products") or []
    product_titles = [p.get("title") for p in products if isinstance(p, Mapping)]
    hashtags = doc.get("hashtags") or []
    return {
        "title": _s(doc.get("title")),
        "description": _s(doc.get("description")),
        "hashtags": " ".join(f"#{t}" for t in hashtags if isinstance(t, str) and t),
        "products": " | ".join(t for t in product_titles if isinstance(t, str) and t),
        "creator": " ".join(dict.fromkeys(p for p in creator_parts if isinstance(p, str) and p)),
    }


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ""


def expand_cjk(text: str) -> str:
    """`平价口红推荐 lipstick` -> `平价 价口 口红 红推 推荐 荐 lipstick`.

    Each CJK run becomes its overlapping bigrams plus its last character alone, so that every character
    starts some token: a two-character word anywhere in the run is one token, and a one-character query
    becomes a prefix query. Other text is left for FTS5's unicode61 tokenizer."""
    return CJK_RUN_RE.sub(lambda m: f" {_bigrams(m.group())} ", text)


def _bigrams(run: str) -> str:
    if len(run) == 1:
        return run
    return " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " " + run[-1]


def query_terms(text: str) -> list[str]:
    """The words of a user query as plain text: CJK runs and letter/digit runs, English stop words dropped
    (unless nothing else is left), each cut to MAX_QUERY_TOKEN_CHARS, at most MAX_QUERY_TERMS of them.
    Everything else — quotes, operators, wildcards, emoji, control characters — only separates words."""
    tokens = QUERY_TOKEN_RE.findall(text or "")
    content = [t for t in tokens if t.lower() not in STOP_WORDS]
    terms = [t[:MAX_QUERY_TOKEN_CHARS] for t in content or tokens]
    return list(dict.fromkeys(terms))[:MAX_QUERY_TERMS]


def is_cjk_run(token: str) -> bool:
    """True when `token` is made only of CJK characters."""
    return CJK_RUN_RE.fullmatch(token) is not None


def fts_phrases(text: str) -> list[str]:
    """The FTS5 phrases of any user text, each once, at most MAX_QUERY_TERMS (fts_query OR-s them).

    Every phrase is a double-quoted string (tokens contain only letters and digits, so no quote can
    appear inside), which makes AND/OR/NOT/NEAR, `*`, `^`, `:`, parentheses and quotes plain text. English
    stop words are dropped. A CJK run becomes its bigrams; a single CJK character a prefix phrase."""
    tokens = QUERY_TOKEN_RE.findall(text or "")
    content = [t for t in tokens if t.lower() not in STOP_WORDS]
    terms: list[str] = []
    for token in content or tokens:
        if is_cjk_run(token):
            if len(token) == 1:
                terms.append(f'"{token}"*')
            else:
                terms.extend(f'"{token[i : i + 2]}"' for i in range(len(token) - 1))
        else:
            terms.append(f'"{token}"')
    return list(dict.fromkeys(terms))[:MAX_QUERY_TERMS]


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression for any user text (its fts_phrases OR-ed: BM25 ranks documents matching
    more of them first), or None when it has no searchable token."""
    terms = fts_phrases(text)
    return " OR ".join(terms) if terms else None
