"""What the database already holds of a locality, for an incremental crawl: the listings stored as
sold, whether its sold search was last read whole, and when its profile was last read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from newhomie import sql
from newhomie.store.connection import connection, transaction


@dataclass(frozen=True)
class LocalityKnowledge:
    #: Listing ids stored as sold; empty when the sold search may not be read incrementally.
    sold_ids: frozenset[int]
    #: The latest crawl that asked for the sold search read it whole: one that stops early is safe.
    sold_whole: bool
    #: When the profile was last read (None: never).
    profile_captured_at: datetime | None

    def profile_fresh(self, max_age: timedelta, now: datetime | None = None) -> bool:
        if self.profile_captured_at is None:
            return False
        return (now or datetime.now(UTC)) - self.profile_captured_at < max_age


def locality_knowledge(url: str, slug: str) -> LocalityKnowledge:
    """One locality's knowledge, read in one short transaction."""
    with connection(url, application_name="newhomie-knowledge") as conn, transaction(conn) as cur:
        cur.execute(sql.query("sold_search_whole"), {"slug": slug})
        row = cur.fetchone()
        sold_whole = bool(row and row[0])
        sold_ids: frozenset[int] = frozenset()
        if sold_whole:
            cur.execute(sql.query("known_sold_listings"), {"slug": slug})
            sold_ids = frozenset(listing_id for (listing_id,) in cur.fetchall())
        cur.execute(sql.query("latest_profile_capture"), {"slug": slug})
        captured = cur.fetchone()
    return LocalityKnowledge(sold_ids, sold_whole, captured[0] if captured else None)
