"""The `listings` spider: every page of each locality's searches, in order.

    scrapy crawl listings -a localities="Dandenong VIC 3175;Richmond VIC 3121" [-a kinds=sale,rent,sold]

It decides what to fetch; `newhomie.pages` reads the pages and the pipelines store what they give.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any, Self

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from newhomie.items import CrawlError, LocalityVisit, RejectedEntry
from newhomie.localities import Locality, parse_locality_list
from newhomie.pages import MAX_PAGES, PAGE_SIZE, PageError, PageNotFound, parse_search_page
from newhomie.preflight import PreflightError

logger = logging.getLogger(__name__)

SEARCH_PATHS = {"sale": "sale", "rent": "rent", "sold": "sold-listings"}
DEFAULT_KINDS = ("sale", "rent")


def parse_kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in SEARCH_PATHS]
    if unknown or not kinds:
        raise ValueError(
            f"unknown kinds {unknown or text!r}: expected a comma list of {', '.join(SEARCH_PATHS)}"
        )
    return kinds


class ListingsSpider(scrapy.Spider):
    name = "listings"
    # A locality the site does not know is answered with its 404 page, which we read and record.
    handle_httpstatus_list = [404]

    def __init__(self, localities: str = "", kinds: str = ",".join(DEFAULT_KINDS), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Both raise ValueError naming the bad entry and the accepted form, before anything is crawled.
        self.localities: list[Locality] = parse_locality_list(localities)
        self.kinds = parse_kinds(kinds)
        self.arguments = {"localities": [str(loc) for loc in self.localities], "kinds": list(self.kinds)}
        self.base_url = "https://www.domain.com.au"

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
        spider.base_url = crawler.settings.get("DOMAIN_BASE_URL").rstrip("/")
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for locality in self.localities:
            for kind in self.kinds:
                yield self.search_request(locality, kind, page=1)

    def search_request(self, locality: Locality, kind: str, page: int) -> scrapy.Request:
        url = f"{self.base_url}/{SEARCH_PATHS[kind]}/{locality.slug}/?ssubs=0&page={page}"
        return scrapy.Request(
            url,
            callback=self.parse_search,
            errback=self.on_error,
            meta={"locality": locality, "kind": kind, "page": page, "stage": f"{kind}_search"},
        )

    def parse_search(self, response: Response) -> Iterator[Any]:
        locality: Locality = response.meta["locality"]
        kind: str = response.meta["kind"]
        self.crawler.stats.inc_value(f"newhomie/pages/{kind}")
        try:
            page = parse_search_page(response.text, url=response.url)
        except PageNotFound:
            logger.warning("locality not found on the site: %s (%s)", locality, response.url)
            self.crawler.stats.inc_value("newhomie/localities/not_found")
            yield self.visit(locality, "not_found")
            return
        except PageError as exc:
            yield from self.record_error(response.meta, response.url, exc)
            return
        if page.current_page == 1:
            yield self.visit(locality, "active")
            if page.truncated:
                # The site shows 1,000 results at most; splitting into price bands comes later.
                self.crawler.stats.inc_value(f"newhomie/searches/truncated/{kind}")
                logger.warning(
                    "search shows only %d of %d listings: locality=%s url=%s",
                    MAX_PAGES * PAGE_SIZE, page.total_listings, locality, response.url,
                )  # fmt: skip
            for number in range(2, min(page.total_pages, MAX_PAGES) + 1):
                yield self.search_request(locality, kind, number)
        for entry in page.errors:
            self.crawler.stats.inc_value("newhomie/entries/malformed")
            logger.warning(
                "malformed entry kept aside: locality=%s url=%s listing_id=%s field=%s: %s",
                locality, response.url, entry.listing_id, entry.field, entry.message,
            )  # fmt: skip
            yield RejectedEntry(
                kind="listing",
                locality=str(locality),
                url=response.url,
                raw=entry.raw,
                reason=f"{entry.field}: {entry.message}",
            )
        yield from page.listings

    def visit(self, locality: Locality, status: str) -> LocalityVisit:
        return LocalityVisit(
            slug=locality.slug,
            name=locality.name,
            state=locality.state,
            postcode=locality.postcode,
            status=status,
            crawled_at=datetime.now(UTC),
        )

    def on_error(self, failure: Failure) -> Iterator[CrawlError]:
        request = failure.request  # type: ignore[attr-defined]
        yield from self.record_error(request.meta, request.url, failure.value or Exception(repr(failure)))

    def record_error(self, meta: dict[str, Any], url: str, exc: BaseException) -> Iterator[CrawlError]:
        stage = meta.get("stage", "unknown")
        locality = meta.get("locality")
        self.crawler.stats.inc_value(f"newhomie/errors/{stage}/{type(exc).__name__}")
        logger.error("%s: locality=%s stage=%s url=%s: %s", type(exc).__name__, locality, stage, url, exc)
        yield CrawlError(
            locality=str(locality) if locality else None,
            url=url,
            stage=stage,
            error_type=type(exc).__name__,
            message=str(exc) or repr(exc),
            occurred_at=datetime.now(UTC),
        )
