"""The database pipeline: every item goes to the batch writer as rows, and the run is recorded.

The schema is migrated at start and a `crawl_run` row records the run; items become rows
(`newhomie.store.rows`) that a BatchWriter (a worker thread) writes; a row the database refuses lands
in `rejected_item` with the reason. At the end the run's stats, summary and health verdict are stored
with it. Switched off with NEWHOMIE_DB_ENABLED=False.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import psycopg2
import psycopg2.extensions
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings

from newhomie import signals as newhomie_signals
from newhomie import sql
from newhomie.context import page_context
from newhomie.items import Listing, RejectedEntry, SuburbProfile
from newhomie.preflight import PreflightError
from newhomie.store.embedded import newhomie_home
from newhomie.store.errors import DatabaseUnavailable
from newhomie.store.migrations import ready_database
from newhomie.store.rows import STATEMENT_ORDER, item_writes, rejected_row, write_rows
from newhomie.store.runs import ALIVE_SECONDS, finish_run, start_run
from newhomie.store.target import DatabaseTarget, database_target
from newhomie.store.write import Write
from newhomie.store.writer import BatchStats, BatchWriter

logger = logging.getLogger(__name__)

#: The writer's counts, stored in the stats as newhomie/db/<name> at close.
WRITER_STATS = (
    "batches", "rows_written", "rows_rejected", "rows_unstorable", "rows_unwritten", "rows_spilled",
    "rows_replayed", "retried_batches", "rolled_back_batches", "reconnects",
)  # fmt: skip


def spill_dir(settings: BaseSettings) -> Path:
    """Where rows wait for a database that is away: NEWHOMIE_DB_SPILL_DIR, else `unwritten/` in the
    crawl's JOBDIR (it is the crawl's), else under NEWHOMIE_HOME."""
    if configured := settings.get("NEWHOMIE_DB_SPILL_DIR"):
        return Path(configured)
    if jobdir := settings.get("JOBDIR"):
        return Path(jobdir) / "unwritten"
    return newhomie_home() / "unwritten"


class PostgresPipeline:
    """Upserts items into PostgreSQL through raw SQL (the named queries of `newhomie/sql/queries/`)."""

    def __init__(self, crawler: Crawler, target: DatabaseTarget) -> None:
        assert crawler.stats is not None
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.target = target
        self.writer_options: dict[str, Any] = {
            "batch_size": settings.getint("NEWHOMIE_DB_BATCH_SIZE", 500),
            "flush_seconds": settings.getfloat("NEWHOMIE_DB_FLUSH_SECONDS", 5.0),
            "memory_rows": settings.getint("NEWHOMIE_DB_MEMORY_ROWS", 20_000),
            "close_wait_seconds": settings.getfloat("NEWHOMIE_DB_CLOSE_WAIT_SECONDS", 60.0),
            "reconnect_max_seconds": settings.getfloat("NEWHOMIE_DB_RECONNECT_MAX_SECONDS", 30.0),
            "spill_dir": spill_dir(settings),
        }
        self.run_id: int | None = None
        self.writer: BatchWriter | None = None

    @classmethod
    def preflight(cls, settings: BaseSettings) -> None:
        """The database is reachable and its schema current, before the crawl starts."""
        if not settings.getbool("NEWHOMIE_DB_ENABLED", True):
            return
        try:
            ready_database()
        except (DatabaseUnavailable, psycopg2.Error) as exc:
            raise PreflightError(f"database unavailable: {' '.join(str(exc).split())}") from exc

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("NEWHOMIE_DB_ENABLED", True):
            raise NotConfigured("NEWHOMIE_DB_ENABLED is off")
        pipeline = cls(crawler, database_target())
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        logger.info("database: %s", self.target.describe())
        spider = self.crawler.spider
        ready_database()
        self.run_id = start_run(
            self.target.url, getattr(spider, "name", "?"), dict(getattr(spider, "arguments", {}) or {}),
            getattr(spider, "crawl_key", None), getattr(spider, "shard", None),
            getattr(spider, "crawl_kind", None),
        )  # fmt: skip
        self.stats.set_value("newhomie/run_id", self.run_id)
        self.writer = BatchWriter(
            self.target.url,
            write_rows,
            self._reject,
            statement_order=STATEMENT_ORDER,
            on_batch=self._batch_written,
            run_id=self.run_id,
            alive=("crawl_run_alive", {"run_id": self.run_id}),
            alive_seconds=ALIVE_SECONDS,
            **self.writer_options,
        )

    def _batch_written(self, rows: int, rejected: int, seconds: float) -> None:
        """From the writer thread: live counts, and the signal, sent from the reactor's thread."""
        from twisted.internet import reactor

        def announce() -> None:
            self.stats.inc_value("newhomie/db/live_rows_written", rows)
            self.crawler.signals.send_catch_log(
                newhomie_signals.db_batch_written, rows=rows, rejected=rejected, seconds=seconds
            )

        reactor.callFromThread(announce)

    def process_item(self, item: Any) -> Any:
        assert self.writer is not None
        writes = item_writes(item, self.run_id, datetime.now(UTC))
        if writes is None:
            self.stats.inc_value("newhomie/items/unknown_type")
            logger.error("no table for item of type %s: %r", type(item).__name__, item)
            return item
        self._count(item)
        self.writer.add(writes)
        return item

    def _count(self, item: Any) -> None:
        if isinstance(item, Listing):
            self.stats.inc_value(f"newhomie/items/listing/{item.listing_type}")
        elif isinstance(item, SuburbProfile):
            self.stats.inc_value("newhomie/items/suburb_profile")
        elif isinstance(item, RejectedEntry):
            self.stats.inc_value(f"newhomie/rejected/{item.kind}")

    def _reject(self, cur: psycopg2.extensions.cursor, write: Write, reason: str, run_id: int | None) -> None:
        """From the writer thread: a row the database refused, kept in rejected_item with the reason
        (under the run it came from: a spilled row of an earlier run keeps its run), and logged."""
        logger.warning("database refused a row of %s: %s; kept in rejected_item", write.statement, reason,
                       extra=page_context(write.locality, url=write.url))  # fmt: skip
        cur.execute(sql.query("insert_rejected_item"), rejected_row(write, reason, run_id))

    async def close_spider(self) -> None:
        if self.writer is None:
            return
        writer_stats: BatchStats = await asyncio.to_thread(self.writer.close)
        for name in WRITER_STATS:
            self.stats.set_value(f"newhomie/db/{name}", getattr(writer_stats, name))
        self.stats.set_value("newhomie/db/write_seconds", round(writer_stats.seconds, 3))
        self.stats.set_value("newhomie/db/outage_seconds", round(writer_stats.outage_seconds, 1))
        if writer_stats.spill_files:
            self.stats.set_value("newhomie/db/unwritten_files", list(writer_stats.spill_files))

    def spider_closed(self, reason: str) -> None:
        """Records the run's end; connected to the signal because only it knows the reason."""
        if self.run_id is None:
            return
        stats = dict(self.stats.get_stats())
        # Left in the stats by the run summary extension (newhomie.watch), whose handler runs before this one.
        summary = stats.pop("newhomie/summary", None)
        try:
            finish_run(
                self.target.url, self.run_id, reason, stats, summary, stats.get("newhomie/health/healthy")
            )
        except (DatabaseUnavailable, psycopg2.Error) as exc:
            logger.error("the end of run %d could not be recorded (%s); the next run marks it interrupted",
                         self.run_id, " ".join(str(exc).split()))  # fmt: skip
