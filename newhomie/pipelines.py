"""Item pipelines: price normalisation, then the PostgreSQL writer; and `renormalise`, which runs
today's price normaliser over the price texts already stored."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Self

import psycopg2
import psycopg2.extensions
import psycopg2.extras
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings
from scrapy.statscollectors import StatsCollector

from newhomie import db
from newhomie.items import CrawlError, Listing, LocalityVisit, RejectedEntry, SuburbProfile
from newhomie.localities import time_zone
from newhomie.preflight import PreflightError
from newhomie.prices import Price, is_no_price_phrase, parse_rent_price, parse_sale_price

logger = logging.getLogger(__name__)


def normalise_price(listing_type: str, text: str | None) -> Price | None:
    """The price a listing's text gives: rent in dollars a week, sale and sold in dollars."""
    parse = parse_rent_price if listing_type == "rent" else parse_sale_price
    return parse(text)


def exact_sold_price(price: Price | None) -> int | None:
    """A sold listing's price: only one exact figure is a price it sold for, never a range."""
    if price is None or price.low is None or price.low != price.high:
        return None
    return price.low


class PriceNormalisationPipeline:
    """Reads the agent's price text into whole dollars (rent: a week); sold listings get sold_price.

    A text that gives no price and is not a known no-price phrase is logged with its locality,
    listing id and text, and counted: that log is where the next parser test cases come from.
    """

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Listing) or not item.price_text:
            return item
        price = normalise_price(item.listing_type, item.price_text)
        if price is None:
            if is_no_price_phrase(item.price_text):
                self.stats.inc_value("newhomie/price/no_price_phrase")
            else:
                self.stats.inc_value("newhomie/price/unparsed")
                logger.warning(
                    "price text gave no price: locality=%s listing_id=%s url=%s text=%r",
                    item.locality_slug,
                    item.listing_id,
                    item.url,
                    item.price_text,
                )
            return item
        self.stats.inc_value("newhomie/price/parsed")
        item.price_low, item.price_high = price.low, price.high
        if item.listing_type == "sold" and (sold_price := exact_sold_price(price)) is not None:
            item.sold_price = sold_price
        return item


def _json(value: Any) -> psycopg2.extras.Json:
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


def write_rows(cur: psycopg2.extensions.cursor, statement: str, writes: list[db.Write]) -> None:
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
        cur.execute(db.query("upsert_listings"), {"rows": _rows_json([latest[i] for i in ids])})
        cur.execute(db.query("record_price_history"), {"listing_ids": ids})
    else:
        psycopg2.extras.execute_batch(cur, db.query(statement), [w.params[0] for w in writes])


def profile_writes(profile: SuburbProfile, seen_at: datetime, url: str | None = None) -> list[db.Write]:
    """A suburb profile as rows: the locality (with its boundary), the day's profile and market
    snapshots, the yearly sales series, and the schools with their links to the locality."""
    slug = profile.slug
    # The snapshot's day is the locality's own calendar day, not UTC's.
    day: date = seen_at.astimezone(time_zone(profile.state, profile.postcode)).date()

    def write(statement: str, params: dict[str, Any], key: tuple[Any, ...]) -> db.Write:
        return db.Write(statement, (params,), slug, url, key)

    writes = [
        write(
            "upsert_locality",
            {
                "slug": slug, "name": profile.name, "state": profile.state, "postcode": profile.postcode,
                "status": "active", "crawled_at": None,
                "boundary": None if profile.boundary is None else _json(profile.boundary),
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
    return writes


#: The order in which a batch writes its statements: parents before the rows that refer to them
#: (listings and profiles refer to their locality, links to their school).
STATEMENT_ORDER = (
    "upsert_locality",
    "upsert_listings",
    "upsert_suburb_profile",
    "upsert_suburb_market",
    "upsert_suburb_sales_growth",
    "upsert_school",
    "link_locality_school",
)


def rejected_raw(write: db.Write) -> Any:
    """A refused row as JSON for rejected_item: named fields, so it can be read and replayed."""
    first = write.params[0] if write.params else None
    if isinstance(first, dict):
        return _plain(first)
    if write.statement == "upsert_listings" and len(write.params) == len(LISTING_COLUMNS):
        return dict(zip(LISTING_COLUMNS, _plain(write.params), strict=True))
    return _plain(list(write.params))


class PostgresPipeline:
    """Upserts items into PostgreSQL through raw SQL (the named queries in `sql/queries/`).

    The schema is migrated at start; a crawl_run row records the run. Rows go to a BatchWriter
    (a worker thread); a row the database refuses lands in `rejected_item` with the reason.
    Switched off with NEWHOMIE_DB_ENABLED=False.
    """

    def __init__(self, crawler: Crawler, target: db.DatabaseTarget) -> None:
        assert crawler.stats is not None
        self.crawler = crawler
        self.stats = crawler.stats
        self.target = target
        self.batch_size = crawler.settings.getint("NEWHOMIE_DB_BATCH_SIZE", 500)
        self.flush_seconds = crawler.settings.getfloat("NEWHOMIE_DB_FLUSH_SECONDS", 5.0)
        self.base_url = (crawler.settings.get("DOMAIN_BASE_URL") or "https://www.domain.com.au").rstrip("/")
        self.run_id: int | None = None
        self.writer: db.BatchWriter | None = None

    @classmethod
    def preflight(cls, settings: BaseSettings) -> None:
        """The database is reachable and its schema current, before the crawl starts."""
        if not settings.getbool("NEWHOMIE_DB_ENABLED", True):
            return
        try:
            target = db.database_target()
            conn = db.connect(target.url)
            try:
                db.migrate(conn)
            finally:
                conn.close()
        except (db.DatabaseUnavailable, psycopg2.Error) as exc:
            raise PreflightError(f"database unavailable: {' '.join(str(exc).split())}") from exc

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("NEWHOMIE_DB_ENABLED", True):
            raise NotConfigured("NEWHOMIE_DB_ENABLED is off")
        pipeline = cls(crawler, db.database_target())
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        logger.info("database: %s", self.target.describe())
        conn = db.connect(self.target.url)
        try:
            db.migrate(conn)
            spider = self.crawler.spider
            arguments = dict(getattr(spider, "arguments", {}) or {})
            with db.transaction(conn) as cur:
                cur.execute(
                    db.query("start_crawl_run"),
                    {"spider": getattr(spider, "name", "?"), "arguments": _json(arguments)},
                )
                self.run_id = cur.fetchone()[0]
        finally:
            conn.close()
        self.stats.set_value("newhomie/run_id", self.run_id)
        self.writer = db.BatchWriter(
            self.target.url,
            write_rows,
            self._reject,
            batch_size=self.batch_size,
            flush_seconds=self.flush_seconds,
            statement_order=STATEMENT_ORDER,
        )

    def process_item(self, item: Any) -> Any:
        assert self.writer is not None
        self.writer.add(self._writes(item))
        return item

    def _writes(self, item: Any) -> list[db.Write]:
        now = datetime.now(UTC)
        if isinstance(item, Listing):
            self.stats.inc_value(f"newhomie/items/listing/{item.listing_type}")
            row = listing_row(item, now)
            return [db.Write("upsert_listings", row, item.locality_slug, item.url, (item.listing_id,))]
        if isinstance(item, LocalityVisit):
            params = {**item.model_dump(), "crawled_at": item.crawled_at, "boundary": None}
            return [db.Write("upsert_locality", (params,), item.slug, key=(item.slug,))]
        if isinstance(item, SuburbProfile):
            self.stats.inc_value("newhomie/items/suburb_profile")
            return profile_writes(item, now, f"{self.base_url}/suburb-profile/{item.slug}")
        if isinstance(item, CrawlError):
            params = {**item.model_dump(), "run_id": self.run_id}
            return [db.Write("insert_crawl_error", (params,), item.locality, item.url)]
        if isinstance(item, RejectedEntry):
            self.stats.inc_value(f"newhomie/rejected/{item.kind}")
            params = {**item.model_dump(), "raw": _json(item.raw), "run_id": self.run_id}
            return [db.Write("insert_rejected_item", (params,), item.locality, item.url)]
        self.stats.inc_value("newhomie/items/unknown_type")
        logger.error("no table for item of type %s: %r", type(item).__name__, item)
        return []

    def _reject(self, cur: psycopg2.extensions.cursor, write: db.Write, reason: str) -> None:
        """A row the database refused: kept in rejected_item with the reason, and logged."""
        self.stats.inc_value("newhomie/db/rows_rejected")
        logger.warning("database refused a row (%s): %s; kept in rejected_item", write.describe(), reason)
        cur.execute(
            db.query("insert_rejected_item"),
            {
                "run_id": self.run_id,
                "kind": write.statement,
                "locality": write.locality,
                "url": write.url,
                "raw": _json(rejected_raw(write)),
                "reason": reason,
            },
        )

    async def close_spider(self) -> None:
        if self.writer is None:
            return
        writer_stats = await asyncio.to_thread(self.writer.close)
        for name in ("batches", "rows_written", "rows_rejected", "retried_batches", "rolled_back_batches"):
            self.stats.set_value(f"newhomie/db/{name}", getattr(writer_stats, name))
        self.stats.set_value("newhomie/db/write_seconds", round(writer_stats.seconds, 3))

    def spider_closed(self, reason: str) -> None:
        """Records the run's end; connected to the signal because only it knows the reason."""
        if self.run_id is None:
            return
        stats = dict(self.stats.get_stats())
        conn = db.connect(self.target.url)
        try:
            with db.transaction(conn) as cur:
                cur.execute(
                    db.query("finish_crawl_run"),
                    {"run_id": self.run_id, "status": reason, "stats": _json(stats)},
                )
        finally:
            conn.close()


# --- Renormalising stored prices ----------------------------------------------------------------


@dataclass
class RenormaliseReport:
    """What `renormalise` looked at and what it changed (or would change, on a dry run)."""

    listings_checked: int = 0
    listings_changed: int = 0
    history_checked: int = 0
    history_changed: int = 0
    dry_run: bool = False

    def describe(self) -> str:
        verb = "would change" if self.dry_run else "changed"
        return (
            f"{self.listings_checked} listings checked, {self.listings_changed} {verb}; "
            f"{self.history_checked} price history rows checked, {self.history_changed} {verb}"
        )


def _price_pair(price: Price | None) -> tuple[int | None, int | None]:
    return (None, None) if price is None else (price.low, price.high)


def _renormalised_chunk(
    listings: list[tuple[Any, ...]], history: list[tuple[Any, ...]]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The listing and history rows of one chunk whose normalised prices differ from today's parser's.

    A listing's price follows its current text, as the upsert does. Its sold price is the one exact
    price of its latest sold-type text that gives one: the upsert keeps an old sold price when a new
    text gives none, and every sold-type text is in the history.
    """
    history_changes = []
    sold_texts: dict[int, list[str]] = {}
    for row_id, listing_id, listing_type, text, low, high in history:
        pair = _price_pair(normalise_price(listing_type, text))
        if pair != (low, high):
            history_changes.append((row_id, text, *pair))
        if listing_type == "sold":
            sold_texts.setdefault(listing_id, []).append(text)  # oldest first (ordered by id)
    listing_changes = []
    for listing_id, listing_type, text, low, high, sold_price in listings:
        price = normalise_price(listing_type, text)
        new_sold = None
        if listing_type == "sold":
            texts = [text] if text else []
            texts += reversed(sold_texts.get(listing_id, []))
            new_sold = next((s for t in texts if (s := exact_sold_price(normalise_price("sold", t)))), None)
        new = (*_price_pair(price), new_sold if listing_type == "sold" else sold_price)
        if new != (low, high, sold_price):
            listing_changes.append((listing_id, text, *new))
    return listing_changes, history_changes


def renormalise(url: str, *, chunk_size: int = 2000, dry_run: bool = False) -> RenormaliseReport:
    """Re-run the price normaliser over every stored price text; fix listings and their history.

    Works in chunks of listings, each its own short transaction that locks its listings in id order
    (as the crawl's writer does), so it can run while a crawl writes. Rows whose text changed since
    they were read are left alone: the crawl wrote them with today's parser anyway.
    """
    report = RenormaliseReport(dry_run=dry_run)
    conn = db.connect(url, application_name="newhomie-renormalise")
    try:
        after = 0
        while True:
            with db.transaction(conn) as cur:
                cur.execute(db.query("next_listing_ids"), {"after": after, "limit": chunk_size})
                ids = [row[0] for row in cur.fetchall()]
            if not ids:
                break
            _renormalise_ids(conn, ids, report, dry_run)
            after = ids[-1]
    finally:
        conn.close()
    return report


def _renormalise_ids(
    conn: psycopg2.extensions.connection, ids: list[int], report: RenormaliseReport, dry_run: bool
) -> None:
    """One chunk in one transaction; run again if the database rolls it back to break a deadlock."""
    for attempt in range(1, 4):
        try:
            with db.transaction(conn) as cur:
                cur.execute(db.query("lock_listing_prices"), {"ids": ids})
                listings = cur.fetchall()
                cur.execute(db.query("select_history_prices"), {"ids": ids})
                history = cur.fetchall()
                listing_changes, history_changes = _renormalised_chunk(listings, history)
                changed = [len(listing_changes), len(history_changes)]
                if dry_run:
                    conn.rollback()
                else:
                    for index, (name, rows) in enumerate(
                        [("renormalise_listing_prices", listing_changes),
                         ("renormalise_history_prices", history_changes)]
                    ):  # fmt: skip
                        if rows:
                            # One statement, so rowcount counts the rows really changed.
                            psycopg2.extras.execute_values(cur, db.query(name), rows, page_size=len(rows))
                            changed[index] = cur.rowcount
            break
        except psycopg2.extensions.TransactionRollbackError:
            if attempt == 3:
                raise
            time.sleep(0.1 * attempt)
    report.listings_checked += len(listings)
    report.history_checked += len(history)
    report.listings_changed += changed[0]
    report.history_changed += changed[1]
