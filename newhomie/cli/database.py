"""`db-url`, `migrate` and `sql`: the database in use, its schema, and a query's rows as a table.

python -m newhomie db-url            the database URL in use (password masked unless --show-password)
python -m newhomie migrate           apply the schema's migrations now
python -m newhomie sql "select ..."  run a query and print a readable table
"""

from __future__ import annotations

import argparse

from newhomie.cli.tables import format_table
from newhomie.store.connection import connection, transaction
from newhomie.store.migrations import ready_database
from newhomie.store.redact import redact_url
from newhomie.store.target import database_target


def run_sql(url: str, statement: str) -> str:
    with connection(url, application_name="newhomie-sql") as conn, transaction(conn) as cur:
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
    print(run_sql(target.url, args.statement))
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("db-url", help="print the database URL in use")
    p.add_argument("--show-password", action="store_true", help="print the password too")
    p.set_defaults(func=cmd_db_url)
    p = commands.add_parser("migrate", help="apply the schema's migrations")
    p.set_defaults(func=cmd_migrate)
    p = commands.add_parser("sql", help="run a query and print a table")
    p.add_argument("statement")
    p.set_defaults(func=cmd_sql)
