"""Bookkeeping of a crawl, locality by locality: what is in flight, and how each one ended.

A locality is crawled by many requests (its profile, every page of every search and price band).
It is finished when the last of them has been answered or has failed for good; it ended "done"
when none failed, "not_found" when the site does not know it, and "failed" otherwise. A search
split into price bands also checks that its bands add up to the count the site reported.
Pure Python: the spider feeds it and acts on what it says.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

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
    searches: dict[str, SearchTally] = field(default_factory=dict)
    #: Listing ids already given, per kind: promoted listings repeat on several pages.
    seen_ids: dict[str, set[int]] = field(default_factory=dict)
    #: (kind, band) of the searches that were split, whose own pages are not read further.
    split_bands: set[tuple[str, str | None]] = field(default_factory=set)
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


class CrawlProgress:
    """Localities in flight, keyed by slug; the spider counts every request it sends for one."""

    def __init__(self) -> None:
        self.active: dict[str, LocalityCrawl] = {}
        self.finished: list[LocalityCrawl] = []

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    def begin(self, locality: Locality, attempt: int = 1) -> LocalityCrawl:
        if locality.slug in self.active:
            raise ValueError(f"{locality} is already being crawled")
        crawl = LocalityCrawl(locality, attempt)
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
        self.finished.append(crawl)
        return crawl

    def failed_first_attempts(self) -> list[Locality]:
        """Localities whose first attempt failed and that have no later attempt yet."""
        latest: dict[str, LocalityCrawl] = {}
        for crawl in self.finished:
            latest[crawl.slug] = crawl
        return [c.locality for c in latest.values() if c.status == "failed" and c.attempt == 1]

    def outcome_counts(self) -> dict[str, int]:
        """How the localities ended, each counted once by its latest attempt."""
        latest: dict[str, LocalityCrawl] = {}
        for crawl in self.finished:
            latest[crawl.slug] = crawl
        counts = {"done": 0, "not_found": 0, "failed": 0}
        for crawl in latest.values():
            counts[crawl.status] += 1
        return counts
