"""The HTML report's own font: the shipped CJK font cut to the characters one report uses, as an @font-face."""

from __future__ import annotations

import base64
import io
from functools import lru_cache

from indexer.fonts import shipped_font_path

# The family name of the embedded subset: the shipped font's own, the first name of the report's font stack
# (indexer.fonts.CSS_FONT_STACK). An @font-face takes precedence over an installed font of the same name, and
# a character the subset lacks falls through to the rest of the stack, so a full system copy is never needed.
EMBEDDED_FAMILY = "Noto Sans SC"
# Always in the subset besides the report's own characters: printable ASCII (digits and Latin letters cost
# little and keep a number typed later, e.g. in a browser's find bar, in the same face).
ALWAYS = "".join(chr(c) for c in range(0x20, 0x7F))


def woff2_available() -> bool:
    """WOFF2 needs brotli (fontTools compresses with it); without it the subset is a WOFF (zlib)."""
    try:
        import brotli  # noqa: F401
    except ImportError:
        return False
    return True


def font_subset(text: str) -> tuple[bytes, str] | None:
    """The shipped font cut to the characters of `text` (and ALWAYS): (font bytes, "woff2" or "woff"), or
    None without the shipped font. Characters the font lacks are left to the rest of the font stack. The same
    text gives the same bytes (no timestamp is written)."""
    path = shipped_font_path()
    if path is None:
        return None
    chars = "".join(sorted(set(text) | set(ALWAYS)))
    return _subset(str(path), chars, "woff2" if woff2_available() else "woff")


@lru_cache(maxsize=8)
def _subset(path: str, chars: str, flavor: str) -> tuple[bytes, str]:
    from fontTools import subset

    options = subset.Options()
    options.flavor = flavor
    options.hinting = False  # hints matter little on screen at text sizes and cost a third of the bytes
    options.desubroutinize = True  # plain CFF charstrings compress better in WOFF2
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6]  # copyright, family, style, id, full name, version, PostScript
    options.name_languages = [0x409]
    font = subset.load_font(path, options)
    font.recalcTimestamp = False  # head.modified as shipped: the same report gives the same bytes
    try:
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=chars)
        subsetter.subset(font)
        buf = io.BytesIO()
        subset.save_font(font, buf, options)
    finally:
        font.close()
    return buf.getvalue(), flavor


def font_face_css(text: str) -> str:
    """An @font-face rule for EMBEDDED_FAMILY whose source is a data: URL of font_subset(text), so the report
    reads on a machine with no CJK font; "" without the shipped font (the font stack still applies)."""
    found = font_subset(text)
    if found is None:
        return ""
    data, flavor = found
    encoded = base64.b64encode(data).decode("ascii")
    return (
        f'@font-face{{font-family:"{EMBEDDED_FAMILY}";'
        f'src:url(data:font/{flavor};base64,{encoded}) format("{flavor}");font-display:block}}'
    )
