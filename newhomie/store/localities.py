"""The bundled locality list into the `locality` table."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import psycopg2.extensions

from newhomie import sql
from newhomie.localities import Locality
from newhomie.store.connection import transaction


def add_localities(conn: psycopg2.extensions.connection, localities: Iterable[Locality]) -> int:
    """Add the localities the `locality` table lacks, in one transaction; the number added (or given
    the coordinates they lacked).

    Rows already there keep everything else (status, crawl times, name): see insert_catalog_localities.
    """
    by_slug: dict[str, Locality] = {}
    for locality in localities:
        by_slug.setdefault(locality.slug, locality)
    if not by_slug:
        return 0
    payload = json.dumps(
        [
            {
                "slug": slug,
                "name": loc.name,
                "state": loc.state,
                "postcode": loc.postcode,
                "latitude": loc.latitude,
                "longitude": loc.longitude,
            }
            for slug, loc in by_slug.items()
        ]
    )
    with transaction(conn) as cur:
        cur.execute(sql.query("insert_catalog_localities"), {"localities": payload})
        added: int = cur.rowcount
    return added


@dataclass(frozen=True)
class StateCoverage:
    """One line of `localities coverage`: a state's localities (state None: the whole country)."""

    state: str | None
    bundled: int
    discovered: int
    #: Crawled from a list given to a crawl that neither the bundled list nor a profile had.
    named: int
    active: int
    not_found: int
    never_crawled: int
    oldest_last_crawl: datetime | None


def locality_coverage(
    conn: psycopg2.extensions.connection, bundled: Iterable[Locality]
) -> list[StateCoverage]:
    """Per state, then the whole country: the bundled list against what the database knows."""
    payload = json.dumps([{"slug": loc.slug, "state": loc.state} for loc in bundled])
    with transaction(conn) as cur:
        cur.execute(sql.query("locality_coverage"), {"bundled": payload})
        return [StateCoverage(*row) for row in cur.fetchall()]
