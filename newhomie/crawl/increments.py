"""What an attempt at a locality may leave unread, from what the database already holds.

An incremental crawl (the default; `-a full=1` turns it off) reads the sold search newest first and
stops after the first page whose every listing is already stored as sold: a sold record never changes,
so the pages below it hold nothing new (the page itself is the margin). It does so only when the latest
crawl that asked for the sold search read it whole, since a page lost then would otherwise never be
read again. It skips a suburb profile read less than NEWHOMIE_PROFILE_MAX_AGE_DAYS ago: profiles
change slowly. Sale and rent searches are always read whole: a listing missing from them is how a
withdrawal or a lease is seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from newhomie.context import page_context
from newhomie.localities import Locality
from newhomie.store.knowledge import LocalityKnowledge, locality_knowledge
from newhomie.store.target import database_target

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Increments:
    #: The listing ids stored as sold, at which a sold search read newest first stops; None: read it whole.
    known_sold: frozenset[int] | None = None
    skip_profile: bool = False


#: Read everything: a full crawl, a retry, a locality the database knows nothing of.
FULL = Increments()


def increments_for(
    knowledge: LocalityKnowledge | None, attempt: int, profile_max_age: timedelta, now: datetime | None = None
) -> Increments:
    """What this attempt may leave unread. A retry (attempt 2) reads everything: the first attempt
    failed somewhere, and what it stored must not stop the retry early."""
    if knowledge is None or attempt > 1:
        return FULL
    return Increments(
        known_sold=knowledge.sold_ids if knowledge.sold_whole else None,
        skip_profile=knowledge.profile_fresh(profile_max_age, now),
    )


class IncrementalReads:
    """Each locality's increments, read from the database (`url`) off the reactor's thread; None reads
    everything (a full crawl, or no database). `count` is the stats' inc_value."""

    def __init__(self, url: str | None, profile_max_age: timedelta, count: Callable[[str], None]) -> None:
        self.url = url
        self.profile_max_age = profile_max_age
        self.count = count

    @classmethod
    def of(
        cls, incremental: bool, profile_max_age_days: float, count: Callable[[str], None]
    ) -> IncrementalReads:
        """For a crawl: the configured database when it is incremental, else nothing to read."""
        url = database_target().url if incremental else None
        return cls(url, timedelta(days=profile_max_age_days), count)

    async def increments(self, locality: Locality, attempt: int) -> Increments:
        if self.url is None or attempt > 1:
            return FULL
        try:
            knowledge = await asyncio.to_thread(locality_knowledge, self.url, locality.slug)
        except Exception as exc:  # the database is away: this locality is read whole, the crawl goes on
            self.count("newhomie/increments/unknown")
            logger.warning("what the database holds of %s could not be read (%s: %s); reading it whole",
                           locality, type(exc).__name__, " ".join(str(exc).split()),
                           extra=page_context(locality))  # fmt: skip
            return FULL
        return increments_for(knowledge, attempt, self.profile_max_age)
