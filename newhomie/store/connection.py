"""The one way to talk to the database: `connection(url)` for a session, `transaction(conn)` for work
that is committed together.

    with connection(url, application_name="newhomie-report") as conn:
        with transaction(conn) as cur:
            cur.execute(sql.query("report_run"), {"run_id": run_id})
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import psycopg2.extensions

from newhomie.store.errors import DatabaseUnavailable
from newhomie.store.redact import redact, redact_url, remember_secrets, url_problem

CONNECT_TIMEOUT_SECONDS = 10


def connect(url: str, *, application_name: str = "newhomie") -> psycopg2.extensions.connection:
    """A new session, not in autocommit; DatabaseUnavailable (with the URL redacted) when it fails.

    For a session that lives as long as an object (the batch writer's); otherwise use `connection`."""
    remember_secrets(url)
    if problem := url_problem(url):
        raise DatabaseUnavailable(f"cannot read the database URL {redact_url(url)}: {problem}")
    try:
        conn = psycopg2.connect(
            url, connect_timeout=CONNECT_TIMEOUT_SECONDS, application_name=application_name
        )
    except psycopg2.Error as exc:
        # libpq's message may quote the part of a URL it could not read (a password among them); the
        # original is not chained, so that no traceback shows it.
        reason = redact(" ".join(str(exc).split())) or type(exc).__name__
        raise DatabaseUnavailable(f"cannot connect to {redact_url(url)}: {reason}") from None
    conn.set_session(autocommit=False)
    return conn


@contextmanager
def connection(url: str, *, application_name: str = "newhomie") -> Iterator[psycopg2.extensions.connection]:
    """A session for the block, closed after it (work not committed by then is rolled back)."""
    conn = connect(url, application_name=application_name)
    try:
        yield conn
    finally:
        conn.close()


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
