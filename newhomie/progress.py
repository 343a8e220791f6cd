"""Bookkeeping of a crawl, locality by locality: what is in flight, and how each one ended.

A locality is crawled by many requests (its profile, every page of every search and price band).
It is finished when the last of them has been answered or has failed for good; it ended "done"
when none failed, "not_found" when the site does not know it, and "failed" otherwise. A search
split into price bands also checks that its bands add up to the count the site reported.
Pure Python: the spider feeds it and acts on what it says.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum

from newhomie.localities import Locality


@dataclass
class SearchTally:
    """One search (a locality and a kind) that may be split into price bands."""

    #: What the unsplit search reported; None until its first page was read.
    reported_total: int | None = None
    #: Bands whose first page is still to be read.
    open_bands: int = 0
    #: The sum of the totals of the bands that fit (leaves of the split).
    covered: int = 0
    split: bool = False

    @property
    def complete(self) -> bool:
        return self.open_bands == 0 and self.reported_total is not None

    @property
    def missing(self) -> int:
        """Listings the bands did not account for (they may have changed between requests)."""
        return max(0, (self.reported_total or 0) - self.covered)


@dataclass
class LocalityCrawl:
    locality: Locality
    attempt: int
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
    #: The failed attempt this one retries: what it stored is not new to the run.
    previous: LocalityCrawl | None = None
    finished_at: datetime | None = None

    @property
    def slug(self) -> str:
        return self.locality.slug

    @property
    def status(self) -> str:
        if self.not_found:
            return "not_found"
        return "failed" if self.errors else "done"

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started_monotonic

    def tally(self, kind: str) -> SearchTally:
        return self.searches.setdefault(kind, SearchTally())

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


class Sighting(Enum):
    """How a row read on a page stands to what was read before."""

    NEW = "new"  # to be stored, and counted: no earlier attempt in this run gave it
    RETRIED = "retried"  # to be stored again (it may have changed), but the failed attempt counted it
    AGAIN = "again"  # this attempt gave it already (a promoted repeat): not stored twice


class CrawlProgress:
    """Localities in flight, keyed by slug; the spider counts every request it sends for one.

    What ended is kept small, for runs of thousands of localities: each locality's latest status,
    and, for a failed first attempt only, what it read until its retry has ended.
    """

    def __init__(self) -> None:
        self.active: dict[str, LocalityCrawl] = {}
        self.latest_status: dict[str, str] = {}
        self.outcomes: Counter[str] = Counter()
        #: Failed first attempts, by slug, until their retry begins.
        self.to_retry: dict[str, LocalityCrawl] = {}

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    def begin(self, locality: Locality, attempt: int = 1) -> LocalityCrawl:
        if locality.slug in self.active:
            raise ValueError(f"{locality} is already being crawled")
        crawl = LocalityCrawl(locality, attempt, previous=self.to_retry.pop(locality.slug, None))
        self.active[locality.slug] = crawl
        return crawl

    def get(self, slug: str) -> LocalityCrawl | None:
        return self.active.get(slug)

    def sent(self, crawl: LocalityCrawl) -> None:
        crawl.pending += 1

    def answered(self, crawl: LocalityCrawl) -> LocalityCrawl | None:
        """One request of the locality is settled; returns the locality when that was its last."""
        crawl.pending -= 1
        if crawl.pending > 0:
            return None
        return self._finish(crawl)

    def abandon(self, crawl: LocalityCrawl, reason_errors: int = 1) -> LocalityCrawl:
        """Ends a locality whose requests were lost track of, as failed."""
        crawl.errors += reason_errors
        crawl.pending = 0
        return self._finish(crawl)

    def _finish(self, crawl: LocalityCrawl) -> LocalityCrawl:
        crawl.finished_at = datetime.now(UTC)
        self.active.pop(crawl.slug, None)
        status = crawl.status
        earlier = self.latest_status.get(crawl.slug)
        if earlier is not None:
            self.outcomes[earlier] -= 1
        self.latest_status[crawl.slug] = status
        self.outcomes[status] += 1
        crawl.previous = None
        if status == "failed" and crawl.attempt == 1:
            self.to_retry[crawl.slug] = crawl
        return crawl

    def failed_first_attempts(self) -> list[Locality]:
        """Localities whose first attempt failed and that have no later attempt yet."""
        return [crawl.locality for crawl in self.to_retry.values()]

    def outcome_counts(self) -> dict[str, int]:
        """How the localities ended, each counted once by its latest attempt."""
        return {name: self.outcomes[name] for name in ("done", "not_found", "failed")}
