"""Australian localities: what a locality is, the bundled list of them, and the slice one crawl takes.

- `locality`: a locality (name, state, postcode), its slug and time zone, parsing "Dandenong VIC 3175";
- `catalog`: the bundled list (`localities.csv`), read as package data;
- `selection`: state, postcode, shard and limit filters over a list.

Pure: no Scrapy, no database. The names most code needs are here.
"""

from newhomie.localities.locality import (
    LOCALITY_FORM,
    STATES,
    Locality,
    LocalityError,
    parse_locality_list,
    slugify,
    time_zone,
)

__all__ = [
    "LOCALITY_FORM",
    "STATES",
    "Locality",
    "LocalityError",
    "parse_locality_list",
    "slugify",
    "time_zone",
]
