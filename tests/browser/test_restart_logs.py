"""End to end: a browser restart is quiet, and a crawl runs one Playwright driver.

A restart closes the browser while scrapy-playwright's route handlers may still be asking it something
(each request's headers). Playwright logs an exception escaping such a listener at ERROR and raises it
again from the crawl's next Playwright call; `newhomie.browser.handler.PlaywrightHandler` stops those handlers
quietly instead, and lets any other listener exception through to Playwright.

The race is made certain rather than left to chance: the crawl's PLAYWRIGHT_ABORT_REQUEST (which
scrapy-playwright awaits inside its route handler, before the header look-up) is one of the hooks below,
imported by the crawl's own process from this module.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from pathlib import Path

import psutil
import pytest
from playwright.async_api import Request as PlaywrightRequest

from newhomie.browser.handler import LISTENER_ERRORS_AFTER_CLOSE_STAT
from newhomie.browser.rendering import should_abort_request
from newhomie.testing.fakesite import RunningSite
from tests.browser.test_healing import (
    browser_pids,
    crawl_through_a_hung_page,
    localities_of,
    only_run,
    wait_until,
)
from tests.crawling import (
    assert_database_holds_ground_truth,
    fetch_all,
    run_crawl,
    start_crawl,
)

pytestmark = pytest.mark.e2e

#: A line of Scrapy's log format at level ERROR, from any logger: `2026-11-21 14:06:36 [name] ERROR: ...`.
ERROR_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[([^\]]+)\] ERROR: .*$", re.MULTILINE)
#: The command line of Playwright's node driver: `node .../playwright/driver/package/cli.js run-driver`.
DRIVER_ARGUMENT = "run-driver"

# The stylesheets a hook below has taken (in the crawl's process): only the first is held or failed.
_taken: set[str] = set()


async def ask_the_browser_until_it_is_closed(request: PlaywrightRequest) -> bool:
    """PLAYWRIGHT_ABORT_REQUEST: the route handler of the crawl's first stylesheet keeps asking the
    browser (the context's cookies) until the browser is closed under it, so that it is mid-call when a
    restart comes, as scrapy-playwright's own header look-up sometimes is."""
    if request.resource_type == "stylesheet" and not _taken:
        _taken.add(request.url)
        context = request.frame.page.context
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            await context.cookies()  # TargetClosedError once a restart has closed the browser
            await asyncio.sleep(0.02)
        raise TimeoutError("the browser was not restarted within 60 s")
    return should_abort_request(request)


async def fail_on_the_first_stylesheet(request: PlaywrightRequest) -> bool:
    """PLAYWRIGHT_ABORT_REQUEST: a listener bug, on a page nobody closed."""
    if request.resource_type == "stylesheet" and not _taken:
        _taken.add(request.url)
        raise ValueError("a listener bug, not a closed page")
    return should_abort_request(request)


def error_lines(log: str) -> list[str]:
    return [match.group() for match in ERROR_LINE.finditer(log)]


def test_a_restart_under_a_running_route_handler_logs_no_error_and_loses_nothing(
    fakesite: RunningSite, database_url: str, tmp_path: Path
) -> None:
    site = fakesite.site
    result = crawl_through_a_hung_page(
        fakesite,
        database_url,
        tmp_path / "crawl.log",
        {"PLAYWRIGHT_ABORT_REQUEST": f"{__name__}.ask_the_browser_until_it_is_closed"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    stats = only_run(database_url)["stats"]
    assert stats["newhomie/browser/restarts"] >= 1
    # The race happened: a route handler was running when its browser was closed ...
    assert stats[LISTENER_ERRORS_AFTER_CLOSE_STAT] >= 1
    # ... and nothing said ERROR: not Playwright about its listener, nor anything after.
    assert error_lines(result.stderr) == []
    assert "Error occurred in event listener" not in result.stderr
    assert_database_holds_ground_truth(site, database_url, fakesite.base_url)
    profiles = fetch_all(database_url, "SELECT locality_slug FROM suburb_profile")
    assert len(profiles) == len(site.localities())


def test_any_other_listener_exception_is_still_logged_at_error(
    fakesite: RunningSite, database_url: str
) -> None:
    site = fakesite.site
    result = run_crawl(
        fakesite.base_url,
        database_url,
        site.locality_strings()[0],
        "-a",
        "kinds=sale",
        settings={
            "PLAYWRIGHT_ABORT_REQUEST": f"{__name__}.fail_on_the_first_stylesheet",
            # Playwright raises the listener's exception again from the next call, often another route
            # handler's, whose page then waits out its navigation timeout: a short one.
            "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": "3000",
            # What a listener bug does to the rest of the crawl is Playwright's affair; its report is ours.
            "NEWHOMIE_HEALTH_MAX_ERROR_RATE": "1",
            "NEWHOMIE_HEALTH_MAX_FAILED_LOCALITIES": "1",
        },
    )
    errors = error_lines(result.stderr)
    assert any("[playwright] ERROR: Error occurred in event listener" in line for line in errors), errors
    assert "ValueError: a listener bug, not a closed page" in result.stderr
    stats = only_run(database_url)["stats"]
    assert LISTENER_ERRORS_AFTER_CLOSE_STAT not in stats


def driver_processes(root: int) -> list[psutil.Process]:
    """Playwright's node drivers under a crawl's process."""
    drivers = []
    for child in psutil.Process(root).children(recursive=True):
        try:
            if DRIVER_ARGUMENT in child.cmdline():
                drivers.append(child)
        except psutil.Error:
            continue  # exited meanwhile: not a driver of the running crawl
    return drivers


def test_a_crawl_runs_one_playwright_driver_and_its_browser_is_that_drivers(
    fakesite: RunningSite, database_url: str, tmp_path: Path
) -> None:
    site = fakesite.site
    site.faults.slow_seconds = 0.2  # a crawl long enough to be looked at while it runs
    log_path = tmp_path / "crawl.log"
    crawl = start_crawl(fakesite.base_url, database_url, localities_of(site), log_path=log_path)
    try:
        wait_until(lambda: bool(browser_pids(crawl.pid)), 60, "a browser")
        drivers = driver_processes(crawl.pid)
        assert len(drivers) == 1, [" ".join(driver.cmdline()) for driver in drivers]
        [driver] = drivers
        for pid in browser_pids(crawl.pid):
            assert psutil.Process(pid).ppid() == driver.pid
        # The one handler serves both schemes and is closed once: the crawl ends cleanly.
        assert crawl.wait(timeout=240) == 0, log_path.read_text()[-3000:]
    finally:
        if crawl.poll() is None:
            os.killpg(crawl.pid, signal.SIGKILL)
    log = log_path.read_text()
    assert log.count("Starting download handler") == 1
    assert error_lines(log) == []
