"""Server-side SVG charts for the report pages: no third-party code, nothing fetched, renders offline.

Each chart is a ``<figure>``: the SVG (bars with a tooltip each, a y scale of whole numbers, dated time labels)
and, for screen readers and anyone who wants the numbers, the same data as a table in a ``<details>``.
Text stays readable on a phone: reports.css enlarges the axis text when the chart is drawn narrow.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

WIDTH, HEIGHT = 640, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 88, 12, 16, 44
MAX_INTERVALS = 4


def _label(bucket: int, granularity: str) -> str:
    """A bucket's start in the site's time zone: the day for daily charts, the day and time otherwise (an hourly
    chart spans two dates, so a time alone is ambiguous)."""
    at = timezone.localtime(datetime.fromtimestamp(bucket, tz=UTC))
    return at.strftime("%m-%d") if granularity == "day" else at.strftime("%m-%d %H:%M")


def ticks(largest: int) -> list[int]:
    """The y scale: 0 and at most ``MAX_INTERVALS`` equal whole-number steps of 1, 2 or 5 × 10ⁿ whose last tick
    is at least ``largest`` — every gridline has a label and every label is its gridline's value."""
    largest = max(0, int(largest))
    if largest == 0:
        return [0, 1]
    raw = largest / MAX_INTERVALS
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude * MAX_INTERVALS >= largest)
    step = max(1, int(step))
    top = step * math.ceil(largest / step)
    return list(range(0, top + 1, step))


def bar_chart(buckets: list[int], values: list[int], granularity: str, label: str) -> SafeString:
    """A bar chart of ``values`` per bucket, with a y scale, first/middle/last time labels and a
    tooltip (``<title>``) per bar. ``data-total`` carries the sum, for tests and scripts."""
    n = max(1, len(values))
    scale = ticks(max(values or [0]))
    top = scale[-1]
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / n
    bar_w = max(1.0, step * 0.8)
    parts = ['<figure class="chart-figure">',
             f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}" '
             f'data-total="{sum(values)}" data-points="{len(values)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(label)}</title>"]
    for tick in scale:
        y = PAD_TOP + plot_h * (1 - tick / top)
        parts.append(f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{PAD_LEFT - 8}" y="{y:.1f}" dominant-baseline="middle" '
                     f'text-anchor="end">{tick:,}</text>')
    for i, (bucket, value) in enumerate(zip(buckets, values, strict=True)):
        h = plot_h * value / top
        x = PAD_LEFT + i * step + (step - bar_w) / 2
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{PAD_TOP + plot_h - h:.1f}" width="{bar_w:.1f}" '
                     f'height="{h:.1f}"><title>{escape(_label(bucket, granularity))}: {value:,}</title></rect>')
    for i in sorted({0, (len(buckets) - 1) // 2, len(buckets) - 1}):
        if 0 <= i < len(buckets):
            x = PAD_LEFT + i * step + step / 2
            anchor = "start" if i == 0 else "end" if i == len(buckets) - 1 else "middle"
            if i == 0:
                x = PAD_LEFT
            elif i == len(buckets) - 1:
                x = WIDTH - PAD_RIGHT
            parts.append(f'<text class="axis" x="{x:.1f}" y="{HEIGHT - 10}" text-anchor="{anchor}">'
                         f"{escape(_label(buckets[i], granularity))}</text>")
    parts.append("</svg>")
    rows = "".join(f"<tr><td>{escape(_label(b, granularity))}</td><td>{v:,}</td></tr>"
                   for b, v in zip(buckets, values, strict=True))
    show, time_head, count_head = (escape(_("Show as a table")), escape(_("Time")),
                                   escape(pgettext("chart column", "Count")))
    parts.append(f'<details class="chart-table"><summary>{show}</summary>'
                 f'<table><caption>{escape(label)}</caption><thead><tr><th scope="col">{time_head}</th>'
                 f'<th scope="col">{count_head}</th></tr></thead><tbody>{rows}</tbody></table></details>')
    parts.append("</figure>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text above is escaped
