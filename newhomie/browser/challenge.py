"""A page that passed the in-browser bot-protection challenge, or a block page
(DOWNLOADER_MIDDLEWARES 560; docs/site.md#bot-protection)."""

from __future__ import annotations

import itertools
import logging
from typing import Any, Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from newhomie import signals
from newhomie.browser.pace import parse_retry_after
from newhomie.browser.rendering import NEXT_DATA_METHOD
from newhomie.browser.retries import retry_apart
from newhomie.context import log_context
from newhomie.site import BlockedPage, is_blocked_body

logger = logging.getLogger(__name__)


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
        logger.warning("blocked page (status %s)", response.status, extra=log_context(request))
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
