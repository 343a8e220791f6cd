"""The charts, drawn as inline SVG: bars, stacked bars, heat maps, histograms. Pure; every text escaped."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from newhomie.watch.report.data import HISTOGRAM_BINS
from newhomie.watch.report.text import clip, esc, format_duration, plural

COLORS = {
    "done": "#16a34a",
    "not_found": "#d97706",
    "failed": "#dc2626",
    "sale": "#2563eb",
    "rent": "#7c3aed",
    "sold": "#0891b2",
    "ok": "#16a34a",
    "error": "#dc2626",
}
OTHER_COLORS = ("#64748b", "#a16207", "#be185d", "#0f766e", "#4338ca")


def color_for(key: str, index: int) -> str:
    return COLORS.get(key) or OTHER_COLORS[index % len(OTHER_COLORS)]


#: Heat map shading: empty cells pale grey, then from pale orange to dark red. The square root
#: keeps a cell of 1 visible next to a cell of 500.
EMPTY_CELL = "#f1f5f9"
_LOW_SHADE = (254, 215, 170)
_HIGH_SHADE = (127, 29, 29)


def shade(count: int, maximum: int) -> str:
    if count <= 0 or maximum <= 0:
        return EMPTY_CELL
    t = math.sqrt(min(count, maximum) / maximum)
    r, g, b = (round(low + (high - low) * t) for low, high in zip(_LOW_SHADE, _HIGH_SHADE, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def bar_chart_svg(
    bars: Sequence[tuple[str, int]], *, label: str, css_class: str = "bars", width: int = 440
) -> str:
    """Horizontal bars with their values written out; each bar carries `data-label` and a tooltip."""
    row, label_width, value_width = 28, 110, 64
    span = width - label_width - value_width
    maximum = max((value for _, value in bars), default=0)
    parts = [
        f'<svg class="{esc(css_class)}" role="img" aria-label="{esc(label)}" width="{width}" '
        f'height="{row * len(bars) + 4}" viewBox="0 0 {width} {row * len(bars) + 4}">'
    ]
    for index, (name, value) in enumerate(bars):
        y = index * row
        length = 0 if maximum == 0 else max(1 if value else 0, round(span * value / maximum))
        parts.append(
            f'<g class="bar" data-label="{esc(name)}"><title>{esc(name)}: {value:,}</title>'
            f'<text class="bar-label" x="{label_width - 8}" y="{y + 18}" text-anchor="end">'
            f"{esc(clip(name, 16))}</text>"
            f'<rect x="{label_width}" y="{y + 4}" width="{length}" height="{row - 8}" rx="2" '
            f'fill="{color_for(name, index)}"/>'
            f'<text class="value" x="{label_width + length + 6}" y="{y + 18}">{value:,}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def stacked_bar_svg(
    rows: Mapping[str, Mapping[str, int]], *, label: str, css_class: str = "stacked", width: int = 440
) -> str:
    """One horizontal bar per row, split by outcome (ok, error, …), with a legend and the totals."""
    series = [s for s in ("ok", "error") if any(s in outcomes for outcomes in rows.values())]
    series += sorted({s for outcomes in rows.values() for s in outcomes} - set(series))
    row, label_width, value_width = 28, 80, 64
    span = width - label_width - value_width
    maximum = max((sum(outcomes.values()) for outcomes in rows.values()), default=0)
    height = row * len(rows) + 26
    parts = [
        f'<svg class="{esc(css_class)}" role="img" aria-label="{esc(label)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for index, (kind, outcomes) in enumerate(rows.items()):
        y = index * row
        total = sum(outcomes.values())
        parts.append(
            f'<g class="bar" data-label="{esc(kind)}"><text class="bar-label" x="{label_width - 8}" '
            f'y="{y + 18}" text-anchor="end">{esc(clip(kind, 10))}</text>'
        )
        x = float(label_width)
        for number, name in enumerate(series):
            value = outcomes.get(name, 0)
            if value <= 0 or maximum == 0:
                continue
            length = max(1.0, span * value / maximum)
            parts.append(
                f'<rect class="segment" data-series="{esc(name)}" data-count="{value}" x="{x:.1f}" '
                f'y="{y + 4}" width="{length:.1f}" height="{row - 8}" fill="{color_for(name, number)}">'
                f"<title>{esc(kind)} · {esc(name)}: {value:,}</title></rect>"
            )
            x += length
        parts.append(f'<text class="value" x="{x + 6:.1f}" y="{y + 18}">{total:,}</text></g>')
    x = float(label_width)
    for number, name in enumerate(series):
        parts.append(
            f'<rect class="swatch" x="{x:.0f}" y="{height - 16}" width="10" height="10" '
            f'fill="{color_for(name, number)}"/><text class="legend" x="{x + 14:.0f}" y="{height - 7}">'
            f"{esc(name)}</text>"
        )
        x += 24 + 7 * len(name)
    parts.append("</svg>")
    return "".join(parts)


def heatmap_svg(
    rows: Sequence[str],
    columns: Sequence[str],
    counts: Mapping[tuple[int, int], int],
    *,
    label: str,
    css_class: str,
    ticks: Sequence[str] | None = None,
    cell: int = 24,
) -> str:
    """A grid of rows × columns, cells shaded by count, each with its count in a <title> tooltip.

    `counts` is keyed by (row index, column index). `columns` name the columns in the tooltips;
    `ticks` (default: the columns) are the labels written above them, "" for none. Every cell is
    drawn, empty ones too, so the grid shows where errors were not. Row totals on the right.
    """
    ticks = list(columns if ticks is None else ticks)
    maximum = max(counts.values(), default=0)
    label_width = min(270, 16 + 7 * max((len(clip(r, 36)) for r in rows), default=0))
    header = min(130, 20 + 6 * max((len(t) for t in ticks), default=0))
    grid_width = cell * len(columns)
    legend_width = 110 + 5 * 56
    width = label_width + max(grid_width + 70, legend_width)
    height = header + cell * len(rows) + 44
    parts = [
        f'<svg class="heatmap {esc(css_class)}" role="img" aria-label="{esc(label)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for j, tick in enumerate(ticks):
        if tick:
            x, y = label_width + j * cell + cell / 2, header - 6
            parts.append(
                f'<text class="tick" x="{x:.0f}" y="{y}" transform="rotate(-45 {x:.0f} {y})">'
                f"{esc(tick)}</text>"
            )
    for i, row in enumerate(rows):
        y = header + i * cell
        parts.append(
            f'<text class="row-label" x="{label_width - 6}" y="{y + cell * 0.68:.0f}" text-anchor="end">'
            f"<title>{esc(row)}</title>{esc(clip(row, 36))}</text>"
        )
        for j, column in enumerate(columns):
            count = counts.get((i, j), 0)
            parts.append(
                f'<rect class="cell" data-count="{count}" x="{label_width + j * cell}" y="{y}" '
                f'width="{cell - 2}" height="{cell - 2}" fill="{shade(count, maximum)}">'
                f"<title>{esc(row)} · {esc(column)}: {plural(count, 'error')}</title></rect>"
            )
        total = sum(counts.get((i, j), 0) for j in range(len(columns)))
        parts.append(
            f'<text class="row-total" x="{label_width + grid_width + 6}" y="{y + cell * 0.68:.0f}">'
            f"{total:,}</text>"
        )
    # The scale: five swatches from empty to the fullest cell.
    y = header + cell * len(rows) + 14
    steps = sorted({0, *(round(maximum * k / 4) for k in range(1, 5))}) if maximum else [0]
    parts.append(f'<text class="legend" x="{label_width}" y="{y + 11}">errors per cell:</text>')
    for k, value in enumerate(steps):
        x = label_width + 110 + k * 56
        parts.append(
            f'<rect class="swatch" x="{x}" y="{y}" width="14" height="14" fill="{shade(value, maximum)}"/>'
            f'<text class="legend" x="{x + 18}" y="{y + 11}">{value:,}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def nice_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is at least `raw` (for round bin edges)."""
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= raw * (1 - 1e-12):
            return factor * power
    return 10 * power


def histogram(values: Sequence[float], bins: int = HISTOGRAM_BINS) -> list[tuple[float, float, int]]:
    """(low, high, count) bins of round width from 0 (durations are never negative); at most `bins`.

    A value on an edge goes to the bin above it; the largest value is always in the last bin.
    """
    if not values:
        return []
    top = max(max(values), 0.0)
    step = nice_step(top / bins) if top > 0 else 1.0
    count = max(1, min(bins, math.floor(top / step) + 1))
    edges = [(k * step, (k + 1) * step) for k in range(count)]
    tallies = [0] * count
    for value in values:
        tallies[min(count - 1, max(0, math.floor(value / step)))] += 1
    return [(low, high, n) for (low, high), n in zip(edges, tallies, strict=True)]


def histogram_svg(
    bins: Sequence[tuple[float, float, int]], *, label: str, css_class: str = "histogram", width: int = 640
) -> str:
    """Vertical bars, one per bin, counts in tooltips and `data-count`; edges labelled below."""
    height, left, bottom, top = 220, 44, 40, 14
    plot_width, plot_height = width - left - 10, height - bottom - top
    maximum = max((n for _, _, n in bins), default=0)
    bar = plot_width / max(len(bins), 1)
    parts = [
        f'<svg class="{esc(css_class)}" role="img" aria-label="{esc(label)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">',
        f'<line class="axis" x1="{left}" y1="{top + plot_height}" x2="{left + plot_width}" '
        f'y2="{top + plot_height}"/>',
        f'<text class="tick" x="{left - 6}" y="{top + 8}" text-anchor="end">{maximum:,}</text>',
        f'<text class="tick" x="{left - 6}" y="{top + plot_height}" text-anchor="end">0</text>',
    ]
    every = max(1, math.ceil(len(bins) / 8))
    for k, (low, high, count) in enumerate(bins):
        tall = 0.0 if maximum == 0 else plot_height * count / maximum
        x = left + k * bar
        parts.append(
            f'<rect class="bin" data-count="{count}" x="{x + 1:.1f}" y="{top + plot_height - tall:.1f}" '
            f'width="{max(bar - 2, 1):.1f}" height="{tall:.1f}" fill="#2563eb">'
            f"<title>{format_duration(low)} – {format_duration(high)}: "
            f"{plural(count, 'locality', 'localities')}</title></rect>"
        )
        if k % every == 0:
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{top + plot_height + 16}" text-anchor="middle">'
                f"{esc(format_duration(low))}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
