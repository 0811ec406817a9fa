"""Server-side SVG charts for the report pages: no third-party code, nothing fetched, renders offline."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 200
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 8, 10, 26


def _label(bucket: int, granularity: str) -> str:
    at = datetime.fromtimestamp(bucket, tz=UTC)
    return at.strftime("%m-%d") if granularity == "day" else at.strftime("%H:%M")


def _nice_max(value: int) -> int:
    if value <= 5:
        return 5
    for step in (1, 2, 2.5, 5):
        magnitude = 10 ** (len(str(int(value))) - 1)
        top = int(step * magnitude)
        if top >= value:
            return top
    return 10 ** len(str(int(value)))


def bar_chart(buckets: list[int], values: list[int], granularity: str, label: str) -> SafeString:
    """A bar chart of ``values`` per bucket, with a y scale, first/middle/last time labels and a
    tooltip (``<title>``) per bar. ``data-total`` carries the sum, for tests and scripts."""
    n = max(1, len(values))
    top = _nice_max(max(values or [0]))
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / n
    bar_w = max(1.0, step * 0.8)
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}" '
             f'data-total="{sum(values)}" data-points="{len(values)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(label)}</title>"]
    for frac in (0, 0.5, 1):
        y = PAD_TOP + plot_h * (1 - frac)
        parts.append(f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f"{int(top * frac):,}</text>")
    for i, (bucket, value) in enumerate(zip(buckets, values, strict=True)):
        h = plot_h * value / top if top else 0
        x = PAD_LEFT + i * step + (step - bar_w) / 2
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{PAD_TOP + plot_h - h:.1f}" width="{bar_w:.1f}" '
                     f'height="{h:.1f}"><title>{escape(_label(bucket, granularity))}: {value:,}</title></rect>')
    for i in sorted({0, (len(buckets) - 1) // 2, len(buckets) - 1}):
        if 0 <= i < len(buckets):
            x = PAD_LEFT + i * step + step / 2
            anchor = "start" if i == 0 else "end" if i == len(buckets) - 1 else "middle"
            parts.append(f'<text class="axis" x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">'
                         f"{escape(_label(buckets[i], granularity))}</text>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text above is escaped
