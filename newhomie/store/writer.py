"""The batch writer: rows are written from a worker thread, in batches, so that the crawl's event loop
never waits on the database, and none is lost while the database is away.

A batch is flushed when it is full, when `flush_seconds` have passed, and at close. Its rows are written
statement by statement (`statement_order` first, parents before children), each statement's rows in
`Write.key` order: every writer takes its row locks in one global order, so concurrent crawls over the
same localities wait for each other but never deadlock. A batch the database rolls back anyway (a
deadlock with some other client) is run again, up to `max_attempts` times.

One bad row costs that row alone: a batch that fails is written again row by row, each in a savepoint;
a row that fails alone goes to `on_reject` (kept in `rejected_item`, in a savepoint of its own), and a
row that cannot even be kept there is counted (`rows_unstorable`) and logged, never the end of the writer.

When the connection is lost (the server restarted, the network went), the batch goes back to the head
of the queue and the writer reconnects with back-off (doubling up to `reconnect_max_seconds`) for as
long as it takes; rows keep coming in meanwhile. Beyond `memory_rows` held, the oldest go to a spill
file (`newhomie.store.spill`); once the database is back, spilled rows are written first, so the order
of sightings is kept. At close the writer waits up to `close_wait_seconds` for a database that is
still away, then keeps whatever is unwritten in a spill file, and says how many rows and where
(`BatchStats.rows_unwritten`, `spill_files`). A writer that starts with a spill folder writes the files
earlier writers left there before anything new.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions

from newhomie import sql
from newhomie.store import spill
from newhomie.store.connection import connect, transaction
from newhomie.store.errors import DatabaseUnavailable
from newhomie.store.spill import SpillFile
from newhomie.store.write import Write

logger = logging.getLogger(__name__)


@dataclass
class BatchStats:
    batches: int = 0
    #: Rows the database acknowledged (committed).
    rows_written: int = 0
    #: Rows the database refused, kept in rejected_item with the reason.
    rows_rejected: int = 0
    #: Rows refused that could not be kept in rejected_item either (logged with their locality and URL).
    rows_unstorable: int = 0
    retried_batches: int = 0
    #: Batches the database aborted to break a deadlock (or a serialisation failure) and that were
    #: run again; the lock order makes this 0 between crawls, it is the safety net for other writers.
    rolled_back_batches: int = 0
    #: Times the connection was lost and made again; seconds the database was away in all.
    reconnects: int = 0
    outage_seconds: float = 0.0
    #: Rows put in spill files (beyond the memory bound while the database was away, or at close).
    rows_spilled: int = 0
    #: Rows of earlier writers' spill files written by this one.
    rows_replayed: int = 0
    #: Rows not written when the writer closed; they are in `spill_files`.
    rows_unwritten: int = 0
    spill_files: list[str] = field(default_factory=list)
    seconds: float = 0.0


WriteFn = Callable[[psycopg2.extensions.cursor, str, list[Write]], None]
#: Keeps a refused row (cursor, row, the database's reason, the run the row belongs to).
RejectFn = Callable[[psycopg2.extensions.cursor, Write, str, "int | None"], None]


class ConnectionLost(Exception):
    """The database went away during a batch; the batch was not written."""


class BatchWriter:
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
        run_id: int | None = None,
        spill_dir: Path | None = None,
        memory_rows: int = 20_000,
        reconnect_max_seconds: float = 30.0,
        close_wait_seconds: float = 60.0,
        alive: tuple[str, dict[str, Any]] | None = None,
        alive_seconds: float = 60.0,
    ) -> None:
        if batch_size < 1 or memory_rows < batch_size:
            raise ValueError(
                f"batch_size {batch_size} must be at least 1 and at most memory_rows {memory_rows}"
            )
        self.url = url
        #: Called from the writer thread after each batch with (rows written, rows rejected, seconds).
        self.on_batch = on_batch
        self.max_attempts = max_attempts
        self.statement_order = list(statement_order)
        self.write = write
        self.on_reject = on_reject
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.run_id = run_id
        self.spill_dir = spill_dir
        self.memory_rows = memory_rows
        self.reconnect_max_seconds = reconnect_max_seconds
        self.close_wait_seconds = close_wait_seconds
        #: A named statement run every `alive_seconds` while the database is there (the run is alive).
        self.alive = alive
        self.alive_seconds = alive_seconds
        self._alive_at = 0.0
        self.stats = BatchStats()
        self._pending: list[Write] = []
        self._lock = threading.Condition()
        self._closing = False
        self._close_deadline = float("inf")
        self._conn: psycopg2.extensions.connection | None = None
        #: Files to write before the rows in memory, oldest first: earlier writers', then our spills.
        self._backlog: list[Path] = spill.claim_spilled(spill_dir) if spill_dir is not None else []
        self._spill: SpillFile | None = None
        if self._backlog:
            logger.warning("writing first the rows earlier runs could not write: %s",
                           ", ".join(str(path) for path in self._backlog))  # fmt: skip
        self._thread = threading.Thread(target=self._run, name="newhomie-db-writer", daemon=True)
        self._thread.start()

    # --- From the crawl ----------------------------------------------------------------------------

    def add(self, writes: Iterable[Write]) -> None:
        with self._lock:
            self._pending.extend(writes)
            if len(self._pending) >= self.batch_size:
                self._lock.notify()

    def close(self) -> BatchStats:
        """Writes what is left (waiting up to close_wait_seconds for a database that is away), keeps
        the rest in a spill file, and says what happened."""
        with self._lock:
            self._closing = True
            self._close_deadline = time.monotonic() + self.close_wait_seconds
            self._lock.notify()
        self._thread.join()
        return self.stats

    # --- The thread ----------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        except Exception:  # a bug of ours: keep the rows, say so, end
            logger.exception("the database writer failed; keeping its rows in a spill file")
        finally:
            self._keep_the_rest()
            if self._conn is not None:
                self._conn.close()

    def _loop(self) -> None:
        deadline = time.monotonic() + self.flush_seconds
        while True:
            if not self._connected():
                if not self._reconnect():
                    return  # closing, and the database did not come back in time
                continue
            try:
                self._say_alive()
                if self._backlog:
                    self._replay_next()
                    continue
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
                        self._flush(batch, self.run_id)
                    except ConnectionLost:
                        with self._lock:
                            self._pending[:0] = batch  # back at the head of the queue
                        continue
                deadline = time.monotonic() + self.flush_seconds
                if closing:
                    with self._lock:
                        if not self._pending and not self._backlog:
                            return
            except ConnectionLost:
                continue

    def _say_alive(self) -> None:
        if self.alive is None or time.monotonic() - self._alive_at < self.alive_seconds:
            return
        name, params = self.alive
        try:
            with transaction(self._connection()) as cur:
                cur.execute(sql.query(name), params)
        except Exception as exc:
            self._raise_if_lost(exc)
            logger.warning("%s failed: %s", name, _short(exc))
        self._alive_at = time.monotonic()

    def _connected(self) -> bool:
        return self._conn is not None and self._conn.closed == 0

    def _reconnect(self) -> bool:
        """Connects (again), with back-off; holds rows meanwhile, spilling beyond the memory bound.
        False when the writer is closing and its close deadline passed first."""
        lost_at = time.monotonic()
        delay, attempts, reason = 0.5, 0, ""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        while True:
            try:
                self._conn = connect(self.url, application_name="newhomie-writer")
            except DatabaseUnavailable as exc:
                reason = str(exc)
            else:
                if attempts:
                    self.stats.reconnects += 1
                    self.stats.outage_seconds += time.monotonic() - lost_at
                    logger.warning("the database is back after %.0f s; writing the %d rows held",
                                   time.monotonic() - lost_at, self._held())  # fmt: skip
                return True
            attempts += 1
            self._spill_overflow()
            with self._lock:
                closing, deadline = self._closing, self._close_deadline
            if closing and time.monotonic() >= deadline:
                logger.error("the database is still away at close (%s)", reason)
                return False
            if attempts == 1 or attempts % 10 == 0:
                logger.warning("the database is away (%s); holding %d rows, trying again in %.1f s",
                               reason, self._held(), delay)  # fmt: skip
            with self._lock:  # a close wakes it early, to keep to the close deadline
                self._lock.wait(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, self.reconnect_max_seconds)

    def _held(self) -> int:
        with self._lock:
            memory = len(self._pending)
        return memory + (self._spill.rows if self._spill is not None else 0)

    # --- Spill files ---------------------------------------------------------------------------------

    def _spill_overflow(self) -> None:
        """The oldest rows beyond the memory bound go to the spill file (after what it holds already)."""
        with self._lock:
            overflow = len(self._pending) - self.memory_rows
            if overflow <= 0 or self.spill_dir is None:
                return
            rows = self._pending[:overflow]
            del self._pending[:overflow]
        self._spill_rows(rows)

    def _spill_rows(self, rows: list[Write]) -> None:
        assert self.spill_dir is not None
        if self._spill is None:
            self._spill = SpillFile(self.spill_dir, self.run_id)
            self._backlog.append(self._spill.path)
        self._spill.append(rows)
        self.stats.rows_spilled += len(rows)
        logger.warning("%d rows kept in %s until the database is back", len(rows), self._spill.path)

    def _replay_next(self) -> None:
        """Writes the next batch of the oldest file of the backlog; a file written whole is removed."""
        path = self._backlog[0]
        if self._spill is not None and path == self._spill.path:
            self._spill = None  # our own spill: new overflow goes to a new file, after it
        done = spill.progress(path)
        for rows in spill.read_spilled(path, self.batch_size, skip=done):
            for run_id in dict.fromkeys(run for _, run in rows):
                self._flush([write for write, run in rows if run == run_id], run_id)
            done += len(rows)
            spill.save_progress(path, done)
            self.stats.rows_replayed += len(rows)
        spill.finished(path)
        self._backlog.pop(0)

    def _keep_the_rest(self) -> None:
        """At the end: rows still in memory go to a spill file; say what is left unwritten, and where."""
        with self._lock:
            rest = list(self._pending)
            self._pending.clear()
        if rest:
            if self.spill_dir is None:
                self.stats.rows_unwritten += len(rest)
                logger.error("%d rows were not written and there is no spill folder to keep them", len(rest))
            else:
                self._spill_rows(rest)
        for path in self._backlog:
            self.stats.rows_unwritten += spill.count_rows(path) - spill.progress(path)
            self.stats.spill_files.append(str(spill.release_claim(path)))
        if self.stats.rows_unwritten:
            logger.error("%d rows were not written to the database; kept in %s (the next run writes them "
                         "first)", self.stats.rows_unwritten, ", ".join(self.stats.spill_files))  # fmt: skip

    # --- One batch -----------------------------------------------------------------------------------

    def _flush(self, batch: list[Write], run_id: int | None) -> None:
        started = time.perf_counter()
        rows_before, rejected_before = self.stats.rows_written, self.stats.rows_rejected
        batch = sorted(batch, key=self._lock_order)  # stable: rows of one key keep their order
        by_statement: dict[str, list[Write]] = {}
        for write in batch:
            by_statement.setdefault(write.statement, []).append(write)
        for attempt in range(1, self.max_attempts + 1):
            try:
                with transaction(self._connection()) as cur:
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
                    self._flush_one_by_one(batch, run_id)
                    break
                logger.warning("a batch of %d rows was rolled back (%s); running it again",
                               len(batch), reason)  # fmt: skip
                time.sleep(0.05 * attempt)
            except Exception as exc:  # a row of it refused (by the database, or before it: a bad value)
                self._raise_if_lost(exc)
                self.stats.retried_batches += 1
                logger.warning("a batch of %d rows failed (%s: %s); writing its rows one by one", len(batch),
                               type(exc).__name__, _short(exc))  # fmt: skip
                self._flush_one_by_one(batch, run_id)
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

    def _connection(self) -> psycopg2.extensions.connection:
        if self._conn is None:
            raise ConnectionLost("no connection")
        return self._conn

    def _raise_if_lost(self, exc: BaseException) -> None:
        """A failure that closed the connection is the database going away, not a bad row."""
        if not self._connected():
            logger.warning(
                "the connection to the database was lost (%s: %s)", type(exc).__name__, _short(exc)
            )
            raise ConnectionLost(str(exc)) from exc

    def _statement_rank(self, write: Write) -> int:
        """Statements named in `statement_order` go first, in that order (parents before children)."""
        try:
            return self.statement_order.index(write.statement)
        except ValueError:
            return len(self.statement_order)

    def _lock_order(self, write: Write) -> tuple[int, str, tuple[Any, ...]]:
        """Statement rank, then the statement (rows of one statement together), then the row's key."""
        return self._statement_rank(write), write.statement, write.key

    def _flush_one_by_one(self, batch: list[Write], run_id: int | None) -> None:
        try:
            with transaction(self._connection()) as cur:
                written = rejected = unstorable = 0
                for write in batch:  # already in lock order
                    outcome = self._one_row(cur, write, run_id)
                    written += outcome == "written"
                    rejected += outcome == "rejected"
                    unstorable += outcome == "unstorable"
        except ConnectionLost:
            raise
        except Exception as exc:
            self._raise_if_lost(exc)
            raise
        self.stats.rows_written += written
        self.stats.rows_rejected += rejected
        self.stats.rows_unstorable += unstorable

    def _one_row(self, cur: psycopg2.extensions.cursor, write: Write, run_id: int | None) -> str:
        """One row in a savepoint: written, or rejected (kept in rejected_item), or unstorable."""
        for attempt in range(1, self.max_attempts + 1):
            cur.execute(sql.query("savepoint_row"))
            try:
                self.write(cur, write.statement, [write])
            except psycopg2.extensions.TransactionRollbackError:
                self._raise_if_lost(RuntimeError("the connection closed during a row"))
                cur.execute(sql.query("rollback_to_row"))
                if attempt < self.max_attempts:
                    continue  # a deadlock with another client: this row again, not a refusal
                reason = "deadlocked with another writer, again and again"
            except Exception as exc:
                self._raise_if_lost(exc)
                cur.execute(sql.query("rollback_to_row"))
                reason = f"{type(exc).__name__}: {' '.join(str(exc).split())}" if not isinstance(
                    exc, psycopg2.Error) else " ".join(str(exc).split())  # fmt: skip
            else:
                cur.execute(sql.query("release_row"))
                return "written"
            return self._keep_refused(cur, write, reason, run_id)
        raise AssertionError("unreachable")

    def _keep_refused(
        self, cur: psycopg2.extensions.cursor, write: Write, reason: str, run_id: int | None
    ) -> str:
        cur.execute(sql.query("savepoint_row"))
        try:
            self.on_reject(cur, write, reason, run_id)
        except Exception as exc:
            self._raise_if_lost(exc)
            cur.execute(sql.query("rollback_to_row"))
            logger.error(
                "a row of %s could not be kept in rejected_item either (%s: %s); its reason: %s",
                write.statement, type(exc).__name__, _short(exc), _short(reason),
                extra={"locality": write.locality, "url": write.url, "stage": None},
            )  # fmt: skip
            return "unstorable"
        cur.execute(sql.query("release_row"))
        return "rejected"


def _short(value: object, limit: int = 300) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
