"""The language of a Latin-script text, by lingua's shipped models over a restricted set of languages."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# The Latin-script languages of the platforms' audiences we crawl (ISO 639-1). A restricted set keeps the
# detector fast (about 3,400 short titles/s on one core, measured in docs/BENCHMARKS.md "Language guess")
# and its mistakes among languages that matter; Chinese and Japanese are told apart before, by script.
LATIN_LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "tr", "id", "vi", "sv")
# How far lingua's best language must be ahead of the next (its relative distance) to be believed: below it,
# an ambiguous short title (`X200 Blender`: English or German) is "cannot tell" and keeps the plain guess.
MIN_RELATIVE_DISTANCE = 0.2


@lru_cache(maxsize=1)
def _detector() -> Any:
    """lingua's detector for LATIN_LANGUAGES (built once; its models load lazily, per language, on first use)."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [
        Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in LATIN_LANGUAGES
    ]
    return (
        LanguageDetectorBuilder.from_languages(*languages)
        .with_minimum_relative_distance(MIN_RELATIVE_DISTANCE)
        .build()
    )


# The same texts come back in a crawl (a live room's title on every visit, a profile's bio): their answers
# are kept (lingua is deterministic), up to this many texts.
_CACHED_TEXTS = 4096


@lru_cache(maxsize=_CACHED_TEXTS)
def latin_language(text: str) -> str | None:
    """The ISO 639-1 code of a Latin-script text among LATIN_LANGUAGES, or None when lingua cannot tell.

    The first call loads lingua's models (~2.7 s of CPU, ~315 MB; the whole of the "35 ms a call" that a
    300-page crawl's profile showed: one load spread over 136 calls); later calls take 0.2-0.7 ms. The
    load holds the GIL (a background thread would stall the crawl just the same), so a crawl pays it once,
    at its first Latin-script text without a language."""
    language = _detector().detect_language_of(text)
    return language.iso_code_639_1.name.lower() if language is not None else None


def preload() -> None:
    """Load every model now (the crawl's NormalisePipeline does, with TRENDCART_LANGUAGE_PRELOAD)."""
    latin_language("preload the language models")
