"""safetext: what scraped text may become on a terminal, in CSV, in Markdown and in printed JSON."""

from __future__ import annotations

import csv
import io
import json

import pytest

from indexer.safetext import csv_cell, csv_document, markdown_text, safe_text, tame_json


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain 口红 text", "plain 口红 text"),
        ("\x1b[31mred\x1b[0m", "red"),  # SGR colours
        ("\x1b]8;;https://evil.example\x07link\x1b]8;;\x07", "link"),  # OSC 8 hyperlink, BEL-ended
        ("\x1b]0;title\x1b\\after", "after"),  # OSC window title, ST-ended
        ("\x9b2J8-bit", "8-bit"),  # 8-bit CSI
        ("\x1bPdcs\x1b\\x", "x"),  # DCS string
        ("a\x1bcb", "ab"),  # a two-character ESC sequence (RIS: reset the terminal)
        ("bell\x07", "bell\\x07"),
        ("back\x08space", "back\\x08space"),
        ("del\x7f", "del\\x7f"),
        ("bidi\u202egnp.exe", "bidi\\u202egnp.exe"),
        ("tab\tnew\nline\rcr", "tab new line cr"),
        ("bad \udcff utf-8", "bad \ufffd utf-8"),
        ("[/] [link=x]markup[/link]", "[/] [link=x]markup[/link]"),  # text, markup is not its business
    ],
)
def test_safe_text_removes_escape_sequences_and_shows_controls(raw, shown):
    assert safe_text(raw) == shown
    assert safe_text(safe_text(raw)) == safe_text(raw)  # idempotent


def test_safe_text_multiline_keeps_line_breaks_and_tabs():
    assert safe_text("a\r\nb\rc\td\x1b[2Ke", multiline=True) == "a\nb\nc\tde"
    assert safe_text(42) == "42"


@pytest.mark.parametrize("formula", ["=1+2", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "\n=1"])
def test_csv_cells_that_look_like_formulas_become_text(formula):
    assert csv_cell(formula).startswith("'")


def test_csv_numbers_stay_numbers_and_line_breaks_are_quoted():
    assert csv_cell(-5) == -5 and csv_cell(1.5) == 1.5 and csv_cell(None) == ""
    text = csv_document(["a", "b"], [{"a": "x\ry", "b": -2.5}, {"a": "plain", "b": None, "extra": 1}])
    assert text == 'a,b\n"x\ny",-2.5\nplain,\n'
    assert list(csv.reader(io.StringIO(text, newline=""))) == [["a", "b"], ["x\ny", "-2.5"], ["plain", ""]]


def test_markdown_text_is_inert():
    text = markdown_text("[x](javascript:alert(1)) ![i](https://e/p.png) <b>|</b> *em* `code`")
    assert "[" not in text.replace("\\[", "") and "<b>" not in text
    assert text.startswith("\\[x\\]\\(javascript:alert\\(1\\)\\)")


def test_tame_json_is_the_same_document_without_raw_controls():
    data = {"title": "c1\x9b31m del\x7f bidi\u202e sep\u2028 lone\udcff 口红 \x1b[0m"}
    raw = json.dumps(data, ensure_ascii=False)
    tamed = tame_json(raw)
    assert json.loads(tamed) == data  # exact
    assert not any(ch in tamed for ch in "\x9b\x7f\u202e\u2028\udcff\x1b")
    assert "口红" in tamed  # non-ASCII text stays readable
