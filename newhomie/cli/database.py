"""`db-url`, `migrate` and `sql`: the database in use, its schema, and a query's rows as a table.

python -m newhomie db-url            the database URL in use (password masked unless --show-password)
python -m newhomie migrate           apply the schema's migrations now
python -m newhomie sql "select ..."  run a query and print a readable table
python -m newhomie db status         the embedded server: running or not, who uses it
python -m newhomie db stop           stop it now (refused while commands use it, unless --force)
python -m newhomie db upgrade        carry an embedded database of an older PostgreSQL over (nothing deleted)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import psycopg2
import psycopg2.errors

from newhomie.cli.tables import format_table
from newhomie.store.connection import connection, transaction
from newhomie.store.embedded import embedded_status, newhomie_home, stop_embedded
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


def cmd_db_status(args: argparse.Namespace) -> int:
    print(embedded_status().describe())
    return 0


def cmd_db_stop(args: argparse.Namespace) -> int:
    stopped = stop_embedded(force=args.force)
    print("stopped the embedded server" if stopped else "the embedded server was not running")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from newhomie.store.pg_upgrade import upgrade_embedded

    print(upgrade_embedded(newhomie_home(), old_bindir=args.old_bindir).describe())
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
    p = commands.add_parser("db", help="the embedded PostgreSQL server: status, stop, upgrade")
    actions = p.add_subparsers(dest="action", required=True)
    action = actions.add_parser("status", help="whether it runs, and which commands use it")
    action.set_defaults(func=cmd_db_status)
    action = actions.add_parser("stop", help="stop it now (its keeper otherwise stops it when idle)")
    action.add_argument("--force", action="store_true", help="stop it even while commands use it")
    action.set_defaults(func=cmd_db_stop)
    action = actions.add_parser(
        "upgrade", help="carry a database made by an older PostgreSQL over (the old folder is kept)",
    )  # fmt: skip
    action.add_argument("--old-bindir", type=Path, help="the old PostgreSQL's bin folder, if not found")
    action.set_defaults(func=cmd_db_upgrade)
