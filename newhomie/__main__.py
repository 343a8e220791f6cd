"""`python -m newhomie <command>`: the database at hand, queries, and the offline demo.

python -m newhomie db-url            the database URL in use (password masked unless --show-password)
python -m newhomie migrate           apply the schema's migrations now
python -m newhomie sql "select ..."  run a query and print a readable table
python -m newhomie localities list   the bundled localities (filters: --state --postcodes --shard --limit);
                                     also `count`, and `load` into the database
python -m newhomie renormalise       re-run the price normaliser over the stored price texts
python -m newhomie report --out F    a self-contained HTML report of a crawl run (--run ID, default latest)
python -m newhomie schedule          the shards of one crawl over Scrapyd nodes (--scrapyd URL,... --shards N)
python -m newhomie demo              crawl the local copy of the site and show what landed
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg2

from newhomie import sql
from newhomie.localities.catalog import load_catalog
from newhomie.localities.selection import Selection, select
from newhomie.schedule import add_schedule_command
from newhomie.store.connection import connection, transaction
from newhomie.store.embedded import HOME_ENV, embedded_url
from newhomie.store.errors import DatabaseUnavailable
from newhomie.store.localities import add_localities
from newhomie.store.migrations import ready_database
from newhomie.store.redact import redact_url
from newhomie.store.renormalise import renormalise
from newhomie.store.target import DATABASE_URL_ENV, database_target
from newhomie.watch.report.command import add_report_command


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], max_width: int = 60) -> str:
    """A plain-text table, like psql's, with long cells cut to `max_width`."""

    def cell(value: Any) -> str:
        text = "" if value is None else str(value)
        text = " ".join(text.split())
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = [
        " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)),
        "-+-".join("-" * w for w in widths),
    ]
    for row in cells:
        lines.append(" | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


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


def cmd_renormalise(args: argparse.Namespace) -> int:
    """A better price parser repairs the stored rows (listings and their history) without a crawl."""
    target, _ = ready_database()
    report = renormalise(target.url, chunk_size=args.chunk_size, dry_run=args.dry_run)
    print(f"renormalise{' (dry run)' if args.dry_run else ''}: {report.describe()}")
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    target, _ = ready_database()
    print(run_sql(target.url, args.statement))
    return 0


def cmd_localities(args: argparse.Namespace) -> int:
    """The bundled locality list, filtered: listed (in the spider's `-a localities=` form), counted, or
    loaded into the `locality` table."""
    try:
        selection = Selection.parse(state=args.state, postcodes=args.postcodes, shard=args.shard,
                                    limit=args.limit)  # fmt: skip
    except ValueError as exc:
        print(f"newhomie localities: {exc}", file=sys.stderr)
        return 2
    chosen = select(load_catalog(), selection)
    if args.action == "count":
        print(len(chosen))
    elif args.action == "list":
        try:
            sys.stdout.write("".join(f"{locality}\n" for locality in chosen))
            sys.stdout.flush()
        except BrokenPipeError:
            # The reader stopped early (`| head`). Python's documented remedy: point stdout at
            # /dev/null so the flush at exit does not fail again; the exit status says it was cut.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
    else:
        target, _ = ready_database()
        with connection(target.url, application_name="newhomie-localities") as conn:
            added = add_localities(conn, chosen)
        print(f"{target.describe()}: {added} new localities of {len(chosen)} selected")
    return 0


LOCAL_SITE_SETTINGS = (
    "DOWNLOAD_DELAY=0.1",
    "AUTOTHROTTLE_START_DELAY=0.1",
    "CONCURRENT_REQUESTS_PER_DOMAIN=4",
    "CONCURRENT_REQUESTS=4",
    "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT=4",
)


def cmd_demo(args: argparse.Namespace) -> int:
    """Serve the local site in this process and crawl it with the real spider and browser."""
    from newhomie.testing.fakesite import FakeSite, serve

    home = Path(args.home).resolve()
    env = {k: v for k, v in os.environ.items() if k != DATABASE_URL_ENV}
    env[HOME_ENV] = str(home)  # the demo's own embedded database, never the user's real one
    os.environ[HOME_ENV] = str(home)
    os.environ.pop(DATABASE_URL_ENV, None)
    site = FakeSite(localities=args.localities, seed=args.seed)
    with serve(site) as running:
        env["DOMAIN_BASE_URL"] = running.base_url
        localities = ";".join(site.locality_strings())
        print(f"demo: local site at {running.base_url} with {args.localities} localities; crawling…")
        command = [sys.executable, "-m", "scrapy", "crawl", "listings", "-a", f"localities={localities}",
                   "-s", "LOG_LEVEL=" + args.log_level]  # fmt: skip
        # The local site is ours and on loopback: the real site's politeness would only make the demo slow.
        for setting in LOCAL_SITE_SETTINGS:
            command += ["-s", setting]
        completed = subprocess.run(command, env=env, check=False)
    if completed.returncode != 0:
        print(f"demo: the crawl failed with exit status {completed.returncode}", file=sys.stderr)
        return completed.returncode
    url = embedded_url()
    print("\nWhat landed in the database, per locality:")
    print(run_sql(url, sql.query("demo_localities")))
    print("\nA few listings:")
    print(run_sql(url, sql.query("demo_listings")))
    print(
        f'\nExplore it yourself: NEWHOMIE_HOME={home} python -m newhomie sql "select count(*) from listing"'
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m newhomie", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("db-url", help="print the database URL in use")
    p.add_argument("--show-password", action="store_true", help="print the password too")
    p.set_defaults(func=cmd_db_url)
    p = commands.add_parser("migrate", help="apply the schema's migrations")
    p.set_defaults(func=cmd_migrate)
    p = commands.add_parser("sql", help="run a query and print a table")
    p.add_argument("statement")
    p.set_defaults(func=cmd_sql)
    p = commands.add_parser("localities", help="list, count or load the bundled localities")
    p.add_argument("action", choices=("list", "count", "load"))
    p.add_argument("--state", help="e.g. VIC")
    p.add_argument("--postcodes", help="e.g. 3000-3207, or 3000-3207,4000-4999")
    p.add_argument("--shard", help="K/N: the K-th of N shards, e.g. 3/90")
    p.add_argument("--limit", help="at most this many, the first in the list's order")
    p.set_defaults(func=cmd_localities)
    p = commands.add_parser("renormalise", help="re-run the price normaliser over stored price texts")
    p.add_argument("--dry-run", action="store_true", help="count what would change, change nothing")
    p.add_argument("--chunk-size", type=int, default=2000, help="listings per transaction")
    p.set_defaults(func=cmd_renormalise)
    add_report_command(commands)
    add_schedule_command(commands)
    p = commands.add_parser("demo", help="crawl the local copy of the site (offline)")
    p.add_argument("--localities", type=int, default=3)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--home", default=".newhomie/demo", help="where the demo's own database lives")
    p.add_argument("--log-level", default="WARNING")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except DatabaseUnavailable as exc:
        print(f"newhomie: {exc}", file=sys.stderr)
        return 2
    except psycopg2.Error as exc:
        print(f"newhomie: the database said: {str(exc).strip()}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
