"""A page that hung or whose browser died: the browser is replaced and the page tried again
(DOWNLOADER_MIDDLEWARES 570)."""

from __future__ import annotations

import logging
import re
from typing import Self

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from scrapy import Request
from scrapy.crawler import Crawler

from newhomie import signals
from newhomie.browser.handler import PageTimeout
from newhomie.browser.retries import retry_apart
from newhomie.context import log_context

logger = logging.getLogger(__name__)

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
        logger.warning("%s (%s: %s)", failure, type(exception).__name__, message, extra=log_context(request))
        if failure != "page":
            self.crawler.signals.send_catch_log(
                signals.browser_restart_requested,
                reason=f"{failure} on {request.url}: {type(exception).__name__}",
                generation=request.meta.get("browser_generation"),
            )
        return retry_apart(request, "browser_retries", self.max_retries, f"browser {failure}", self.stats)
