"""A locality's pages as Scrapy requests, and back: what each request is, written in its meta.

Every request carries in its meta the locality (its name, slug and attempt), the page it asks for
(kind, page, price band), the stage that error records and log lines name, the run that made it (a
JOBDIR queue may restore requests of an earlier, interrupted run, which are dropped) and the browser
context of its locality's attempt, closed when the attempt ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import scrapy

from newhomie.crawl.bands import PriceBand
from newhomie.crawl.progress import Fetch, LocalityCrawl
from newhomie.site.urls import profile_url, search_url


@dataclass(frozen=True)
class Ticket:
    """Which attempt at which locality a request (or its response) belongs to, and the page it asked for."""

    slug: str
    attempt: int
    fetch: Fetch


def context_name(crawl: LocalityCrawl) -> str:
    """The browser context of one attempt at a locality (block retries add `.bN` to it)."""
    return f"{crawl.slug}#{crawl.attempt}"


class PageRequests:
    def __init__(
        self,
        base_url: str,
        run_token: str,
        parse_profile: Callable[..., Any],
        parse_search: Callable[..., Any],
        on_error: Callable[..., Any],
    ) -> None:
        self.base_url = base_url.rstrip("/")
        #: Marks this process's requests: those a JOBDIR queue restores from an earlier run are dropped.
        self.run_token = run_token
        self.parse_profile = parse_profile
        self.parse_search = parse_search
        self.on_error = on_error

    def requests(self, crawl: LocalityCrawl, fetches: Iterable[Any]) -> list[Any]:
        """Each `Fetch` as its request; anything else (an item) as it is."""
        return [self.request(crawl, fetch) if isinstance(fetch, Fetch) else fetch for fetch in fetches]

    def request(self, crawl: LocalityCrawl, fetch: Fetch) -> scrapy.Request:
        if fetch.kind == "profile":
            url, callback = profile_url(self.base_url, crawl.slug), self.parse_profile
        else:
            band = fetch.band.query if fetch.band else None
            url, callback = (
                search_url(self.base_url, fetch.kind, crawl.slug, fetch.page, band),
                self.parse_search,
            )
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            # Each request is made once per attempt at a locality: the duplicate filter would only
            # drop the retry of a failed locality, and its dropped requests would never be answered.
            dont_filter=True,
            meta={
                "locality": str(crawl.locality),
                "slug": crawl.slug,
                "attempt": crawl.attempt,
                "kind": fetch.kind,
                "page": fetch.page,
                "band": fetch.band.query if fetch.band else None,
                "cut_from": list(fetch.cut_from) if fetch.cut_from else None,
                "stage": fetch.stage,
                "run": self.run_token,
                "playwright_context": context_name(crawl),
            },
        )


def ticket(meta: Mapping[str, Any]) -> Ticket:
    """What a request's (or its response's) meta says it is."""
    band, cut_from = meta.get("band"), meta.get("cut_from")
    fetch = Fetch(
        meta.get("kind", "unknown"), meta.get("page", 1), PriceBand.parse(band) if band else None,
        (str(cut_from[0]), int(cut_from[1])) if cut_from else None,
    )  # fmt: skip
    return Ticket(meta.get("slug", ""), meta.get("attempt", 0), fetch)
