"""`localities list|count|load`: the bundled locality list, filtered by state, postcodes, shard and limit."""

from __future__ import annotations

import argparse
import os
import sys

from newhomie.localities.catalog import load_catalog
from newhomie.localities.selection import Selection, select
from newhomie.store.connection import connection
from newhomie.store.localities import StateCoverage, add_localities, locality_coverage
from newhomie.store.migrations import ready_database


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    """The filters of a selection of localities, as the spider's `-a` arguments name them."""
    parser.add_argument("--state", help="e.g. VIC")
    parser.add_argument("--postcodes", help="e.g. 3000-3207, or 3000-3207,4000-4999")
    parser.add_argument("--shard", help="K/N: the K-th of N shards, e.g. 3/90")
    parser.add_argument("--limit", help="at most this many, the first in the list's order")


def selection_of(args: argparse.Namespace, command: str) -> Selection | None:
    """The filters given; None (said on stderr, naming the bad text) when one cannot be read."""
    try:
        return Selection.parse(state=args.state, postcodes=args.postcodes, shard=args.shard, limit=args.limit)
    except ValueError as exc:
        print(f"newhomie {command}: {exc}", file=sys.stderr)
        return None


def cmd_localities(args: argparse.Namespace) -> int:
    """The bundled locality list, filtered: listed (in the spider's `-a localities=` form), counted,
    loaded into the `locality` table, or set against what the database knows (coverage, per state)."""
    selection = selection_of(args, "localities")
    if selection is None:
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
    elif args.action == "coverage":
        target, _ = ready_database()
        with connection(target.url, application_name="newhomie-localities") as conn:
            lines = locality_coverage(conn, chosen)
        print(f"{target.describe()}:")
        print(coverage_table(lines))
    else:
        target, _ = ready_database()
        with connection(target.url, application_name="newhomie-localities") as conn:
            added = add_localities(conn, chosen)
        print(f"{target.describe()}: {added} new localities of {len(chosen)} selected")
    return 0


COVERAGE_COLUMNS = ("state", "bundled", "discovered", "named", "active", "not found", "never crawled",
                    "oldest last crawl")  # fmt: skip


def coverage_table(lines: list[StateCoverage]) -> str:
    """`localities coverage` as aligned text: one line per state, then the whole country."""
    rows: list[tuple[str, ...]] = [COVERAGE_COLUMNS]
    for line in lines:
        oldest = f"{line.oldest_last_crawl:%Y-%m-%d %H:%M} UTC" if line.oldest_last_crawl else "-"
        rows.append((line.state or "all", *(f"{n:,}" for n in (line.bundled, line.discovered, line.named,
                     line.active, line.not_found, line.never_crawled)), oldest))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(COVERAGE_COLUMNS))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i in (0, 7) else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "localities", help="list, count or load the bundled localities; coverage: what is crawled"
    )
    p.add_argument("action", choices=("list", "count", "load", "coverage"))
    add_selection_arguments(p)
    p.set_defaults(func=cmd_localities)
