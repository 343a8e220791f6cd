"""Every page of the site is rendered in the browser, which loads only what the crawler reads.

`PageContextMiddleware` (DOWNLOADER_MIDDLEWARES 50) asks scrapy-playwright for each request, waiting
for `domcontentloaded` (the JSON is in the first HTML response) and then for the page's data
(`page_ready.NextDataWait`); it drops requests a JOBDIR queue restored from an earlier, interrupted
run (their locality is crawled afresh). `should_abort_request` (PLAYWRIGHT_ABORT_REQUEST) keeps
images, fonts and media out.
"""

from __future__ import annotations

from typing import Self

from playwright.async_api import Request as PlaywrightRequest
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy_playwright.page import PageMethod

from newhomie.browser.page_ready import NextDataWait

#: The name of the page method whose result says whether the data came (read by the challenge middleware).
NEXT_DATA_METHOD = "next_data"
# Nothing the crawler reads is in these; skipping them saves most of a page's bytes.
ABORTED_RESOURCE_TYPES = frozenset({"image", "font", "media"})


def should_abort_request(request: PlaywrightRequest) -> bool:
    return request.resource_type in ABORTED_RESOURCE_TYPES


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
