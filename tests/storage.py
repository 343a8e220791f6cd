"""Helpers of the storage tests: items, the real pipelines outside a crawl, and reading tables back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg2.extras
from scrapy import Spider
from scrapy.utils.test import get_crawler

from newhomie.items import Listing, LocalityVisit, SuburbProfile
from newhomie.pipelines import PriceNormalisationPipeline
from newhomie.site import parse_suburb_profile
from newhomie.site.prices import normalise_price
from newhomie.store.connection import connection, transaction
from newhomie.store.pipeline import PostgresPipeline
from newhomie.store.rows import STATEMENT_ORDER, listing_row, write_rows
from newhomie.store.target import DatabaseTarget
from newhomie.store.write import Write
from newhomie.store.writer import BatchWriter
from tests.paths import FIXTURES

MELBOURNE = ZoneInfo("Australia/Melbourne")

PROFILE_URL = "https://www.domain.com.au/suburb-profile/dandenong-vic-3175"
DANDENONG = "dandenong-vic-3175"


def listing(listing_id: int, **changes: Any) -> Listing:
    """A valid listing of Dandenong VIC 3175, its price normalised as the pipeline would."""
    fields: dict[str, Any] = {
        "listing_id": listing_id,
        "listing_type": "sale",
        "url": f"https://www.domain.com.au/16-rodwell-street-dandenong-vic-3175-{listing_id}",
        "locality_slug": DANDENONG,
        "street": "16 Rodwell Street",
        "suburb": "Dandenong",
        "state": "VIC",
        "postcode": "3175",
        "lat": -37.991478,
        "lng": 145.20213,
        "beds": 3,
        "baths": 1,
        "parking": 2,
        "property_type": "House",
        "land_area_m2": 600.0,
        "is_rural": False,
        "is_retirement": False,
        "price_text": "$550,000 - $575,000",
        "auction_at": None,
        "inspection_start": None,
        "inspection_end": None,
        "tag": None,
        "agency": "Ray White Dandenong",
        "agency_id": 8878,
        "promo_type": "standard",
    }
    fields.update(changes)
    item = Listing(**fields)
    price = normalise_price(item.listing_type, item.price_text)
    item.price_low, item.price_high = (None, None) if price is None else (price.low, price.high)
    if item.listing_type == "sold" and price is not None and price.low == price.high:
        item.sold_price = price.low
    return item


def visit(slug: str = DANDENONG, crawled_at: datetime | None = None, status: str = "active") -> LocalityVisit:
    name, state, postcode = slug.rsplit("-", 2)
    return LocalityVisit(
        slug=slug,
        name=name.replace("-", " ").title(),
        state=state.upper(),
        postcode=postcode,
        status=status,
        crawled_at=crawled_at or datetime.now(UTC),
    )


def dandenong_profile() -> SuburbProfile:
    text = (FIXTURES / "suburb-profile.dandenong-vic-3175.2025-02.json").read_text(encoding="utf-8")
    return parse_suburb_profile(text, PROFILE_URL)


class Crawl:
    """The real price and PostgreSQL pipelines of one crawl run, driven without Scrapy's engine."""

    def __init__(self, database_url: str, **settings: Any) -> None:
        self.crawler = get_crawler(Spider, {"NEWHOMIE_DB_FLUSH_SECONDS": 0.05, **settings})
        self.crawler.spider = Spider(name="listings")
        assert self.crawler.stats is not None
        self.stats = self.crawler.stats
        self.prices = PriceNormalisationPipeline(self.stats)
        self.store = PostgresPipeline(self.crawler, DatabaseTarget(database_url, embedded=False))

    def __enter__(self) -> Crawl:
        self.store.open_spider()
        return self

    def feed(self, items: Iterable[Any]) -> None:
        for item in items:
            self.store.process_item(self.prices.process_item(item))

    def __exit__(self, *exc: object) -> None:
        asyncio.run(self.store.close_spider())
        self.store.spider_closed("finished")


def crawl(database_url: str, items: Iterable[Any], **settings: Any) -> Crawl:
    """One whole run: open, every item, close."""
    with Crawl(database_url, **settings) as run:
        run.feed(items)
    return run


def write_direct(database_url: str, writes: Sequence[Write]) -> list[tuple[Write, str]]:
    """Rows through the real BatchWriter and write function; returns what it refused, and why."""
    refused: list[tuple[Write, str]] = []
    writer = BatchWriter(
        database_url,
        write_rows,
        lambda cur, write, reason, run_id: refused.append((write, reason)),
        flush_seconds=0.05,
        statement_order=STATEMENT_ORDER,
    )
    writer.add(writes)
    writer.close()
    return refused


def listing_write(item: Listing, seen_at: datetime) -> Write:
    return Write(
        "upsert_listings", listing_row(item, seen_at), item.locality_slug, item.url, (item.listing_id,)
    )


def visit_write(item: LocalityVisit) -> Write:
    params = {**item.model_dump(), "boundary": None}
    return Write("upsert_locality", (params,), item.slug, key=(item.slug,))


def fetch(
    database_url: str, statement: str, params: Sequence[Any] | dict[str, Any] = ()
) -> list[dict[str, Any]]:
    with connection(database_url) as conn:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(statement, params)
            rows = [dict(row) for row in cur.fetchall()] if cur.description else []
        conn.commit()
        return rows


def execute(database_url: str, statement: str, params: Sequence[Any] | dict[str, Any] = ()) -> None:
    with connection(database_url) as conn, transaction(conn) as cur:
        cur.execute(statement, params)
