"""How long a crawl will take: pages per locality from the last crawls, hours at the configured pace,
and how many shards (nodes) fit a deadline (`python -m newhomie plan --estimate`).

Pure: the history and the pace come in, the estimate goes out.

- A locality crawled before costs, in a full crawl, the pages its last crawl read plus those its
  increments left unread (that crawl counted them from the site's own totals). In an incremental crawl
  it costs its sale and rent pages, its sold search's first `SOLD_PAGES_INCREMENTAL` pages (new sales,
  then the page that shows nothing new), and its profile on one crawl in `ceil(max age / interval)`.
- A locality never crawled costs the median full crawl of those crawled (or `ASSUMED_PAGES` when
  nothing was crawled yet), in either kind: its first crawl reads everything. Once it has been crawled
  (the "afterwards" figure), the median incremental cost.
- A locality the site did not know costs nothing (later crawls skip it).
- The pace: pages per second per node, measured over the latest runs when there are any, else from
  the politeness settings (one page per download delay, or per page time over AutoThrottle's target
  concurrency when that is slower).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: Pages of a locality when no locality was crawled yet: a guess, until a sample crawl (`-a limit=50`)
#: measures them. A profile, and sale, rent and sold searches of a few pages.
ASSUMED_PAGES = {"profile": 1, "sale": 3, "rent": 2, "sold": 4}
#: An incremental sold search reads its new sales' page(s) and one page that shows nothing new.
SOLD_PAGES_INCREMENTAL = 2


@dataclass(frozen=True)
class LocalityPages:
    """A locality's latest crawl, as `locality_crawl` recorded it."""

    status: str
    pages: int
    #: Pages read, and left unread by increments, by kind (profile, sale, rent, sold); empty for a
    #: crawl recorded before pages were counted by kind (then all its pages count as sale pages).
    read: Mapping[str, int]
    saved: Mapping[str, int]

    def __post_init__(self) -> None:
        if not self.read and not self.saved and self.pages:
            object.__setattr__(self, "read", {"sale": self.pages})

    def full_pages(self, kind: str) -> int:
        return self.read.get(kind, 0) + self.saved.get(kind, 0)

    @property
    def full(self) -> int:
        return sum(self.full_pages(kind) for kind in {*self.read, *self.saved})

    def incremental(self, profile_share: float) -> float:
        sold = min(self.full_pages("sold"), SOLD_PAGES_INCREMENTAL)
        profile = self.full_pages("profile") * profile_share
        return self.full_pages("sale") + self.full_pages("rent") + sold + profile


@dataclass(frozen=True)
class Pace:
    pages_per_second: float
    #: "measured over N runs" or "from the settings: ...".
    basis: str


@dataclass(frozen=True)
class Estimate:
    localities: int
    crawled: int
    never_crawled: int
    not_found: int
    pages_per_new_locality: float
    full_pages: float
    #: The next incremental crawl (localities never crawled are read whole), and later ones.
    incremental_pages: float
    steady_pages: float
    pace: Pace

    def hours(self, pages: float) -> float:
        return pages / self.pace.pages_per_second / 3600 if self.pace.pages_per_second > 0 else math.inf

    def nodes_for(self, pages: float, deadline_hours: float) -> int:
        """Shards run side by side on as many nodes: how many finish within the deadline."""
        return max(1, math.ceil(self.hours(pages) / deadline_hours))


def profile_share(max_age_days: float, every_days: float) -> float:
    """The share of crawls, run every `every_days`, that read a profile fresh for `max_age_days`."""
    if max_age_days <= 0 or every_days >= max_age_days:
        return 1.0
    return 1 / math.ceil(max_age_days / every_days)


def settings_pace(
    download_delay: float, page_seconds: float, autothrottle: bool, target_concurrency: float
) -> Pace:
    """Pages a second for one node, from its politeness: Scrapy keeps one download delay between the
    requests of a site, and AutoThrottle stretches it to page time over its target concurrency."""
    delay = download_delay
    if autothrottle and target_concurrency > 0:
        delay = max(delay, page_seconds / target_concurrency)
    delay = max(delay, 1e-3)
    basis = f"from the settings: one page per {delay:g} s (DOWNLOAD_DELAY {download_delay:g} s"
    basis += (
        f", AutoThrottle with {page_seconds:g} s pages at target concurrency {target_concurrency:g})"
        if autothrottle
        else ")"
    )
    return Pace(1 / delay, basis)


def estimate(
    slugs: Iterable[str],
    history: Mapping[str, LocalityPages],
    pace: Pace,
    profile_max_age_days: float,
    every_days: float,
) -> Estimate:
    chosen = list(slugs)
    known = [history[slug] for slug in chosen if slug in history]
    not_found = sum(1 for h in known if h.status == "not_found")
    crawled = [h for h in known if h.status != "not_found"]
    never = len(chosen) - len(known)
    share = profile_share(profile_max_age_days, every_days)
    assumed = LocalityPages("done", 0, ASSUMED_PAGES, {})
    per_new = statistics.median(h.full for h in crawled) if crawled else assumed.full
    per_new_later = (
        statistics.median(h.incremental(share) for h in crawled) if crawled else assumed.incremental(share)
    )
    full = sum(h.full for h in crawled) + never * per_new
    incremental = sum(h.incremental(share) for h in crawled)
    return Estimate(len(chosen), len(crawled), never, not_found, per_new, full, incremental + never * per_new,
                    incremental + never * per_new_later, pace)  # fmt: skip
