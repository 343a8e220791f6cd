"""What happens around a download: rendering in the browser, bot protection, browser failures, pace.

In DOWNLOADER_MIDDLEWARES order:
- PageContextMiddleware (50): renders every page in the browser, waiting only for what is read;
  drops requests left in a JOBDIR queue by an earlier, interrupted run (see `newhomie.crawl_plan`).
- PaceMiddleware (540): holds every request while the site asked us to wait (Retry-After) or
  while blocks are backed off, so that a run of blocks slows the whole crawl.
- ChallengeMiddleware (560): tells a page that passed the in-browser challenge from a block page;
  a block is retried in a fresh browser context after the back-off.
- BrowserFailureMiddleware (570): a hang or crash restarts the browser; the page is tried again.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import time
from email.utils import parsedate_to_datetime
from typing import Any, Self

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from scrapy_playwright.page import PageMethod

from newhomie import signals
from newhomie.browser import NextDataWait
from newhomie.handler import PageTimeout
from newhomie.site import BlockedPage, is_blocked_body

logger = logging.getLogger(__name__)

NEXT_DATA_METHOD = "next_data"


def request_context(request: Request) -> str:
    """`locality=... stage=... url=...`, for every log line about a page."""
    meta = request.meta
    return f"locality={meta.get('locality', '-')!s} stage={meta.get('stage', '-')} url={request.url}"


def retry_apart(
    request: Request, counter: str, limit: int, reason: str, stats: StatsCollector
) -> Request | None:
    """The request again, counted in its own meta `counter` (not Scrapy's `retry_times`): blocks and
    browser failures must not use up the retries a server error is given, nor the other way round."""
    tries = request.meta.get(counter, 0) + 1
    if tries > limit:
        stats.inc_value(f"retry/max_reached/{counter}")
        logger.warning("gave up after %d tries (%s): %s", tries - 1, reason, request_context(request))
        return None
    retry = request.copy()
    retry.meta[counter] = tries
    retry.dont_filter = True
    stats.inc_value("retry/count")
    stats.inc_value(f"retry/reason_count/{reason}")
    logger.debug("retrying (%s, try %d of %d): %s", reason, tries, limit, request_context(request))
    return retry


class PageContextMiddleware:
    """Renders every page of the site in the browser, waiting only for what the crawler reads.

    Navigation stops at `domcontentloaded` (the JSON is in the first HTML response); then the
    page is given time to show its `__NEXT_DATA__` (the bot-protection challenge reloads once).
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.wait = NextDataWait(
            settings.getfloat("NEWHOMIE_NEXT_DATA_TIMEOUT"),
            settings.getfloat("NEWHOMIE_BLOCK_SETTLE_SECONDS", 5.0),
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if request.meta.get("playwright") is False:
            return
        run = getattr(self.crawler.spider, "run_token", None)
        if run and request.meta.get("run", run) != run:
            # Restored from JOBDIR: the resumed run starts each unfinished locality afresh.
            request.meta["stale"] = True
            self.crawler.stats.inc_value("newhomie/resume/dropped_requests")
            raise IgnoreRequest("a request of an interrupted run; its locality is crawled afresh")
        request.meta["playwright"] = True
        request.meta.setdefault("playwright_page_goto_kwargs", {"wait_until": "domcontentloaded"})
        request.meta.setdefault("playwright_page_methods", {NEXT_DATA_METHOD: PageMethod(self.wait)})


class PaceMiddleware:
    """One pace for the whole crawl: after a block or a Retry-After, every request waits.

    The pause after a block doubles with each block in a row (NEWHOMIE_BLOCK_BACKOFF, up to
    NEWHOMIE_BLOCK_BACKOFF_MAX) and a good page ends the run of blocks. A Retry-After (seconds
    or an HTTP date, on 429/503 or on a block page) is honoured up to NEWHOMIE_RETRY_AFTER_MAX.
    The download slot's delay is raised too, so AutoThrottle comes back down gradually.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        assert crawler.stats is not None
        self.crawler = crawler
        self.stats: StatsCollector = crawler.stats
        self.backoff = settings.getfloat("NEWHOMIE_BLOCK_BACKOFF", 30.0)
        self.backoff_max = settings.getfloat("NEWHOMIE_BLOCK_BACKOFF_MAX", 600.0)
        self.retry_after_max = settings.getfloat("NEWHOMIE_RETRY_AFTER_MAX", 900.0)
        self.max_delay = settings.getfloat("AUTOTHROTTLE_MAX_DELAY", 60.0)
        self.blocks_in_a_row = 0
        self.resume_at = 0.0  # time.monotonic() before which no request leaves
        crawler.signals.connect(self.page_blocked, signal=signals.page_blocked)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        # Polled rather than an Event: a later block may extend the pause while this one waits.
        while True:
            wait = self.resume_at - time.monotonic()
            if wait <= 0:
                return
            await asyncio.sleep(min(wait, 5.0))

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status == 200:
            self.blocks_in_a_row = 0
        elif response.status in (429, 503):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if retry_after is not None:
                self.pause(
                    min(retry_after, self.retry_after_max), f"Retry-After on {response.status}", request
                )
        return response

    def page_blocked(self, url: str, retry_after: float | None = None) -> None:
        self.blocks_in_a_row += 1
        if retry_after is not None:
            self.pause(min(retry_after, self.retry_after_max), "Retry-After on a block page", None, url)
        else:
            seconds = min(self.backoff * 2 ** (self.blocks_in_a_row - 1), self.backoff_max)
            self.pause(seconds, f"{self.blocks_in_a_row} blocks in a row", None, url)

    def pause(self, seconds: float, why: str, request: Request | None, url: str | None = None) -> None:
        self.resume_at = max(self.resume_at, time.monotonic() + seconds)
        self.stats.inc_value("newhomie/pace/pauses")
        self.stats.inc_value("newhomie/pace/pause_ms", round(seconds * 1000))
        logger.warning(
            "pausing the crawl for %.1f s (%s): url=%s", seconds, why, request.url if request else url
        )
        engine = self.crawler.engine
        if engine is not None:
            for slot in engine.downloader.slots.values():
                slot.delay = min(max(slot.delay * 2, 1.0), self.max_delay)


def parse_retry_after(value: bytes | str | None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds, or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        logger.warning("unreadable Retry-After header %r", text)
        return None
    return max(0.0, moment.timestamp() - time.time())


class ChallengeMiddleware:
    """Tells a real page that passed the in-browser challenge from a block page.

    A page that showed its `__NEXT_DATA__` after the challenge's reload gets the status of the page
    finally shown (the first navigation answered 403). A page that never showed it is a block:
    counted, logged with its locality and URL, announced (the pace middleware pauses the crawl),
    and retried in a fresh browser context (new cookies); when retries are spent, it goes to the
    request's errback as `BlockedPage` so that it is recorded, never silently dropped.
    """

    def __init__(self, crawler: Crawler) -> None:
        assert crawler.stats is not None
        self.stats = crawler.stats
        self.crawler = crawler
        self.max_retries = crawler.settings.getint("NEWHOMIE_BLOCK_RETRIES", 3)
        self.fresh_contexts = itertools.count(1)
        # 429 is bot protection's; the other retried codes are the server's own trouble.
        self.server_errors = {404} | {int(c) for c in crawler.settings.getlist("RETRY_HTTP_CODES")} - {429}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if "playwright" not in response.flags:
            return response
        method = (request.meta.get("playwright_page_methods") or {}).get(NEXT_DATA_METHOD)
        result: dict[str, Any] = getattr(method, "result", None) or {}
        final_status = result.get("final_status")
        if final_status and final_status != response.status:
            # The challenge reloaded the page: what counts is the document finally shown.
            if result.get("found"):
                self.stats.inc_value("newhomie/challenge/passed")
            response = response.replace(status=final_status)
        if result.get("found"):
            return response
        if response.status in self.server_errors or not is_blocked_body(response.text):
            # A 404 is the site's answer; a 5xx is a server error that the retry middleware retries.
            return response
        self.stats.inc_value("newhomie/blocked")
        self.stats.inc_value(f"newhomie/blocked/status_{response.status}")
        logger.warning("blocked page (status %s): %s", response.status, request_context(request))
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        self.crawler.signals.send_catch_log(signals.page_blocked, url=request.url, retry_after=retry_after)
        retry = retry_apart(request, "block_retries", self.max_retries, "blocked", self.stats)
        if retry is not None:
            # A context of its own (fresh cookies, a fresh challenge), closed with its locality's.
            base = request.meta.get("playwright_context", "default").split(".b")[0]
            retry.meta["playwright_context"] = f"{base}.b{next(self.fresh_contexts)}"
            return retry
        raise BlockedPage(
            f"still blocked after {self.max_retries} retries (status {response.status})", url=request.url
        )


# Failures that point at the browser rather than at the page: it hung, crashed or was killed.
_BROWSER_GONE = re.compile(r"closed|crash|disconnect|createTarget|Target", re.IGNORECASE)


def browser_failure(exception: BaseException) -> str | None:
    """ "hang" or "crash" when the exception says the browser is unwell, else None."""
    if isinstance(exception, PageTimeout | PlaywrightTimeoutError):
        return "hang"
    if isinstance(exception, PlaywrightError) and _BROWSER_GONE.search(str(exception)):
        return "crash"
    return None


class BrowserFailureMiddleware:
    """A page that hung or whose browser died: the browser is replaced and the page tried again.

    Retrying inside a stuck browser does not help (docs/site.md#bot-protection); a restart does. The
    restart is asked once per browser generation, so a burst of failures from one stuck browser
    restarts it once.
    Other Playwright errors (net::ERR_..., the site down) are retried like any download error.
    """

    def __init__(self, crawler: Crawler) -> None:
        assert crawler.stats is not None
        self.crawler = crawler
        self.stats = crawler.stats
        self.max_retries = crawler.settings.getint("NEWHOMIE_BROWSER_RETRIES", 3)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if not isinstance(exception, PlaywrightError | PageTimeout):
            return None
        failure = browser_failure(exception) or "page"
        message = " ".join(str(exception).split())[:300]
        self.stats.inc_value(f"newhomie/browser/failures/{failure}")
        logger.warning(
            "%s (%s: %s): %s", failure, type(exception).__name__, message, request_context(request)
        )
        if failure != "page":
            self.crawler.signals.send_catch_log(
                signals.browser_restart_requested,
                reason=f"{failure} on {request.url}: {type(exception).__name__}",
                generation=request.meta.get("browser_generation"),
            )
        return retry_apart(request, "browser_retries", self.max_retries, f"browser {failure}", self.stats)
