"""Charts as inline SVG, drawn on the server: a curve of (time, value) points and a FACT split bar."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

# FACT parts in the order of the bar, and their colours (also in the legend of static/style.css).
FACT_PARTS = (("field", "#2e7d32"), ("alliance", "#1565c0"), ("top_kol", "#ef6c00"))
CURVE_COLOUR = "#6a1b9a"


def fact_bar(fact: dict | None, width: int = 160, height: int = 14) -> Markup:
    """A stacked bar of the FACT shares (field, alliance, top_kol) of `fact` (FactBreakdown.to_json)."""
    if not fact or not fact.get("total"):
        return Markup(
            f'<svg class="fact-bar empty" width="{width}" height="{height}" role="img" aria-label="no gain">'
            f'<rect width="{width}" height="{height}" fill="#e0e0e0"/></svg>'
        )
    parts, x = [], 0.0
    label = []
    for name, colour in FACT_PARTS:
        share = float((fact.get(name) or {}).get("share") or 0.0)
        w = share * width
        if w > 0:
            parts.append(
                f'<rect class="fact-{name}" x="{x:.1f}" width="{w:.1f}" height="{height}" fill="{colour}">'
                f"<title>{escape(name)} {share:.0%}</title></rect>"
            )
        x += w
        label.append(f"{name} {share:.0%}")
    aria = escape(", ".join(label))
    return Markup(
        f'<svg class="fact-bar" width="{width}" height="{height}" role="img" aria-label="{aria}">'
        f'<rect width="{width}" height="{height}" fill="#e0e0e0"/>{"".join(parts)}</svg>'
    )


def curve(
    points: Sequence[tuple[str, float | None]], width: int = 160, height: int = 40, label: str = ""
) -> Markup:
    """A polyline of the values (oldest first), scaled to the box; None values are skipped."""
    known = [(i, v) for i, (_, v) in enumerate(points) if v is not None]
    if len(known) < 2:
        return Markup(
            f'<svg class="curve empty" width="{width}" height="{height}" role="img" aria-label="too few points">'
            f'<line x1="0" y1="{height - 1}" x2="{width}" y2="{height - 1}" stroke="#bdbdbd"/></svg>'
        )
    low, high = min(v for _, v in known), max(v for _, v in known)
    span, last = (high - low) or 1.0, max(len(points) - 1, 1)
    pad = 2
    xy = " ".join(
        f"{pad + i * (width - 2 * pad) / last:.1f},{height - pad - (v - low) * (height - 2 * pad) / span:.1f}"
        for i, v in known
    )
    first_at, last_at = points[known[0][0]][0], points[known[-1][0]][0]
    title = escape(f"{label} {low:,.0f} – {high:,.0f} ({first_at} → {last_at})".strip())
    return Markup(
        f'<svg class="curve" width="{width}" height="{height}" role="img" aria-label="{title}">'
        f"<title>{title}</title>"
        f'<polyline points="{xy}" fill="none" stroke="{CURVE_COLOUR}" stroke-width="2"/></svg>'
    )
