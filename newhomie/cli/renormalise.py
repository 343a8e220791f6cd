"""`renormalise [--dry-run]`: today's price normaliser over the stored price texts."""

from __future__ import annotations

import argparse

from newhomie.store.migrations import ready_database
from newhomie.store.renormalise import renormalise


def cmd_renormalise(args: argparse.Namespace) -> int:
    """A better price parser repairs the stored rows (listings and their history) without a crawl."""
    target, _ = ready_database()
    report = renormalise(target.url, chunk_size=args.chunk_size, dry_run=args.dry_run)
    print(f"renormalise{' (dry run)' if args.dry_run else ''}: {report.describe()}")
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("renormalise", help="re-run the price normaliser over stored price texts")
    p.add_argument("--dry-run", action="store_true", help="count what would change, change nothing")
    p.add_argument("--chunk-size", type=int, default=2000, help="listings per transaction")
    p.set_defaults(func=cmd_renormalise)
