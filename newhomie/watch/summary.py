"""What a run did, in a few numbers, and whether it was healthy.

`summarise(stats)` reads the crawl's stats (the `newhomie/...` ones the spider, middlewares and
pipelines count) into the run summary stored in `crawl_run.summary`; `judge(summary, limits)`
gives the health verdict. Both are pure. `RunSummary`, a Scrapy extension, does both when the
spider closes: it logs them, and leaves them in the stats (`newhomie/summary`,
`newhomie/health/...`) for the database pipeline, the metrics exporter and the `crawl` command,
which exits non-zero when the run was unhealthy, so that cron, Scrapyd users and alerting notice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

LOCALITY_OUTCOMES = ("done", "not_found", "failed")
LISTING_TYPES = ("sale", "rent", "sold")


def _int(stats: Mapping[str, Any], key: str) -> int:
    value = stats.get(key, 0)
    return int(value) if isinstance(value, int | float) else 0


def summarise(stats: Mapping[str, Any]) -> dict[str, Any]:
    """The run summary (see crawl_run.summary) from the crawl's stats."""
    pages: dict[str, dict[str, int]] = {}
    saved: dict[str, int] = {}
    errors: dict[str, int] = {}
    errors_by_type: dict[str, int] = {}
    for key, value in stats.items():
        parts = key.split("/")
        if len(parts) == 4 and parts[:2] == ["newhomie", "pages"] and isinstance(value, int):
            pages.setdefault(parts[2], {})[parts[3]] = value
        elif len(parts) == 3 and parts[:2] == ["newhomie", "pages_saved"] and isinstance(value, int):
            saved[parts[2]] = value
        elif len(parts) == 4 and parts[:2] == ["newhomie", "errors"] and isinstance(value, int):
            errors[parts[2]] = errors.get(parts[2], 0) + value
            errors_by_type[parts[3]] = errors_by_type.get(parts[3], 0) + value
    elapsed = stats.get("elapsed_time_seconds")
    return {
        "localities": {name: _int(stats, f"newhomie/localities/{name}") for name in LOCALITY_OUTCOMES},
        "localities_planned": _int(stats, "newhomie/localities/planned"),
        # Crawled to the end, but some search could not be read whole (locality_crawl.incomplete says why).
        "localities_incomplete": _int(stats, "newhomie/localities/incomplete"),
        "listings": {kind: _int(stats, f"newhomie/distinct/listing/{kind}") for kind in LISTING_TYPES},
        "suburb_profiles": _int(stats, "newhomie/distinct/suburb_profile"),
        "pages": pages,
        "pages_total": sum(sum(outcomes.values()) for outcomes in pages.values()),
        # "incremental" or "full" (crawl.increments), and the pages the increments left unread, by kind.
        "crawl_kind": stats.get("newhomie/crawl_kind"),
        "pages_saved": saved,
        "errors": errors,
        "errors_by_type": errors_by_type,
        "errors_total": sum(errors.values()),
        "blocked": _int(stats, "newhomie/blocked"),
        "prices_parsed": _int(stats, "newhomie/price/parsed"),
        "unparsed_prices": _int(stats, "newhomie/price/unparsed"),
        "browser_restarts": _int(stats, "newhomie/browser/restarts"),
        "rows_rejected": _int(stats, "newhomie/db/rows_rejected"),
        # Acknowledged by the database, and not: rows it never took are kept in the files named.
        "rows_written": _int(stats, "newhomie/db/rows_written"),
        "rows_unwritten": _int(stats, "newhomie/db/rows_unwritten"),
        "rows_unstorable": _int(stats, "newhomie/db/rows_unstorable"),
        "unwritten_files": list(stats.get("newhomie/db/unwritten_files") or []),
        "duration_seconds": round(float(elapsed), 1) if isinstance(elapsed, int | float) else None,
        "finish_reason": stats.get("finish_reason"),
    }


def format_summary(summary: Mapping[str, Any]) -> str:
    loc, listings = summary["localities"], summary["listings"]
    errors = ", ".join(f"{stage} {n}" for stage, n in sorted(summary["errors"].items())) or "none"
    duration = summary["duration_seconds"]
    incomplete = (
        f" (incomplete {summary['localities_incomplete']})" if summary.get("localities_incomplete") else ""
    )
    saved = sum((summary.get("pages_saved") or {}).values())
    unwritten = ""
    if summary.get("rows_unwritten"):
        files = ", ".join(summary.get("unwritten_files") or []) or "no file"
        unwritten = f", NOT WRITTEN {summary['rows_unwritten']} (kept in {files})"
    return (
        f"localities done {loc['done']}, not found {loc['not_found']}, failed {loc['failed']}"
        f"{incomplete}; "
        f"listings sale {listings['sale']}, rent {listings['rent']}, sold {listings['sold']}; "
        f"suburb profiles {summary['suburb_profiles']}; pages {summary['pages_total']}; "
        f"crawl kind {summary.get('crawl_kind') or '?'}, pages saved {saved}; "
        f"errors by stage: {errors}; blocks {summary['blocked']}; "
        f"browser restarts {summary['browser_restarts']}; "
        f"rows written {summary.get('rows_written', 0)}{unwritten}; "
        f"duration {'?' if duration is None else f'{duration:.0f} s'}"
    )


@dataclass(frozen=True)
class HealthLimits:
    """What a healthy run stays within (the NEWHOMIE_HEALTH_* settings)."""

    min_listings: int = 1
    max_error_rate: float = 0.05  # errors per page fetched
    max_block_rate: float = 0.10  # block pages per page fetched
    max_unparsed_price_rate: float = 0.05  # price texts that gave no price, per price text read
    max_failed_localities: float = 0.02  # share of the run's localities that ended failed


@dataclass(frozen=True)
class Verdict:
    healthy: bool
    reasons: tuple[str, ...]

    @property
    def label(self) -> str:
        return "healthy" if self.healthy else "unhealthy"


def judge(summary: Mapping[str, Any], limits: HealthLimits) -> Verdict:
    """Healthy, or unhealthy with each broken limit said in words."""
    reasons: list[str] = []
    reason = summary.get("finish_reason")
    if reason not in (None, "finished"):
        reasons.append(f"the crawl did not finish normally ({reason})")
    listings = sum(summary["listings"].values())
    localities = summary["localities"]
    crawled = sum(localities.values())
    if listings < limits.min_listings and localities["done"]:
        reasons.append(f"{listings} listings, fewer than {limits.min_listings}")
    if crawled == 0 and summary.get("localities_planned", 0) > 0:
        reasons.append(f"none of the {summary['localities_planned']} planned localities was crawled")
    pages = max(summary["pages_total"], 1)
    if (rate := summary["errors_total"] / pages) > limits.max_error_rate:
        reasons.append(
            f"{summary['errors_total']} errors in {pages} pages ({rate:.1%} > {limits.max_error_rate:.1%})"
        )
    if (rate := summary["blocked"] / pages) > limits.max_block_rate:
        reasons.append(
            f"{summary['blocked']} block pages in {pages} pages ({rate:.1%} > {limits.max_block_rate:.1%})"
        )
    read = summary["prices_parsed"] + summary["unparsed_prices"]
    if read and (rate := summary["unparsed_prices"] / read) > limits.max_unparsed_price_rate:
        reasons.append(
            f"{summary['unparsed_prices']} of {read} price texts gave no price "
            f"({rate:.1%} > {limits.max_unparsed_price_rate:.1%})"
        )
    if unwritten := summary.get("rows_unwritten", 0):
        files = ", ".join(summary.get("unwritten_files") or []) or "no file: they are lost"
        reasons.append(f"{unwritten} rows could not be written to the database (kept in {files}; "
                       "the next run writes them first)")  # fmt: skip
    if unstorable := summary.get("rows_unstorable", 0):
        reasons.append(f"{unstorable} rows the database refused could not be kept in rejected_item either "
                       "(the log names each)")  # fmt: skip
    if crawled and (rate := localities["failed"] / crawled) > limits.max_failed_localities:
        reasons.append(
            f"{localities['failed']} of {crawled} localities failed "
            f"({rate:.1%} > {limits.max_failed_localities:.1%})"
        )
    return Verdict(not reasons, tuple(reasons))


class RunSummary:
    """At close: the summary and health verdict, logged and left in the stats for others to store."""

    def __init__(self, stats: StatsCollector, limits: HealthLimits) -> None:
        self.stats = stats
        self.limits = limits

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        s = crawler.settings
        limits = HealthLimits(
            min_listings=s.getint("NEWHOMIE_HEALTH_MIN_LISTINGS", HealthLimits.min_listings),
            max_error_rate=s.getfloat("NEWHOMIE_HEALTH_MAX_ERROR_RATE", HealthLimits.max_error_rate),
            max_block_rate=s.getfloat("NEWHOMIE_HEALTH_MAX_BLOCK_RATE", HealthLimits.max_block_rate),
            max_unparsed_price_rate=s.getfloat(
                "NEWHOMIE_HEALTH_MAX_UNPARSED_PRICE_RATE", HealthLimits.max_unparsed_price_rate
            ),
            max_failed_localities=s.getfloat(
                "NEWHOMIE_HEALTH_MAX_FAILED_LOCALITIES", HealthLimits.max_failed_localities
            ),
        )
        extension = cls(crawler.stats, limits)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, reason: str) -> None:
        stats = dict(self.stats.get_stats())
        stats.setdefault("finish_reason", reason)
        summary = summarise(stats)
        verdict = judge(summary, self.limits)
        self.stats.set_value("newhomie/summary", summary)
        self.stats.set_value("newhomie/health/healthy", int(verdict.healthy))
        self.stats.set_value("newhomie/health/reasons", list(verdict.reasons))
        logger.info("run summary: %s", format_summary(summary))
        if verdict.healthy:
            logger.info("health verdict: healthy")
        else:
            logger.error("health verdict: UNHEALTHY: %s", "; ".join(verdict.reasons))
