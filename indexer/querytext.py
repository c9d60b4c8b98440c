"""What a user's query becomes before it is searched: valid text, no control characters, a bounded length."""

from __future__ import annotations

import re
import unicodedata

from indexer.embedder import encodable

# Characters of a query that are searched. A search box query is a few words; 2,000 characters hold a
# pasted title and description, and match what the engine models embed of one text (MAX_TEXT_CHARS in
# indexer/models/engines.py). Without a cut, a 100k-character query took 5-17 s in the USE tokenizer.
MAX_QUERY_CHARS = 2000
# Control and format characters (C0, C1, DEL, zero-width and direction marks) separate words like spaces.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]+")
_SPACES_RE = re.compile(r"\s+")


def clean_query(text: object) -> str:
    """`text` as a query: invalid UTF-8 (surrogate escapes from argv) as U+FFFD, control characters as
    spaces, NFC, runs of whitespace as one space, stripped, cut to MAX_QUERY_CHARS. "" means no query."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = encodable(text[: MAX_QUERY_CHARS * 2])  # cut first: nothing past the limit is looked at
    text = unicodedata.normalize("NFC", _CONTROL_RE.sub(" ", text))
    return _SPACES_RE.sub(" ", text).strip()[:MAX_QUERY_CHARS]
