"""Every field a page can fill, filled with what a database, a parser or a JSON decoder chokes on: each
case is one rejected row (kept in rejected_item) or one page error, never a stopped writer, a lost
locality or an exception out of the parser; and the page's other listings all land.

The values: a NUL (PostgreSQL's text and jsonb refuse it), a lone surrogate (not UTF-8), 20 MB of text,
a number beyond bigint, and nesting 100,000 deep.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from newhomie.crawl.progress import CrawlProgress, Fetch
from newhomie.items import CrawlError, Listing
from newhomie.localities import Locality
from newhomie.site import parse_search_page
from tests.crawl.test_progress import Counts
from tests.paths import FIXTURES
from tests.storage import crawl, fetch, visit

DANDENONG = Locality("Dandenong", "VIC", "3175")
SALE = FIXTURES / "sale.dandenong-vic-3175.page1.2025-02.json"
URL = "https://www.domain.com.au/sale/dandenong-vic-3175/?ssubs=0&page=1"
MARKER = "@@hostile@@"
HOSTILE_JSON = {
    "nul": '"a\\u0000b"',
    "lone surrogate": '"a\\ud800b"',
    "twenty megabytes": json.dumps("9" * 20_000_000),
    "beyond bigint": "100000000000000000000",
    "nested 100,000 deep": "[" * 100_000 + "]" * 100_000,
}
#: Where in a listing card, by JSON path below its listingModel (or the entry itself, for its id).
FIELDS = (
    "price", "url", "promoType", "address.street", "address.suburb", "address.state", "address.postcode",
    "address.lat", "address.lng", "features.beds", "features.baths", "features.parking",
    "features.propertyType", "features.landSize", "features.landUnit", "features.isRural", "tags.tagText",
    "auction", "inspection.openTime", "branding.brandName", "branding.agencyId",
    "branding.agents.0.agentName", "@id",
)  # fmt: skip


def hostile_page(field: str, value_json: str) -> tuple[str, int]:
    """The real sale page with one field of its first listing holding the value; that listing's id."""
    data = json.loads(SALE.read_text(encoding="utf-8"))
    props = data["props"]["pageProps"]["componentProps"]
    listing_id = props["listingSearchResultIds"][0]
    entry = props["listingsMap"][str(listing_id)]
    node: Any = entry if field == "@id" else entry["listingModel"]
    *path, last = ["id"] if field == "@id" else field.split(".")
    for part in path:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(last)] = MARKER
    else:
        node[last] = MARKER
    text = json.dumps(data).replace(json.dumps(MARKER), value_json, 1)
    return (
        f'<html><body><script id="__NEXT_DATA__" type="application/json">{text}</script></body></html>',
        listing_id,
    )


@pytest.mark.parametrize("value", HOSTILE_JSON, ids=str)
@pytest.mark.parametrize("field", FIELDS)
def test_a_hostile_value_in_any_field_costs_one_row_or_the_page_and_nothing_else(
    database_url: str, field: str, value: str, tmp_path: Path
) -> None:
    text, hostile_id = hostile_page(field, HOSTILE_JSON[value])
    # The spider's way with a page: parse it, hand it to the locality's attempt, which gives its items.
    crawls = CrawlProgress("crawl-1", Counts())
    crawls.begin(DANDENONG).fetch("sale")
    results = crawls.settle(
        DANDENONG.slug,
        1,
        Fetch("sale"),
        URL,
        lambda crawl: crawl.read_search(Fetch("sale"), parse_search_page(text, URL)),
    )
    errors = [item for item in results if isinstance(item, CrawlError)]
    if errors:  # the page as a whole could not be read: one page error, naming its URL
        (error,) = errors
        assert (error.url, error.error_type) == (URL, "PageShapeError")
        return
    listings = [item for item in results if isinstance(item, Listing)]
    good = [item for item in listings if item.listing_id != hostile_id]
    run = crawl(database_url, [visit(), *results], NEWHOMIE_DB_SPILL_DIR=str(tmp_path))
    stored = {row["listing_id"] for row in fetch(database_url, "SELECT listing_id FROM listing")}
    assert {item.listing_id for item in good} <= stored, "a good listing of the page was lost"
    kept = fetch(database_url, "SELECT kind, raw FROM rejected_item")
    if hostile_id not in stored:
        assert kept, f"the listing with the hostile {field} is neither stored nor kept aside"
    else:
        assert hostile_id in {item.listing_id for item in listings}  # it held nothing the database refuses
    for name in ("rows_unwritten", "rows_unstorable"):
        assert run.stats.get_value(f"newhomie/db/{name}") == 0, name
