"""The run summary read from a crawl's stats, its health verdict, and the extension that gives both."""

from __future__ import annotations

import logging
from copy import deepcopy
from datetime import UTC, datetime
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from newhomie.watch.summary import HealthLimits, RunSummary, format_summary, judge, summarise

#: What a run's stats look like at close: Scrapy's own, and the `newhomie/...` ones of the crawl.
RUN_STATS: dict[str, Any] = {
    "start_time": datetime(2026, 3, 12, 2, 0, tzinfo=UTC),
    "elapsed_time_seconds": 1234.5678,
    "finish_reason": "finished",
    "downloader/request_count": 431,
    "retry/count": 9,
    "newhomie/localities/planned": 12,
    "newhomie/localities/done": 10,
    "newhomie/localities/not_found": 1,
    "newhomie/localities/failed": 1,
    "newhomie/localities/stalled": 1,
    # Rows the run stored, each once; the items written count a retried locality's rows again.
    "newhomie/distinct/listing/sale": 812,
    "newhomie/distinct/listing/rent": 410,
    "newhomie/distinct/listing/sold": 388,
    "newhomie/distinct/suburb_profile": 11,
    "newhomie/items/listing/sale": 845,
    "newhomie/items/listing/rent": 410,
    "newhomie/items/listing/sold": 388,
    "newhomie/items/suburb_profile": 12,
    "newhomie/pages/profile/ok": 11,
    "newhomie/pages/profile/not_found": 1,
    "newhomie/pages/sale/ok": 190,
    "newhomie/pages/sale/error": 2,
    "newhomie/pages/sale/blocked": 1,
    "newhomie/pages/rent/ok": 101,
    "newhomie/pages/sold/ok": 95,
    "newhomie/pages/untracked": 3,  # not a page of a kind: left out
    "newhomie/crawl_kind": "incremental",
    "newhomie/pages_saved/sold": 120,
    "newhomie/pages_saved/profile": 4,
    "newhomie/errors/sale_search/PageError": 2,
    "newhomie/errors/sale_search/BlockedPage": 1,
    "newhomie/errors/profile/PageTimeout": 1,
    "newhomie/blocked": 7,
    "newhomie/blocked/status_403": 7,
    "newhomie/price/parsed": 1500,
    "newhomie/price/unparsed": 30,
    "newhomie/browser/restarts": 2,
    "newhomie/db/rows_rejected": 4,
    "newhomie/db/rows_written": 1630,
    "newhomie/health/reasons": ["left from an earlier close"],  # not an int: ignored
}

SUMMARY = {
    "localities": {"done": 10, "not_found": 1, "failed": 1},
    "localities_planned": 12,
    "localities_incomplete": 0,
    "listings": {"sale": 812, "rent": 410, "sold": 388},
    "suburb_profiles": 11,
    "pages": {
        "profile": {"ok": 11, "not_found": 1},
        "sale": {"ok": 190, "error": 2, "blocked": 1},
        "rent": {"ok": 101},
        "sold": {"ok": 95},
    },
    "pages_total": 401,
    "crawl_kind": "incremental",
    "pages_saved": {"sold": 120, "profile": 4},
    "errors": {"sale_search": 3, "profile": 1},
    "errors_by_type": {"PageError": 2, "BlockedPage": 1, "PageTimeout": 1},
    "errors_total": 4,
    "blocked": 7,
    "prices_parsed": 1500,
    "unparsed_prices": 30,
    "browser_restarts": 2,
    "rows_rejected": 4,
    "rows_written": 1630,
    "rows_unwritten": 0,
    "rows_unstorable": 0,
    "unwritten_files": [],
    "duration_seconds": 1234.6,
    "finish_reason": "finished",
}


# --- The summary ----------------------------------------------------------------------------------


def test_a_runs_stats_are_summarised() -> None:
    assert summarise(RUN_STATS) == SUMMARY


def test_a_run_that_did_nothing_is_all_zeros() -> None:
    summary = summarise({})
    assert summary["localities"] == {"done": 0, "not_found": 0, "failed": 0}
    assert summary["listings"] == {"sale": 0, "rent": 0, "sold": 0}
    assert summary["pages"] == {}
    assert summary["errors"] == {}
    assert summary["pages_total"] == summary["errors_total"] == summary["blocked"] == 0
    assert summary["duration_seconds"] is None
    assert summary["finish_reason"] is None


def test_the_summary_is_told_in_one_line() -> None:
    assert format_summary(SUMMARY) == (
        "localities done 10, not found 1, failed 1; listings sale 812, rent 410, sold 388; "
        "suburb profiles 11; pages 401; crawl kind incremental, pages saved 124; "
        "errors by stage: profile 1, sale_search 3; blocks 7; "
        "browser restarts 2; rows written 1630; duration 1235 s"
    )
    quiet = summarise({})
    assert format_summary(quiet).endswith(
        "errors by stage: none; blocks 0; browser restarts 0; rows written 0; duration ?"
    )
    # Rows the database never took are said, with where they wait.
    lost = {**SUMMARY, "rows_unwritten": 25, "unwritten_files": ["/var/newhomie/unwritten/u-1.jsonl"]}
    assert "rows written 1630, NOT WRITTEN 25 (kept in /var/newhomie/unwritten/u-1.jsonl);" in format_summary(
        lost
    )


# --- The verdict ----------------------------------------------------------------------------------


def healthy_summary() -> dict[str, Any]:
    """100 pages, 100 localities, all within the default limits."""
    summary = deepcopy(SUMMARY)
    summary["localities"] = {"done": 98, "not_found": 0, "failed": 2}
    summary["localities_planned"] = 100
    summary["pages_total"] = 100
    summary["errors"] = {"sale_search": 5}
    summary["errors_total"] = 5
    summary["blocked"] = 10
    summary["prices_parsed"], summary["unparsed_prices"] = 95, 5
    return summary


def test_a_run_at_every_limit_is_healthy() -> None:
    verdict = judge(healthy_summary(), HealthLimits())
    assert verdict.healthy
    assert verdict.reasons == ()
    assert verdict.label == "healthy"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"finish_reason": "shutdown"}, "the crawl did not finish normally (shutdown)"),
        ({"finish_reason": "closespider_timeout"}, "did not finish normally (closespider_timeout)"),
        ({"listings": {"sale": 0, "rent": 0, "sold": 0}}, "0 listings, fewer than 1"),
        ({"errors_total": 6}, "6 errors in 100 pages (6.0% > 5.0%)"),
        ({"blocked": 11}, "11 block pages in 100 pages (11.0% > 10.0%)"),
        ({"unparsed_prices": 6}, "6 of 101 price texts gave no price (5.9% > 5.0%)"),
        (
            {"localities": {"done": 97, "not_found": 0, "failed": 3}},
            "3 of 100 localities failed (3.0% > 2.0%)",
        ),
        (
            {
                "localities": {"done": 0, "not_found": 0, "failed": 0},
                "listings": {"sale": 0, "rent": 0, "sold": 0},
            },
            "none of the 100 planned localities was crawled",
        ),
        (
            {"rows_unwritten": 25, "unwritten_files": ["/x/unwritten-1.jsonl"]},
            "25 rows could not be written to the database (kept in /x/unwritten-1.jsonl; the next run writes",
        ),
        ({"rows_unstorable": 2}, "2 rows the database refused could not be kept in rejected_item either"),
    ],
)
def test_each_broken_limit_is_said_alone(change: dict[str, Any], reason: str) -> None:
    summary = {**healthy_summary(), **change}
    verdict = judge(summary, HealthLimits())
    assert not verdict.healthy
    assert verdict.label == "unhealthy"
    assert len(verdict.reasons) == 1, verdict.reasons
    assert reason in verdict.reasons[0]


def test_no_listings_is_fine_when_no_locality_was_there() -> None:
    summary = {
        **healthy_summary(),
        "localities": {"done": 0, "not_found": 3, "failed": 0},
        "listings": {"sale": 0, "rent": 0, "sold": 0},
    }
    assert judge(summary, HealthLimits()).healthy


def test_limits_are_the_runs_to_choose() -> None:
    summary = {**healthy_summary(), "errors_total": 40, "blocked": 50}
    assert len(judge(summary, HealthLimits()).reasons) == 2
    relaxed = HealthLimits(max_error_rate=0.5, max_block_rate=0.5)
    assert judge(summary, relaxed).healthy
    assert judge(healthy_summary(), HealthLimits(min_listings=10_000)).reasons == (
        "1610 listings, fewer than 10000",
    )


def test_a_run_without_pages_is_judged_without_dividing_by_zero() -> None:
    summary = {**summarise({"finish_reason": "finished"})}
    assert judge(summary, HealthLimits()).healthy
    summary["errors_total"] = 1  # an error before any page: one error "per page"
    assert judge(summary, HealthLimits()).reasons == ("1 errors in 1 pages (100.0% > 5.0%)",)


# --- The extension --------------------------------------------------------------------------------


def test_the_extension_reads_its_limits_from_the_settings() -> None:
    crawler = get_crawler(
        settings_dict={"NEWHOMIE_HEALTH_MAX_ERROR_RATE": "0.5", "NEWHOMIE_HEALTH_MIN_LISTINGS": "7"}
    )
    extension = RunSummary.from_crawler(crawler)
    assert extension.limits == HealthLimits(min_listings=7, max_error_rate=0.5)


def test_at_close_the_extension_leaves_summary_and_verdict_in_the_stats(
    caplog: pytest.LogCaptureFixture,
) -> None:
    crawler = get_crawler()
    extension = RunSummary.from_crawler(crawler)
    assert crawler.stats is not None
    stats = {k: v for k, v in RUN_STATS.items() if k != "finish_reason"}
    crawler.stats.set_stats(dict(stats))
    with caplog.at_level(logging.INFO, logger="newhomie.watch.summary"):
        extension.spider_closed("finished")
    assert crawler.stats.get_value("newhomie/summary") == SUMMARY
    # 4 errors in 401 pages, 7 blocks, 30 of 1530 prices: healthy; 1 of 12 localities failed: not.
    assert crawler.stats.get_value("newhomie/health/healthy") == 0
    assert crawler.stats.get_value("newhomie/health/reasons") == ["1 of 12 localities failed (8.3% > 2.0%)"]
    assert f"run summary: {format_summary(SUMMARY)}" in caplog.text
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.getMessage() == "health verdict: UNHEALTHY: 1 of 12 localities failed (8.3% > 2.0%)"
