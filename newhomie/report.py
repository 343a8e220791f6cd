"""`python -m newhomie report [--run ID] --out report.html`: one crawl run as a self-contained HTML page.

The page opens offline and runs nothing: its charts are SVG drawn here, its styles inline, and a
Content-Security-Policy forbids scripts and fetches, so that even a hostile price text or error
message that slipped past escaping could not act. Every text from the database is escaped: price
texts and error messages are whatever the site or the network sent. URLs are shown as text, never
made links (a `javascript:` URL in an href would be a script).

Two layers. `load_report_data` runs the named queries of `sql/queries/report.sql` in one read-only
snapshot into a `ReportData` of plain values; everything after it is pure (data in, HTML/SVG
strings out) and testable without a database. A figure comes from the run's `summary` when it has
one; otherwise (an older run, a run that died at once) it is computed from the tables or taken
from Scrapy's stats, and the page says which.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2.extensions
import psycopg2.extras

from newhomie import sql
from newhomie.site.prices import is_no_price_phrase
from newhomie.store.connection import connection
from newhomie.store.migrations import ready_database

TIME_BUCKETS = 20
TOP_ERROR_LOCALITIES = 20
ERROR_KINDS = 30
SLOWEST_LOCALITIES = 20
TOP_PRICE_TEXTS = 50
HISTOGRAM_BINS = 20
#: Arguments longer than this (a list of a thousand localities) are folded away in the header.
LONG_ARGUMENT = 200
EXIT_NO_RUN = 2

LOCALITY_STATUSES = ("done", "not_found", "failed")
LISTING_TYPES = ("sale", "rent", "sold")
PAGE_KINDS = ("sale", "rent", "sold", "profile")

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


# --- The data -----------------------------------------------------------------------------------


@dataclass
class ReportData:
    """What the page is built from: plain values, as the queries returned them."""

    run: dict[str, Any]
    locality_statuses: dict[str, int] = field(default_factory=dict)
    listings_seen: dict[str, int] = field(default_factory=dict)
    span_start: datetime | None = None
    span_end: datetime | None = None
    buckets: int = TIME_BUCKETS
    #: (stage, bucket, errors)
    errors_by_stage_bucket: list[tuple[str, int, int]] = field(default_factory=list)
    #: (locality or None, stage, errors), the localities with the most errors first
    errors_by_locality_stage: list[tuple[str | None, str, int]] = field(default_factory=list)
    #: stage, error_type, errors, latest_message, latest_url, latest_locality
    error_kinds: list[dict[str, Any]] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    #: locality_crawl rows with `seconds`, the slowest first
    slowest: list[dict[str, Any]] = field(default_factory=list)
    #: locality_crawl rows of the not_found and failed localities
    unfinished: list[dict[str, Any]] = field(default_factory=list)
    #: (price_text, listings, listing types): every text with no price, no-price phrases included
    priceless_texts: list[tuple[str, int, list[str]]] = field(default_factory=list)
    #: (kind, rows, latest reason)
    rejected: list[tuple[str, int, str]] = field(default_factory=list)


def _fetch(cur: psycopg2.extensions.cursor, name: str, **params: Any) -> list[dict[str, Any]]:
    cur.execute(sql.query(name), params)
    return [dict(row) for row in cur.fetchall()]


def latest_run_id(conn: psycopg2.extensions.connection) -> int | None:
    with conn.cursor() as cur:
        cur.execute(sql.query("report_latest_run_id"))
        row = cur.fetchone()
    return None if row is None else int(row[0])


def load_report_data(
    conn: psycopg2.extensions.connection, run_id: int, *, buckets: int = TIME_BUCKETS
) -> ReportData | None:
    """Everything the page shows about run `run_id`, or None when there is no such run."""
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        runs = _fetch(cur, "report_run", run_id=run_id)
        if not runs:
            return None
        data = ReportData(run=runs[0], buckets=buckets)
        data.locality_statuses = {
            r["status"]: r["localities"] for r in _fetch(cur, "report_locality_statuses", run_id=run_id)
        }
        data.listings_seen = {
            r["listing_type"]: r["listings"] for r in _fetch(cur, "report_listings_seen", run_id=run_id)
        }
        span = _fetch(cur, "report_error_span", run_id=run_id)[0]
        data.span_start, data.span_end = span["span_start"], span["span_end"]
        seconds = (data.span_end - data.span_start).total_seconds()
        data.errors_by_stage_bucket = [
            (r["stage"], r["bucket"], r["errors"])
            for r in _fetch(
                cur,
                "report_errors_by_stage_and_time",
                run_id=run_id,
                buckets=buckets,
                span_start=data.span_start,
                span_seconds=max(seconds, 1e-6),
            )
        ]
        data.errors_by_locality_stage = [
            (r["locality"], r["stage"], r["errors"])
            for r in _fetch(
                cur, "report_errors_by_locality_and_stage", run_id=run_id, limit=TOP_ERROR_LOCALITIES
            )
        ]
        data.error_kinds = _fetch(cur, "report_error_kinds", run_id=run_id, limit=ERROR_KINDS)
        data.durations = [r["seconds"] for r in _fetch(cur, "report_locality_durations", run_id=run_id)]
        data.slowest = _fetch(cur, "report_slowest_localities", run_id=run_id, limit=SLOWEST_LOCALITIES)
        data.unfinished = _fetch(cur, "report_unfinished_localities", run_id=run_id)
        data.priceless_texts = [
            (r["price_text"], r["listings"], list(r["types"]))
            for r in _fetch(cur, "report_priceless_texts", run_id=run_id)
        ]
        data.rejected = [
            (r["kind"], r["rows"], r["latest_reason"])
            for r in _fetch(cur, "report_rejected_items", run_id=run_id)
        ]
    return data


# --- Figures: the summary's, else the tables', else the stats' ----------------------------------

SOURCE_SUMMARY = "the run's summary"
SOURCE_LOCALITY_CRAWL = "locality_crawl"
SOURCE_LISTINGS = "listing rows of this run's localities seen during the run"
SOURCE_STATS = "Scrapy's stats"
SOURCE_PAGES_FALLBACK = "Scrapy's stats (pages answered) and crawl_error (errors)"
SOURCE_ERRORS = "crawl_error"
SOURCE_TIMES = "the run's start and finish"
SOURCE_NONE = "not recorded"


def _int(value: Any) -> int | None:
    """A count from JSON: ints (and whole floats), never booleans or text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def int_mapping(value: Any) -> dict[str, int] | None:
    """The counts of a JSON object (non-count values dropped), or None when it is not one or empty."""
    if not isinstance(value, Mapping):
        return None
    counts = {str(k): n for k, v in value.items() if (n := _int(v)) is not None}
    return counts or None


def _ordered(counts: Mapping[str, int], known: Sequence[str]) -> dict[str, int]:
    """The known keys first (0 when missing, so the chart always shows them), then the others."""
    ordered = {key: counts.get(key, 0) for key in known}
    ordered.update({key: counts[key] for key in sorted(counts) if key not in ordered})
    return ordered


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _stats_with_prefix(stats: Mapping[str, Any], prefix: str, names: Sequence[str]) -> dict[str, int]:
    """`prefix + name` counts of the stats, for the given names only."""
    return {name: n for name in names if (n := _int(stats.get(prefix + name))) is not None}


def pages_from_stats(stats: Mapping[str, Any]) -> tuple[dict[str, dict[str, int]], bool]:
    """Pages by kind and outcome (`newhomie/pages/<kind>/<outcome>`), and whether outcomes were
    counted at all: runs before them counted only the pages answered (`newhomie/pages/<kind>`)."""
    pages: dict[str, dict[str, int]] = {}
    answered: dict[str, dict[str, int]] = {}
    for key, value in stats.items():
        parts = key.split("/")
        count = _int(value)
        if count is None or parts[:2] != ["newhomie", "pages"]:
            continue
        if len(parts) == 4:
            pages.setdefault(parts[2], {})[parts[3]] = count
        elif len(parts) == 3 and parts[2] in PAGE_KINDS:
            answered[parts[2]] = {"ok": count}
    return (pages, True) if pages else (answered, False)


def stage_kind(stage: str) -> str:
    """The page kind of an error stage: `sale_search` is a sale page, `profile` a profile page."""
    return stage.removesuffix("_search")


@dataclass(frozen=True)
class Figures:
    """The run's numbers, each with where it came from."""

    localities: dict[str, int]
    localities_source: str
    listings: dict[str, int]
    listings_source: str
    pages: dict[str, dict[str, int]]
    pages_source: str
    errors_by_stage: dict[str, int]
    #: label, value (formatted), source
    totals: list[tuple[str, str, str]]
    errors_total: int
    duration_seconds: float | None


def resolve_figures(data: ReportData) -> Figures:
    stats = _mapping(data.run.get("stats"))
    # The summary is stored in its own column; a run whose pipeline did not store it may still
    # have it in its stats, where the summary extension leaves it.
    summary = _mapping(data.run.get("summary")) or _mapping(stats.get("newhomie/summary"))

    from_summary = int_mapping(summary.get("localities"))
    from_stats = int_mapping(_stats_with_prefix(stats, "newhomie/localities/", LOCALITY_STATUSES))
    if from_summary is not None:
        localities, localities_source = _ordered(from_summary, LOCALITY_STATUSES), SOURCE_SUMMARY
    elif data.locality_statuses or from_stats is None:
        localities = _ordered(data.locality_statuses, LOCALITY_STATUSES)
        localities_source = SOURCE_LOCALITY_CRAWL
    else:
        localities, localities_source = _ordered(from_stats, LOCALITY_STATUSES), SOURCE_STATS

    from_summary = int_mapping(summary.get("listings"))
    # Distinct rows; runs before those were counted left only the items written (a retry counted twice).
    from_stats = int_mapping(_stats_with_prefix(stats, "newhomie/distinct/listing/", LISTING_TYPES))
    if from_stats is None:
        from_stats = int_mapping(_stats_with_prefix(stats, "newhomie/items/listing/", LISTING_TYPES))
    if from_summary is not None:
        listings, listings_source = _ordered(from_summary, LISTING_TYPES), SOURCE_SUMMARY
    elif data.listings_seen:
        listings, listings_source = _ordered(data.listings_seen, LISTING_TYPES), SOURCE_LISTINGS
    elif from_stats is not None:
        listings, listings_source = _ordered(from_stats, LISTING_TYPES), SOURCE_STATS
    else:
        listings, listings_source = _ordered({}, LISTING_TYPES), SOURCE_NONE

    errors_by_stage: dict[str, int] = {}
    for stage, _bucket, count in data.errors_by_stage_bucket:
        errors_by_stage[stage] = errors_by_stage.get(stage, 0) + count
    errors_by_stage = dict(sorted(errors_by_stage.items(), key=lambda item: (-item[1], item[0])))
    errors_counted = sum(errors_by_stage.values())

    pages: dict[str, dict[str, int]] = {}
    for kind, outcomes in _mapping(summary.get("pages")).items():
        counts = int_mapping(outcomes)
        if counts is not None:
            pages[str(kind)] = counts
    pages_source = SOURCE_SUMMARY
    if not pages:
        pages, with_outcomes = pages_from_stats(stats)
        pages_source = SOURCE_STATS
        if not with_outcomes:  # the errors of such a run are in crawl_error, by stage
            pages_source = SOURCE_PAGES_FALLBACK
            for stage, count in errors_by_stage.items():
                outcomes = pages.setdefault(stage_kind(stage), {})
                outcomes["error"] = outcomes.get("error", 0) + count
        if not pages:
            pages_source = SOURCE_NONE
    pages = {kind: pages[kind] for kind in [*PAGE_KINDS, *sorted(pages)] if kind in pages}

    duration = _number(summary.get("duration_seconds"))
    duration_source = SOURCE_SUMMARY
    if duration is None and data.run.get("finished_at") and data.run.get("started_at"):
        duration = (data.run["finished_at"] - data.run["started_at"]).total_seconds()
        duration_source = SOURCE_TIMES

    errors_total = _int(summary.get("errors_total"))
    errors_total_source = SOURCE_SUMMARY
    if errors_total is None:
        errors_total, errors_total_source = errors_counted, SOURCE_ERRORS

    pages_total = _int(summary.get("pages_total"))
    pages_total_source = SOURCE_SUMMARY
    if pages_total is None and pages:
        pages_total = sum(sum(outcomes.values()) for outcomes in pages.values())
        pages_total_source = pages_source

    def count_figure(label: str, key: str, stat: str | None) -> tuple[str, str, str]:
        value = _int(summary.get(key))
        if value is not None:
            return label, f"{value:,}", SOURCE_SUMMARY
        value = _int(stats.get(stat)) if stat else None
        if value is not None:
            return label, f"{value:,}", SOURCE_STATS
        return label, "—", SOURCE_NONE

    totals = [
        ("duration", "—" if duration is None else format_duration(duration),
         duration_source if duration is not None else SOURCE_NONE),
        ("pages", "—" if pages_total is None else f"{pages_total:,}",
         pages_total_source if pages_total is not None else SOURCE_NONE),
        ("errors", f"{errors_total:,}", errors_total_source),
        count_figure("localities planned", "localities_planned", "newhomie/localities/planned"),
        count_figure("suburb profiles", "suburb_profiles", "newhomie/distinct/suburb_profile"),
        count_figure("blocked pages", "blocked", "newhomie/blocked"),
        count_figure("prices parsed", "prices_parsed", "newhomie/price/parsed"),
        count_figure("unparsed prices", "unparsed_prices", "newhomie/price/unparsed"),
        count_figure("browser restarts", "browser_restarts", "newhomie/browser/restarts"),
        ("rows refused by the database", f"{sum(n for _, n, _ in data.rejected):,}", "rejected_item"),
    ]  # fmt: skip
    return Figures(
        localities=localities,
        localities_source=localities_source,
        listings=listings,
        listings_source=listings_source,
        pages=pages,
        pages_source=pages_source,
        errors_by_stage=errors_by_stage,
        totals=totals,
        errors_total=errors_total,
        duration_seconds=duration,
    )


def priceless_texts(
    rows: Sequence[tuple[str, int, list[str]]], limit: int = TOP_PRICE_TEXTS
) -> tuple[list[tuple[str, int, list[str]]], int, int]:
    """The texts that should have given a price and did not, most listings first, at most `limit`;
    with the number of such listings and of distinct texts (all of them, not only those shown)."""
    unparsed = [row for row in rows if not is_no_price_phrase(row[0])]
    unparsed.sort(key=lambda row: (-row[1], row[0]))
    return unparsed[:limit], sum(row[1] for row in unparsed), len(unparsed)


# --- Formatting ---------------------------------------------------------------------------------


def esc(value: Any) -> str:
    """Text from anywhere, safe in HTML and inline SVG, text and attribute alike."""
    return html.escape("" if value is None else str(value), quote=True)


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def format_offset(seconds: float) -> str:
    """A short time since the start, for an axis: `+45 s`, `+12 min`, `+2 h 05`."""
    whole = round(seconds)
    if whole < 60:
        return f"+{whole} s"
    if whole < 3600:
        return f"+{whole // 60} min"
    return f"+{whole // 3600} h {whole % 3600 // 60:02d}"


def format_time(moment: datetime | None) -> str:
    return "—" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


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


# --- SVG charts (pure) --------------------------------------------------------------------------


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
            f"{esc(_clip(name, 16))}</text>"
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
            f'y="{y + 18}" text-anchor="end">{esc(_clip(kind, 10))}</text>'
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
    label_width = min(270, 16 + 7 * max((len(_clip(r, 36)) for r in rows), default=0))
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
            f"<title>{esc(row)}</title>{esc(_clip(row, 36))}</text>"
        )
        for j, column in enumerate(columns):
            count = counts.get((i, j), 0)
            parts.append(
                f'<rect class="cell" data-count="{count}" x="{label_width + j * cell}" y="{y}" '
                f'width="{cell - 2}" height="{cell - 2}" fill="{shade(count, maximum)}">'
                f"<title>{esc(row)} · {esc(column)}: {_plural(count, 'error')}</title></rect>"
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
            f"{_plural(count, 'locality', 'localities')}</title></rect>"
        )
        if k % every == 0:
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{top + plot_height + 16}" text-anchor="middle">'
                f"{esc(format_duration(low))}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


# --- The page (pure) ----------------------------------------------------------------------------

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #0f172a;
       margin: 0 auto; padding: 24px; max-width: 1180px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 12px; } h2 { font-size: 18px; margin: 32px 0 8px;
     border-bottom: 1px solid #e2e8f0; padding-bottom: 4px; } h3 { font-size: 15px; margin: 16px 0 6px; }
dl.run { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.run dt { color: #475569; } dl.run dd { margin: 0; word-break: break-word; }
.health { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; }
.health.healthy { background: #dcfce7; color: #166534; }
.health.unhealthy { background: #fee2e2; color: #991b1b; }
.health.unknown { background: #f1f5f9; color: #475569; }
.charts { display: flex; flex-wrap: wrap; gap: 16px 40px; }
.chart { min-width: 300px; }
.source { color: #64748b; font-size: 12px; margin: 2px 0 0; }
.empty { color: #64748b; font-style: italic; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { text-align: left; padding: 3px 10px 3px 0; border-bottom: 1px solid #f1f5f9; vertical-align: top; }
th { color: #475569; font-weight: 600; } td.n, th.n { text-align: right; padding-right: 16px; }
td.text { font-family: ui-monospace, Menlo, Consolas, monospace; white-space: pre-wrap;
          word-break: break-word; max-width: 640px; }
svg text { font: 12px system-ui, sans-serif; fill: #0f172a; }
svg .tick, svg .legend { fill: #475569; font-size: 11px; }
svg .axis { stroke: #94a3b8; } svg .row-total { fill: #475569; }
.scroll { overflow-x: auto; }
footer { margin-top: 40px; color: #94a3b8; font-size: 12px; }
"""

#: No script, no fetch of any kind: the page is data, whatever the data says.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
)


def _table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    css_class: str,
    numeric: frozenset[int] = frozenset(),
    text: frozenset[int] = frozenset(),
) -> str:
    """A table of already-escaped cells; `numeric` columns right-aligned, `text` ones verbatim (monospace)."""

    def attributes(index: int) -> str:
        return ' class="n"' if index in numeric else ' class="text"' if index in text else ""

    head = "".join(f"<th{attributes(i)}>{h}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{attributes(i)}>{cell}</td>" for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _arguments_html(arguments: Any) -> str:
    if not isinstance(arguments, Mapping) or not arguments:
        return '<span class="empty">none</span>' if not arguments else esc(_json_text(arguments))
    items = []
    for key, value in arguments.items():
        text = _json_text(value)
        if len(text) > LONG_ARGUMENT:
            items.append(
                f"<details><summary>{esc(key)} = {esc(text[:LONG_ARGUMENT])}… "
                f"({len(text):,} characters)</summary>{esc(text)}</details>"
            )
        else:
            items.append(f"<div>{esc(key)} = {esc(text)}</div>")
    return "".join(items)


def health_reasons(value: Any) -> list[str]:
    """The reasons as lines, whatever JSON shape they were stored in (a list, an object, a text)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [f"{key}: {_json_text(reason)}" for key, reason in value.items()]
    if isinstance(value, list):
        return [_json_text(reason) for reason in value]
    return [_json_text(value)]


def _header_html(run: Mapping[str, Any], figures: Figures) -> str:
    health = run.get("health")
    verdict = health if health in ("healthy", "unhealthy") else "unknown"
    reasons = health_reasons(run.get("health_reasons"))
    reasons_html = (
        "<ul class=reasons>" + "".join(f"<li>{esc(r)}</li>" for r in reasons) + "</ul>" if reasons else ""
    )
    duration = "—" if figures.duration_seconds is None else format_duration(figures.duration_seconds)
    fields = [
        ("run", esc(run["id"])),
        ("spider", esc(run.get("spider"))),
        ("arguments", _arguments_html(run.get("arguments"))),
        ("crawl key", esc(run.get("crawl_key") or "—")),
        ("shard", esc(run.get("shard") or "—")),
        ("started", esc(format_time(run.get("started_at")))),
        ("finished", esc(format_time(run.get("finished_at")))),
        ("duration", esc(duration)),
        ("status", f'<span class="status">{esc(run.get("status"))}</span>'),
        ("health", f'<span class="health {verdict}">{esc(health or "not assessed")}</span>{reasons_html}'),
    ]
    items = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in fields)
    return f'<header id="run"><h1>Crawl run {esc(run["id"])}</h1><dl class="run">{items}</dl></header>'


def _source(text: str) -> str:
    return f'<p class="source">{"" if text == SOURCE_NONE else "from "}{esc(text)}</p>'


def _chart(element_id: str, title: str, chart: str, source: str) -> str:
    return f'<div class="chart" id="{element_id}"><h3>{esc(title)}</h3>{chart}{_source(source)}</div>'


def _outcome_html(figures: Figures) -> str:
    localities = bar_chart_svg(list(figures.localities.items()), label="localities by outcome")
    listings = bar_chart_svg(list(figures.listings.items()), label="listings by type")
    pages = (
        stacked_bar_svg(figures.pages, label="pages by kind and outcome")
        if figures.pages
        else '<p class="empty">no pages recorded</p>'
    )
    totals = _table(
        ["figure", "value", "from"],
        [[esc(name), esc(value), esc(source)] for name, value, source in figures.totals],
        css_class="totals",
        numeric=frozenset({1}),
    )
    return (
        '<section id="outcome"><h2>Outcome</h2><div class="charts">'
        + _chart("localities", "Localities", localities, figures.localities_source)
        + _chart("listings", "Listings by type", listings, figures.listings_source)
        + _chart("pages", "Pages by kind and outcome", pages, figures.pages_source)
        + f"</div><h3>Figures</h3>{totals}</section>"
    )


def time_columns(start: datetime, end: datetime, buckets: int) -> tuple[list[str], list[str]]:
    """Tooltips (`10:20:00–10:24:00 UTC`) and axis ticks (`+4 min`, on some) of the time buckets."""
    width = (end - start).total_seconds() / buckets
    every = max(1, buckets // 5)
    names, ticks = [], []
    for k in range(buckets):
        low, high = start + timedelta(seconds=k * width), start + timedelta(seconds=(k + 1) * width)
        names.append(f"{low.astimezone(UTC):%H:%M:%S}–{high.astimezone(UTC):%H:%M:%S} UTC")
        ticks.append(format_offset(k * width) if k % every == 0 else "")
    return names, ticks


def _error_kind_cells(kind: Mapping[str, Any]) -> list[str]:
    return [
        esc(kind["stage"]),
        esc(kind["error_type"]),
        f"{kind['errors']:,}",
        f'<span class="message">{esc(kind["latest_message"])}</span>',
        esc(kind["latest_locality"] or "—"),
        f'<span class="url">{esc(kind["latest_url"] or "—")}</span>',
    ]


def _errors_html(data: ReportData, figures: Figures) -> str:
    stages = list(figures.errors_by_stage)
    if not stages or data.span_start is None or data.span_end is None:
        empty = '<p class="empty">no errors recorded for this run</p>'
        return f'<section id="errors"><h2>Errors</h2>{empty}</section>'
    stage_index = {stage: i for i, stage in enumerate(stages)}
    names, ticks = time_columns(data.span_start, data.span_end, data.buckets)
    by_time = {(stage_index[stage], bucket): count for stage, bucket, count in data.errors_by_stage_bucket}
    time_map = heatmap_svg(
        stages, names, by_time, label="errors by stage and time", css_class="heatmap-time", ticks=ticks
    )
    localities: dict[str | None, int] = {}
    for locality, _stage, _count in data.errors_by_locality_stage:
        localities.setdefault(locality, len(localities))
    by_locality = {
        (localities[locality], stage_index[stage]): count
        for locality, stage, count in data.errors_by_locality_stage
    }
    locality_map = heatmap_svg(
        [locality or "(no locality)" for locality in localities],
        stages,
        by_locality,
        label="errors by locality and stage",
        css_class="heatmap-locality",
    )
    kinds = _table(
        ["stage", "error", "count", "latest message", "latest locality", "latest URL"],
        [_error_kind_cells(kind) for kind in data.error_kinds],
        css_class="error-kinds",
        numeric=frozenset({2}),
        text=frozenset({3}),
    )
    width = (data.span_end - data.span_start).total_seconds() / data.buckets
    top = _plural(len(localities), "locality", "localities")
    recorded = sum(figures.errors_by_stage.values())
    differs = f" (the summary counts {figures.errors_total:,})" if figures.errors_total != recorded else ""
    return (
        f'<section id="errors"><h2>Errors</h2><p class="errors-recorded">{_plural(recorded, "error")} '
        f"recorded in {_plural(len(stages), 'stage')}{esc(differs)}.</p>"
        f'<h3>Stage against time</h3><p class="source">{data.buckets} buckets of '
        f"{esc(format_duration(width))} from {esc(format_time(data.span_start))}</p>"
        f'<div class="scroll">{time_map}</div>'
        f'<h3>Stage against locality</h3><p class="source">the {top} with the most errors</p>'
        f'<div class="scroll">{locality_map}</div>'
        f"<h3>Errors by stage and type</h3>{kinds}</section>"
    )


def _slow_locality_cells(row: Mapping[str, Any]) -> list[str]:
    return [
        esc(row["locality"]),
        esc(row["status"]),
        esc(format_duration(row["seconds"])),
        f"{row['attempts']:,}",
        f"{row['pages']:,}",
        f"{row['listings']:,}",
        f"{row['errors']:,}",
        esc(format_time(row["started_at"])),
    ]


def _durations_html(data: ReportData) -> str:
    if not data.durations:
        return (
            '<section id="durations"><h2>Locality durations</h2>'
            '<p class="empty">no localities recorded for this run (locality_crawl)</p></section>'
        )
    ordered = sorted(data.durations)
    median = ordered[len(ordered) // 2]
    chart = histogram_svg(histogram(data.durations), label="localities by duration")
    slowest = _table(
        ["locality", "status", "duration", "attempts", "pages", "listings", "errors", "started"],
        [_slow_locality_cells(row) for row in data.slowest],
        css_class="slowest",
        numeric=frozenset({2, 3, 4, 5, 6}),
    )
    return (
        '<section id="durations"><h2>Locality durations</h2>'
        f"<p>{_plural(len(ordered), 'locality', 'localities')}: median {esc(format_duration(median))}, "
        f"longest {esc(format_duration(ordered[-1]))} (first request to last answer, all attempts).</p>"
        f'<div class="scroll">{chart}</div><h3>The slowest {len(data.slowest)}</h3>{slowest}</section>'
    )


def _prices_html(data: ReportData) -> str:
    shown, listings, texts = priceless_texts(data.priceless_texts)
    if not data.durations:  # no locality_crawl rows: no localities to look at
        body = '<p class="empty">no localities recorded for this run (locality_crawl)</p>'
    elif not shown:
        body = (
            '<p class="empty">every price text in this run\'s localities gave a price '
            "or is a known no-price phrase</p>"
        )
    else:
        most = f"; the {len(shown)} most frequent:" if texts > len(shown) else ":"
        body = f"<p>{_plural(listings, 'listing')} with {_plural(texts, 'distinct text')}{most}</p>"
        body += _table(
            ["listings", "price text", "types"],
            [
                [f"{n:,}", f'<span class="price-text">{esc(text)}</span>', esc(", ".join(types))]
                for text, n, types in shown
            ],
            css_class="priceless",
            numeric=frozenset({0}),
            text=frozenset({1}),
        )
    return (
        '<section id="prices"><h2>Price texts that gave no price</h2>'
        '<p class="source">listings of this run\'s localities with a price text and neither price, known '
        "no-price phrases (“Contact Agent”, auction dates) left out</p>"
        f"{body}</section>"
    )


def _unfinished_cells(row: Mapping[str, Any]) -> list[str]:
    return [
        esc(row["locality"]),
        f"{row['attempts']:,}",
        f"{row['errors']:,}",
        esc(format_time(row["finished_at"])),
    ]


def _unfinished_html(data: ReportData, figures: Figures) -> str:
    parts = ['<section id="unfinished"><h2>Localities not found or failed</h2>']
    for status, title in (("not_found", "Not found"), ("failed", "Failed")):
        rows = [r for r in data.unfinished if r["status"] == status]
        counted = figures.localities.get(status, 0)
        parts.append(f'<h3>{title} ({len(rows):,})</h3><div class="{status}">')
        if rows:
            table = _table(
                ["locality", "attempts", "errors", "finished"],
                [_unfinished_cells(row) for row in rows],
                css_class=f"localities-{status}",
                numeric=frozenset({1, 2}),
            )
            parts.append(table)
        elif counted:
            parts.append(
                f'<p class="empty">{esc(figures.localities_source)} counts {counted:,}, '
                "but no locality_crawl rows of this run name them</p>"
            )
        else:
            parts.append('<p class="empty">none</p>')
        parts.append("</div>")
    parts.append("</section>")
    return "".join(parts)


def _rejected_html(data: ReportData) -> str:
    if not data.rejected:
        return '<section id="rejected"><h2>Rows the database refused</h2><p class="empty">none</p></section>'
    table = _table(
        ["kind", "rows", "latest reason"],
        [
            [esc(kind), f"{n:,}", f'<span class="message">{esc(reason)}</span>']
            for kind, n, reason in data.rejected
        ],
        css_class="rejected",
        numeric=frozenset({1}),
    )
    return f'<section id="rejected"><h2>Rows the database refused</h2>{table}</section>'


def render_report(data: ReportData, *, generated_at: datetime | None = None) -> str:
    """The whole page, one string, nothing to fetch."""
    figures = resolve_figures(data)
    run = data.run
    generated = format_time(generated_at or datetime.now(UTC))
    sections = [
        _header_html(run, figures),
        _outcome_html(figures),
        _errors_html(data, figures),
        _durations_html(data),
        _prices_html(data),
        _unfinished_html(data, figures),
        _rejected_html(data),
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>newhomie: crawl run {esc(run['id'])}</title><style>{STYLE}</style></head><body>"
        + "".join(sections)
        + f"<footer>generated by newhomie at {esc(generated)}</footer></body></html>\n"
    )


def one_line_summary(data: ReportData) -> str:
    figures = resolve_figures(data)
    run = data.run
    localities = figures.localities
    duration = "" if figures.duration_seconds is None else f", {format_duration(figures.duration_seconds)}"
    return (
        f"run {run['id']} ({run.get('spider')}, {run.get('status')}{duration}, "
        f"{run.get('health') or 'health not assessed'}): localities {localities.get('done', 0):,} done, "
        f"{localities.get('not_found', 0):,} not found, {localities.get('failed', 0):,} failed; "
        f"{_plural(sum(figures.listings.values()), 'listing')}; {_plural(figures.errors_total, 'error')}"
    )


# --- The command --------------------------------------------------------------------------------


def write_atomically(path: Path, text: str) -> None:
    """Readers (a browser tab being refreshed, a web server) never see half a page. The file gets
    the usual permissions (the umask's), not a temporary file's private ones."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def cmd_report(args: argparse.Namespace) -> int:
    target, _ = ready_database()
    with connection(target.url, application_name="newhomie-report") as conn:
        # One snapshot: the page's figures agree with each other even while a crawl writes.
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        run_id = args.run if args.run is not None else latest_run_id(conn)
        if run_id is None:
            print(f"report: no crawl runs yet in the {target.describe()}", file=sys.stderr)
            return EXIT_NO_RUN
        data = load_report_data(conn, run_id)
        if data is None:
            latest = latest_run_id(conn)
            hint = f" (the latest is {latest})" if latest is not None else " (there are no runs yet)"
            print(f"report: no crawl run with id {run_id} in the {target.describe()}{hint}", file=sys.stderr)
            return EXIT_NO_RUN
    out = Path(args.out)
    page = render_report(data)
    write_atomically(out, page)
    print(f"report: wrote {out} ({len(page.encode('utf-8')) / 1024:,.0f} KiB)")
    print(one_line_summary(data))
    return 0


def add_report_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `report` command, for `python -m newhomie`'s parser."""
    parser = subparsers.add_parser("report", help="write an HTML page about one crawl run")
    parser.add_argument("--run", type=int, metavar="ID", help="the crawl run's id (default: the latest run)")
    parser.add_argument("--out", required=True, type=Path, metavar="PATH", help="the HTML file to write")
    parser.set_defaults(func=cmd_report)
