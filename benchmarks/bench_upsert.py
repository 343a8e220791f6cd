"""Throughput of the crawl's database writes: listings upserted through the real write path.

    python benchmarks/bench_upsert.py [--rows 50000] [--batch-size 500] [--localities 60]

The server is the one in use: NEWHOMIE_DATABASE_URL's, else an embedded PostgreSQL in a temporary
directory. The rows go to a scratch database created on that server (and dropped afterwards), never
into your data. Listings look like the site's (sale, rent and sold in the crawl's proportions;
agents' price texts normalised by the real parser; auction and inspection times in their zones).

Half of the measured rows are listings already stored (a later crawl seeing them again: most with
the same price text, which moves last_seen_at of the listing and of its price episode; one in
five with a new text, which starts an episode), half are new. They go through what the crawler
uses: the BatchWriter's worker thread, `write_rows` (`execute_values` of `upsert_listings` and
`record_price_history`), batches of `--batch-size`. The clock runs from the first row handed to
the writer until it has committed the last. The last line is `N rows/s`.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scratch import scratch_database  # noqa: E402 (benchmarks/scratch.py)

from newhomie.items import Listing  # noqa: E402
from newhomie.localities import time_zone  # noqa: E402
from newhomie.site.prices import normalise_price  # noqa: E402
from newhomie.store.connection import connect  # noqa: E402
from newhomie.store.migrations import migrate  # noqa: E402
from newhomie.store.rows import STATEMENT_ORDER, listing_row, write_rows  # noqa: E402
from newhomie.store.write import Write  # noqa: E402
from newhomie.store.writer import BatchStats, BatchWriter  # noqa: E402

STATES = [("VIC", "3"), ("NSW", "2"), ("QLD", "4"), ("WA", "6"), ("SA", "5"), ("TAS", "7")]
STREETS = ["Potter Street", "Foster Street", "Rodwell Street", "Lonsdale Street", "Princes Highway"]
TYPES = ["House", "ApartmentUnitFlat", "Townhouse", "VacantLand", "Villa"]


def sale_text(rng: random.Random) -> str:
    low = rng.randrange(300, 2500) * 1000
    high = low + rng.choice([20_000, 25_000, 50_000])
    return rng.choice(
        [
            f"${low:,} - ${high:,}",
            f"${low // 1000}k - ${high // 1000}k",
            f"From ${low:,}",
            f"Offers over ${low / 1e6:.2f}m",
            f"${low:,}",
            "Contact Agent",
            "AUCTION THIS SATURDAY @3:00PM ONSITE !!",
        ]
    )


def rent_text(rng: random.Random) -> str:
    weekly = rng.randrange(30, 150) * 10
    return rng.choice([f"${weekly} p/w", f"${weekly} per week", f"${weekly}", f"${weekly}.00 pw"])


def make_listing(rng: random.Random, listing_id: int, locality: tuple[str, str, str, str]) -> Listing:
    slug, name, state, postcode = locality
    listing_type = rng.choices(["sale", "rent", "sold"], weights=[6, 3, 1])[0]
    zone = time_zone(state, postcode)
    start = datetime(2025, 2, 1, 10, tzinfo=zone) + timedelta(
        days=rng.randrange(0, 30), minutes=15 * rng.randrange(0, 32)
    )
    text = rent_text(rng) if listing_type == "rent" else sale_text(rng)
    sold = listing_type == "sold"
    if sold:
        text = rng.choice([f"${rng.randrange(300, 2500) * 1000:,}", "Price Withheld"])
    item = Listing(
        listing_id=listing_id, listing_type=listing_type, locality_slug=slug,
        url=f"https://www.domain.com.au/{rng.randrange(1, 300)}-street-{slug}-{listing_id}",
        street=f"{rng.randrange(1, 40)}/{rng.randrange(1, 300)} {rng.choice(STREETS)}", suburb=name,
        state=state, postcode=postcode, lat=-37.9 + rng.random(), lng=145.1 + rng.random(),
        beds=rng.randrange(0, 6), baths=rng.randrange(1, 4), parking=rng.choice([None, 0, 1, 2]),
        property_type=rng.choice(TYPES), land_area_m2=rng.choice([None, float(rng.randrange(150, 1200))]),
        is_rural=False, is_retirement=False, price_text=text,
        auction_at=start if rng.random() < 0.3 else None,
        inspection_start=start if not sold else None,
        inspection_end=start + timedelta(minutes=30) if not sold else None,
        tag=rng.choice([None, "New", "Under offer"]), agency="Ray White", agency_id=rng.randrange(1, 5000),
        promo_type="standard", sold_on=date(2025, 1, rng.randrange(1, 29)) if sold else None,
        sold_method="auction" if sold else None,
    )  # fmt: skip
    price = normalise_price(item.listing_type, item.price_text)
    if price is not None:
        item.price_low, item.price_high = price.low, price.high
        if sold and price.low == price.high:
            item.sold_price = price.low
    return item


def localities(count: int) -> list[tuple[str, str, str, str]]:
    found = []
    for n in range(count):
        state, first_digit = STATES[n % len(STATES)]
        postcode = f"{first_digit}{n:03d}"
        name = f"Suburb {n}"
        found.append((f"suburb-{n}-{state.lower()}-{postcode}", name, state, postcode))
    return found


def write(url: str, writes: list[Write], batch_size: int) -> tuple[float, BatchStats]:
    refused: list[str] = []
    writer = BatchWriter(
        url,
        write_rows,
        lambda cur, w, reason, run_id: refused.append(reason),
        batch_size=batch_size,
        statement_order=STATEMENT_ORDER,
    )
    started = time.perf_counter()
    for start in range(0, len(writes), 20):  # a search page's worth at a time, as the crawl hands them
        writer.add(writes[start : start + 20])
    stats = writer.close()
    elapsed = time.perf_counter() - started
    if refused:
        raise SystemExit(f"the database refused {len(refused)} rows, e.g. {refused[0]}")
    return elapsed, stats


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=50_000, help="rows measured (half updates, half new)")
    parser.add_argument("--batch-size", type=int, default=500, help="NEWHOMIE_DB_BATCH_SIZE")
    parser.add_argument("--localities", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    places = localities(args.localities)
    half = args.rows // 2
    existing = [make_listing(rng, 2_000_000_000 + n, rng.choice(places)) for n in range(half)]
    new = [make_listing(rng, 2_100_000_000 + n, rng.choice(places)) for n in range(args.rows - half)]
    seen_again = []
    for item in existing:
        if item.listing_type != "sold" and rng.random() < 0.2:  # a new price text: a new episode
            text = rent_text(rng) if item.listing_type == "rent" else sale_text(rng)
            price = normalise_price(item.listing_type, text)
            low, high = (None, None) if price is None else (price.low, price.high)
            item = item.model_copy(update={"price_text": text, "price_low": low, "price_high": high})
        seen_again.append(item)

    with tempfile.TemporaryDirectory(prefix="newhomie-bench-") as directory:
        measure(args, places, existing, seen_again, new, Path(directory))


def measure(
    args: argparse.Namespace,
    places: list[tuple[str, str, str, str]],
    existing: list[Listing],
    seen_again: list[Listing],
    new: list[Listing],
    directory: Path,
) -> None:
    """Store `existing` (not measured), then time `seen_again` and `new` through the writer."""
    rng = random.Random(args.seed)
    with scratch_database(directory) as scratch:
        url = scratch.url
        conn = connect(url)
        migrate(conn)
        conn.close()
        day_one = datetime.now(UTC) - timedelta(days=3)
        visits = [
            Write("upsert_locality", (visit,), str(visit["slug"]), key=(visit["slug"],))
            for visit in (
                {"slug": s, "name": n, "state": st, "postcode": pc, "status": "active", "crawled_at": day_one,
                 "boundary": None}
                for s, n, st, pc in places
            )
        ]  # fmt: skip
        setup = [Write("upsert_listings", listing_row(i, day_one), i.locality_slug, i.url, (i.listing_id,))
                 for i in existing]  # fmt: skip
        write(url, visits + setup, args.batch_size)  # the listings already stored (not measured)

        now = datetime.now(UTC)
        measured = [
            Write("upsert_listings", listing_row(i, now), i.locality_slug, i.url, (i.listing_id,))
            for i in seen_again + new
        ]
        rng.shuffle(measured)
        elapsed, stats = write(url, measured, args.batch_size)

        conn = connect(url)
        with conn.cursor() as cur:
            cur.execute("SELECT (SELECT count(*) FROM listing), (SELECT count(*) FROM listing_price_history)")
            listings, episodes = cur.fetchone()
        conn.close()

    print(f"{scratch.where}; scratch database {scratch.name} (dropped)")
    print(f"{len(measured)} rows ({len(seen_again)} seen again, {len(new)} new) in {stats.batches} batches "
          f"of up to {args.batch_size}, {elapsed:.2f} s")  # fmt: skip
    print(f"stored: {listings} listings, {episodes} price episodes")
    print(f"{len(measured) / elapsed:.0f} rows/s")


if __name__ == "__main__":
    main()
