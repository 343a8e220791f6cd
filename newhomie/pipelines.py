"""Item pipelines: price normalisation, then the PostgreSQL writer."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
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
from newhomie import signals as signals_
from newhomie.items import CrawlError, Listing, LocalityOutcome, LocalityVisit, RejectedEntry, SuburbProfile
from newhomie.preflight import PreflightError
from newhomie.prices import exact_sold_price, is_no_price_phrase, normalise_price
from newhomie.rows import STATEMENT_ORDER, as_json, listing_row, profile_writes, rejected_raw, write_rows

logger = logging.getLogger(__name__)


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
        self.run_id: int | None = None
        self.writer: db.BatchWriter | None = None

    @classmethod
    def preflight(cls, settings: BaseSettings) -> None:
        """The database is reachable and its schema current, before the crawl starts."""
        if not settings.getbool("NEWHOMIE_DB_ENABLED", True):
            return
        try:
            db.ready_database()
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
                    {
                        "spider": getattr(spider, "name", "?"),
                        "arguments": as_json(arguments),
                        "crawl_key": getattr(spider, "crawl_key", None),
                        "shard": getattr(spider, "shard", None),
                    },
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
            on_batch=self._batch_written,
        )

    def _batch_written(self, rows: int, rejected: int, seconds: float) -> None:
        """From the writer thread: live counts, and the signal, sent from the reactor's thread."""
        from twisted.internet import reactor

        def announce() -> None:
            self.stats.inc_value("newhomie/db/live_rows_written", rows)
            self.crawler.signals.send_catch_log(
                signals_.db_batch_written, rows=rows, rejected=rejected, seconds=seconds
            )

        reactor.callFromThread(announce)

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
            return profile_writes(item, now)
        if isinstance(item, LocalityOutcome):
            params = {**item.model_dump(), "locality_slug": item.slug, "run_id": self.run_id}
            return [db.Write("upsert_locality_crawl", (params,), item.slug, key=(item.crawl_key, item.slug))]
        if isinstance(item, CrawlError):
            params = {**item.model_dump(), "run_id": self.run_id}
            return [db.Write("insert_crawl_error", (params,), item.locality, item.url)]
        if isinstance(item, RejectedEntry):
            self.stats.inc_value(f"newhomie/rejected/{item.kind}")
            params = {**item.model_dump(), "raw": as_json(item.raw), "run_id": self.run_id}
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
                "raw": as_json(rejected_raw(write)),
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
        # Left in the stats by newhomie.summary.RunSummary, whose handler runs before this one.
        summary = stats.pop("newhomie/summary", None)
        healthy = stats.get("newhomie/health/healthy")
        conn = db.connect(self.target.url)
        try:
            with db.transaction(conn) as cur:
                cur.execute(
                    db.query("finish_crawl_run"),
                    {
                        "run_id": self.run_id,
                        "status": reason,
                        "stats": as_json(stats),
                        "summary": as_json(summary) if summary is not None else None,
                        "health": None if healthy is None else ("healthy" if healthy else "unhealthy"),
                        "health_reasons": as_json(stats.get("newhomie/health/reasons", [])),
                    },
                )
        finally:
            conn.close()
