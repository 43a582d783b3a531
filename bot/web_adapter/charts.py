"""Charts drawn on the server as inline SVG, each with the same numbers as a table.

No script and no style attributes (the pages' CSP allows neither): colours come from CSS
classes in the shipped style sheet. The SVG scales to the width of the screen.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 520
HEIGHT = 230
LEFT = 44
RIGHT = 8
TOP = 12
BOTTOM = 40


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: tuple[float | None, ...]
    css: str
    """A class from the style sheet: `s1` .. `s4`."""


@dataclass(frozen=True, slots=True)
class Chart:
    key: str
    """Unique on the page; used for element ids."""
    title: str
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    kind: str = "bars"
    """`bars` (stacked when several series), `groups` (side by side) or `line`."""
    percent: bool = False
    summary: str = ""


def _nice_max(value: float) -> float:
    """The smallest round number (1, 2, 2.5 or 5 times a power of ten) at or above `value`."""
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    return next(step * magnitude for step in (1, 2, 2.5, 5, 10) if step * magnitude >= value)


def _number(value: float | None, percent: bool) -> str:
    if value is None:
        return "–"
    if percent:
        return f"{value * 100:.0f}%"
    return f"{value:g}" if value != int(value) else str(int(value))


def _tick_labels(labels: Sequence[str], slots: int) -> list[tuple[int, str]]:
    if not labels:
        return []
    every = max(1, -(-len(labels) // slots))
    return [(i, label) for i, label in enumerate(labels) if i % every == 0]


def render_svg(chart: Chart) -> Markup:
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    count = max(len(chart.labels), 1)
    if chart.kind == "bars":
        peak = max(
            (sum(s.values[i] or 0 for s in chart.series) for i in range(len(chart.labels))),
            default=0,
        )
    else:
        peak = max((v or 0 for s in chart.series for v in s.values), default=0)
    top = 1.0 if chart.percent else _nice_max(max(peak, 2))

    def y(value: float) -> float:
        return TOP + plot_h - (value / top) * plot_h

    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" role="img" '
        f'aria-labelledby="{chart.key}-title {chart.key}-desc" focusable="false">',
        f'<title id="{chart.key}-title">{escape(chart.title)}</title>',
        f'<desc id="{chart.key}-desc">{escape(chart.summary)}</desc>',
    ]
    for fraction in (0, 0.5, 1):
        gy = y(top * fraction)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{gy:.1f}" y2="{gy:.1f}"/>'
        )
        parts.append(
            f'<text class="axis" x="{LEFT - 6}" y="{gy + 4:.1f}" text-anchor="end">'
            f"{escape(_number(top * fraction, chart.percent))}</text>"
        )
    slot = plot_w / count
    if chart.kind == "line":
        for series in chart.series:
            points = [
                f"{LEFT + slot * (i + 0.5):.1f},{y(v):.1f}"
                for i, v in enumerate(series.values)
                if v is not None
            ]
            if points:
                parts.append(f'<polyline class="line {series.css}" points="{" ".join(points)}"/>')
                for point in points:
                    px, py = point.split(",")
                    parts.append(f'<circle class="{series.css}" cx="{px}" cy="{py}" r="2.5"/>')
    else:
        groups = len(chart.series) if chart.kind == "groups" else 1
        bar_w = max(slot * 0.8 / groups, 1.0)
        for i in range(len(chart.labels)):
            base = 0.0
            for index, series in enumerate(chart.series):
                value = series.values[i] or 0
                if chart.kind == "groups":
                    x = LEFT + slot * i + slot * 0.1 + bar_w * index
                    y0, y1 = y(0), y(value)
                else:
                    x = LEFT + slot * i + slot * 0.1
                    y0, y1 = y(base), y(base + value)
                    base += value
                if value:
                    parts.append(
                        f'<rect class="{series.css}" x="{x:.1f}" y="{y1:.1f}" '
                        f'width="{bar_w:.1f}" height="{max(y0 - y1, 0.5):.1f}"/>'
                    )
    for i, label in _tick_labels(chart.labels, 6):
        parts.append(
            f'<text class="axis" x="{LEFT + slot * (i + 0.5):.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    legend_x = LEFT
    for series in chart.series:
        parts.append(
            f'<rect class="{series.css}" x="{legend_x}" y="{HEIGHT - 13}" width="11" height="11"/>'
        )
        parts.append(
            f'<text class="axis" x="{legend_x + 14}" y="{HEIGHT - 3}">{escape(series.name)}</text>'
        )
        legend_x += 26 + 8 * len(series.name)
    parts.append("</svg>")
    return Markup("".join(parts))


def render_table(chart: Chart) -> Markup:
    head = "".join(f'<th scope="col">{escape(s.name)}</th>' for s in chart.series)
    rows = []
    for i, label in enumerate(chart.labels):
        cells = "".join(
            f"<td>{escape(_number(s.values[i], chart.percent))}</td>" for s in chart.series
        )
        rows.append(f'<tr><th scope="row">{escape(label)}</th>{cells}</tr>')
    return Markup(
        f'<table class="data"><caption>{escape(chart.title)}</caption>'
        f'<thead><tr><th scope="col">{"Platform" if chart.kind == "groups" else "Period"}</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def render(chart: Chart) -> Markup:
    """A figure: the SVG, its caption, and the numbers as a table under a disclosure."""
    return Markup(
        f'<figure class="chart-figure" id="{chart.key}">'
        f"<figcaption><h3>{escape(chart.title)}</h3>"
        f"<p>{escape(chart.summary)}</p></figcaption>"
        f"{render_svg(chart)}"
        f"<details><summary>{escape(chart.title)}: the numbers</summary>"
        f"{render_table(chart)}</details></figure>"
    )
