"""PostgreSQL: which database, its schema (numbered migrations), named queries, and batched writes.

NEWHOMIE_DATABASE_URL names any PostgreSQL 14+. Without it an embedded PostgreSQL (the `pgserver`
package) is started on demand with its data under `.newhomie/` in the working directory, and left
running for later runs. URLs are only ever shown with their password masked.

On Zyte Scrapy Cloud a job gets no environment variables of ours, only the settings set in the UI, in
the JSON of SHUB_SETTINGS: there a setting named NEWHOMIE_DATABASE_URL is read from that JSON (the
environment variable still wins), and a job never falls back to the embedded database, whose data
would vanish with the job's container.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import psycopg2.extensions
import psycopg2.extras

logger = logging.getLogger(__name__)

DATABASE_URL_ENV = "NEWHOMIE_DATABASE_URL"
HOME_ENV = "NEWHOMIE_HOME"
# What Zyte Scrapy Cloud gives a job (read by scrapinghub-entrypoint-scrapy, sh_scrapy): the settings set
# in its UI, as JSON, in SHUB_SETTINGS; and the job's key in SHUB_JOBKEY, which says we run there.
SCRAPY_CLOUD_SETTINGS_ENV = "SHUB_SETTINGS"
SCRAPY_CLOUD_JOB_ENV = "SHUB_JOBKEY"
# SHUB_SETTINGS' sections, lowest precedence first: sh_scrapy merges them in this order (priorities 10,
# 20, 30, 40), so a job's setting beats its spider's, which beats the organisation's and the project's.
SCRAPY_CLOUD_SECTIONS = ("project_settings", "organization_settings", "spider_settings", "job_settings")
# The migrations and named queries, read as package data through importlib.resources: they are found
# when the project runs from a zipped egg (Scrapyd), where no path next to __file__ exists, as well as
# from a checkout (where the top-level `sql/` is a link to this directory).
SQL_DIR: Traversable = resources.files("newhomie") / "sql"
# Serialises migrations when several crawls start at once against one database.
MIGRATION_LOCK_ID = 0x6E657768  # "newh"


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or set up; the message says which one and why."""


def redact_url(url: str) -> str:
    """The URL with its password masked, fit for logs."""
    if "://" not in url:
        return re.sub(r"(password\s*=\s*)\S+", r"\1***", url)
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def newhomie_home() -> Path:
    return Path(os.environ.get(HOME_ENV) or Path.cwd() / ".newhomie").resolve()


def import_pgserver() -> Any:
    """The embedded PostgreSQL package, imported only when no server is configured."""
    with warnings.catch_warnings():
        # At import it asks for a runtime directory; without XDG_RUNTIME_DIR (cron, containers)
        # platformdirs falls back to /tmp and warns, which is fine for a lock file.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pgserver
    # It logs every command it runs, with its output, at INFO.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    return pgserver


def embedded_url(data_dir: Path | None = None) -> str:
    """Start (or reuse) the embedded PostgreSQL and return its URL."""
    pgserver = import_pgserver()

    data_dir = (data_dir or newhomie_home() / "pgdata").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        server = pgserver.get_server(data_dir, cleanup_mode=None)
    except Exception as exc:
        raise DatabaseUnavailable(f"cannot start the embedded PostgreSQL in {data_dir}: {exc}") from exc
    return str(server.get_uri())


@dataclass(frozen=True)
class DatabaseTarget:
    url: str
    embedded: bool
    #: Where the URL came from, when that is not the environment variable (shown in the log).
    source: str = ""

    def describe(self) -> str:
        kind = "embedded PostgreSQL" if self.embedded else "PostgreSQL"
        return f"{kind} at {redact_url(self.url)}" + (f" (from {self.source})" if self.source else "")


def decode_scrapy_cloud_settings(text: str) -> dict[str, Any]:
    """SHUB_SETTINGS' value: JSON itself, a base64 `data:` URI of it, or a file path (or `file://` URI) to
    it; the forms sh_scrapy's own decoder (sh_scrapy.env.decode_uri) reads, decoded the same way.

    Decoded here rather than with sh_scrapy's function: sh_scrapy is Scrapy Cloud's entry point, installed in
    the image only, and nothing the crawler imports may need more than requirements.txt.
    """
    text = text.strip()
    if text.startswith("data:"):
        header, _, payload = text.rpartition(",")
        mime_type, *parameters = header[len("data:") :].split(";")
        options = dict(p.partition("=")[::2] for p in parameters)
        if "base64" not in options or mime_type not in ("", "application/json"):
            raise ValueError(f"a data: URI of {mime_type or 'JSON'} without base64 is not read")
        decoded = json.loads(base64.b64decode(payload).decode(options.get("charset") or "utf-8"))
    elif text.startswith("{"):
        decoded = json.loads(text)
    elif text.startswith(("/", "file://")):
        decoded = json.loads(Path(text.removeprefix("file://")).read_text(encoding="utf-8"))
    else:
        raise ValueError("neither JSON, a data: URI nor a file path")
    if not isinstance(decoded, dict):
        raise ValueError(f"a JSON {type(decoded).__name__}, not an object")
    return decoded


def scrapy_cloud_setting(name: str) -> str | None:
    """The value Scrapy Cloud's settings give `name` (what sh_scrapy hands Scrapy), or None when no
    section sets it or when not on Scrapy Cloud.

    Read from SHUB_SETTINGS in the environment, as NEWHOMIE_DATABASE_URL is, not from Scrapy's settings:
    this module has none (the `python -m newhomie` commands run without Scrapy), and no setting of ours
    carries the URL. sh_scrapy copies every UI setting into Scrapy's settings too, but Scrapy's "Overridden
    settings" line prints only settings Scrapy defines, so this one is never printed (tests/test_docker.py
    reads a whole job's output for its password).
    """
    text = os.environ.get(SCRAPY_CLOUD_SETTINGS_ENV, "")
    if not text.strip():
        return None
    try:
        settings = decode_scrapy_cloud_settings(text)
    except (OSError, ValueError, binascii.Error) as exc:
        # These errors name a position, a byte or a path, never the settings' text (it may hold a password).
        logger.warning("cannot read %s (%s); its settings are ignored", SCRAPY_CLOUD_SETTINGS_ENV, exc)
        return None
    value: object = None
    for section in SCRAPY_CLOUD_SECTIONS:
        entries = settings.get(section)
        if isinstance(entries, dict) and name in entries:
            value = entries[name]
    return None if value is None else str(value).strip()


def database_target() -> DatabaseTarget:
    """The database to use: NEWHOMIE_DATABASE_URL; else, on Scrapy Cloud, the setting of that name; else
    the embedded PostgreSQL, except in a Scrapy Cloud job (its data would go with the job's container)."""
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if url:
        return DatabaseTarget(url=url, embedded=False)
    url = scrapy_cloud_setting(DATABASE_URL_ENV) or ""
    if url:
        return DatabaseTarget(url=url, embedded=False, source=f"the Scrapy Cloud setting {DATABASE_URL_ENV}")
    if os.environ.get(SCRAPY_CLOUD_JOB_ENV):
        raise DatabaseUnavailable(
            f"no database for a Scrapy Cloud job: set {DATABASE_URL_ENV} in the project's (or the spider's) "
            "settings on Scrapy Cloud; an embedded one would be lost with the job's container"
        )
    return DatabaseTarget(url=embedded_url(), embedded=True)


def with_database(url: str, name: str) -> str:
    """The same server's URL for another database."""
    if "://" not in url:
        return f"{url} dbname={name}"
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def connect(url: str, *, application_name: str = "newhomie") -> psycopg2.extensions.connection:
    try:
        conn = psycopg2.connect(url, connect_timeout=10, application_name=application_name)
    except psycopg2.Error as exc:
        # psycopg2's message never contains the password, but may be multi-line.
        reason = " ".join(str(exc).split())
        raise DatabaseUnavailable(f"cannot connect to {redact_url(url)}: {reason}") from exc
    conn.set_session(autocommit=False)
    return conn


# --- Migrations ---------------------------------------------------------------------------------

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(directory: Traversable = SQL_DIR / "migrations") -> list[Migration]:
    migrations = []
    for entry in sorted(directory.iterdir(), key=lambda entry: entry.name):
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            name = entry.name.removesuffix(".sql")
            migrations.append(Migration(int(match[1]), name, entry.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number in {directory}: {versions}")
    return migrations


def migrate(conn: psycopg2.extensions.connection, migrations: Sequence[Migration] | None = None) -> list[str]:
    """Apply the migrations not yet applied, each once, each in its own transaction."""
    migrations = load_migrations() if migrations is None else migrations
    applied_now: list[str] = []
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_ID,))
    conn.commit()
    try:
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migration ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            cur.execute("SELECT version FROM schema_migration")
            done = {row[0] for row in cur.fetchall()}
        conn.commit()
        for migration in migrations:
            if migration.version in done:
                continue
            try:
                with conn.cursor() as cur:
                    cur.execute(migration.sql)
                    cur.execute(
                        "INSERT INTO schema_migration (version, name) VALUES (%s, %s)",
                        (migration.version, migration.name),
                    )
                conn.commit()
            except psycopg2.Error:
                conn.rollback()
                logger.error("migration %s failed; nothing of it was applied", migration.name)
                raise
            applied_now.append(migration.name)
            logger.info("applied migration %s", migration.name)
    finally:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_ID,))
        conn.commit()
    return applied_now


def ready_database() -> tuple[DatabaseTarget, list[str]]:
    """The database in use, reachable and with its schema current; and the migrations applied now."""
    target = database_target()
    conn = connect(target.url)
    try:
        return target, migrate(conn)
    finally:
        conn.close()


# --- Named queries ------------------------------------------------------------------------------

_QUERY_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def parse_named_queries(text: str) -> dict[str, str]:
    """Blocks that start with a `-- name: <name>` line, up to the next one."""
    queries: dict[str, str] = {}
    matches = list(_QUERY_NAME.finditer(text))
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following else len(text)
        name = match[1]
        if name in queries:
            raise RuntimeError(f"query {name!r} is defined twice")
        queries[name] = text[match.end() : end].strip()
    return queries


@cache
def queries() -> dict[str, str]:
    found: dict[str, str] = {}
    # A Traversable has no glob(): the same filter by hand, in name order.
    files = [entry for entry in (SQL_DIR / "queries").iterdir() if entry.name.endswith(".sql")]
    for entry in sorted(files, key=lambda entry: entry.name):
        for name, sql in parse_named_queries(entry.read_text(encoding="utf-8")).items():
            if name in found:
                raise RuntimeError(f"query {name!r} is defined twice (again in {entry.name})")
            found[name] = sql
    return found


def query(name: str) -> str:
    try:
        return queries()[name]
    except KeyError:
        raise KeyError(f"no query named {name!r} in {SQL_DIR / 'queries'}") from None


@contextmanager
def transaction(conn: psycopg2.extensions.connection) -> Iterator[psycopg2.extensions.cursor]:
    """A cursor whose work is committed together, or rolled back on any error."""
    try:
        with conn.cursor() as cur:
            yield cur
        conn.commit()
    except BaseException:
        conn.rollback()
        raise


# --- Batched writing ----------------------------------------------------------------------------


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

    def describe(self) -> str:
        return f"locality={self.locality or '-'} url={self.url or '-'}"


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
