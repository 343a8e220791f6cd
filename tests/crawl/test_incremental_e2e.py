"""Incremental crawls and discovery, end to end: real crawls of the local site, a week apart.

A week passes on the site (`FakeSite.advance(7)`: sales, withdrawals, leases, new listings, price
changes) and in the database (`age_database(7)`: every time a crawl recorded moves back a week).
Then one database is crawled incrementally and another, which had the same first crawl, in full:
the two must hold the same, and equal the site's ground truth, with the incremental crawl fetching
at most half the pages.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from newhomie.localities.catalog import catalog_slugs, load_catalog
from newhomie.testing.fakesite import FakeSite, RunningSite
from newhomie.testing.fakesite.search import SearchFilters
from newhomie.testing.fixtures import FakeSiteFactory
from tests.crawling import age_database, fetch_all, run_crawl, truth_ids
from tests.paths import REPO

#: What is compared: the site's data as stored, not the times of our sightings (those differ by
#: seconds between two crawls, and a sold record an incremental crawl did not fetch again keeps its
#: last sighting, which is the point).
LISTING_FIELDS = (
    "listing_id, listing_type, locality_slug, url, street, suburb, state, postcode, lat, lng, beds, baths, "
    "parking, property_type, land_area_m2, price_text, price_low, price_high, auction_at, inspection_start, "
    "inspection_end, tag, agency, promo_type, sold_on, sold_method, sold_price"
)


def stored(database_url: str) -> dict[str, Any]:
    def ids(view: str) -> set[int]:
        return {row["listing_id"] for row in fetch_all(database_url, f"SELECT listing_id FROM {view}")}

    return {
        "listings": fetch_all(database_url, f"SELECT {LISTING_FIELDS} FROM listing ORDER BY listing_id"),
        "price_episodes": fetch_all(
            database_url,
            "SELECT listing_id, listing_type, price_text, price_low, price_high FROM listing_price_history"
            " ORDER BY listing_id, first_seen_at, id",
        ),
        "current_sale": ids("current_sale"),
        "current_rental": ids("current_rental"),
        "recent_sale": ids("recent_sale"),
        "sold": ids("listing WHERE listing_type = 'sold'"),
    }


def latest_run(database_url: str) -> dict[str, Any]:
    return fetch_all(database_url, "SELECT * FROM crawl_run ORDER BY id DESC LIMIT 1")[0]


def test_an_incremental_crawl_a_week_later_leaves_what_a_full_one_does_with_at_most_half_the_pages(
    fakesite_factory: FakeSiteFactory, database_factory: Callable[[], str]
) -> None:
    site = FakeSite(localities=6, seed=21)  # the local site's default mix
    running = fakesite_factory(site=site)
    localities = ";".join(site.locality_strings())
    incremental_db, full_db = database_factory(), database_factory()
    for database_url in (incremental_db, full_db):
        first = run_crawl(running.base_url, database_url, localities)
        assert first.returncode == 0, first.stderr[-3000:]
    first_run = latest_run(incremental_db)
    # Nothing was known: the first crawl read everything, though it was an incremental one.
    assert (first_run["crawl_kind"], first_run["pages_saved"]) == ("incremental", 0)

    changes = site.advance(days=7)
    assert min(changes.values()) > 0, changes
    for database_url in (incremental_db, full_db):
        age_database(database_url, days=7)

    incremental = run_crawl(running.base_url, incremental_db, localities)
    assert incremental.returncode == 0, incremental.stderr[-3000:]
    full = run_crawl(running.base_url, full_db, localities, "-a", "full=1")
    assert full.returncode == 0, full.stderr[-3000:]

    ours, theirs = stored(incremental_db), stored(full_db)
    for part in ours:
        assert ours[part] == theirs[part], f"{part} differs between the incremental and the full crawl"
    # And both hold the site as it is now.
    assert ours["current_sale"] == truth_ids(site, ("sale",))
    assert ours["current_rental"] == truth_ids(site, ("rent",))
    assert ours["sold"] == truth_ids(site, ("sold",))

    run, full_run = latest_run(incremental_db), latest_run(full_db)
    assert (run["crawl_kind"], full_run["crawl_kind"]) == ("incremental", "full")
    pages, full_pages = run["summary"]["pages_total"], full_run["summary"]["pages_total"]
    ratio = pages / full_pages
    print(f"incremental {pages} pages, full {full_pages} pages: ratio {ratio:.2f}")
    assert ratio <= 0.5, f"the incremental crawl read {pages} of the full crawl's {full_pages} pages"
    # What it did not fetch is counted exactly: the full crawl read those pages.
    assert run["pages_saved"] == full_pages - pages
    assert run["summary"]["pages_saved"] == {"sold": full_pages - pages}
    assert full_run["pages_saved"] == 0
    assert "crawl kind incremental" in incremental.stderr
    assert f"pages saved {full_pages - pages}" in incremental.stderr


def test_a_profile_read_within_its_max_age_is_not_read_again(
    fakesite: RunningSite, database_url: str
) -> None:
    site = fakesite.site
    localities = ";".join(site.locality_strings())
    profiles_only = {"NEWHOMIE_HEALTH_MIN_LISTINGS": "0"}  # a run of profiles finds no listings
    assert (
        run_crawl(
            fakesite.base_url, database_url, localities, "-a", "kinds=profile", settings=profiles_only
        ).returncode
        == 0
    )
    served = len(site.served.snapshot())
    again = run_crawl(
        fakesite.base_url, database_url, localities, "-a", "kinds=profile", settings=profiles_only
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert not [r for r in site.served.snapshot()[served:] if r.page_kind != "challenge"]
    run = latest_run(database_url)
    assert run["pages_saved"] == len(site.localities())
    assert run["summary"]["localities"] == {"done": len(site.localities()), "not_found": 0, "failed": 0}
    assert "newhomie/localities/stalled" not in run["stats"]
    # With a max age of 0 every profile is read.
    served = len(site.served.snapshot())
    settings = {"NEWHOMIE_PROFILE_MAX_AGE_DAYS": "0", **profiles_only}
    assert (
        run_crawl(
            fakesite.base_url, database_url, localities, "-a", "kinds=profile", settings=settings
        ).returncode
        == 0
    )
    profiles = [r for r in site.served.snapshot()[served:] if r.page_kind == "profile"]
    assert len(profiles) == len(site.localities())


def test_a_sold_search_that_lost_a_page_is_read_whole_next_time(
    fakesite_factory: FakeSiteFactory, database_url: str
) -> None:
    site = FakeSite(localities=0, seed=4)
    site.add_locality("Sunshine", "VIC", "3020", sold=130)  # 7 pages
    running = fakesite_factory(site=site)
    locality = "Sunshine VIC 3020"
    page_4 = site.search_path("sold", "sunshine-vic-3020", 4, sort="solddate-desc")
    site.faults.fail_paths = {page_4}  # answered 503 every time, so the page is lost for this crawl
    lossy = run_crawl(running.base_url, database_url, locality, "-a", "kinds=sold",
                      settings={"RETRY_TIMES": "0"})  # fmt: skip
    assert lossy.returncode != 0 or "failed 1" in lossy.stderr
    site.faults.fail_paths = set()
    served = len(site.served.snapshot())
    healed = run_crawl(running.base_url, database_url, locality, "-a", "kinds=sold")
    assert healed.returncode == 0, healed.stderr[-3000:]
    pages = {r.page or 1 for r in site.served.snapshot()[served:] if r.page_kind == "search"}
    assert pages == set(range(1, 8)), "every page is read again: the last crawl lost one"
    assert {r["listing_id"] for r in fetch_all(database_url, "SELECT listing_id FROM listing")} == truth_ids(
        site, ("sold",)
    )
    # Now that it was read whole, the next crawl reads one page: all of it is known.
    served = len(site.served.snapshot())
    assert run_crawl(running.base_url, database_url, locality, "-a", "kinds=sold").returncode == 0
    assert len([r for r in site.served.snapshot()[served:] if r.page_kind == "search"]) == 1


#: Made-up Tasmanian localities near each other, in postcodes the bundled list has none of.
MADE_UP = (("Quollbrook", "7481", -41.40, 147.10), ("Wombat Gully", "7482", -41.42, 147.12),
           ("Pademelon Rise", "7483", -41.43, 147.08))  # fmt: skip


def test_profiles_discover_localities_no_list_has_and_a_crawl_of_the_catalog_takes_them(
    fakesite_factory: FakeSiteFactory, database_url: str
) -> None:
    site = FakeSite(localities=0, seed=8)
    first, *others = (site.add_locality(name, "TAS", postcode, sale=2, lat=lat, lng=lng)
                      for name, postcode, lat, lng in MADE_UP)  # fmt: skip
    running = fakesite_factory(site=site)
    assert not {loc.slug for loc in (first, *others)} & catalog_slugs()
    crawl = run_crawl(running.base_url, database_url, str(first), "-a", "kinds=profile",
                      settings={"NEWHOMIE_HEALTH_MIN_LISTINGS": "0"})  # fmt: skip
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    discovered = fetch_all(
        database_url,
        "SELECT slug, name, state, postcode, discovered_from FROM locality WHERE source = 'discovered'"
        " ORDER BY slug",
    )
    assert [(r["name"], r["postcode"], r["discovered_from"]) for r in discovered] == sorted(
        (loc.name, loc.postcode, first.slug) for loc in others
    )
    stats = latest_run(database_url)["stats"]
    assert stats["newhomie/localities/neighbours_unlisted"] == len(others)

    # A crawl of the catalog, filtered to their postcodes, takes the discovered localities too.
    served = len(site.served.snapshot())
    catalog_crawl = run_crawl(
        running.base_url, database_url, "", "-a", "state=TAS", "-a", "postcodes=7480-7489",
        "-a", "kinds=profile,sale",
    )  # fmt: skip
    assert catalog_crawl.returncode == 0, catalog_crawl.stderr[-3000:]
    asked = {r.path for r in site.served.snapshot()[served:]}
    for locality in others:
        assert site.profile_path(locality.slug) in asked
    assert "2 discovered localities added" in catalog_crawl.stderr
    crawled = fetch_all(
        database_url, "SELECT slug, source, last_crawled_at FROM locality WHERE source = 'discovered'"
    )
    assert all(row["last_crawled_at"] is not None for row in crawled)

    coverage = subprocess.run(
        [sys.executable, "-m", "newhomie", "localities", "coverage", "--state", "TAS"],
        cwd=REPO, env={**os.environ, "NEWHOMIE_DATABASE_URL": database_url},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert coverage.returncode == 0, coverage.stderr
    rows = {line.split()[0]: line.split() for line in coverage.stdout.splitlines()[2:]}
    bundled_tas = sum(loc.state == "TAS" for loc in load_catalog())
    # state, bundled, discovered, named, active, not found, never crawled, oldest last crawl. The one
    # named by the first crawl was only read for its profile, which is not a crawl of its listings.
    assert rows["TAS"][1:7] == [
        f"{bundled_tas:,}",
        "2",
        "1",
        f"{bundled_tas + 3:,}",
        "0",
        f"{bundled_tas + 1:,}",
    ]
    assert rows["TAS"][7] != "-"


def test_the_local_site_sorts_sold_listings_newest_first_only_when_asked() -> None:
    site = FakeSite(localities=1, seed=2)
    slug = site.localities()[0].slug
    default = site.search("sold", slug)
    newest = site.search("sold", slug, SearchFilters(sort="solddate-desc"))
    dates = [listing.sold_on for listing in newest]
    assert dates == sorted(dates, reverse=True)  # type: ignore[type-var]
    assert [listing.sold_on for listing in default] != dates
    assert {x.listing_id for x in default} == {x.listing_id for x in newest}
