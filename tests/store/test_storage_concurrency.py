"""Two crawls writing overlapping localities at the same time: no duplicate rows, no deadlock, and
the same rows a single writer would leave."""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

from tests.storage import Crawl, fetch, listing, visit

LOCALITIES = [
    ("dandenong-vic-3175", "Dandenong", "3175"),
    ("noble-park-vic-3174", "Noble Park", "3174"),
    ("springvale-vic-3171", "Springvale", "3171"),
    ("keysborough-vic-3173", "Keysborough", "3173"),
]
PER_LOCALITY = 30
# Without the writer's lock order, about one round in ten deadlocks (PostgreSQL then aborts one
# writer's batch, which the writer reruns: rolled_back_batches counts it); 30 rounds catch that.
ROUNDS = 30
PRICE_EVERY = 3  # the price texts change every third round


def price_text(listing_id: int, round_number: int) -> str:
    step = round_number // PRICE_EVERY
    low = 400_000 + (listing_id % 50) * 10_000 + step * 5_000
    return f"${low:,} - ${low + 30_000:,}"


def round_items(localities: list[tuple[str, str, str]], round_number: int, rng: random.Random) -> list[Any]:
    """A crawl's items: its localities' visits first (as the spider sends them), then the listings."""
    visits: list[Any] = []
    items: list[Any] = []
    for index, (slug, name, postcode) in enumerate(LOCALITIES):
        if (slug, name, postcode) not in localities:
            continue
        visits.append(visit(slug))
        for n in range(PER_LOCALITY):
            listing_id = 1000 * (index + 1) + n
            fields = {"locality_slug": slug, "suburb": name, "postcode": postcode}
            # Units of one building: the same street address for every fourth listing.
            street = "5/69-71 Potter Street" if n % 4 == 0 else f"{n} Foster Street"
            items.append(
                listing(listing_id, street=street, price_text=price_text(listing_id, round_number), **fields)
            )
    rng.shuffle(items)  # each writer meets the shared listings in its own order
    rng.shuffle(visits)
    return visits + items


def test_two_crawls_over_overlapping_localities_agree_without_duplicates_or_deadlock(
    database_url: str,
) -> None:
    plans = {"a": LOCALITIES[:3], "b": LOCALITIES[1:]}  # both crawl Noble Park and Springvale
    barrier = threading.Barrier(len(plans), timeout=60)
    failures: list[BaseException] = []
    runs: list[Crawl] = []

    def writer(name: str, seed: int) -> None:
        rng = random.Random(seed)
        try:
            for round_number in range(ROUNDS):
                items = round_items(plans[name], round_number, rng)
                # Small batches flushed often: many short transactions that overlap the other writer's.
                with Crawl(database_url, NEWHOMIE_DB_BATCH_SIZE=15, NEWHOMIE_DB_FLUSH_SECONDS=0.005) as run:
                    barrier.wait()  # both writers feed their items at the same moment
                    run.feed(items)
                runs.append(run)
                barrier.wait()  # and finish the round together: a round's texts never mix with the next's
        except BaseException as exc:
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=writer, args=(name, seed)) for seed, name in enumerate(plans)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures, failures
    assert len(runs) == ROUNDS * len(plans)

    # No deadlock was detected, not even one that a rerun of the batch papered over; nothing refused.
    for run in runs:
        assert run.stats.get_value("newhomie/db/rolled_back_batches") == 0
        assert run.stats.get_value("newhomie/db/rows_rejected") == 0
        assert run.stats.get_value("newhomie/db/retried_batches") == 0
    assert fetch(database_url, "SELECT * FROM rejected_item") == []

    # One row per listing id, each with the last round's price.
    listings = fetch(
        database_url, "SELECT listing_id, price_text, price_low FROM listing ORDER BY listing_id"
    )
    expected_ids = [1000 * (i + 1) + n for i in range(len(LOCALITIES)) for n in range(PER_LOCALITY)]
    assert [r["listing_id"] for r in listings] == expected_ids
    last = ROUNDS - 1
    assert all(r["price_text"] == price_text(r["listing_id"], last) for r in listings)

    # One history episode per price, in order: the shared listings were recorded by both writers
    # at once, and neither started a second episode of a price the other had just recorded.
    episodes = fetch(
        database_url,
        "SELECT listing_id, price_text, first_seen_at, last_seen_at FROM listing_price_history"
        " ORDER BY listing_id, id",
    )
    by_listing: dict[int, list[str]] = {}
    for episode in episodes:
        by_listing.setdefault(episode["listing_id"], []).append(episode["price_text"])
    for listing_id in expected_ids:
        expected = [price_text(listing_id, r) for r in range(0, ROUNDS, PRICE_EVERY)]
        assert by_listing[listing_id] == expected, listing_id
    assert all(e["first_seen_at"] <= e["last_seen_at"] for e in episodes)

    # Every locality once; each of the two crawls' runs recorded and finished.
    assert Counter(r["slug"] for r in fetch(database_url, "SELECT slug FROM locality")) == Counter(
        slug for slug, _, _ in LOCALITIES
    )
    statuses = fetch(database_url, "SELECT status, count(*) AS n FROM crawl_run GROUP BY status")
    assert statuses == [{"status": "finished", "n": ROUNDS * len(plans)}]
