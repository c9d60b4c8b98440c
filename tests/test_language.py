"""The language guess (issue 17 item 7): Latin-script languages other than English, by lingua."""

from __future__ import annotations

import pytest

from crawler.normalize import guess_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Guten Abend! Heute spielen wir zusammen", "de"),
        ("Winterjacke für Damen im Test", "de"),
        ("Le meilleur gâteau au chocolat du monde", "fr"),
        ("Best wireless earbuds of 2026 reviewed", "en"),
        ("拜年祭快板电音现场版", "zh"),
        ("今日のおすすめ商品です", "ja"),
        ("X200 Blender", "en"),  # ambiguous (English or German): the plain guess stays
        ("OK go", "en"),  # too short for lingua
        ("ab", None),
        (None, None),
    ],
)
def test_guess_language(text, language):
    assert guess_language(text) == language
