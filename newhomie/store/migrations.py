"""The schema: the numbered migrations of `newhomie/sql/migrations`, each applied once, in order, in
its own transaction, under an advisory lock (several crawls may start at once), and recorded in
`schema_migration`."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import psycopg2
import psycopg2.extensions

from newhomie import sql
from newhomie.store.connection import connection, transaction
from newhomie.store.target import DatabaseTarget, database_target

logger = logging.getLogger(__name__)


def migrate(
    conn: psycopg2.extensions.connection, migrations: Sequence[sql.Migration] | None = None
) -> list[str]:
    """Apply the migrations not yet applied; the names of those applied now."""
    migrations = sql.migrations() if migrations is None else migrations
    applied_now: list[str] = []
    with transaction(conn) as cur:
        cur.execute(sql.query("lock_migrations"))
    try:
        with transaction(conn) as cur:
            cur.execute(sql.query("create_migration_table"))
            cur.execute(sql.query("applied_migrations"))
            done = {row[0] for row in cur.fetchall()}
        for migration in migrations:
            if migration.version in done:
                continue
            try:
                with transaction(conn) as cur:
                    cur.execute(migration.sql)
                    cur.execute(
                        sql.query("record_migration"), {"version": migration.version, "name": migration.name}
                    )
            except psycopg2.Error:
                logger.error("migration %s failed; nothing of it was applied", migration.name)
                raise
            applied_now.append(migration.name)
            logger.info("applied migration %s", migration.name)
    finally:
        with transaction(conn) as cur:
            cur.execute(sql.query("unlock_migrations"))
    return applied_now


def ready_database() -> tuple[DatabaseTarget, list[str]]:
    """The database in use, reachable and with its schema current; and the migrations applied now."""
    target = database_target()
    with connection(target.url) as conn:
        return target, migrate(conn)
