"""The `listings` spider: every locality's suburb profile and its sale, rent and sold searches, complete.

    scrapy crawl listings -a localities="Dandenong VIC 3175;Richmond VIC 3121"
    scrapy crawl listings -a localities=all | -a state=VIC | -a postcodes=3000-3207 | -a shard=3/90
        [-a limit=N]
        [-a kinds=profile,sale,rent,sold] [-a crawl=KEY] [-a recheck_missing=1]

It decides what to fetch and keeps count, locality by locality (`newhomie.progress`); the pages are
read by `newhomie.site`, stored by the pipelines. A search the site cuts at 1,000 results is split
into price bands (`newhomie.bands`) until every band fits. A locality that failed is tried once more
at the end of the run. A few localities are crawled at a time, each in its own browser context,
closed when the locality ends, so that memory stays flat over a crawl of thousands.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any, Self

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from newhomie import signals
from newhomie.bands import BandTooNarrow, PriceBand, split
from newhomie.crawl_plan import CrawlPlan, crawl_key_for_jobdir
from newhomie.items import CrawlError, LocalityOutcome, LocalityVisit, RejectedEntry
from newhomie.localities import Locality
from newhomie.preflight import PreflightError
from newhomie.progress import CrawlProgress, LocalityCrawl, Sighting
from newhomie.site import (
    MAX_PAGES,
    PAGE_SIZE,
    BlockedPage,
    PageError,
    PageNotFound,
    parse_search_page,
    parse_suburb_profile,
)

logger = logging.getLogger(__name__)

SEARCH_PATHS = {"sale": "sale", "rent": "rent", "sold": "sold-listings"}
SHOWN_AT_MOST = MAX_PAGES * PAGE_SIZE


class ListingsSpider(scrapy.Spider):
    name = "listings"
    # A locality the site does not know is answered with its 404 page, which we read and record.
    handle_httpstatus_list = [404]

    def __init__(self, **arguments: str) -> None:
        plan_arguments = {k: v for k, v in arguments.items() if k in CrawlPlan.ARGUMENTS}
        super().__init__(**{k: v for k, v in arguments.items() if k not in CrawlPlan.ARGUMENTS})
        # Raises ValueError naming the bad argument and the accepted form, before anything is crawled.
        self.plan = CrawlPlan.from_arguments(plan_arguments)
        self.arguments = self.plan.describe()
        self.shard = self.plan.shard_text
        self.base_url = "https://www.domain.com.au"
        self.progress = CrawlProgress()
        #: Marks this process's requests: those a JOBDIR queue restores from an earlier run are dropped.
        self.run_token = secrets.token_hex(6)
        self.localities_at_once = 2
        self.stall_seconds = 120.0
        self.crawl_key = self.plan.crawl_key or ""
        self._slots: asyncio.Semaphore | None = None
        self._drained: asyncio.Event | None = None

    @classmethod
    def preflight(cls, settings: BaseSettings, arguments: dict[str, str]) -> None:
        """Spider arguments checked before the crawl starts (see newhomie.commands.crawl)."""
        try:
            cls(**arguments)
        except (TypeError, ValueError) as exc:
            raise PreflightError(f"bad spider argument: {exc}") from exc

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.base_url = settings.get("DOMAIN_BASE_URL").rstrip("/")
        spider.localities_at_once = settings.getint("NEWHOMIE_LOCALITIES_AT_ONCE", 2)
        spider.stall_seconds = settings.getfloat("NEWHOMIE_STALL_SECONDS", 120.0)
        spider.crawl_key = spider.plan.crawl_key or crawl_key_for_jobdir(settings.get("JOBDIR"))
        spider.arguments["crawl"] = spider.crawl_key
        return spider

    # --- What to crawl, a few localities at a time ------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        self._slots = asyncio.Semaphore(self.localities_at_once)
        self._drained = asyncio.Event()
        self._drained.set()
        todo = await asyncio.to_thread(self.plan.localities_to_crawl, self.crawl_key, self.crawler.settings)
        logger.info("crawl %s: %d localities to crawl (%s)", self.crawl_key, len(todo), self.plan.summary)
        self.crawler.stats.set_value("newhomie/localities/planned", len(todo))
        for locality in todo:
            async for item in self._watched(self._slots.acquire):
                yield item
            for request in self.begin(locality, attempt=1):
                yield request
        async for item in self._watched(self._drained.wait):
            yield item
        retry = self.progress.failed_first_attempts()
        if retry:
            logger.warning("retrying %d failed localities: %s", len(retry), "; ".join(map(str, retry)))
        for locality in retry:
            async for item in self._watched(self._slots.acquire):
                yield item
            for request in self.begin(locality, attempt=2):
                yield request
        async for item in self._watched(self._drained.wait):
            yield item

    def begin(self, locality: Locality, attempt: int) -> Iterator[scrapy.Request]:
        assert self._drained is not None
        self._drained.clear()
        crawl = self.progress.begin(locality, attempt)
        for kind in self.plan.kinds:
            if kind == "profile":
                yield self.request(
                    crawl, f"{self.base_url}/suburb-profile/{locality.slug}", kind, self.parse_profile
                )
            else:
                yield self.search_request(crawl, kind, page=1, band=None)

    def search_request(
        self, crawl: LocalityCrawl, kind: str, page: int, band: PriceBand | None
    ) -> scrapy.Request:
        price = f"&price={band.query}" if band else ""
        url = f"{self.base_url}/{SEARCH_PATHS[kind]}/{crawl.slug}/?ssubs=0{price}&page={page}"
        return self.request(crawl, url, kind, self.parse_search, page=page, band=band.query if band else None)

    def request(
        self, crawl: LocalityCrawl, url: str, kind: str, callback: Any, **meta: Any
    ) -> scrapy.Request:
        self.progress.sent(crawl)
        stage = "profile" if kind == "profile" else f"{kind}_search"
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            # Each request is made once per attempt at a locality: the duplicate filter would only
            # drop the retry of a failed locality, and its dropped requests would never be answered.
            dont_filter=True,
            meta={
                **meta,
                "locality": str(crawl.locality),
                "slug": crawl.slug,
                "attempt": crawl.attempt,
                "kind": kind,
                "stage": stage,
                "run": self.run_token,
                # One browser context per attempt at a locality, closed when it ends.
                "playwright_context": f"{crawl.slug}#{crawl.attempt}",
            },
        )

    # --- Reading pages --------------------------------------------------------------------------

    def parse_search(self, response: Response) -> Iterable[Any]:
        return self.settled(response.meta, response.url, lambda crawl: self.read_search(crawl, response))

    def parse_profile(self, response: Response) -> Iterable[Any]:
        return self.settled(response.meta, response.url, lambda crawl: self.read_profile(crawl, response))

    def on_error(self, failure: Failure) -> Iterable[Any]:
        request = failure.request  # type: ignore[attr-defined]
        exc = failure.value or Exception(repr(failure))
        if isinstance(exc, IgnoreRequest) and request.meta.get("stale"):
            return []  # a request of an earlier, interrupted run (see PageContextMiddleware)

        def record(crawl: LocalityCrawl) -> Iterator[Any]:
            outcome = "blocked" if isinstance(exc, BlockedPage) else "error"
            self.crawler.stats.inc_value(f"newhomie/pages/{request.meta['kind']}/{outcome}")
            yield from self.record_error(crawl, request.meta, request.url, exc)

        return self.settled(request.meta, request.url, record)

    def settled(self, meta: dict[str, Any], url: str, read: Any) -> list[Any]:
        """What a page gave, then its locality's outcome if it was the locality's last page."""
        crawl = self.progress.get(meta.get("slug", ""))
        if crawl is None or crawl.attempt != meta.get("attempt"):
            self.crawler.stats.inc_value("newhomie/pages/untracked")
            logger.warning("a page of no locality in flight was dropped: %s", url)
            return []
        results: list[Any] = []
        try:
            results.extend(read(crawl))
        except Exception as exc:  # a bug of ours on one page must not lose the locality's count
            logger.exception("reading %s failed", url)
            results.extend(self.record_error(crawl, meta, url, exc))
        finished = self.progress.answered(crawl)
        if finished is not None:
            results.extend(self.finish(finished))
        return results

    def read_profile(self, crawl: LocalityCrawl, response: Response) -> Iterator[Any]:
        try:
            profile = parse_suburb_profile(response.text, url=response.url)
        except PageNotFound:
            yield from self.not_found(crawl, "profile", response.url)
            return
        except PageError as exc:
            self.crawler.stats.inc_value("newhomie/pages/profile/error")
            yield from self.record_error(crawl, response.meta, response.url, exc)
            return
        self.crawler.stats.inc_value("newhomie/pages/profile/ok")
        crawl.pages += 1
        if crawl.see_profile() is Sighting.NEW:
            self.crawler.stats.inc_value("newhomie/distinct/suburb_profile")
        yield profile

    def read_search(self, crawl: LocalityCrawl, response: Response) -> Iterator[Any]:
        kind: str = response.meta["kind"]
        band_text: str | None = response.meta.get("band")
        try:
            page = parse_search_page(response.text, url=response.url)
        except PageNotFound:
            yield from self.not_found(crawl, kind, response.url)
            return
        except PageError as exc:
            self.crawler.stats.inc_value(f"newhomie/pages/{kind}/error")
            yield from self.record_error(crawl, response.meta, response.url, exc)
            return
        self.crawler.stats.inc_value(f"newhomie/pages/{kind}/ok")
        crawl.pages += 1
        if page.current_page == 1:
            if band_text is None:
                yield self.visit(crawl.locality, "active")
            yield from self.plan_search(
                crawl, kind, page.total_listings, page.total_pages, band_text, response.url
            )
            if (kind, band_text) in crawl.split_bands:
                return  # the narrower bands cover this page's listings
        for entry in page.errors:
            self.crawler.stats.inc_value("newhomie/entries/malformed")
            logger.warning(
                "malformed entry kept aside: locality=%s url=%s listing_id=%s field=%s: %s",
                crawl.locality, response.url, entry.listing_id, entry.field, entry.message,
            )  # fmt: skip
            yield RejectedEntry(
                kind="listing", locality=str(crawl.locality), url=response.url, raw=entry.raw,
                reason=f"{entry.field}: {entry.message}",
            )  # fmt: skip
        for listing in page.listings:
            # Promoted listings repeat on several pages, and bands may overlap while the site changes.
            sighting = crawl.see_listing(kind, listing.listing_id)
            if sighting is Sighting.AGAIN:
                continue
            if sighting is Sighting.NEW:
                # Rows this run stored, each once: what a failed attempt stored, its retry stores again.
                self.crawler.stats.inc_value(f"newhomie/distinct/listing/{kind}")
            yield listing

    def plan_search(
        self, crawl: LocalityCrawl, kind: str, total: int, total_pages: int, band_text: str | None, url: str
    ) -> Iterator[scrapy.Request]:
        """After a search's (or band's) first page: split it into price bands, or read its other pages."""
        tally = crawl.tally(kind)
        band = PriceBand.parse(band_text) if band_text else None
        if band is None:
            tally.reported_total = total
        else:
            tally.open_bands -= 1
        if total > SHOWN_AT_MOST:
            try:
                halves = split(band or PriceBand(0, None), kind)
            except BandTooNarrow as exc:
                self.crawler.stats.inc_value(f"newhomie/searches/truncated/{kind}")
                logger.warning("search shows %d of %d listings: %s: locality=%s url=%s",
                               SHOWN_AT_MOST, total, exc, crawl.locality, url)  # fmt: skip
            else:
                tally.split = True
                tally.open_bands += 2
                crawl.split_bands.add((kind, band_text))
                self.crawler.stats.inc_value(f"newhomie/searches/split/{kind}")
                logger.info("search of %d listings split into price bands %s and %s: locality=%s url=%s",
                            total, halves[0], halves[1], crawl.locality, url)  # fmt: skip
                for half in halves:
                    yield self.search_request(crawl, kind, page=1, band=half)
                return
        if band is not None or tally.split:
            tally.covered += min(total, SHOWN_AT_MOST)
        for number in range(2, min(total_pages, MAX_PAGES) + 1):
            yield self.search_request(crawl, kind, number, band)
        if tally.split and tally.complete and tally.missing:
            self.crawler.stats.inc_value(f"newhomie/searches/incomplete/{kind}")
            logger.warning(
                "price bands hold %d of the %d %s listings reported (the site changed meanwhile, or "
                "listings have no price to filter on): locality=%s",
                tally.covered, tally.reported_total, kind, crawl.locality,
            )  # fmt: skip

    # --- Outcomes -------------------------------------------------------------------------------

    def not_found(self, crawl: LocalityCrawl, kind: str, url: str) -> Iterator[Any]:
        self.crawler.stats.inc_value(f"newhomie/pages/{kind}/not_found")
        if not crawl.not_found:
            crawl.not_found = True
            logger.warning("locality not found on the site: %s (%s)", crawl.locality, url)
            yield self.visit(crawl.locality, "not_found")

    def finish(self, crawl: LocalityCrawl) -> Iterator[Any]:
        """A locality ended: logged, counted, its browser context closed, its outcome stored."""
        assert self._slots is not None
        assert self._drained is not None
        status = crawl.status
        log = logger.warning if status == "failed" else logger.info
        log("locality %s: %s, attempt %d, %d pages, %d listings, %d errors, %.1f s", crawl.locality, status,
            crawl.attempt, crawl.pages, crawl.listings, crawl.errors, crawl.seconds)  # fmt: skip
        for name, count in self.progress.outcome_counts().items():
            self.crawler.stats.set_value(f"newhomie/localities/{name}", count)
        self.crawler.signals.send_catch_log(
            signals.locality_finished, locality=str(crawl.locality), slug=crawl.slug, status=status,
            seconds=crawl.seconds, pages=crawl.pages, listings=crawl.listings, errors=crawl.errors,
            attempt=crawl.attempt, context=f"{crawl.slug}#{crawl.attempt}",
        )  # fmt: skip
        self._slots.release()
        if not self.progress.active:
            self._drained.set()
        assert crawl.finished_at is not None
        yield LocalityOutcome(
            crawl_key=self.crawl_key, slug=crawl.slug, locality=str(crawl.locality), status=status,
            attempt=crawl.attempt, started_at=crawl.started_at, finished_at=crawl.finished_at,
            pages=crawl.pages, listings=crawl.listings, errors=crawl.errors,
        )  # fmt: skip

    def visit(self, locality: Locality, status: str) -> LocalityVisit:
        return LocalityVisit(
            slug=locality.slug, name=locality.name, state=locality.state, postcode=locality.postcode,
            status=status, crawled_at=self.progress.now(),
        )  # fmt: skip

    def record_error(
        self, crawl: LocalityCrawl, meta: dict[str, Any], url: str, exc: BaseException
    ) -> Iterator[CrawlError]:
        crawl.errors += 1
        stage = meta.get("stage", "unknown")
        self.crawler.stats.inc_value(f"newhomie/errors/{stage}/{type(exc).__name__}")
        logger.error(
            "%s: locality=%s stage=%s url=%s: %s", type(exc).__name__, crawl.locality, stage, url, exc
        )
        yield CrawlError(
            locality=str(crawl.locality), url=url, stage=stage, error_type=type(exc).__name__,
            message=str(exc) or repr(exc), occurred_at=self.progress.now(),
        )  # fmt: skip

    # --- Waiting, with a watchdog ---------------------------------------------------------------

    async def _watched(self, wait: Callable[[], Awaitable[Any]]) -> AsyncIterator[Any]:
        """Waits (for a free locality slot, or for all to end); yields the outcomes of stalled ones."""
        while True:
            try:
                await asyncio.wait_for(wait(), timeout=self.stall_seconds)
                return
            except TimeoutError:
                for item in self._end_stalled():
                    yield item

    def _end_stalled(self) -> Iterator[Any]:
        """Localities in flight while the engine has nothing to do: their count was lost. End them,
        as failed, so that the crawl neither hangs nor forgets them (they are retried at the end)."""
        engine = self.crawler.engine
        if engine is None or engine.downloader.active or engine.scraper.slot is None:
            return
        slot = engine._slot  # the scheduler has no public handle in the engine
        if (slot and slot.scheduler.has_pending_requests()) or not engine.scraper.slot.is_idle():
            return
        for crawl in list(self.progress.active.values()):
            logger.error(
                "locality %s: lost track of %d requests; ending it as failed", crawl.locality, crawl.pending
            )
            self.crawler.stats.inc_value("newhomie/localities/stalled")
            yield from self.finish(self.progress.abandon(crawl))
