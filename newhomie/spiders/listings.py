"""The `listings` spider: every locality's suburb profile and its sale, rent and sold searches, complete.

    scrapy crawl listings -a localities="Dandenong VIC 3175;Richmond VIC 3121"
    scrapy crawl listings -a localities=all | -a state=VIC | -a postcodes=3000-3207 | -a shard=3/90
        [-a limit=N] [-a kinds=profile,sale,rent,sold] [-a crawl=KEY] [-a recheck_missing=1] [-a full=1]

It orchestrates: the arguments (`newhomie.crawl.arguments`) say which localities (`crawl.plan`);
`crawl.admission` lets a few in at a time; each callback parses its page (`newhomie.site`) and hands it
to the locality's attempt (`crawl.progress`), which gives the page's items and the next pages to fetch,
which `crawl.requests` makes into requests. A crawl is incremental unless `-a full=1`: each locality
begins with what the database already holds of it (`crawl.increments`).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any, Self

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings
from scrapy_spider_metadata import Args
from twisted.python.failure import Failure

from newhomie import signals
from newhomie.crawl.admission import Admission
from newhomie.crawl.arguments import ArgumentError, CrawlArguments
from newhomie.crawl.engine import EngineState
from newhomie.crawl.increments import IncrementalReads
from newhomie.crawl.plan import CrawlPlan, crawl_key_for_jobdir, localities_to_crawl
from newhomie.crawl.progress import CrawlProgress, Fetch, LocalityCrawl
from newhomie.crawl.requests import PageRequests, context_name, ticket
from newhomie.localities import Locality
from newhomie.preflight import PreflightError
from newhomie.site import BlockedPage, parse_search_page, parse_suburb_profile

logger = logging.getLogger(__name__)


class ListingsSpider(Args[CrawlArguments], scrapy.Spider):
    name = "listings"
    metadata = {
        "title": "Listings",
        "description": "Every locality's suburb profile and its sale, rent and sold searches, complete.",
    }
    # A locality the site does not know is answered with its 404 page, which is read and recorded.
    handle_httpstatus_list = [404]
    # Made in from_crawler (the requests) and in start(), when the crawl's stats exist:
    pages: PageRequests
    progress: CrawlProgress
    admission: Admission
    reads: IncrementalReads

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # the arguments, checked, in self.args
        self.plan = CrawlPlan.of(self.args)
        self.arguments = self.plan.describe()  # stored with the run
        self.shard = self.args.shard_text
        self.crawl_key = self.args.crawl or ""
        self.run_token = secrets.token_hex(6)
        #: "incremental" unless `-a full=1` (or no database: then nothing is known). Stored with the run.
        self.crawl_kind = "full" if self.args.full else "incremental"

    @classmethod
    def preflight(cls, settings: BaseSettings, arguments: dict[str, str]) -> None:
        """Spider arguments checked before the crawl starts (see newhomie.commands.crawl)."""
        try:
            CrawlArguments.check(arguments)
        except ArgumentError as exc:
            raise PreflightError(f"bad spider argument: {exc}") from exc

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.crawl_key = spider.args.crawl or crawl_key_for_jobdir(settings.get("JOBDIR"))
        spider.arguments["crawl"] = spider.crawl_key
        spider.pages = PageRequests(
            settings.get("DOMAIN_BASE_URL"), spider.run_token, spider.parse_profile, spider.parse_search,
            spider.on_error,
        )  # fmt: skip
        return spider

    async def start(self) -> AsyncIterator[Any]:
        settings, stats = self.crawler.settings, self.crawler.stats  # stats exist once the crawl starts
        assert stats is not None
        self.progress = CrawlProgress(self.crawl_key, stats, on_finished=self.finished)
        self.admission = Admission(
            settings.getint("NEWHOMIE_LOCALITIES_AT_ONCE", 2),
            settings.getfloat("NEWHOMIE_STALL_SECONDS", 120.0),
            EngineState(self.crawler),
            abandon=self.progress.abandon_all,
        )
        use_database = settings.getbool("NEWHOMIE_DB_ENABLED", True)
        if not use_database:
            self.crawl_kind = "full"
        self.reads = IncrementalReads.of(
            self.crawl_kind == "incremental", settings.getfloat("NEWHOMIE_PROFILE_MAX_AGE_DAYS", 7.0),
            stats.inc_value,
        )  # fmt: skip
        stats.set_value("newhomie/crawl_kind", self.crawl_kind)
        todo = await asyncio.to_thread(localities_to_crawl, self.plan, self.crawl_key, use_database)
        logger.info("crawl %s: %d localities to crawl (%s)", self.crawl_key, len(todo), self.plan.summary)
        stats.set_value("newhomie/localities/planned", len(todo))
        async for request_or_item in self.admission.run(
            todo, self.begin, self.progress.failed_first_attempts
        ):
            yield request_or_item

    async def begin(self, locality: Locality, attempt: int) -> list[Any]:
        increments = await self.reads.increments(locality, attempt)
        crawl, first = self.progress.start(locality, attempt, increments, self.plan.kinds)
        return self.pages.requests(crawl, first)

    # --- Each answer: parse, then hand off to the locality's attempt -----------------------------

    def parse_profile(self, response: Response) -> list[Any]:
        return self.settle(response, lambda crawl, fetch: crawl.read_profile(
            fetch, parse_suburb_profile(response.text, url=response.url)))  # fmt: skip

    def parse_search(self, response: Response) -> list[Any]:
        return self.settle(response, lambda crawl, fetch: crawl.read_search(
            fetch, parse_search_page(response.text, url=response.url)))  # fmt: skip

    def on_error(self, failure: Failure) -> list[Any]:
        request: Request = failure.request  # type: ignore[attr-defined]
        exc = failure.value or Exception(repr(failure))
        if isinstance(exc, IgnoreRequest) and request.meta.get("stale"):
            return []  # a request of an earlier, interrupted run (see PageContextMiddleware)
        outcome = "blocked" if isinstance(exc, BlockedPage) else "error"
        return self.settle(request, lambda crawl, fetch: crawl.page_failed(fetch, request.url, exc, outcome))

    def settle(
        self, answered: Request | Response, read: Callable[[LocalityCrawl, Fetch], list[Any]]
    ) -> list[Any]:
        """What the answer gave (items, and the requests of the pages it names), then its locality's
        outcome if it was the locality's last answer."""
        about = ticket(answered.meta)
        crawl = self.progress.get(about.slug)
        results = self.progress.settle(about.slug, about.attempt, about.fetch, answered.url,
                                       lambda crawl: read(crawl, about.fetch))  # fmt: skip
        return self.pages.requests(crawl, results) if crawl is not None else results

    def finished(self, crawl: LocalityCrawl) -> None:
        """A locality's attempt ended: announced (its browser context is closed), its slot freed."""
        self.crawler.signals.send_catch_log(
            signals.locality_finished, locality=str(crawl.locality), slug=crawl.slug, status=crawl.status,
            seconds=crawl.seconds, pages=crawl.pages, listings=crawl.listings, errors=crawl.errors,
            attempt=crawl.attempt, context=context_name(crawl),
        )  # fmt: skip
        self.admission.release()
