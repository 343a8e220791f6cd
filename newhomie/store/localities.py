"""The bundled locality list into the `locality` table."""

from __future__ import annotations

import json
from collections.abc import Iterable

import psycopg2.extensions

from newhomie import sql
from newhomie.localities import Locality
from newhomie.store.connection import transaction


def add_localities(conn: psycopg2.extensions.connection, localities: Iterable[Locality]) -> int:
    """Add the localities the `locality` table lacks, in one transaction; the number added.

    Rows already there keep everything (status, crawl times, name): see insert_catalog_localities.
    """
    by_slug: dict[str, Locality] = {}
    for locality in localities:
        by_slug.setdefault(locality.slug, locality)
    if not by_slug:
        return 0
    payload = json.dumps(
        [
            {"slug": slug, "name": loc.name, "state": loc.state, "postcode": loc.postcode}
            for slug, loc in by_slug.items()
        ]
    )
    with transaction(conn) as cur:
        cur.execute(sql.query("insert_catalog_localities"), {"localities": payload})
        added: int = cur.rowcount
    return added
