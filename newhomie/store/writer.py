"""The batch writer: rows are written from a worker thread, in batches, so that the crawl's event loop
never waits on the database."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg2
import psycopg2.extensions

from newhomie.store.connection import connect, transaction
from newhomie.store.errors import DatabaseUnavailable

logger = logging.getLogger(__name__)


@dataclass
class Write:
    """One row for one named statement, with the locality and URL it came from (for logs).

    `key` is the row's identity in its table (a listing id, a slug): a batch writes each statement's
    rows in key order, so that two writers lock shared rows in the same order and cannot deadlock.
    Rows without a key keep the order they came in.
    """

    statement: str
    params: tuple[Any, ...]
    locality: str | None = None
    url: str | None = None
    key: tuple[Any, ...] = ()


@dataclass
class BatchStats:
    batches: int = 0
    rows_written: int = 0
    rows_rejected: int = 0
    retried_batches: int = 0
    #: Batches the database aborted to break a deadlock (or a serialisation failure) and that were
    #: run again; the lock order makes this 0 between crawls, it is the safety net for other writers.
    rolled_back_batches: int = 0
    seconds: float = 0.0


WriteFn = Callable[[psycopg2.extensions.cursor, str, list[Write]], None]
RejectFn = Callable[[psycopg2.extensions.cursor, Write, str], None]


class BatchWriter:
    """Writes rows in batches from a worker thread, so the crawl's event loop never waits on them.

    A batch is flushed when it is full, when `flush_seconds` have passed, and at close. Its rows
    are written statement by statement (`statement_order` first, parents before children), each
    statement's rows in `Write.key` order: every writer takes its row locks in one global order, so
    concurrent crawls over the same localities wait for each other but never deadlock. A batch the
    database rolls back anyway (a deadlock with some other client) is run again, up to
    `max_attempts` times. If a batch fails, its rows are retried one by one (each in a savepoint),
    so one bad row cannot lose the others; a row that fails alone is handed to `on_reject` (with the
    batch's cursor, so that what it records is committed with the rest) and the database's reason.
    """

    def __init__(
        self,
        url: str,
        write: WriteFn,
        on_reject: RejectFn,
        *,
        batch_size: int = 500,
        flush_seconds: float = 5.0,
        statement_order: Sequence[str] = (),
        max_attempts: int = 3,
        on_batch: Callable[[int, int, float], None] | None = None,
    ) -> None:
        self.url = url
        #: Called from the writer thread after each batch with (rows written, rows rejected, seconds).
        self.on_batch = on_batch
        self.max_attempts = max_attempts
        self.statement_order = list(statement_order)
        self.write = write
        self.on_reject = on_reject
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.stats = BatchStats()
        self._pending: list[Write] = []
        self._lock = threading.Condition()
        self._closing = False
        self._failure: BaseException | None = None
        self._conn = connect(url, application_name="newhomie-writer")
        self._thread = threading.Thread(target=self._run, name="newhomie-db-writer", daemon=True)
        self._thread.start()

    def add(self, writes: Iterable[Write]) -> None:
        if self._failure is not None:
            raise DatabaseUnavailable(f"the database writer stopped: {self._failure}") from self._failure
        with self._lock:
            self._pending.extend(writes)
            if len(self._pending) >= self.batch_size:
                self._lock.notify()

    def close(self) -> BatchStats:
        with self._lock:
            self._closing = True
            self._lock.notify()
        self._thread.join()
        self._conn.close()
        if self._failure is not None:
            raise DatabaseUnavailable(f"the database writer stopped: {self._failure}") from self._failure
        return self.stats

    def _run(self) -> None:
        deadline = time.monotonic() + self.flush_seconds
        while True:
            with self._lock:
                while not self._closing and len(self._pending) < self.batch_size:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._lock.wait(remaining)
                # One batch at most: a backlog is written as several bounded transactions, so locks
                # are held briefly and a bad row costs a one-by-one retry of its batch only.
                batch = self._pending[: self.batch_size]
                del self._pending[: self.batch_size]
                closing = self._closing
            if batch:
                try:
                    self._flush(batch)
                except BaseException as exc:  # the connection is gone: stop, and let add/close say so
                    logger.exception("database writer stopped; %d rows were not written", len(batch))
                    self._failure = exc
                    return
            deadline = time.monotonic() + self.flush_seconds
            if closing:
                with self._lock:
                    if not self._pending:
                        return

    def _flush(self, batch: list[Write]) -> None:
        started = time.perf_counter()
        rows_before, rejected_before = self.stats.rows_written, self.stats.rows_rejected
        batch = sorted(batch, key=self._lock_order)  # stable: rows of one key keep their order
        by_statement: dict[str, list[Write]] = {}
        for write in batch:
            by_statement.setdefault(write.statement, []).append(write)
        for attempt in range(1, self.max_attempts + 1):
            try:
                with transaction(self._conn) as cur:
                    for statement, writes in by_statement.items():
                        self.write(cur, statement, writes)
                self.stats.rows_written += len(batch)
                break
            except psycopg2.extensions.TransactionRollbackError as exc:
                # Nothing of the batch was kept: running it again is safe.
                self.stats.rolled_back_batches += 1
                reason = " ".join(str(exc).split())
                if attempt == self.max_attempts:
                    logger.warning("a batch of %d rows was rolled back %d times (%s); writing its rows "
                                   "one by one", len(batch), attempt, reason)  # fmt: skip
                    self._flush_one_by_one(batch)
                    break
                logger.warning("a batch of %d rows was rolled back (%s); running it again",
                               len(batch), reason)  # fmt: skip
                time.sleep(0.05 * attempt)
            except psycopg2.OperationalError:
                raise
            except psycopg2.Error as exc:
                self.stats.retried_batches += 1
                logger.warning("a batch of %d rows failed (%s); writing its rows one by one", len(batch), exc)
                self._flush_one_by_one(batch)
                break
        self.stats.batches += 1
        seconds = time.perf_counter() - started
        self.stats.seconds += seconds
        if self.on_batch is not None:
            written, rejected = (
                self.stats.rows_written - rows_before,
                self.stats.rows_rejected - rejected_before,
            )
            self.on_batch(written, rejected, seconds)

    def _statement_rank(self, write: Write) -> int:
        """Statements named in `statement_order` go first, in that order (parents before children)."""
        try:
            return self.statement_order.index(write.statement)
        except ValueError:
            return len(self.statement_order)

    def _lock_order(self, write: Write) -> tuple[int, str, tuple[Any, ...]]:
        """Statement rank, then the statement (rows of one statement together), then the row's key."""
        return self._statement_rank(write), write.statement, write.key

    def _flush_one_by_one(self, batch: list[Write]) -> None:
        with transaction(self._conn) as cur:
            for write in batch:  # already in lock order
                cur.execute("SAVEPOINT one_row")
                try:
                    self.write(cur, write.statement, [write])
                except psycopg2.OperationalError:
                    raise
                except psycopg2.Error as exc:
                    cur.execute("ROLLBACK TO SAVEPOINT one_row")
                    reason = " ".join(str(exc).split())
                    self.stats.rows_rejected += 1
                    self.on_reject(cur, write, reason)
                else:
                    cur.execute("RELEASE SAVEPOINT one_row")
                    self.stats.rows_written += 1
