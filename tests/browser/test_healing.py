"""End to end: the crawl heals itself. Each test makes the local site (or the browser) misbehave,
lets the real `scrapy crawl listings` run to its end, and checks that the database then holds
exactly the site's ground truth, and that the healing shows in the run's stats."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from newhomie.browser.handler import BROWSER_PROCESS_NAMES
from newhomie.testing.fakesite import FakeSite, Kind, RunningSite
from newhomie.testing.fixtures import FakeSiteFactory
from tests.crawling import (
    assert_database_holds_ground_truth,
    fetch_all,
    run_crawl,
    run_crawl_reacting,
    start_crawl,
)

pytestmark = pytest.mark.e2e

# The local site's localities, crawled with fewer kinds where a test needs pages, not breadth.
SALE_RENT: tuple[Kind, ...] = ("sale", "rent")


def only_run(database_url: str) -> dict[str, Any]:
    [run] = fetch_all(database_url, "SELECT * FROM crawl_run")
    return run


def localities_of(site: FakeSite) -> str:
    return ";".join(site.locality_strings())


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def crawl_through_a_hung_page(
    fakesite: RunningSite, database_url: str, log_path: Path, settings: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A crawl of the site whose first suburb profile hangs until the log says the browser is being
    replaced (a condition, so a loaded machine only makes it later)."""
    site = fakesite.site
    stuck = f"/suburb-profile/{site.localities()[0].slug}"
    site.faults.hang_paths.add(stuck)
    return run_crawl_reacting(
        fakesite.base_url,
        database_url,
        localities_of(site),
        when="restarting the browser",
        then=lambda: site.faults.hang_paths.discard(stuck),
        log_path=log_path,
        settings={
            "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": "2000",
            "DOWNLOAD_TIMEOUT": "15",
            **(settings or {}),
        },
    )


def test_a_hung_page_restarts_the_browser_and_the_page_is_read_afterwards(
    fakesite: RunningSite, database_url: str, tmp_path: Path
) -> None:
    site = fakesite.site
    result = crawl_through_a_hung_page(fakesite, database_url, tmp_path / "crawl.log")
    assert result.returncode == 0, result.stderr[-3000:]
    assert_database_holds_ground_truth(site, database_url, fakesite.base_url)
    stats = only_run(database_url)["stats"]
    assert stats["newhomie/browser/restarts"] >= 1
    assert stats["newhomie/browser/failures/hang"] >= 1
    assert "restarting the browser: hang on" in result.stderr
    profiles = fetch_all(database_url, "SELECT locality_slug FROM suburb_profile")
    assert len(profiles) == len(site.localities())


def test_server_errors_and_slow_answers_are_retried(fakesite: RunningSite, database_url: str) -> None:
    site = fakesite.site
    site.faults.fail_5xx_every = 4
    site.faults.slow_seconds = 0.2
    result = run_crawl(fakesite.base_url, database_url, localities_of(site), "-a", "kinds=sale,rent")
    assert result.returncode == 0, result.stderr[-3000:]
    assert any(r.fault == "5xx" for r in site.served.snapshot())
    assert_database_holds_ground_truth(site, database_url, fakesite.base_url, SALE_RENT)
    stats = only_run(database_url)["stats"]
    assert stats["retry/reason_count/503 Service Unavailable"] >= 1
    assert "newhomie/blocked" not in stats  # a server error is not bot protection


def test_pages_broken_for_a_while_heal_when_failed_localities_are_retried_at_the_end(
    fakesite: RunningSite, database_url: str
) -> None:
    site = fakesite.site
    site.faults.truncate_json_every = 3
    site.faults.max_each = 3
    result = run_crawl(
        fakesite.base_url,
        database_url,
        localities_of(site),
        "-a",
        "kinds=sale,rent",
        # Three broken pages in a small run are a high error rate; healing, not health, is judged here.
        settings={"NEWHOMIE_HEALTH_MAX_ERROR_RATE": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert_database_holds_ground_truth(site, database_url, fakesite.base_url, SALE_RENT)
    errors = fetch_all(database_url, "SELECT * FROM crawl_error")
    assert len(errors) == 3
    outcomes = fetch_all(database_url, "SELECT * FROM locality_crawl")
    failed_once = {e["locality"] for e in errors}
    assert {r["locality"]: r["attempts"] for r in outcomes} == {
        name: 2 if name in failed_once else 1 for name in site.locality_strings()
    }
    assert {r["status"] for r in outcomes} == {"done"}
    assert (
        "retrying 1 failed localities" in result.stderr
        or "retrying 2 failed localities" in result.stderr
        or ("retrying 3 failed localities" in result.stderr)
    )
    run = only_run(database_url)
    summary = run["summary"]
    assert summary["localities"] == {"done": 3, "not_found": 0, "failed": 0}
    # The summary counts rows, each once, though a retried locality stored its listings again.
    stored = fetch_all(database_url, "SELECT listing_type, count(*) AS n FROM listing GROUP BY listing_type")
    by_type = {r["listing_type"]: r["n"] for r in stored}
    assert summary["listings"] == {"sale": 0, "rent": 0, "sold": 0} | by_type
    items = sum(run["stats"].get(f"newhomie/items/listing/{kind}", 0) for kind in SALE_RENT)
    assert items >= sum(summary["listings"].values())


def test_a_429_pauses_the_whole_crawl_for_its_retry_after(fakesite: RunningSite, database_url: str) -> None:
    site = fakesite.site
    site.faults.rate_limit_every = 5
    site.faults.retry_after = 1.5
    site.faults.max_each = 2
    result = run_crawl(
        fakesite.base_url,
        database_url,
        localities_of(site),
        "-a",
        "kinds=sale,rent",
        settings={
            "CONCURRENT_REQUESTS": "1",
            "NEWHOMIE_BLOCK_SETTLE_SECONDS": "0.3",
            # Two 429s in a small run are a high block rate; the pause, not health, is judged here.
            "NEWHOMIE_HEALTH_MAX_BLOCK_RATE": "1",
        },
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert_database_holds_ground_truth(site, database_url, fakesite.base_url, SALE_RENT)
    served = site.served.snapshot()
    limited = [r for r in served if r.fault == "429"]
    assert len(limited) == 2
    for answer in limited:
        after = [r for r in served if r.monotonic > answer.monotonic]
        assert after, "the crawl went on"
        assert after[0].monotonic - answer.monotonic >= 1.5 - 0.1, "Retry-After was not honoured"
    stats = only_run(database_url)["stats"]
    assert stats["newhomie/pace/pauses"] >= 2
    assert "pausing the crawl for 1.5 s (Retry-After on a block page)" in result.stderr


def test_a_run_of_blocks_slows_the_crawl_and_blocked_pages_are_retried_in_a_fresh_context(
    fakesite: RunningSite, database_url: str
) -> None:
    site = fakesite.site
    site.faults.block_every = 4
    site.faults.max_each = 3
    result = run_crawl(
        fakesite.base_url,
        database_url,
        localities_of(site),
        "-a",
        "kinds=sale,rent",
        settings={
            "CONCURRENT_REQUESTS": "1",
            "NEWHOMIE_BLOCK_SETTLE_SECONDS": "0.3",
            "NEWHOMIE_BLOCK_BACKOFF": "0.5",
            "NEWHOMIE_HEALTH_MAX_BLOCK_RATE": "1",
        },
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert_database_holds_ground_truth(site, database_url, fakesite.base_url, SALE_RENT)
    served = site.served.snapshot()
    blocks = [r for r in served if r.fault == "block"]
    assert len(blocks) == 3
    for block in blocks:
        after = [r for r in served if r.monotonic > block.monotonic]
        assert after[0].monotonic - block.monotonic >= 0.5 - 0.1, "no back-off after a block"
        # The retry came from a fresh browser context: it went through the cookie challenge again.
        retried = [r for r in after if (r.path, r.query) == (block.path, block.query)]
        assert retried[0].page_kind == "challenge"
        assert retried[1].status == 200
    stats = only_run(database_url)["stats"]
    assert stats["newhomie/blocked"] == 3
    assert stats["newhomie/pace/pauses"] == 3


def browser_pids(root: int) -> list[int]:
    """Top-level browser processes under a crawl's process."""
    found = []
    for child in psutil.Process(root).children(recursive=True):
        try:
            name, parent = child.name(), child.parent()
        except psutil.Error:
            continue
        if any(n in name for n in BROWSER_PROCESS_NAMES) and not (
            parent and any(n in parent.name() for n in BROWSER_PROCESS_NAMES)
        ):
            found.append(child.pid)
    return found


def test_killing_chromium_in_the_middle_of_a_crawl_loses_nothing(
    fakesite: RunningSite, database_url: str, tmp_path: Path
) -> None:
    site = fakesite.site
    site.faults.slow_seconds = 0.2  # long enough a crawl to kill its browser in the middle
    crawl = start_crawl(fakesite.base_url, database_url, localities_of(site), log_path=tmp_path / "crawl.log")
    try:
        wait_until(lambda: len(site.served.snapshot()) >= 6, 60, "the crawl to get going")
        wait_until(lambda: bool(browser_pids(crawl.pid)), 10, "a browser")
        killed = browser_pids(crawl.pid)
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        served_at_kill = len(site.served.snapshot())
        assert crawl.wait(timeout=240) == 0, (tmp_path / "crawl.log").read_text()[-3000:]
    finally:
        if crawl.poll() is None:
            os.killpg(crawl.pid, signal.SIGKILL)
    assert len(site.served.snapshot()) > served_at_kill, "the crawl went on after the kill"
    assert_database_holds_ground_truth(site, database_url, fakesite.base_url)
    stats = only_run(database_url)["stats"]
    assert stats["newhomie/browser/disconnected"] >= 1
    assert stats["playwright/browser_count"] >= 2, "a fresh browser was started"


def test_jobdir_resumes_a_hard_killed_crawl_and_every_locality_is_done_once(
    fakesite_factory: FakeSiteFactory, database_url: str, tmp_path: Path
) -> None:
    running = fakesite_factory(localities=5, seed=3)
    site = running.site
    site.faults.slow_seconds = 0.15
    jobdir = tmp_path / "job"
    args = ("-a", "kinds=sale,rent", "-s", f"JOBDIR={jobdir}")
    settings = {"NEWHOMIE_LOCALITIES_AT_ONCE": "1"}
    first = start_crawl(
        running.base_url,
        database_url,
        localities_of(site),
        *args,
        settings=settings,
        log_path=tmp_path / "1.log",
    )
    try:
        wait_until(
            lambda: len(fetch_all(database_url, "SELECT 1 FROM locality_crawl")) >= 2,
            120,
            "two localities done",
        )
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    done_before = {r["locality_slug"] for r in fetch_all(database_url, "SELECT * FROM locality_crawl")}
    assert 2 <= len(done_before) < 5
    served_before = len(site.served.snapshot())

    second = run_crawl(running.base_url, database_url, localities_of(site), *args, settings=settings)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "resuming crawl" in second.stderr
    # What the killed run finished was not fetched again.
    again = {r.slug for r in site.served.snapshot()[served_before:] if r.slug}
    assert not again & done_before
    assert_database_holds_ground_truth(site, database_url, running.base_url, SALE_RENT)
    outcomes = fetch_all(database_url, "SELECT * FROM locality_crawl")
    assert sorted(r["locality_slug"] for r in outcomes) == sorted(loc.slug for loc in site.localities())
    assert {(r["status"], r["attempts"]) for r in outcomes} == {("done", 1)}
    runs = fetch_all(database_url, "SELECT crawl_key, status, health FROM crawl_run ORDER BY id")
    assert len({r["crawl_key"] for r in runs}) == 1
    # The killed run never said it ended: the next one, finding its process gone, ended it.
    assert [(r["status"], r["health"]) for r in runs] == [
        ("interrupted", "unhealthy"),
        ("finished", "healthy"),
    ]


def test_the_crawl_never_exceeds_the_configured_rate(fakesite: RunningSite, database_url: str) -> None:
    site = fakesite.site
    delay, jitter = 0.4, 0.5
    result = run_crawl(
        fakesite.base_url,
        database_url,
        localities_of(site),
        "-a",
        "kinds=profile,sale,rent",
        settings={
            "DOWNLOAD_DELAY": str(delay),
            "DOWNLOAD_DELAY_JITTER": str(jitter),
            "AUTOTHROTTLE_START_DELAY": "0",
        },
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # Each page the crawler asks for is one navigation; the challenge's reload is the browser's own.
    asked = sorted(
        r.monotonic for r in site.served.snapshot() if r.page_kind in ("search", "profile", "challenge")
    )
    reloads = sum(1 for r in site.served.snapshot() if r.page_kind == "challenge")
    assert len(asked) > 20
    shortest = delay * (1 - jitter)
    window = 3.0
    most = max(sum(1 for t in asked if start <= t < start + window) for start in asked)
    # At most one navigation per shortest delay, plus the reloads a window can hold, plus the edge.
    assert most <= window / shortest + reloads + 1, f"{most} pages in {window} s"


def test_a_locality_bigger_than_the_sites_1000_results_is_split_into_price_bands(
    fakesite_factory: FakeSiteFactory, database_url: str
) -> None:
    site = FakeSite(localities=0, seed=11)
    site.add_locality("Bigvale", "VIC", "3999", sale=3100, rent=0, sold=0)
    running = fakesite_factory(site=site)
    result = run_crawl(
        running.base_url,
        database_url,
        "Bigvale VIC 3999",
        "-a",
        "kinds=sale",
        settings={
            "CONCURRENT_REQUESTS": "6",
            "CONCURRENT_REQUESTS_PER_DOMAIN": "6",
            "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": "6",
        },
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert_database_holds_ground_truth(site, database_url, running.base_url, ("sale",))
    assert len(site.ground_truth("bigvale-vic-3999", "sale")) == 3100
    stats = only_run(database_url)["stats"]
    assert stats["newhomie/searches/split/sale"] >= 2
    assert "newhomie/searches/truncated/sale" not in stats
    assert "newhomie/searches/incomplete/sale" not in stats
    # Every band the crawler read fitted the site's 50 pages.
    banded = [r for r in site.served.snapshot() if r.page_kind == "search" and "price" in r.query]
    assert banded
    assert max(r.page or 1 for r in site.served.snapshot() if r.page_kind == "search") <= 50
    [outcome] = fetch_all(database_url, "SELECT * FROM locality_crawl")
    assert (outcome["status"], outcome["listings"]) == ("done", 3100)


def test_a_locality_whose_request_was_lost_is_ended_by_the_watchdog_and_healed_by_its_retry(
    fakesite: RunningSite, database_url: str
) -> None:
    site = fakesite.site
    lost_locality = site.localities()[1]
    result = run_crawl(
        fakesite.base_url,
        database_url,
        localities_of(site),
        "-a",
        "kinds=sale,rent",
        settings={
            "SPIDER_MIDDLEWARES": json.dumps({"newhomie.testing.lost_requests.LoseOneRequest": 100}),
            "NEWHOMIE_TEST_LOSE_URL": f"/rent/{lost_locality.slug}/",
            "NEWHOMIE_STALL_SECONDS": "3",
            # The lost request is one error in a small run; the watchdog, not health, is judged here.
            "NEWHOMIE_HEALTH_MAX_ERROR_RATE": "1",
            "NEWHOMIE_HEALTH_MAX_FAILED_LOCALITIES": "1",
        },
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (
        f"test fault: losing the request for {fakesite.base_url}/rent/{lost_locality.slug}/" in result.stderr
    )
    assert re.search(rf"locality {re.escape(str(lost_locality))}: lost track of 1 requests", result.stderr)
    # Its retry at the end of the run read everything, the lost page included.
    assert_database_holds_ground_truth(site, database_url, fakesite.base_url, SALE_RENT)
    outcomes = {r["locality_slug"]: r for r in fetch_all(database_url, "SELECT * FROM locality_crawl")}
    assert outcomes[lost_locality.slug]["attempts"] == 2
    assert {r["status"] for r in outcomes.values()} == {"done"}
    assert only_run(database_url)["stats"]["newhomie/localities/stalled"] == 1
