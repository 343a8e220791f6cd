"""The schema: the numbered migrations of `newhomie/sql/migrations`, each applied once, in order, in
its own transaction, under an advisory lock (several crawls may start at once), and recorded in
`schema_migration`. After them, every table and view an applied migration made must be there: one
dropped by hand since is named (`SchemaDamaged`), for `migrate` cannot make it again."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import psycopg2
import psycopg2.extensions

from newhomie import sql
from newhomie.store.connection import connection, transaction
from newhomie.store.errors import DatabaseUnavailable, SchemaDamaged, reason_of
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
            except psycopg2.Error as exc:
                raise DatabaseUnavailable(
                    f"migration {migration.name} failed: {reason_of(exc)}; nothing of it was applied"
                ) from None
            applied_now.append(migration.name)
            logger.info("applied migration %s", migration.name)
        applied = [m for m in migrations if m.version in done or m.name in applied_now]
        missing = missing_relations(conn, applied)
    finally:
        with transaction(conn) as cur:
            cur.execute(sql.query("unlock_migrations"))
    if missing:
        named = "; ".join(f"{name} (made by {made_by})" for name, made_by in missing)
        raise SchemaDamaged(
            f"the database's schema is damaged: {len(missing)} of the tables and views of applied migrations "
            f"are missing: {named}. migrate cannot make them again: restore the database from a backup, or "
            "start from a new, empty database"
        )
    return applied_now


_CREATED = re.compile(
    r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:TABLE|VIEW|MATERIALIZED\s+VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)",
    re.IGNORECASE,
)
_DROPPED = re.compile(
    r"\bDROP\s+(?:TABLE|VIEW|MATERIALIZED\s+VIEW)\s+(?:IF\s+EXISTS\s+)?(\w+)", re.IGNORECASE
)


def relations_of(migrations: Sequence[sql.Migration]) -> dict[str, str]:
    """The tables and views the migrations leave, by name, with the migration that made each."""
    relations: dict[str, str] = {}
    for migration in migrations:
        for name in _DROPPED.findall(migration.sql):
            relations.pop(name.lower(), None)
        for name in _CREATED.findall(migration.sql):
            relations[name.lower()] = migration.name
    return relations


def missing_relations(
    conn: psycopg2.extensions.connection, applied: Sequence[sql.Migration]
) -> list[tuple[str, str]]:
    """(name, migration) of each table or view of the applied migrations that is not in the database."""
    relations = relations_of(applied)
    with transaction(conn) as cur:
        cur.execute(sql.query("missing_relations"), {"names": sorted(relations)})
        return [(name, relations[name]) for (name,) in cur.fetchall()]


def ready_database() -> tuple[DatabaseTarget, list[str]]:
    """The database in use, reachable and with its schema current; and the migrations applied now."""
    target = database_target()
    with connection(target.url) as conn:
        return target, migrate(conn)
