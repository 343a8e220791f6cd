"""`python -m newhomie <command>`: the database at hand, queries, reports, Scrapyd scheduling, the demo.

python -m newhomie db-url            the database URL in use (password masked unless --show-password)
python -m newhomie migrate           apply the schema's migrations now
python -m newhomie sql "select ..."  run a query and print a readable table
python -m newhomie localities list   the bundled localities (filters: --state --postcodes --shard --limit);
                                     also `count`, `load` into the database, and `coverage`
python -m newhomie plan --estimate   pages and hours of a full and an incremental crawl; nodes for a deadline
python -m newhomie renormalise       re-run the price normaliser over the stored price texts
python -m newhomie report --out F    a self-contained HTML report of a crawl run (--run ID, default latest)
python -m newhomie schedule          the shards of one crawl over Scrapyd nodes (--scrapyd URL,... --shards N)
python -m newhomie demo              crawl the local copy of the site and show what landed
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import psycopg2

from newhomie.cli import database, demo, localities, plan, renormalise, report, schedule
from newhomie.store.errors import DatabaseUnavailable, reason_of


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m newhomie", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True)
    for module in (database, localities, plan, renormalise, report, schedule, demo):
        module.add_commands(commands)
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
        print(f"newhomie: the database said: {reason_of(exc)}", file=sys.stderr)
        return 1
