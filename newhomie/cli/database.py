"""`db-url`, `migrate` and `sql`: the database in use, its schema, and a query's rows as a table.

python -m newhomie db-url            the database URL in use (password masked unless --show-password)
python -m newhomie migrate           apply the schema's migrations now
python -m newhomie sql "select ..."  run a query and print a readable table
"""

from __future__ import annotations

import argparse
import sys

import psycopg2
import psycopg2.errors

from newhomie.cli.tables import format_table
from newhomie.store.connection import connection, transaction
from newhomie.store.errors import reason_of
from newhomie.store.migrations import ready_database
from newhomie.store.redact import redact_url
from newhomie.store.target import database_target


def run_sql(url: str, statement: str, *, write: bool = False) -> str:
    """The statement's rows as a table (or its status), in a read-only transaction unless `write`."""
    with connection(url, application_name="newhomie-sql") as conn:
        conn.set_session(readonly=not write)
        with transaction(conn) as cur:
            cur.execute(statement)
            if cur.description is None:
                return f"{cur.statusmessage}"
            columns = [d.name for d in cur.description]
            return format_table(columns, cur.fetchall())


def cmd_db_url(args: argparse.Namespace) -> int:
    target = database_target()
    print(target.url if args.show_password else redact_url(target.url))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    target, applied = ready_database()
    print(f"{target.describe()}: applied {len(applied)} migration(s) {', '.join(applied)}".rstrip())
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    target, _ = ready_database()
    try:
        print(run_sql(target.url, args.statement, write=args.write))
    except psycopg2.errors.ReadOnlySqlTransaction as exc:
        print(f"newhomie sql: {reason_of(exc)}: it runs read-only; --write allows changes", file=sys.stderr)
        return 1
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("db-url", help="print the database URL in use")
    p.add_argument("--show-password", action="store_true", help="print the password too")
    p.set_defaults(func=cmd_db_url)
    p = commands.add_parser("migrate", help="apply the schema's migrations")
    p.set_defaults(func=cmd_migrate)
    p = commands.add_parser(
        "sql", help="run a query and print a table (read-only unless --write)",
        description="Runs one SQL statement and prints its rows as a table. It runs in a read-only "
        "transaction: a statement that would change the database is refused, unless --write is given.",
    )  # fmt: skip
    p.add_argument("statement")
    p.add_argument("--write", action="store_true", help="allow the statement to change the database")
    p.set_defaults(func=cmd_sql)
