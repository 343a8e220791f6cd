"""How items become rows: every item type's rows (the parameters of the named statements of
`newhomie/sql/queries/`), and the batch writer's write function that runs them.

`item_writes(item, run_id, seen_at)` is the one entry: a pipeline hands it an item and gives what it
returns to the writer; nothing else maps an item to a table."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

import psycopg2.extensions
import psycopg2.extras

from newhomie import sql
from newhomie.items import CrawlError, Listing, LocalityOutcome, LocalityVisit, RejectedEntry, SuburbProfile
from newhomie.localities import time_zone
from newhomie.localities.catalog import catalog_slugs
from newhomie.store.write import Write


def as_json(value: Any) -> psycopg2.extras.Json:
    return psycopg2.extras.Json(value, dumps=lambda v: json.dumps(v, default=str))


def _plain(value: Any) -> Any:
    """A statement's parameter as plain JSON-able data (a Json wrapper gives back what it wraps)."""
    if isinstance(value, psycopg2.extras.Json):
        return value.adapted
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


#: The columns of `upsert_listings`' INSERT, in order: the names of a listing row's values.
LISTING_COLUMNS = (
    "listing_id", "listing_type", "locality_slug", "url", "street", "suburb", "state", "postcode",
    "lat", "lng", "beds", "baths", "parking", "property_type", "land_area_m2", "is_rural",
    "is_retirement", "price_text", "price_low", "price_high", "auction_at", "inspection_start",
    "inspection_end", "time_zone", "tag", "agency", "agency_id", "promo_type", "sold_on",
    "sold_method", "sold_price", "first_seen_at", "last_seen_at",
)  # fmt: skip


def listing_row(item: Listing, seen_at: datetime) -> tuple[Any, ...]:
    """The item as a row of `upsert_listings` (the column order of its INSERT)."""
    return (
        item.listing_id, item.listing_type, item.locality_slug, item.url, item.street, item.suburb,
        item.state, item.postcode, item.lat, item.lng, item.beds, item.baths, item.parking,
        item.property_type, item.land_area_m2, item.is_rural, item.is_retirement,
        item.price_text, item.price_low, item.price_high, item.auction_at, item.inspection_start,
        item.inspection_end, time_zone(item.state, item.postcode).key, item.tag, item.agency,
        item.agency_id, item.promo_type, item.sold_on, item.sold_method, item.sold_price,
        seen_at, seen_at,
    )  # fmt: skip


def _json_value(value: Any) -> str:
    if isinstance(value, date):  # datetimes too: ISO 8601 with their offset, read as timestamptz
        return value.isoformat()
    raise TypeError(f"no JSON form for a {type(value).__name__} in a listing row")


def _rows_json(rows: list[tuple[Any, ...]]) -> str:
    """Rows as the JSON array of arrays that `upsert_listings` unpacks (floats keep every digit)."""
    return json.dumps(rows, default=_json_value, allow_nan=False)


def write_rows(cur: psycopg2.extensions.cursor, statement: str, writes: list[Write]) -> None:
    """Runs one named statement for a group of rows (the BatchWriter's write function).

    Listings go in one statement, in listing_id order: their row locks are then taken in the same
    order by every writer, and they serialise the price history of each listing (the history of a
    listing is only written while its listing row is locked, so two writers cannot both start an
    episode). Other statements run row by row in the order given (the writer's key order).
    """
    if statement == "upsert_listings":
        # One row per listing id in a statement (ON CONFLICT cannot touch a row twice): the last
        # sighting wins. Sorted by id: the lock order.
        latest = {w.params[0]: w.params for w in writes}
        ids = sorted(latest)
        cur.execute(sql.query("upsert_listings"), {"rows": _rows_json([latest[i] for i in ids])})
        cur.execute(sql.query("record_price_history"), {"listing_ids": ids})
    else:
        psycopg2.extras.execute_batch(cur, sql.query(statement), [w.params[0] for w in writes])


def profile_writes(profile: SuburbProfile, seen_at: datetime) -> list[Write]:
    """A suburb profile as rows: the locality (with its boundary), the day's profile and market
    snapshots, the yearly sales series, and the schools with their links to the locality."""
    slug = profile.slug
    # The snapshot's day is the locality's own calendar day, not UTC's.
    day: date = seen_at.astimezone(time_zone(profile.state, profile.postcode)).date()

    def write(statement: str, params: dict[str, Any], key: tuple[Any, ...]) -> Write:
        return Write(statement, (params,), slug, profile.url, key)

    writes = [
        write(
            "upsert_locality",
            {
                "slug": slug, "name": profile.name, "state": profile.state, "postcode": profile.postcode,
                "status": "active", "crawled_at": None,
                "boundary": None if profile.boundary is None else as_json(profile.boundary),
            },
            (slug,),
        ),
        write(
            "upsert_suburb_profile",
            {
                **profile.model_dump(include={"region", "area", "population", "owner_occupier_share",
                                              "renter_share", "married_share", "single_share",
                                              "most_common_age_bracket"}),
                "locality_slug": slug, "snapshot_on": day,
                "surrounding_slugs": list(profile.surrounding_slugs), "captured_at": seen_at,
            },
            (slug, day),
        ),
    ]  # fmt: skip
    for row in profile.market:
        category, bedrooms = row.property_category, row.bedrooms
        params = {
            **row.model_dump(exclude={"sales_growth"}),
            "locality_slug": slug,
            "snapshot_on": day,
            "captured_at": seen_at,
        }
        writes.append(write("upsert_suburb_market", params, (slug, day, category, bedrooms)))
        for growth in row.sales_growth:
            params = {
                **growth.model_dump(),
                "locality_slug": slug,
                "property_category": row.property_category,
                "bedrooms": row.bedrooms,
                "observed_on": day,
                "captured_at": seen_at,
            }
            writes.append(
                write("upsert_suburb_sales_growth", params, (slug, category, bedrooms, growth.year))
            )
    for school in profile.schools:
        params = {**school.model_dump(), "seen_at": seen_at}
        writes.append(write("upsert_school", params, (school.acara_id,)))
        link = {"locality_slug": slug, "acara_id": school.acara_id, "seen_at": seen_at}
        writes.append(write("link_locality_school", link, (slug, school.acara_id)))
    unlisted = [n.model_dump() for n in profile.neighbours if n.slug not in catalog_slugs()]
    if unlisted:
        discovered = {"localities": as_json(unlisted), "discovered_from": slug, "discovered_at": seen_at}
        writes.append(write("insert_discovered_localities", discovered, (slug,)))
    return writes


#: The order in which a batch writes its statements: parents before the rows that refer to them
#: (listings and profiles refer to their locality, links to their school).
STATEMENT_ORDER = (
    "upsert_locality",
    "insert_discovered_localities",
    "upsert_listings",
    "upsert_suburb_profile",
    "upsert_suburb_market",
    "upsert_suburb_sales_growth",
    "upsert_school",
    "link_locality_school",
)


def rejected_raw(write: Write) -> Any:
    """A refused row as JSON for rejected_item: named fields, so it can be read and replayed."""
    first = write.params[0] if write.params else None
    if isinstance(first, dict):
        return _plain(first)
    if write.statement == "upsert_listings" and len(write.params) == len(LISTING_COLUMNS):
        return dict(zip(LISTING_COLUMNS, _plain(write.params), strict=True))
    return _plain(list(write.params))


def item_writes(item: Any, run_id: int | None, seen_at: datetime) -> list[Write] | None:
    """The rows an item of the crawl becomes; None for an item of no table."""
    if isinstance(item, Listing):
        return [
            Write(
                "upsert_listings",
                listing_row(item, seen_at),
                item.locality_slug,
                item.url,
                (item.listing_id,),
            )
        ]
    if isinstance(item, LocalityVisit):
        params = {**item.model_dump(), "crawled_at": item.crawled_at, "boundary": None}
        return [Write("upsert_locality", (params,), item.slug, key=(item.slug,))]
    if isinstance(item, SuburbProfile):
        return profile_writes(item, seen_at)
    if isinstance(item, LocalityOutcome):
        params = {**item.model_dump(), "locality_slug": item.slug, "run_id": run_id}
        params["incomplete"] = as_json(item.incomplete) if item.incomplete else None
        params["pages_by_kind"] = as_json(item.pages_by_kind)
        params["pages_saved_by_kind"] = as_json(item.pages_saved_by_kind)
        return [Write("upsert_locality_crawl", (params,), item.slug, key=(item.crawl_key, item.slug))]
    if isinstance(item, CrawlError):
        params = {**item.model_dump(), "run_id": run_id}
        return [Write("insert_crawl_error", (params,), item.locality, item.url)]
    if isinstance(item, RejectedEntry):
        params = {
            **storable(item.model_dump(exclude={"raw"})),
            "raw": as_json(storable(item.raw)),
            "run_id": run_id,
        }
        return [Write("insert_rejected_item", (params,), item.locality, item.url)]
    return None


def rejected_row(write: Write, reason: str, run_id: int | None) -> dict[str, Any]:
    """A row the database refused, as the parameters of `insert_rejected_item`, in a form it can keep."""
    return {
        "run_id": run_id,
        "kind": storable(write.statement),
        "locality": storable(write.locality),
        "url": storable(write.url),
        "raw": as_json(storable(rejected_raw(write))),
        "reason": storable(reason),
    }


#: What rejected_item keeps of a refused value at most: it is there to be read by a person.
KEPT_TEXT = 10_000
KEPT_DEPTH = 32


def storable(value: Any, depth: int = 0) -> Any:
    """A value as PostgreSQL's text and jsonb can keep it, for a row kept for inspection: NUL and lone
    surrogates written out (`\\x00`, `\\ud800`), text cut at KEPT_TEXT characters, numbers JSON cannot
    hold as text, nesting cut at KEPT_DEPTH levels. Each cut says so."""
    if isinstance(value, str):
        if len(value) > KEPT_TEXT:
            value = f"{value[:KEPT_TEXT]}… ({len(value):,} characters, cut)"
        value = value.replace("\x00", "\\x00")
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict | list | tuple):
        if depth >= KEPT_DEPTH:
            return f"<nested deeper than {KEPT_DEPTH} levels, cut>"
        if isinstance(value, dict):
            return {storable(str(k), depth + 1): storable(v, depth + 1) for k, v in value.items()}
        return [storable(v, depth + 1) for v in value]
    return storable(str(value), depth)
