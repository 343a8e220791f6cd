"""The page: its sections, its style and its Content-Security-Policy. Pure: `ReportData` in, HTML out."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from newhomie.watch.report.data import LONG_ARGUMENT, ReportData
from newhomie.watch.report.figures import SOURCE_NONE, Figures, priceless_texts, resolve_figures
from newhomie.watch.report.svg import bar_chart_svg, heatmap_svg, histogram, histogram_svg, stacked_bar_svg
from newhomie.watch.report.text import esc, format_duration, format_offset, format_time, plural

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
    top = plural(len(localities), "locality", "localities")
    recorded = sum(figures.errors_by_stage.values())
    differs = f" (the summary counts {figures.errors_total:,})" if figures.errors_total != recorded else ""
    return (
        f'<section id="errors"><h2>Errors</h2><p class="errors-recorded">{plural(recorded, "error")} '
        f"recorded in {plural(len(stages), 'stage')}{esc(differs)}.</p>"
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
        f"<p>{plural(len(ordered), 'locality', 'localities')}: median {esc(format_duration(median))}, "
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
        body = f"<p>{plural(listings, 'listing')} with {plural(texts, 'distinct text')}{most}</p>"
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
        f"{plural(sum(figures.listings.values()), 'listing')}; {plural(figures.errors_total, 'error')}"
    )
