"""Bar charts as server-rendered SVG: no script, no library, nothing from elsewhere. Colours
are presentation attributes (the pages' CSP allows no inline style); each chart has a
title and a description (``role="img"``, ``aria-labelledby``), and the page shows the same
numbers as a table beside it. A value shown as "< 5" is drawn as a short dashed bar: the
chart never says more than the table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from ...domain.reports import SMALL

WIDTH = 640
LABEL_CHAR_W = 8.0  # about a character of the 13px labels
VALUE_W = 60
ROW_H = 30
BAR_H = 18
COLOURS = ("#2b6cb0", "#2f855a", "#b7791f", "#6b46c1")


@dataclass(frozen=True)
class Bar:
    label: str
    value: int | float | str  # a number, or "< 5"


def bar_chart(chart_id: str, title: str, description: str, bars: Sequence[Bar], colour: int = 0) -> Markup:
    """A horizontal bar chart, one row per bar, the value written after each bar."""
    label_w = int(min(WIDTH / 2, max(110, LABEL_CHAR_W * max((len(b.label) for b in bars), default=0) + 16)))
    numbers = [b.value for b in bars if isinstance(b.value, (int, float))]
    top = max([*numbers, 5]) or 1
    span = WIDTH - label_w - VALUE_W
    height = max(1, len(bars)) * ROW_H + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" role="img" '
             f'viewBox="0 0 {WIDTH} {height}" width="100%" '
             f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">',
             f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
             f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>']
    for n, bar in enumerate(bars):
        y = 5 + n * ROW_H
        small = bar.value == SMALL
        width = span * (4.0 if small else float(bar.value or 0)) / top
        parts.append(f'<text x="{label_w - 8}" y="{y + BAR_H - 4}" text-anchor="end" font-size="13" '
                     f'fill="#1a202c">{escape(bar.label)}</text>')
        if small:
            parts.append(f'<rect x="{label_w}" y="{y}" width="{width:.1f}" height="{BAR_H}" fill="none" '
                         f'stroke="{COLOURS[colour % len(COLOURS)]}" stroke-dasharray="4 3"/>')
        elif width > 0:
            parts.append(f'<rect x="{label_w}" y="{y}" width="{width:.1f}" height="{BAR_H}" '
                         f'fill="{COLOURS[colour % len(COLOURS)]}"/>')
        parts.append(f'<text x="{label_w + width + 6:.1f}" y="{y + BAR_H - 4}" font-size="13" '
                     f'fill="#1a202c">{escape(str(bar.value))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
