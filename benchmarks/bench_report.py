"""Time to build the run report (`python -m newhomie report`) for a big run.

    python benchmarks/bench_report.py [--localities 1000] [--errors 5000] [--listings-per-locality 30]

The server is the one in use: NEWHOMIE_DATABASE_URL's, else an embedded PostgreSQL in a temporary
directory. The run goes into a scratch database created on that server (and dropped afterwards),
never into your data: one crawl_run with a summary, a locality_crawl row per locality (durations
from seconds to many minutes, a few not found or failed), errors spread over four stages, the whole
run and every locality, and listings whose price texts are mostly parsed, sometimes "Contact Agent",
sometimes unparsed. The clock covers what the command does after connecting: the queries
(`load_report_data`, in its read-only snapshot) and the page (`render_report`); best of `--repeat`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2.extras

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scratch import admin_execute, scratch_database  # noqa: E402 (benchmarks/scratch.py)

from newhomie.store.connection import connect, transaction  # noqa: E402
from newhomie.store.migrations import migrate  # noqa: E402
from newhomie.watch.report.data import load_report_data  # noqa: E402
from newhomie.watch.report.page import render_report  # noqa: E402

STAGES = ["sale_search", "rent_search", "sold_search", "profile"]
ERROR_TYPES = ["TimeoutError", "PageShapeError", "BlockedPage", "TargetClosedError"]
UNPARSED = ["Offers in the high $800s", "$POA", "Price guide 850", "Buyers $1.2", "$ TBA", "Low $900s?"]


def localities(count: int) -> list[tuple[str, str, str, str]]:
    """(slug, name, state, postcode) of `count` made-up localities."""
    states = [("VIC", "3"), ("NSW", "2"), ("QLD", "4"), ("WA", "6"), ("SA", "5"), ("TAS", "7")]
    found = []
    for n in range(count):
        state, first_digit = states[n % len(states)]
        postcode = f"{first_digit}{n % 1000:03d}"
        found.append((f"suburb-{n}-{state.lower()}-{postcode}", f"Suburb {n}", state, postcode))
    return found


RUN_INSERT = """
INSERT INTO crawl_run (spider, arguments, started_at, finished_at, status, crawl_key, shard, summary, health,
                       health_reasons)
VALUES ('listings', %s, %s, %s, 'finished', 'bench', '1/1', %s, 'unhealthy', %s)
RETURNING id
"""
LOCALITY_CRAWL_INSERT = """
INSERT INTO locality_crawl (crawl_key, locality_slug, run_id, locality, status, attempts, started_at,
                            finished_at, pages, listings, errors)
VALUES %s
"""
ERROR_INSERT = (
    "INSERT INTO crawl_error (run_id, locality, url, stage, error_type, message, occurred_at) VALUES %s"
)
LISTING_INSERT = """
INSERT INTO listing (listing_id, listing_type, locality_slug, url, suburb, state, postcode, time_zone,
                     price_text, price_low, price_high, first_seen_at, last_seen_at)
VALUES %s
"""


def price(rng: random.Random) -> tuple[str, int | None, int | None]:
    """Mostly parsed, sometimes a no-price phrase, sometimes a text that gave no price."""
    roll = rng.random()
    if roll < 0.8:
        return "$850,000", 850_000, 850_000
    if roll < 0.95:
        return "Contact Agent", None, None
    return rng.choice(UNPARSED) + rng.choice(["", " ", "!", f" {rng.randrange(50)}"]), None, None


def populate(url: str, args: argparse.Namespace, rng: random.Random) -> int:
    """The run and everything about it; returns its id."""
    started = datetime(2025, 3, 1, tzinfo=UTC)
    run_seconds = 4 * 3600.0
    places = localities(args.localities)
    names = {slug: f"{name} {state} {postcode}" for slug, name, state, postcode in places}
    summary = {
        "localities": {"done": args.localities - 30, "not_found": 10, "failed": 20},
        "listings": {"sale": 20000, "rent": 8000, "sold": 2000},
        "errors_total": args.errors,
        "duration_seconds": run_seconds,
    }
    conn = connect(url)
    with transaction(conn) as cur:
        arguments = {"localities": ";".join(names.values())}
        cur.execute(
            RUN_INSERT,
            (json.dumps(arguments), started, started + timedelta(seconds=run_seconds), json.dumps(summary),
             json.dumps(["20 localities failed (at most 5)"])),
        )  # fmt: skip
        run_id = int(cur.fetchone()[0])
        psycopg2.extras.execute_values(
            cur, "INSERT INTO locality (slug, name, state, postcode) VALUES %s", places
        )
        crawls = []
        for index, (slug, *_) in enumerate(places):
            status = "not_found" if index % 100 == 7 else "failed" if index % 50 == 3 else "done"
            begin = started + timedelta(seconds=run_seconds * index / len(places))
            end = begin + timedelta(seconds=rng.lognormvariate(4.5, 0.8))  # a median of 90 s, a long tail
            attempts = 2 if status == "failed" else 1
            counts = (rng.randrange(1, 20), rng.randrange(0, 60), rng.randrange(0, 5))
            crawls.append(("bench", slug, run_id, names[slug], status, attempts, begin, end, *counts))
        psycopg2.extras.execute_values(cur, LOCALITY_CRAWL_INSERT, crawls)
        errors = []
        for index in range(args.errors):
            slug = rng.choice(places)[0]
            at = started + timedelta(seconds=rng.uniform(0, run_seconds))
            page = f"https://www.domain.com.au/sale/{slug}/?page=2"
            message = f"page {index} failed: <timeout 45000 ms>"
            errors.append(
                (run_id, names[slug], page, rng.choice(STAGES), rng.choice(ERROR_TYPES), message, at)
            )
        psycopg2.extras.execute_values(cur, ERROR_INSERT, errors)
        listings: list[tuple[Any, ...]] = []
        seen = started + timedelta(hours=1)
        for slug, name, state, postcode in places:
            for _ in range(args.listings_per_locality):
                listing_id = len(listings) + 1
                listings.append((listing_id, "sale", slug, f"https://www.domain.com.au/x-{listing_id}", name,
                                 state, postcode, "Australia/Sydney", *price(rng), seen, seen))  # fmt: skip
        psycopg2.extras.execute_values(cur, LISTING_INSERT, listings, page_size=2000)
    conn.close()
    admin_execute(url, "ANALYZE")  # fresh statistics, as autovacuum would have by the time anyone reports
    return run_id


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--localities", type=int, default=1000)
    parser.add_argument("--errors", type=int, default=5000)
    parser.add_argument("--listings-per-locality", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="also keep the page here, to look at")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="newhomie-bench-") as directory,
        scratch_database(Path(directory)) as scratch,
    ):
        url = scratch.url
        conn = connect(url)
        migrate(conn)
        conn.close()
        run_id = populate(url, args, random.Random(args.seed))
        timings = []
        for _ in range(args.repeat):
            conn = connect(url)
            conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
            started = time.perf_counter()
            data = load_report_data(conn, run_id)
            loaded = time.perf_counter()
            assert data is not None
            page = render_report(data)
            rendered = time.perf_counter()
            conn.rollback()
            conn.close()
            timings.append((rendered - started, loaded - started, rendered - loaded))

    total, queries, html = min(timings)
    if args.out:
        args.out.write_text(page, encoding="utf-8")
    print(f"{scratch.where}; scratch database {scratch.name} (dropped)")
    print(f"run of {args.localities} localities, {args.errors} errors, "
          f"{args.localities * args.listings_per_locality} listings")  # fmt: skip
    print(f"queries {queries:.3f} s, page {html:.3f} s (best of {args.repeat})")
    print(f"HTML {len(page.encode('utf-8')) / 1024:.0f} KiB")
    print(f"{total:.3f} s")


if __name__ == "__main__":
    main()
