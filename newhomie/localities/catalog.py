"""The bundled list of every Australian locality (`localities.csv` beside this module, built by
`scripts/build_locality_list.py`).

Read as package data through importlib.resources, so it is there when the project runs from a zipped
egg (Scrapyd) as well as from a checkout.
"""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib import resources

from newhomie.localities.locality import Locality

CATALOG_PACKAGE = "newhomie.localities"
CATALOG_FILE = "localities.csv"


@cache
def _catalog() -> tuple[Locality, ...]:
    # importlib.resources reads from a zip as well as from a directory; a path next to __file__ would not.
    text = resources.files(CATALOG_PACKAGE).joinpath(CATALOG_FILE).read_text(encoding="utf-8")
    localities = []
    for line_number, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        locality = Locality(
            name=row["name"],
            state=row["state"],
            postcode=row["postcode"],
            latitude=float(row["latitude"]) if row["latitude"] else None,
            longitude=float(row["longitude"]) if row["longitude"] else None,
        )
        # Shards and database keys hang on the slug: if slugify changed since the list was built,
        # every shard would silently change too. Stop instead.
        if locality.slug != row["slug"]:
            raise RuntimeError(
                f"{CATALOG_FILE} line {line_number}: slug {row['slug']!r} of {locality} is now "
                f"{locality.slug!r}; rebuild the list with scripts/build_locality_list.py"
            )
        localities.append(locality)
    return tuple(localities)


def load_catalog() -> list[Locality]:
    """Every bundled locality, sorted by (state, postcode, slug); read once, a fresh list each call."""
    return list(_catalog())


@cache
def catalog_slugs() -> frozenset[str]:
    """The slugs of the bundled list: what a profile's neighbour must not be to count as discovered."""
    return frozenset(locality.slug for locality in _catalog())
