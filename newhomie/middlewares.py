"""What happens around a download: rendering through the browser, and bot-protection pages."""

from __future__ import annotations

import logging
from typing import Any, Self

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from scrapy_playwright.page import PageMethod

from newhomie.browser import NextDataWait
from newhomie.pages import BlockedPage, is_blocked_body

logger = logging.getLogger(__name__)

NEXT_DATA_METHOD = "next_data"


def request_context(request: Request) -> str:
    """`locality=... stage=... url=...`, for every log line about a page."""
    meta = request.meta
    return f"locality={meta.get('locality', '-')!s} stage={meta.get('stage', '-')} url={request.url}"


class PageContextMiddleware:
    """Renders every page of the site in the browser, waiting only for what the crawler reads.

    Navigation stops at `domcontentloaded` (the JSON is in the first HTML response); then the
    page is given time to show its `__NEXT_DATA__` (the bot-protection challenge reloads once).
    """

    def __init__(self, next_data_timeout: float) -> None:
        self.next_data_timeout = next_data_timeout

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.settings.getfloat("NEWHOMIE_NEXT_DATA_TIMEOUT"))

    def process_request(self, request: Request) -> None:
        if request.meta.get("playwright") is False:
            return
        request.meta["playwright"] = True
        request.meta.setdefault("playwright_page_goto_kwargs", {"wait_until": "domcontentloaded"})
        request.meta.setdefault(
            "playwright_page_methods", {NEXT_DATA_METHOD: PageMethod(NextDataWait(self.next_data_timeout))}
        )


class ChallengeMiddleware:
    """Tells a real page that passed the in-browser challenge from a block page.

    A page that showed its `__NEXT_DATA__` after the challenge's reload gets the status of the page
    finally shown (the first navigation answered 403). A page that never showed it is a block:
    counted, logged with its locality and URL, retried, and when retries are spent, handed to the
    request's errback as `BlockedPage` so that it is recorded, never silently dropped.
    """

    def __init__(self, stats: StatsCollector, crawler: Crawler) -> None:
        self.stats = stats
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        return cls(crawler.stats, crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if "playwright" not in response.flags:
            return response
        method = (request.meta.get("playwright_page_methods") or {}).get(NEXT_DATA_METHOD)
        result: dict[str, Any] = getattr(method, "result", None) or {}
        if result.get("found"):
            final_status = result.get("final_status")
            if final_status and final_status != response.status:
                self.stats.inc_value("newhomie/challenge/passed")
                return response.replace(status=final_status)
            return response
        if response.status == 404 or not is_blocked_body(response.text):
            return response
        self.stats.inc_value("newhomie/blocked")
        self.stats.inc_value(f"newhomie/blocked/status_{response.status}")
        logger.warning("blocked page (status %s): %s", response.status, request_context(request))
        spider = self.crawler.spider
        assert isinstance(spider, Spider)
        retry = get_retry_request(request, spider=spider, reason="blocked")
        if retry is not None:
            return retry
        raise BlockedPage(f"still blocked after retries (status {response.status})", url=request.url)
