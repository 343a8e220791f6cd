"""A crawl, locality by locality: what each attempt at a locality read, what it asks for next, and how
it ended.

A locality is crawled by many requests (its profile, every page of every search and price band). It
is finished when the last of them has been answered or has failed for good; it ended "done" when
none failed, "not_found" when the site does not know it, and "failed" otherwise. A search split into
price bands also checks that its bands add up to the count the site reported.

`LocalityCrawl` is one attempt at a locality. It reads the pages of its locality as `newhomie.site`
parsed them, says which pages to fetch next (`Fetch`, counted as sent when made), and makes the items
of its outcome (`LocalityVisit`, `CrawlError`, `LocalityOutcome`). `CrawlProgress` holds the attempts
in flight and settles each answer: it finds the answer's attempt, lets it read the page, and ends the
attempt after its last answer. No Scrapy here: the spider turns each `Fetch` into a request, and
counts go to a `Counts` sink (Scrapy's stats collector in a crawl).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Protocol

from newhomie.context import page_context
from newhomie.crawl.bands import PriceBand, SearchTally, plan_band
from newhomie.crawl.increments import FULL, Increments
from newhomie.items import TEXT_MAX, CrawlError, LocalityOutcome, LocalityVisit, RejectedEntry, SuburbProfile
from newhomie.localities import Locality
from newhomie.localities.catalog import catalog_slugs
from newhomie.site import PageError, PageNotFound, SearchPage
from newhomie.site.urls import MAX_PAGES, SHOWN_AT_MOST

logger = logging.getLogger(__name__)

LOCALITY_STATUSES = ("done", "not_found", "failed")


class Counts(Protocol):
    """Where counts go: Scrapy's stats collector has these."""

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...

    def set_value(self, key: str, value: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class Fetch:
    """A page of a locality to fetch: its profile, or page `page` of a search (of one price band)."""

    kind: str  # profile, sale, rent, sold
    page: int = 1
    band: PriceBand | None = None
    #: For a band's first page: the band it was cut from ("all" for the whole search), and its total.
    cut_from: tuple[str, int] | None = None

    @property
    def stage(self) -> str:
        """What the crawl was doing, in error records and log lines: `profile` or `<kind>_search`."""
        return "profile" if self.kind == "profile" else f"{self.kind}_search"


class Sighting(Enum):
    """How a row read on a page stands to what was read before."""

    NEW = "new"  # to be stored, and counted: no earlier attempt in this run gave it
    RETRIED = "retried"  # to be stored again (it may have changed), but the failed attempt counted it
    AGAIN = "again"  # this attempt gave it already (a promoted repeat): not stored twice


@dataclass
class LocalityCrawl:
    """One attempt at a locality within a run."""

    locality: Locality
    attempt: int
    counts: Counts
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started_monotonic: float = field(default_factory=time.monotonic)
    pending: int = 0
    pages: int = 0
    listings: int = 0
    errors: int = 0
    not_found: bool = False
    profile_read: bool = False
    searches: dict[str, SearchTally] = field(default_factory=dict)
    #: Listing ids already given, per kind: promoted listings repeat on several pages.
    seen_ids: dict[str, set[int]] = field(default_factory=dict)
    #: (kind, band) of the searches that were split, whose own pages are not read further.
    split_bands: set[tuple[str, str | None]] = field(default_factory=set)
    #: Searches that could not be read whole, with their reasons ("sale search: ...").
    incomplete: list[str] = field(default_factory=list)
    #: The failed attempt this one retries: what it stored is not new to the run.
    previous: LocalityCrawl | None = None
    finished_at: datetime | None = None
    #: What this attempt may leave unread (an incremental crawl); FULL reads everything.
    increments: Increments = FULL
    #: The kinds asked for; those with a page that failed, or a search that could not be read whole.
    kinds: tuple[str, ...] = ()
    failed_kinds: set[str] = field(default_factory=set)
    incomplete_kinds: set[str] = field(default_factory=set)
    pages_by_kind: Counter[str] = field(default_factory=Counter)
    pages_saved_by_kind: Counter[str] = field(default_factory=Counter)
    #: Ended by the watchdog: nothing of it can be called whole.
    abandoned: bool = False

    @property
    def slug(self) -> str:
        return self.locality.slug

    @property
    def status(self) -> str:
        if self.not_found:
            return "not_found"
        return "failed" if self.errors else "done"

    @property
    def pages_saved(self) -> int:
        return sum(self.pages_saved_by_kind.values())

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started_monotonic

    # --- What to fetch ---------------------------------------------------------------------------

    def fetch(
        self, kind: str, page: int = 1, band: PriceBand | None = None, cut_from: tuple[str, int] | None = None
    ) -> Fetch:
        """A page to fetch, counted as sent: the locality is not finished until it is answered."""
        self.pending += 1
        return Fetch(kind, page, band, cut_from)

    def first_fetches(self, kinds: Iterable[str]) -> list[Fetch]:
        """The profile (unless it is fresh enough to skip), and the first page of each search."""
        self.kinds = tuple(kinds)
        fetches = []
        for kind in self.kinds:
            if kind == "profile" and self.increments.skip_profile:
                self.save_pages("profile", 1)
                continue
            fetches.append(self.fetch(kind))
        return fetches

    def save_pages(self, kind: str, pages: int) -> None:
        """Pages an increment leaves unread, counted (`newhomie/pages_saved/<kind>`)."""
        if pages > 0:
            self.pages_saved_by_kind[kind] += pages
            self.counts.inc_value(f"newhomie/pages_saved/{kind}", pages)

    # --- Reading its pages -----------------------------------------------------------------------

    def read_profile(self, fetch: Fetch, profile: SuburbProfile) -> list[Any]:
        self._page_read(fetch)
        if self.see_profile() is Sighting.NEW:
            self.counts.inc_value("newhomie/distinct/suburb_profile")
            unlisted = sum(n.slug not in catalog_slugs() for n in profile.neighbours)
            if unlisted:
                # Added to the locality table as discovered (if no profile named them before).
                self.counts.inc_value("newhomie/localities/neighbours_unlisted", unlisted)
        return [profile]

    def read_search(self, fetch: Fetch, page: SearchPage) -> list[Any]:
        """The page's listings (each once) and rejected entries; after a first page, the visit and
        either the search's other pages or its split into price bands."""
        self._page_read(fetch)
        results: list[Any] = []
        if page.current_page == 1:
            if fetch.band is None:
                results.append(self.visit("active"))
            tally = self.tally(fetch.kind)
            plan = plan_band(
                tally, fetch.kind, fetch.band, page.total_listings, page.total_pages, fetch.cut_from
            )
            self.searches[fetch.kind] = plan.tally
            self._say(fetch, plan, page)
            if plan.split:
                self.split_bands.add((fetch.kind, fetch.band.query if fetch.band else None))
                cut_from = (fetch.band.query if fetch.band else "all", page.total_listings)
                return [*results, *(self.fetch(fetch.kind, 1, band, cut_from) for band in plan.bands)]
        results += self._next_pages(fetch, page)
        for entry in page.errors:
            self.counts.inc_value("newhomie/entries/malformed")
            logger.warning(
                "malformed entry kept aside: listing_id=%s field=%s: %s", entry.listing_id, entry.field,
                entry.message, extra=page_context(self.locality, fetch.stage, page.url),
            )  # fmt: skip
            results.append(
                RejectedEntry(
                    kind="listing",
                    locality=str(self.locality),
                    url=page.url,
                    raw=entry.raw,
                    reason=f"{entry.field}: {entry.message}"[:TEXT_MAX],
                )
            )
        for listing in page.listings:
            # Promoted listings repeat on several pages, and bands may overlap while the site changes.
            sighting = self.see_listing(fetch.kind, listing.listing_id)
            if sighting is Sighting.AGAIN:
                continue
            if sighting is Sighting.NEW:
                # Rows this run stored, each once: what a failed attempt stored, its retry stores again.
                self.counts.inc_value(f"newhomie/distinct/listing/{fetch.kind}")
            results.append(listing)
        return results

    def _next_pages(self, fetch: Fetch, page: SearchPage) -> list[Fetch]:
        """After a page of a search (or band) that is read as it is: its other pages, all at once after
        the first; or, for a sold search read incrementally, the next page only, unless this one was
        the last or held nothing new."""
        last = min(page.total_pages, MAX_PAGES)
        known = self.increments.known_sold if fetch.kind == "sold" else None
        if known is None:
            if page.current_page != 1:
                return []
            return [self.fetch(fetch.kind, number, fetch.band) for number in range(2, last + 1)]
        if page.current_page >= last:
            return []
        if page.listings and all(listing.listing_id in known for listing in page.listings):
            self.save_pages(fetch.kind, last - page.current_page)
            return []
        return [self.fetch(fetch.kind, page.current_page + 1, fetch.band)]

    def _page_read(self, fetch: Fetch) -> None:
        self.counts.inc_value(f"newhomie/pages/{fetch.kind}/ok")
        self.pages += 1
        self.pages_by_kind[fetch.kind] += 1

    def _say(self, fetch: Fetch, plan: Any, page: SearchPage) -> None:
        """Splits, truncations and incomplete bands: counted and logged."""
        kind, context = fetch.kind, page_context(self.locality, fetch.stage, page.url)
        if plan.split:
            self.counts.inc_value(f"newhomie/searches/split/{kind}")
            logger.info("search of %d listings split into price bands %s and %s", page.total_listings,
                        plan.bands[0], plan.bands[1], extra=context)  # fmt: skip
        if plan.truncated:
            where = f"{kind} search" + (f" (price band {fetch.band})" if fetch.band else "")
            shown = f"shows {SHOWN_AT_MOST:,} of {page.total_listings:,}"
            self.incomplete.append(f"{where}: {shown}: {plan.truncated}"[:TEXT_MAX])
            self.incomplete_kinds.add(kind)
            self.counts.inc_value(f"newhomie/searches/truncated/{kind}")
            logger.warning("search shows %d of %d listings: %s", SHOWN_AT_MOST, page.total_listings,
                           plan.truncated, extra=context)  # fmt: skip
        if plan.incomplete:
            self.incomplete.append(f"{kind} search: its price bands hold {plan.tally.covered:,} of the "
                                   f"{plan.tally.reported_total:,} listings reported")  # fmt: skip
            self.incomplete_kinds.add(kind)
            self.counts.inc_value(f"newhomie/searches/incomplete/{kind}")
            logger.warning(
                "price bands hold %d of the %d %s listings reported (the site changed meanwhile, or "
                "listings have no price to filter on)",
                plan.tally.covered, plan.tally.reported_total, kind, extra=context,
            )  # fmt: skip

    def tally(self, kind: str) -> SearchTally:
        return self.searches.get(kind, SearchTally())

    def see_listing(self, kind: str, listing_id: int) -> Sighting:
        """Notes a listing read on a page: is it new to this attempt, and new to the run?"""
        seen = self.seen_ids.setdefault(kind, set())
        if listing_id in seen:
            return Sighting.AGAIN
        seen.add(listing_id)
        self.listings += 1
        if self.previous is not None and listing_id in self.previous.seen_ids.get(kind, ()):
            return Sighting.RETRIED
        return Sighting.NEW

    def see_profile(self) -> Sighting:
        if self.profile_read:
            return Sighting.AGAIN
        self.profile_read = True
        return Sighting.RETRIED if self.previous is not None and self.previous.profile_read else Sighting.NEW

    # --- What went wrong -------------------------------------------------------------------------

    def page_not_found(self, fetch: Fetch, url: str) -> list[Any]:
        """The site answered with its 404 page: the locality is not known there."""
        self.counts.inc_value(f"newhomie/pages/{fetch.kind}/not_found")
        if self.not_found:
            return []
        self.not_found = True
        logger.warning("locality not found on the site: %s (%s)", self.locality, url,
                       extra=page_context(self.locality, fetch.stage, url))  # fmt: skip
        return [self.visit("not_found")]

    def page_failed(self, fetch: Fetch, url: str, exc: BaseException, outcome: str = "error") -> list[Any]:
        """A page that could not be read or fetched (`outcome` "blocked" for a page bot protection kept)."""
        self.counts.inc_value(f"newhomie/pages/{fetch.kind}/{outcome}")
        self.failed_kinds.add(fetch.kind)
        return [self.error(fetch.stage, url, exc)]

    def error(self, stage: str, url: str, exc: BaseException) -> CrawlError:
        self.errors += 1
        self.counts.inc_value(f"newhomie/errors/{stage}/{type(exc).__name__}")
        logger.error("%s: %s", type(exc).__name__, exc, extra=page_context(self.locality, stage, url))
        return CrawlError(
            locality=str(self.locality), url=url, stage=stage, error_type=type(exc).__name__,
            message=(str(exc) or repr(exc))[:TEXT_MAX], occurred_at=datetime.now(UTC),
        )  # fmt: skip

    # --- Its outcome -----------------------------------------------------------------------------

    def visit(self, status: str) -> LocalityVisit:
        locality = self.locality
        return LocalityVisit(
            slug=locality.slug, name=locality.name, state=locality.state, postcode=locality.postcode,
            status=status, crawled_at=datetime.now(UTC),
        )  # fmt: skip

    def outcome(self, crawl_key: str) -> LocalityOutcome:
        assert self.finished_at is not None
        return LocalityOutcome(
            crawl_key=crawl_key, slug=self.slug, locality=str(self.locality), status=self.status,
            attempt=self.attempt, started_at=self.started_at, finished_at=self.finished_at,
            pages=self.pages, listings=self.listings, errors=self.errors, incomplete=self.incomplete[:20],
            pages_saved=self.pages_saved, pages_by_kind=dict(self.pages_by_kind),
            pages_saved_by_kind=dict(self.pages_saved_by_kind), kinds=list(self.kinds),
            complete_kinds=self.complete_kinds(),
        )  # fmt: skip

    def complete_kinds(self) -> list[str]:
        """The kinds read whole: every page they needed read (or left unread by an increment), none
        failed, no search truncated. None for a locality the site does not know, or one abandoned."""
        if self.not_found or self.abandoned:
            return []
        broken = self.failed_kinds | self.incomplete_kinds
        return [k for k in self.kinds if k not in broken and (k != "profile" or self.profile_read
                                                              or self.increments.skip_profile)]  # fmt: skip


#: Reads one answered page for its attempt: the items it gave, and the pages to fetch next.
Reader = Callable[[LocalityCrawl], Iterable[Any]]


class CrawlProgress:
    """Localities in flight, keyed by slug, and how those that ended did.

    What ended is kept small, for runs of thousands of localities: each locality's latest status,
    and, for a failed first attempt only, what it read until its retry has ended. `on_finished` is
    called with each attempt that ends (the spider frees its slot and announces it).
    """

    def __init__(
        self, crawl_key: str, counts: Counts, on_finished: Callable[[LocalityCrawl], None] | None = None
    ) -> None:
        self.crawl_key = crawl_key
        self.counts = counts
        self.on_finished = on_finished
        self.active: dict[str, LocalityCrawl] = {}
        self.latest_status: dict[str, str] = {}
        self.outcomes: Counter[str] = Counter()
        #: Failed first attempts, by slug, until their retry begins.
        self.to_retry: dict[str, LocalityCrawl] = {}

    def begin(self, locality: Locality, attempt: int = 1, increments: Increments = FULL) -> LocalityCrawl:
        if locality.slug in self.active:
            raise ValueError(f"{locality} is already being crawled")
        crawl = LocalityCrawl(locality, attempt, self.counts, previous=self.to_retry.pop(locality.slug, None),
                              increments=increments)  # fmt: skip
        self.active[locality.slug] = crawl
        return crawl

    def start(
        self, locality: Locality, attempt: int, increments: Increments, kinds: Iterable[str]
    ) -> tuple[LocalityCrawl, list[Any]]:
        """Begins an attempt: its first fetches, or (when increments leave it nothing to fetch, a fresh
        profile alone) its outcome at once, since no answer will come to end it."""
        crawl = self.begin(locality, attempt, increments)
        fetches: list[Any] = list(crawl.first_fetches(kinds))
        if not fetches:
            fetches.append(self._finish(crawl))
        return crawl, fetches

    def get(self, slug: str) -> LocalityCrawl | None:
        return self.active.get(slug)

    def settle(self, slug: str, attempt: int, fetch: Fetch, url: str, read: Reader) -> list[Any]:
        """One answer (a page, or a request that failed for good) of a locality: what reading it gave,
        then, when it was the locality's last, the locality's outcome."""
        crawl = self.active.get(slug)
        if crawl is None or crawl.attempt != attempt:
            self.counts.inc_value("newhomie/pages/untracked")
            logger.warning(
                "a page of no locality in flight was dropped: %s", url, extra=page_context(url=url)
            )
            return []
        results: list[Any] = []
        try:
            results.extend(read(crawl))
        except PageNotFound:
            results.extend(crawl.page_not_found(fetch, url))
        except PageError as exc:
            results.extend(crawl.page_failed(fetch, url, exc))
        except Exception as exc:  # a bug of ours on one page must not lose the locality's count
            logger.exception("reading the page failed", extra=page_context(crawl.locality, fetch.stage, url))
            results.extend(crawl.page_failed(fetch, url, exc))
        crawl.pending -= 1
        if crawl.pending <= 0:
            results.append(self._finish(crawl))
        return results

    def abandon_all(self) -> list[LocalityOutcome]:
        """Ends, as failed, every locality in flight: their requests were lost track of."""
        outcomes = []
        for crawl in list(self.active.values()):
            logger.error("locality %s: lost track of %d requests; ending it as failed", crawl.locality,
                         crawl.pending, extra=page_context(crawl.locality))  # fmt: skip
            self.counts.inc_value("newhomie/localities/stalled")
            crawl.errors += 1
            crawl.abandoned = True
            crawl.pending = 0
            outcomes.append(self._finish(crawl))
        return outcomes

    def _finish(self, crawl: LocalityCrawl) -> LocalityOutcome:
        crawl.finished_at = datetime.now(UTC)
        self.active.pop(crawl.slug, None)
        status = crawl.status
        earlier = self.latest_status.get(crawl.slug)
        if earlier is not None:
            self.outcomes[earlier] -= 1
        self.latest_status[crawl.slug] = status
        self.outcomes[status] += 1
        if status == "failed" and crawl.attempt == 1:
            self.to_retry[crawl.slug] = crawl
        log = logger.warning if status == "failed" or crawl.incomplete else logger.info
        incomplete = f"; incomplete: {'; '.join(crawl.incomplete)}" if crawl.incomplete else ""
        log("locality %s: %s, attempt %d, %d pages, %d listings, %d errors, %.1f s%s", crawl.locality, status,
            crawl.attempt, crawl.pages, crawl.listings, crawl.errors, crawl.seconds, incomplete,
            extra=page_context(crawl.locality))  # fmt: skip
        if crawl.incomplete:
            self.counts.inc_value("newhomie/localities/incomplete")
        for name, count in self.outcome_counts().items():
            self.counts.set_value(f"newhomie/localities/{name}", count)
        outcome = crawl.outcome(self.crawl_key)
        crawl.previous = None
        if self.on_finished is not None:
            self.on_finished(crawl)
        return outcome

    def failed_first_attempts(self) -> list[Locality]:
        """Localities whose first attempt failed and that have no later attempt yet."""
        return [crawl.locality for crawl in self.to_retry.values()]

    def outcome_counts(self) -> dict[str, int]:
        """How the localities ended, each counted once by its latest attempt."""
        return {name: self.outcomes[name] for name in LOCALITY_STATUSES}
