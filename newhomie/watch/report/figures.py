"""The run's numbers, each with where it came from: the run's summary when it has one, else the
tables, else Scrapy's stats (an older run, a run that died at once). Pure."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from newhomie.site.prices import is_no_price_phrase
from newhomie.watch.report.data import (
    LISTING_TYPES,
    LOCALITY_STATUSES,
    PAGE_KINDS,
    TOP_PRICE_TEXTS,
    ReportData,
)
from newhomie.watch.report.text import format_duration

SOURCE_SUMMARY = "the run's summary"
SOURCE_LOCALITY_CRAWL = "locality_crawl"
SOURCE_LISTINGS = "listing rows of this run's localities seen during the run"
SOURCE_STATS = "Scrapy's stats"
SOURCE_PAGES_FALLBACK = "Scrapy's stats (pages answered) and crawl_error (errors)"
SOURCE_ERRORS = "crawl_error"
SOURCE_TIMES = "the run's start and finish"
SOURCE_RUN = "crawl_run"
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
        crawl_kind_figure(data.run, summary),
        pages_saved_figure(data.run, summary),
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


def crawl_kind_figure(run: Mapping[str, Any], summary: Mapping[str, Any]) -> tuple[str, str, str]:
    """Whether the run read every page (full) or left known ones unread (incremental)."""
    kind = run.get("crawl_kind")
    if isinstance(kind, str):
        return "crawl kind", kind, SOURCE_RUN
    kind = summary.get("crawl_kind")
    if isinstance(kind, str):
        return "crawl kind", kind, SOURCE_SUMMARY
    return "crawl kind", "—", SOURCE_NONE


def pages_saved_figure(run: Mapping[str, Any], summary: Mapping[str, Any]) -> tuple[str, str, str]:
    """The pages the run's increments left unread."""
    saved = _int(run.get("pages_saved"))
    if saved is not None:
        return "pages saved by increments", f"{saved:,}", SOURCE_RUN
    by_kind = summary.get("pages_saved")
    if isinstance(by_kind, dict) and all(_int(n) is not None for n in by_kind.values()):
        return "pages saved by increments", f"{sum(_int(n) or 0 for n in by_kind.values()):,}", SOURCE_SUMMARY
    return "pages saved by increments", "—", SOURCE_NONE
