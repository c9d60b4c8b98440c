"""What scraped text may become on output: terminal-safe text, spreadsheet-safe CSV, inert Markdown, tame JSON."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

# Terminal escape sequences, 7-bit and 8-bit: CSI (`ESC [ ... m` colours, cursor moves), OSC (`ESC ] 8 ;; url`
# hyperlinks, window titles; ended by BEL or ST), DCS/SOS/PM/APC strings, and two-character ESC sequences.
# Removed whole: their parameters are no text anyone meant to read.
ESCAPE_SEQUENCE_RE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC, DCS, SOS, PM, APC
    r"|\x1b[ -/]*[0-~]?"  # any other ESC sequence (or a lone ESC)
)
# Characters that steer a terminal or reorder text but show nothing: C0 and C1 controls, DEL, the Unicode
# bidirectional overrides and isolates ("Trojan source"), line and paragraph separators. Shown visibly, as
# `\x07` or `\u202e`, so that they can be seen and reported, never obeyed.
CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# Lone surrogates: what Python makes of invalid UTF-8 in command-line arguments and of `"\udcff"` in JSON.
SURROGATE_RE = re.compile("[\ud800-\udfff]")
# Cells a spreadsheet would run as a formula (OWASP "CSV injection"): the cell gets a leading apostrophe.
# A leading line break too: csv_cell turns `\r` into `\n`, and either can hide a formula on the next line.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
# Characters with a meaning in Markdown inline syntax (links, images, emphasis, code, tables, raw HTML);
# every one is backslash-escaped, so a scraped `[x](javascript:...)` or `![](https://...)` stays text.
MARKDOWN_SPECIAL_RE = re.compile(r"([\\`*_\[\]()!|~#])")
# Characters json.dumps(ensure_ascii=False) leaves raw that a terminal could act on (C1 controls, DEL,
# bidi controls, separators) or that are no UTF-8 at all (lone surrogates): written as \u escapes instead.
JSON_UNSAFE_RE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def safe_text(value: Any, multiline: bool = False) -> str:
    """`value` as text a terminal only displays: escape sequences removed, other control characters shown
    as `\\xNN`/`\\uNNNN`, lone surrogates as U+FFFD. Tabs and line breaks become spaces, or (multiline) stay
    as `\\t` and `\\n` (a `\\r` becomes `\\n`)."""
    text = value if isinstance(value, str) else str(value)
    if text.isascii() and text.isprintable():
        return text  # the common case, untouched and fast
    text = ESCAPE_SEQUENCE_RE.sub("", text)
    text = SURROGATE_RE.sub("\ufffd", text)
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        return CONTROL_RE.sub(lambda m: m.group() if m.group() in "\n\t" else _visible(m.group()), text)
    return CONTROL_RE.sub(lambda m: " " if m.group() in "\t\n\r" else _visible(m.group()), text)


def _visible(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def csv_cell(value: Any) -> Any:
    """One CSV cell: None as empty, numbers as they are, text made safe (safe_text, multiline) and, when it
    starts like a formula (`=`, `+`, `-`, `@`, tab, a line break), prefixed with `'` so spreadsheets show it as text."""
    if value is None:
        return ""
    if isinstance(value, (bool, int, float)):
        return value
    text = safe_text(value, multiline=True)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_document(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    """Rows as CSV with a header of `columns` (other keys left out), every cell through csv_cell. Rows end in
    `\\n`; a cell holding a line break (`\\n` or `\\r`) is quoted."""
    out = io.StringIO()
    row_buffer = io.StringIO()
    # "\r\n" as the writer's terminator makes it quote cells holding either character; each row's own
    # terminator is then replaced by "\n", the form these files have always had.
    writer = csv.writer(row_buffer, lineterminator="\r\n")
    for cells in ([*columns], *([csv_cell(row.get(c)) for c in columns] for row in rows)):
        row_buffer.seek(0)
        row_buffer.truncate()
        writer.writerow(cells)
        out.write(row_buffer.getvalue()[:-2] + "\n")
    return out.getvalue()


def markdown_text(value: Any) -> str:
    """Text for one line of Markdown (a table cell, a heading): safe_text, then inert: raw HTML escaped,
    link, image, emphasis, code and table syntax backslash-escaped, so it renders as the text it is."""
    text = html.escape(safe_text(value), quote=False)
    return MARKDOWN_SPECIAL_RE.sub(r"\\\1", text)


def tame_json(text: str) -> str:
    """JSON text (from json.dumps) with the characters of JSON_UNSAFE_RE as \\u escapes: the same document
    for any JSON reader, nothing a terminal acts on. They can only occur inside strings, so this is exact."""
    return JSON_UNSAFE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
