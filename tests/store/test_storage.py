"""The storage rules on a real PostgreSQL: keys, per-table conflict rules, price history, guard
rails, idempotence, the views, and `renormalise`. Items go through the real pipelines and writer."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg2
import psycopg2.extensions
import pytest

from newhomie import cli
from newhomie.store.connection import connect
from newhomie.store.renormalise import renormalise
from newhomie.store.rows import LISTING_COLUMNS, listing_row, profile_writes
from newhomie.store.target import DATABASE_URL_ENV
from newhomie.store.write import Write
from newhomie.store.writer import BatchWriter
from tests.storage import (
    DANDENONG,
    Crawl,
    crawl,
    dandenong_profile,
    execute,
    fetch,
    listing,
    listing_write,
    visit,
    visit_write,
    write_direct,
)

T0 = datetime(2025, 2, 3, 0, 0, tzinfo=UTC)  # 11:00 in Melbourne


def history(database_url: str, listing_id: int) -> list[dict[str, Any]]:
    return fetch(
        database_url,
        "SELECT listing_type, price_text, price_low, price_high, first_seen_at, last_seen_at"
        " FROM listing_price_history WHERE listing_id = %s ORDER BY id",
        (listing_id,),
    )


# --- Keys ---------------------------------------------------------------------------------------


def test_two_units_at_one_street_address_stay_two_rows(database_url: str) -> None:
    items = [
        visit(),
        listing(101, street="5/69-71 Potter Street", price_text="$350,000"),
        listing(102, street="5/69-71 Potter Street", price_text="$360,000"),
        # Two listings of one house: for sale and for rent at once.
        listing(103, street="16 Rodwell Street"),
        listing(104, street="16 Rodwell Street", listing_type="rent", price_text="$550 per week"),
    ]
    crawl(database_url, items)
    rows = fetch(database_url, "SELECT listing_id, street, price_low FROM listing ORDER BY listing_id")
    assert [(r["listing_id"], r["street"]) for r in rows] == [
        (101, "5/69-71 Potter Street"),
        (102, "5/69-71 Potter Street"),
        (103, "16 Rodwell Street"),
        (104, "16 Rodwell Street"),
    ]
    assert [r["price_low"] for r in rows] == [350_000, 360_000, 550_000, 550]


# --- Listing conflict rules ---------------------------------------------------------------------


def test_price_change_adds_a_history_row_and_the_same_price_again_does_not(database_url: str) -> None:
    texts = ["$550,000 - $575,000", "$550,000 - $575,000", "$530,000 - $560,000", "$550,000 - $575,000"]
    seen = [T0 + timedelta(days=3 * n) for n in range(len(texts))]
    for text, seen_at in zip(texts, seen, strict=True):
        assert (
            write_direct(
                database_url, [visit_write(visit()), listing_write(listing(7, price_text=text), seen_at)]
            )
            == []
        )
    episodes = history(database_url, 7)
    # Seen again: only last_seen_at moved. Changed: a new row. Back to an earlier text: a new episode.
    assert [(e["price_text"], e["price_low"], e["price_high"]) for e in episodes] == [
        ("$550,000 - $575,000", 550_000, 575_000),
        ("$530,000 - $560,000", 530_000, 560_000),
        ("$550,000 - $575,000", 550_000, 575_000),
    ]
    assert [(e["first_seen_at"], e["last_seen_at"]) for e in episodes] == [
        (seen[0], seen[1]),
        (seen[2], seen[2]),
        (seen[3], seen[3]),
    ]
    row = fetch(database_url, "SELECT price_low, price_high, first_seen_at, last_seen_at FROM listing")[0]
    assert row == {
        "price_low": 550_000,
        "price_high": 575_000,
        "first_seen_at": seen[0],
        "last_seen_at": seen[3],
    }


def test_a_price_that_turns_into_contact_agent_is_news(database_url: str) -> None:
    write_direct(database_url, [visit_write(visit()), listing_write(listing(8), T0)])
    write_direct(
        database_url, [listing_write(listing(8, price_text="Contact Agent"), T0 + timedelta(days=1))]
    )
    row = fetch(database_url, "SELECT price_text, price_low, price_high FROM listing")[0]
    assert row == {"price_text": "Contact Agent", "price_low": None, "price_high": None}
    assert [e["price_text"] for e in history(database_url, 8)] == ["$550,000 - $575,000", "Contact Agent"]


def test_missing_coordinates_and_features_keep_their_old_values(database_url: str) -> None:
    write_direct(database_url, [visit_write(visit()), listing_write(listing(9), T0)])
    bare = listing(9, lat=None, lng=None, beds=None, land_area_m2=None, agency=None, agency_id=None)
    write_direct(database_url, [listing_write(bare, T0 + timedelta(days=1))])
    row = fetch(database_url, "SELECT lat, lng, beds, land_area_m2, agency, agency_id FROM listing")[0]
    assert row == {
        "lat": pytest.approx(-37.991478),
        "lng": pytest.approx(145.20213),
        "beds": 3,
        "land_area_m2": 600.0,
        "agency": "Ray White Dandenong",
        "agency_id": 8878,
    }


def test_a_sold_record_never_reverts_to_for_sale(database_url: str) -> None:
    sold = listing(
        10, listing_type="sold", price_text="$740,000", sold_on=date(2025, 1, 20), sold_method="auction"
    )
    write_direct(database_url, [visit_write(visit()), listing_write(sold, T0)])
    # A stale sale card of the same listing (a cached search page) comes after the sale.
    write_direct(database_url, [listing_write(listing(10, price_text="$700,000"), T0 + timedelta(days=1))])
    row = fetch(
        database_url, "SELECT listing_type, price_text, sold_price, sold_on, last_seen_at FROM listing"
    )
    assert row == [
        {
            "listing_type": "sold",
            "price_text": "$740,000",
            "sold_price": 740_000,
            "sold_on": date(2025, 1, 20),
            "last_seen_at": T0,
        }
    ]
    assert [(e["listing_type"], e["price_text"]) for e in history(database_url, 10)] == [("sold", "$740,000")]


def test_an_auction_time_keeps_its_zone(database_url: str) -> None:
    """Local wall-clock times are stored as instants of their zone, and read back the same."""
    cases = {
        # listing id: (slug, state, postcode, zone)
        21: ("dandenong-vic-3175", "VIC", "3175", "Australia/Melbourne"),
        22: ("perth-wa-6000", "WA", "6000", "Australia/Perth"),
        23: ("broken-hill-nsw-2880", "NSW", "2880", "Australia/Broken_Hill"),  # Adelaide's time
        24: ("fortitude-valley-qld-4006", "QLD", "4006", "Australia/Brisbane"),
    }
    items: list[Any] = []
    for listing_id, (slug, state, postcode, zone) in cases.items():
        auction = datetime(2025, 2, 1, 15, 0, tzinfo=ZoneInfo(zone))
        items += [
            visit(slug),
            listing(
                listing_id, locality_slug=slug, state=state, postcode=postcode, suburb=slug.split("-")[0],
                lat=-30.0, lng=140.0, auction_at=auction, inspection_start=auction - timedelta(minutes=30),
                inspection_end=auction, price_text="Auction Sat 1 Feb 3pm",
            ),
        ]  # fmt: skip
    crawl(database_url, items)
    rows = fetch(
        database_url,
        "SELECT listing_id, time_zone, auction_at, auction_at AT TIME ZONE time_zone AS local FROM listing"
        " ORDER BY listing_id",
    )
    assert [r["local"] for r in rows] == [datetime(2025, 2, 1, 15, 0)] * 4
    zones = [r["time_zone"] for r in rows]
    assert zones[:2] == ["Australia/Melbourne", "Australia/Perth"]
    assert ZoneInfo(zones[2]).utcoffset(datetime(2025, 2, 1)) == timedelta(hours=10, minutes=30)
    instants = {r["listing_id"]: r["auction_at"] for r in rows}
    assert instants[21] == datetime(2025, 2, 1, 4, 0, tzinfo=UTC)  # AEDT, UTC+11
    assert instants[22] == datetime(2025, 2, 1, 7, 0, tzinfo=UTC)  # AWST, UTC+8
    assert instants[24] == datetime(2025, 2, 1, 5, 0, tzinfo=UTC)  # AEST, no daylight saving
    shown = fetch(database_url, "SELECT listing_id, auction_local FROM current_sale ORDER BY listing_id")
    assert [r["auction_local"] for r in shown] == [datetime(2025, 2, 1, 15, 0)] * 4


# --- Guard rails --------------------------------------------------------------------------------


GUARD_RAILS = [
    ("price_low", 500, "listing_price_bounds"),  # a sale "price" of $500: a misread
    ("price_high", 640_000_680_000, "listing_price_bounds"),  # two numbers glued together
    ("price_low", 900_000, "listing_price_order"),  # low above high ($550,000-$575,000)
    ("beds", 99, "listing_beds_check"),
    ("baths", -1, "listing_baths_check"),
    ("postcode", "317", "listing_postcode_check"),
    ("state", "XYZ", "listing_state_check"),
    ("lat", 37.99, "listing_lat_check"),  # the northern hemisphere
    ("sold_price", 5, "listing_sold_price_check"),
]


@pytest.mark.parametrize(("column", "value", "constraint"), GUARD_RAILS)
def test_a_row_that_breaks_a_guard_rail_lands_in_rejected_item_and_the_crawl_goes_on(
    database_url: str, column: str, value: Any, constraint: str, caplog: pytest.LogCaptureFixture
) -> None:
    bad_item = listing(31)
    row = list(listing_row(bad_item, datetime.now(UTC)))
    row[LISTING_COLUMNS.index(column)] = value
    bad = Write("upsert_listings", tuple(row), "Dandenong VIC 3175", bad_item.url, (31,))
    with caplog.at_level(logging.WARNING, logger="newhomie.store.pipeline"), Crawl(database_url) as run:
        run.feed([visit(), listing(30)])
        assert run.store.writer is not None
        run.store.writer.add([bad])
        run.feed([listing(32)])
    assert [r["listing_id"] for r in fetch(database_url, "SELECT listing_id FROM listing ORDER BY 1")] == [
        30,
        32,
    ]
    # Its history was not written either: the history of a refused listing would point nowhere.
    assert history(database_url, 31) == []
    rejected = fetch(database_url, "SELECT run_id, kind, locality, url, raw, reason FROM rejected_item")
    assert len(rejected) == 1
    assert rejected[0]["run_id"] == run.store.run_id
    assert rejected[0]["kind"] == "upsert_listings"
    assert (rejected[0]["locality"], rejected[0]["url"]) == ("Dandenong VIC 3175", bad_item.url)
    assert constraint in rejected[0]["reason"]
    # The raw row is kept whole, with its column names, so it can be read and replayed.
    assert rejected[0]["raw"]["listing_id"] == 31
    assert rejected[0]["raw"][column] == value
    assert rejected[0]["raw"]["price_text"] == "$550,000 - $575,000"
    # Logged with its locality and URL, as data.
    refused = [r for r in caplog.records if r.getMessage().startswith("database refused a row")]
    assert [(r.locality, r.url) for r in refused] == [("Dandenong VIC 3175", bad_item.url)]  # type: ignore[attr-defined]
    assert constraint in refused[0].getMessage()
    assert run.stats.get_value("newhomie/db/rows_rejected") == 1


def test_an_implausible_market_figure_is_rejected_and_the_rest_of_the_profile_kept(database_url: str) -> None:
    profile = dandenong_profile()
    profile.market[0].median_sold_price = 5  # a misread "$5"
    run = crawl(database_url, [profile])
    rejected = fetch(database_url, "SELECT kind, locality, url, raw, reason FROM rejected_item")
    assert len(rejected) == 1
    assert (rejected[0]["kind"], rejected[0]["locality"]) == ("upsert_suburb_market", DANDENONG)
    assert rejected[0]["url"].endswith("/suburb-profile/dandenong-vic-3175")
    assert "suburb_market_median_sold_price_check" in rejected[0]["reason"]
    raw = rejected[0]["raw"]
    assert (raw["property_category"], raw["bedrooms"], raw["median_sold_price"]) == ("House", 2, 5)
    assert run.stats.get_value("newhomie/db/rows_rejected") == 1
    assert fetch(database_url, "SELECT count(*) AS n FROM suburb_market")[0]["n"] == len(profile.market) - 1
    assert fetch(database_url, "SELECT count(*) AS n FROM suburb_profile")[0]["n"] == 1
    assert fetch(database_url, "SELECT count(*) AS n FROM suburb_sales_growth")[0]["n"] == sum(
        len(r.sales_growth) for r in profile.market
    )


# --- Writing ------------------------------------------------------------------------------------


def test_writing_never_waits_for_the_database(database_url: str) -> None:
    """While the listing table is locked by someone else, the crawl's items are still taken at once."""
    locker = connect(database_url)
    try:
        with Crawl(database_url, NEWHOMIE_DB_BATCH_SIZE=5) as run:
            with locker.cursor() as cur:
                cur.execute("LOCK TABLE listing IN ACCESS EXCLUSIVE MODE")
            # Fed whole while the lock is held: had the feed waited on the database, it would never end.
            run.feed([visit(), *(listing(n) for n in range(1, 60))])
            assert fetch(database_url, "SELECT count(*) AS n FROM pg_locks WHERE mode = 'AccessExclusiveLock'"
                         " AND relation = 'listing'::regclass")[0]["n"] == 1  # fmt: skip
            locker.rollback()
        assert fetch(database_url, "SELECT count(*) AS n FROM listing")[0]["n"] == 59
    finally:
        locker.close()


def _raise_deadlock_once(state: dict[str, int]) -> Any:
    def write(cur: psycopg2.extensions.cursor, statement: str, writes: list[Write]) -> None:
        for write in writes:
            cur.execute("INSERT INTO numbers (n) VALUES (%s)", write.params)
        state["calls"] += 1
        if state["calls"] == 1:
            cur.execute("DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END $$")

    return write


def test_a_batch_the_database_rolls_back_for_a_deadlock_is_run_again(database_url: str) -> None:
    execute(database_url, "CREATE TABLE numbers (n int PRIMARY KEY)")
    rejected: list[str] = []
    writer = BatchWriter(
        database_url,
        _raise_deadlock_once({"calls": 0}),
        lambda c, w, r, run: rejected.append(r),
        flush_seconds=0.05,
    )
    writer.add(Write("numbers", (n,)) for n in range(5))
    stats = writer.close()
    assert [r["n"] for r in fetch(database_url, "SELECT n FROM numbers ORDER BY n")] == [0, 1, 2, 3, 4]
    assert (stats.rolled_back_batches, stats.rows_written, stats.rows_rejected, rejected) == (1, 5, 0, [])


def test_a_batch_is_written_in_key_order(database_url: str) -> None:
    seen: list[tuple[str, tuple[Any, ...]]] = []

    def record(cur: psycopg2.extensions.cursor, statement: str, writes: list[Write]) -> None:
        seen.extend((w.statement, w.key) for w in writes)

    writer = BatchWriter(database_url, record, lambda *a: None, statement_order=["b"], flush_seconds=0.05)
    writer.add([Write("a", (), key=(3,)), Write("b", (), key=("y",)), Write("a", (), key=(1,)),
                Write("b", (), key=("x",)), Write("c", ()), Write("a", (), key=(2,))])  # fmt: skip
    writer.close()
    assert seen == [("b", ("x",)), ("b", ("y",)), ("a", (1,)), ("a", (2,)), ("a", (3,)), ("c", ())]


# --- Idempotence --------------------------------------------------------------------------------

#: Columns a second identical crawl may move: when things were last seen, and the run's own rows.
MOVING = {
    "locality": {"last_crawled_at"},
    "listing": {"last_seen_at"},
    "listing_price_history": {"last_seen_at"},
    "suburb_profile": {"captured_at"},
    "suburb_market": {"captured_at"},
    "suburb_sales_growth": {"captured_at"},
    "school": {"last_seen_at"},
    "locality_school": {"last_seen_at"},
}


def table_contents(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    contents = {}
    for table, moving in MOVING.items():
        rows = fetch(database_url, f"SELECT * FROM {table}")
        contents[table] = sorted(
            tuple(sorted((k, repr(v)) for k, v in row.items() if k not in moving)) for row in rows
        )
    return contents


def a_crawls_items() -> list[Any]:
    return [
        visit(),
        listing(41),
        listing(42, street="1/5 Foster Street", listing_type="rent", price_text="$495 p/w"),
        listing(
            43, listing_type="sold", price_text="$740,000", sold_on=date(2025, 1, 20), sold_method="auction"
        ),
        listing(44, price_text="Contact Agent"),
        dandenong_profile(),
    ]


def test_running_the_same_crawl_twice_leaves_the_same_rows(database_url: str) -> None:
    first = crawl(database_url, a_crawls_items())
    before = table_contents(database_url)
    times = fetch(database_url, "SELECT last_seen_at FROM listing ORDER BY listing_id")
    second = crawl(database_url, a_crawls_items())
    assert table_contents(database_url) == before
    later = fetch(database_url, "SELECT last_seen_at FROM listing ORDER BY listing_id")
    assert all(b["last_seen_at"] > a["last_seen_at"] for a, b in zip(times, later, strict=True))
    for run in (first, second):
        assert run.stats.get_value("newhomie/db/rows_rejected") == 0
    assert before["suburb_market"]
    assert before["school"]


# --- Suburb profiles ----------------------------------------------------------------------------


def test_a_suburb_profile_lands_in_its_tables(database_url: str) -> None:
    profile = dandenong_profile()
    run = crawl(database_url, [profile])
    assert run.stats.get_value("newhomie/db/rows_rejected") == 0
    locality = fetch(
        database_url,
        "SELECT slug, name, status, boundary, last_crawled_at FROM locality WHERE source = 'list'",
    )
    assert len(locality) == 1
    assert locality[0]["boundary"]["type"] == "Polygon"
    assert (locality[0]["name"], locality[0]["status"], locality[0]["last_crawled_at"]) == (
        "Dandenong", "active", None,
    )  # fmt: skip
    # Of its seven neighbours, Waverley Park VIC 3175 is in neither postcode list: it is discovered.
    discovered = fetch(database_url, "SELECT slug, name, state, postcode, status, discovered_from,"
                       " last_crawled_at FROM locality WHERE source = 'discovered'")  # fmt: skip
    assert discovered == [{
        "slug": "waverley-park-vic-3175", "name": "Waverley Park", "state": "VIC", "postcode": "3175",
        "status": "active", "discovered_from": "dandenong-vic-3175", "last_crawled_at": None,
    }]  # fmt: skip
    snapshot = fetch(database_url, "SELECT * FROM suburb_profile")
    assert len(snapshot) == 1
    assert snapshot[0]["population"] == 29911
    assert (
        snapshot[0]["snapshot_on"]
        == snapshot[0]["captured_at"].astimezone(ZoneInfo("Australia/Melbourne")).date()
    )
    assert snapshot[0]["surrounding_slugs"] == profile.surrounding_slugs
    market = fetch(database_url, "SELECT * FROM suburb_market ORDER BY property_category, bedrooms")
    assert [(m["property_category"], m["bedrooms"]) for m in market] == [
        (r.property_category, r.bedrooms)
        for r in sorted(profile.market, key=lambda r: (r.property_category, r.bedrooms))
    ]
    five_bed_house = next(m for m in market if (m["property_category"], m["bedrooms"]) == ("House", 5))
    assert (five_bed_house["median_sold_price"], five_bed_house["number_sold"]) == (None, 9)  # 0 is "no data"
    growth = fetch(
        database_url,
        "SELECT year, median_sold_price, annual_growth FROM suburb_sales_growth"
        " WHERE property_category = 'House' AND bedrooms = 3 ORDER BY year",
    )
    assert [(g["year"], g["median_sold_price"]) for g in growth][:2] == [(2019, 575000), (2020, 575000)]
    assert growth[1]["annual_growth"] == 0.0  # a real 0 % is kept
    schools = fetch(database_url, "SELECT acara_id, name FROM school ORDER BY acara_id")
    assert {s["acara_id"] for s in schools} == {s.acara_id for s in profile.schools}
    links = fetch(database_url, "SELECT locality_slug, acara_id FROM locality_school")
    assert {(ln["locality_slug"], ln["acara_id"]) for ln in links} == {
        (DANDENONG, s.acara_id) for s in profile.schools
    }


def test_a_profile_keeps_one_snapshot_a_day(database_url: str) -> None:
    profile = dandenong_profile()
    morning, evening, next_day = T0, T0 + timedelta(hours=8), T0 + timedelta(days=1)
    write_direct(database_url, profile_writes(profile, morning))
    profile.population = 30_100
    profile.market[1].median_sold_price = 665_000
    write_direct(database_url, profile_writes(profile, evening))
    rows = fetch(database_url, "SELECT snapshot_on, population, captured_at FROM suburb_profile")
    assert rows == [{"snapshot_on": date(2025, 2, 3), "population": 30_100, "captured_at": evening}]
    # An older read that arrives late changes nothing.
    profile.population = 1
    write_direct(database_url, profile_writes(profile, morning))
    assert fetch(database_url, "SELECT population FROM suburb_profile")[0]["population"] == 30_100
    profile.population = 30_200
    write_direct(database_url, profile_writes(profile, next_day))
    days = fetch(database_url, "SELECT snapshot_on, population FROM suburb_profile ORDER BY snapshot_on")
    assert days == [
        {"snapshot_on": date(2025, 2, 3), "population": 30_100},
        {"snapshot_on": date(2025, 2, 4), "population": 30_200},
    ]
    markets = fetch(
        database_url, "SELECT snapshot_on, count(*) AS n FROM suburb_market GROUP BY 1 ORDER BY 1"
    )
    assert [m["n"] for m in markets] == [len(profile.market)] * 2
    # The yearly series is history, not a snapshot: one row per year, from the latest profile.
    growth = fetch(database_url, "SELECT count(*) AS n, min(observed_on) AS day FROM suburb_sales_growth")
    assert growth == [{"n": sum(len(r.sales_growth) for r in profile.market), "day": date(2025, 2, 4)}]
    latest = fetch(database_url, "SELECT snapshot_on FROM latest_suburb_market")
    assert {r["snapshot_on"] for r in latest} == {date(2025, 2, 4)}


def test_a_school_listed_by_two_localities_is_one_row(database_url: str) -> None:
    dandenong = dandenong_profile()
    neighbour = dandenong_profile().model_copy(
        update={"slug": "noble-park-vic-3174", "name": "Noble Park", "postcode": "3174"}
    )
    write_direct(
        database_url, [*profile_writes(dandenong, T0), *profile_writes(neighbour, T0 + timedelta(hours=1))]
    )
    assert fetch(database_url, "SELECT count(*) AS n FROM school")[0]["n"] == len(dandenong.schools)
    links = fetch(
        database_url, "SELECT locality_slug, count(*) AS n FROM locality_school GROUP BY 1 ORDER BY 1"
    )
    assert links == [
        {"locality_slug": DANDENONG, "n": len(dandenong.schools)},
        {"locality_slug": "noble-park-vic-3174", "n": len(dandenong.schools)},
    ]
    school = fetch(database_url, "SELECT first_seen_at, last_seen_at FROM school LIMIT 1")[0]
    assert (school["first_seen_at"], school["last_seen_at"]) == (T0, T0 + timedelta(hours=1))


def test_a_search_visit_keeps_the_boundary_a_profile_gave(database_url: str) -> None:
    write_direct(database_url, profile_writes(dandenong_profile(), T0))
    write_direct(database_url, [visit_write(visit(crawled_at=T0 + timedelta(days=1)))])
    row = fetch(
        database_url,
        "SELECT boundary IS NOT NULL AS has_boundary, first_crawled_at, last_crawled_at FROM locality"
        " WHERE slug = 'dandenong-vic-3175'",
    )
    assert row == [
        {
            "has_boundary": True,
            "first_crawled_at": T0 + timedelta(days=1),
            "last_crawled_at": T0 + timedelta(days=1),
        }
    ]


# --- Views --------------------------------------------------------------------------------------


def test_the_views_show_current_listings_recent_sales_and_a_locality_summary(database_url: str) -> None:
    last_week, now = datetime.now(UTC) - timedelta(days=4), datetime.now(UTC)
    older = [
        listing(51, price_text="$600,000", beds=3, land_area_m2=500.0),  # withdrawn since
        listing(52, listing_type="rent", price_text="$400 pw", beds=2),  # leased since
    ]
    current = [
        listing(53, price_text="$500,000 - $540,000", beds=2, land_area_m2=400.0),
        listing(54, price_text="$800,000", beds=4, land_area_m2=None),
        listing(55, price_text="Contact Agent", beds=3),
        listing(56, listing_type="rent", price_text="$500 per week", beds=2),
        listing(57, listing_type="rent", price_text="$600 per week", beds=0),
    ]
    days_ago = [date.today() - timedelta(days=n) for n in (30, 60, 800)]
    sold = [
        listing(
            58, listing_type="sold", price_text="$700,000", sold_on=days_ago[0], beds=3, land_area_m2=350.0
        ),
        listing(59, listing_type="sold", price_text="Price Withheld", sold_on=days_ago[1]),
        listing(60, listing_type="sold", price_text="$300,000", sold_on=days_ago[2]),  # too long ago
    ]
    write_direct(
        database_url,
        [visit_write(visit(crawled_at=last_week)), *(listing_write(i, last_week) for i in older)],
    )
    write_direct(
        database_url,
        [visit_write(visit(crawled_at=now)), *(listing_write(i, now) for i in [*current, *sold])],
    )
    sale = fetch(database_url, "SELECT * FROM current_sale ORDER BY listing_id")
    assert [
        (s["listing_id"], s["asking_price"], s["price_per_bedroom"], s["price_per_m2_land"]) for s in sale
    ] == [
        (53, 520_000, 260_000, 1300),
        (54, 800_000, 200_000, None),
        (55, None, None, None),
    ]
    rent = fetch(
        database_url, "SELECT listing_id, weekly_rent, weekly_rent_per_bedroom FROM current_rental ORDER BY 1"
    )
    assert rent == [
        {"listing_id": 56, "weekly_rent": 500, "weekly_rent_per_bedroom": 250},
        {"listing_id": 57, "weekly_rent": 600, "weekly_rent_per_bedroom": None},  # a studio
    ]
    sales = fetch(
        database_url, "SELECT listing_id, sold_price, price_per_m2_land FROM recent_sale ORDER BY 1"
    )
    assert sales == [
        {"listing_id": 58, "sold_price": 700_000, "price_per_m2_land": 2000},
        {"listing_id": 59, "sold_price": None, "price_per_m2_land": None},
    ]
    summary = fetch(database_url, "SELECT * FROM locality_summary")
    assert len(summary) == 1
    s = summary[0]
    assert (s["slug"], s["sale_listings"], s["rent_listings"], s["recent_sales"]) == (DANDENONG, 3, 2, 2)
    assert (s["median_asking_price"], s["median_sold_price"], s["median_weekly_rent"]) == (
        660_000,
        700_000,
        550,
    )
    assert float(s["gross_rental_yield_pct"]) == round(100 * 550 * 52 / 660_000, 2)


@pytest.mark.parametrize(
    ("view_query", "index"),
    [
        ("SELECT * FROM current_sale WHERE asking_price <= 300300", "listing_type_asking_price_idx"),
        ("SELECT * FROM current_rental WHERE beds >= 6", "listing_type_beds_idx"),
        ("SELECT * FROM current_sale WHERE locality_slug = 'suburb-3-vic-3003'", "listing_locality_type_idx"),
        ("SELECT * FROM recent_sale WHERE sold_on >= DATE '2025-01-01'", "listing_type_sold_on_idx"),
    ],
)
def test_the_views_common_filters_use_an_index(
    conn: psycopg2.extensions.connection, view_query: str, index: str
) -> None:
    with conn.cursor() as cur:
        # 20 localities, 30,000 listings; a tenth of a percent of them has 6 bedrooms, an asking
        # price under $300,300, or a sold date this year.
        cur.execute(
            """
            INSERT INTO locality (slug, name, state, postcode, last_crawled_at)
            SELECT 'suburb-' || n || '-vic-3' || lpad(n::text, 3, '0'), 'Suburb ' || n, 'VIC',
                   '3' || lpad(n::text, 3, '0'), now()
            FROM generate_series(1, 20) n;
            INSERT INTO listing (listing_id, listing_type, locality_slug, url, suburb, state, postcode,
                                 beds, price_low, price_high, sold_on, time_zone, first_seen_at, last_seen_at)
            SELECT n, (ARRAY['sale', 'rent', 'sold'])[n % 3 + 1],
                   'suburb-' || (n % 20 + 1) || '-vic-3' || lpad((n % 20 + 1)::text, 3, '0'),
                   'https://x/' || n, 'Suburb', 'VIC', '3' || lpad((n % 20 + 1)::text, 3, '0'),
                   CASE WHEN n % 1000 < 3 THEN 6 ELSE n % 5 END,
                   CASE WHEN n % 3 = 1 THEN 100 + n % 900 ELSE 300000 + n * 10 END,
                   CASE WHEN n % 3 = 1 THEN 100 + n % 900 ELSE 300000 + n * 10 END,
                   CASE WHEN n % 3 = 2 THEN DATE '2015-01-01' + n % 1000 + (n % 1000 < 3)::int * 3700 END,
                   'Australia/Melbourne', now(), now()
            FROM generate_series(1, 30000) n;
            ANALYZE locality;
            ANALYZE listing;
            """
        )
        cur.execute("EXPLAIN " + view_query)
        plan = "\n".join(row[0] for row in cur.fetchall())
    conn.rollback()
    assert index in plan, plan


# --- Renormalise --------------------------------------------------------------------------------


def _stored_by_an_old_parser(database_url: str) -> None:
    """Rows as a worse parser stored them: the texts are right, the normalised numbers wrong."""
    write_direct(
        database_url,
        [
            visit_write(visit()),
            listing_write(listing(71, price_text="$580k - $638k"), T0),
            listing_write(listing(72, listing_type="rent", price_text="$550 pw/ $2390 pcm"), T0),
            listing_write(listing(73, listing_type="sold", price_text="$740,000"), T0),
            listing_write(listing(74, price_text="Contact Agent"), T0),
            listing_write(listing(75, price_text="$900,000"), T0),  # right already
            listing_write(listing(76, listing_type="sold", price_text="$655,000"), T0),
        ],
    )
    later = listing(76, listing_type="sold", price_text="Price Withheld")
    write_direct(database_url, [listing_write(later, T0 + timedelta(days=1))])
    execute(
        database_url,
        """
        UPDATE listing SET price_low = 58000, price_high = 63800 WHERE listing_id = 71;
        UPDATE listing SET price_low = 2390, price_high = 2390 WHERE listing_id = 72;
        UPDATE listing SET price_low = NULL, price_high = NULL, sold_price = NULL
            WHERE listing_id IN (73, 76);
        UPDATE listing SET price_low = 390000, price_high = 390000 WHERE listing_id = 74;
        UPDATE listing_price_history SET price_low = 58000, price_high = 63800 WHERE listing_id = 71;
        UPDATE listing_price_history SET price_low = 2390, price_high = 2390 WHERE listing_id = 72;
        UPDATE listing_price_history SET price_low = NULL, price_high = NULL WHERE listing_id IN (73, 76);
        """,
    )


def test_renormalise_repairs_listings_and_their_history(database_url: str) -> None:
    _stored_by_an_old_parser(database_url)
    dry = renormalise(database_url, dry_run=True)
    assert (dry.listings_changed, dry.history_changed) == (5, 4)
    assert fetch(database_url, "SELECT price_low FROM listing WHERE listing_id = 71")[0]["price_low"] == 58000

    report = renormalise(database_url, chunk_size=3)  # several chunks
    assert (report.listings_checked, report.listings_changed) == (6, 5)
    assert (report.history_checked, report.history_changed) == (7, 4)
    rows = fetch(database_url, "SELECT listing_id, price_low, price_high, sold_price FROM listing ORDER BY 1")
    assert [(r["listing_id"], r["price_low"], r["price_high"], r["sold_price"]) for r in rows] == [
        (71, 580_000, 638_000, None),
        (72, 550, 550, None),
        (73, 740_000, 740_000, 740_000),
        (74, None, None, None),
        (75, 900_000, 900_000, None),
        # "Price Withheld" now; the sold price comes from the earlier sold text, as the upsert keeps it.
        (76, None, None, 655_000),
    ]
    episodes = fetch(
        database_url,
        "SELECT listing_id, price_low, price_high FROM listing_price_history ORDER BY listing_id, id",
    )
    assert [(e["listing_id"], e["price_low"], e["price_high"]) for e in episodes] == [
        (71, 580_000, 638_000), (72, 550, 550), (73, 740_000, 740_000), (74, None, None),
        (75, 900_000, 900_000), (76, 655_000, 655_000), (76, None, None),
    ]  # fmt: skip
    again = renormalise(database_url)
    assert (again.listings_changed, again.history_changed) == (0, 0)


def test_renormalise_command_reports_its_counts(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stored_by_an_old_parser(database_url)
    monkeypatch.setenv(DATABASE_URL_ENV, database_url)
    assert cli.main(["renormalise", "--dry-run"]) == 0
    assert "(dry run): 6 listings checked, 5 would change; 7 price history rows checked, 4 would change" in (
        capsys.readouterr().out
    )
    assert cli.main(["renormalise"]) == 0
    assert "renormalise: 6 listings checked, 5 changed; 7 price history rows checked, 4 changed" in (
        capsys.readouterr().out
    )
