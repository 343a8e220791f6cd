"""End to end: the real `scrapy crawl listings`, a real Chromium through the site's cookie check,
a real PostgreSQL, against the local copy of the site; the database must equal the site's truth."""

from __future__ import annotations

import pytest

from newhomie.testing.fakesite import RunningSite
from tests.crawling import KINDS, assert_listing_matches, fetch_all, run_crawl, served_url, truth_ids

pytestmark = pytest.mark.e2e


def test_crawl_lands_the_sites_ground_truth_and_a_second_run_changes_nothing_but_last_seen(
    fakesite: RunningSite, database_url: str
) -> None:
    site = fakesite.site
    unknown = "Nowhere VIC 3999"
    localities = ";".join([*site.locality_strings(), unknown])

    first = run_crawl(fakesite.base_url, database_url, localities)
    assert first.returncode == 0, first.stderr[-3000:]

    truth = {
        item["listing_id"]: item
        for locality in site.localities()
        for kind in KINDS
        for item in site.ground_truth(locality.slug, kind)
    }
    assert truth, "the local site should serve listings"
    rows = {row["listing_id"]: row for row in fetch_all(database_url, "SELECT * FROM listing")}
    assert set(rows) == set(truth)
    for listing_id, row in rows.items():
        assert_listing_matches(row, truth[listing_id], fakesite.base_url)

    # The browser passed the site's cookie check: the first page was refused, later ones served.
    served = site.served.snapshot()
    assert any(r.page_kind == "challenge" and r.status == 403 and not r.cookie for r in served)
    assert all(r.cookie for r in served if r.page_kind == "search" and r.status == 200)

    localities_table = {r["slug"]: r["status"] for r in fetch_all(database_url, "SELECT * FROM locality")}
    expected_status = {loc.slug: "active" for loc in site.localities()}
    assert localities_table == {**expected_status, "nowhere-vic-3999": "not_found"}
    profiles = fetch_all(database_url, "SELECT locality_slug AS slug FROM suburb_profile")
    assert sorted(p["slug"] for p in profiles) == sorted(expected_status)
    outcomes = {r["locality_slug"]: r for r in fetch_all(database_url, "SELECT * FROM locality_crawl")}
    assert {slug: r["status"] for slug, r in outcomes.items()} == {
        **{slug: "done" for slug in expected_status},
        "nowhere-vic-3999": "not_found",
    }
    for locality in site.localities():
        row = outcomes[locality.slug]
        assert row["listings"] == sum(len(site.ground_truth(locality.slug, kind)) for kind in KINDS)
        assert (row["attempts"], row["errors"]) == (1, 0)

    history = fetch_all(database_url, "SELECT listing_id, price_text FROM listing_price_history")
    assert len(history) == sum(1 for t in truth.values() if t["price_text"])
    runs = fetch_all(database_url, "SELECT * FROM crawl_run")
    assert [r["status"] for r in runs] == ["finished"]
    assert runs[0]["stats"]["newhomie/db/rows_rejected"] == 0
    assert (runs[0]["health"], runs[0]["health_reasons"]) == ("healthy", [])
    summary = runs[0]["summary"]
    assert summary["localities"] == {"done": len(expected_status), "not_found": 1, "failed": 0}
    assert summary["listings"] == {
        kind: sum(1 for t in truth.values() if t["listing_type"] == kind) for kind in KINDS
    }
    assert summary["suburb_profiles"] == len(expected_status)
    assert runs[0]["crawl_key"] == outcomes["nowhere-vic-3999"]["crawl_key"]
    assert "run summary: localities done 3, not found 1, failed 0" in first.stderr
    assert fetch_all(database_url, "SELECT * FROM crawl_error") == []
    assert fetch_all(database_url, "SELECT * FROM rejected_item") == []

    served_before = len(site.served.snapshot())
    # A full crawl reads every page again (an incremental one would leave the sold records unread).
    second = run_crawl(fakesite.base_url, database_url, localities, "-a", "full=1")
    assert second.returncode == 0, second.stderr[-3000:]
    # The locality the site does not know is not asked for again, and the log says so by name.
    assert not [r for r in site.served.snapshot()[served_before:] if "nowhere" in r.path]
    assert "the site did not know last time" in second.stderr
    assert "Nowhere VIC 3999" in second.stderr
    again = {row["listing_id"]: row for row in fetch_all(database_url, "SELECT * FROM listing")}
    assert set(again) == set(rows)
    for listing_id, row in again.items():
        before = rows[listing_id]
        assert row["last_seen_at"] > before["last_seen_at"]
        assert row["first_seen_at"] == before["first_seen_at"]
        changed = {k for k in row if row[k] != before[k]} - {"last_seen_at"}
        assert not changed, f"listing {listing_id} changed {changed} on a second identical crawl"
    assert len(fetch_all(database_url, "SELECT id FROM listing_price_history")) == len(history)
    assert len(fetch_all(database_url, "SELECT id FROM crawl_run")) == 2


def test_malformed_locality_stops_before_crawling_with_a_clear_message(
    fakesite: RunningSite, database_url: str
) -> None:
    result = run_crawl(fakesite.base_url, database_url, "Dandenong VIC 3175;Richmond 3121")
    assert result.returncode != 0
    assert "'Richmond 3121'" in result.stderr
    assert '"Dandenong VIC 3175"' in result.stderr  # the accepted form, by example
    assert "Traceback" not in result.stderr
    assert fakesite.site.served.snapshot() == []


def test_unreachable_database_stops_at_start_without_leaking_its_password(fakesite: RunningSite) -> None:
    url = "postgresql://crawler:hunter2secret@127.0.0.1:1/homes"
    result = run_crawl(fakesite.base_url, url, "Dandenong VIC 3175")
    assert result.returncode != 0
    assert "database unavailable" in result.stderr
    assert "127.0.0.1:1/homes" in result.stderr
    assert "hunter2secret" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert fakesite.site.served.snapshot() == []


def test_a_page_of_the_wrong_shape_is_recorded_with_its_context_and_the_crawl_goes_on(
    fakesite: RunningSite, database_url: str
) -> None:
    site = fakesite.site
    site.faults.truncate_json_every = 4
    result = run_crawl(fakesite.base_url, database_url, ";".join(site.locality_strings()))
    # A quarter of the pages broken: the run finishes, but says it cannot be trusted.
    assert result.returncode == 3, result.stderr[-3000:]
    assert "the run was unhealthy" in result.stderr

    truncated = {served_url(fakesite, r) for r in site.served.snapshot() if r.fault == "truncated"}
    assert truncated, "the site should have truncated some pages"
    errors = fetch_all(database_url, "SELECT * FROM crawl_error")
    assert {e["url"] for e in errors} == truncated
    for error in errors:
        assert error["error_type"] == "PageShapeError"
        assert error["locality"] in site.locality_strings()
        assert error["stage"] in ("profile", "sale_search", "rent_search", "sold_search")
        assert error["url"] in error["message"]
        assert error["url"] in result.stderr  # and in the log, with its locality
    # Everything else landed, and nothing that is not on the site.
    truth = truth_ids(site)
    stored = {r["listing_id"] for r in fetch_all(database_url, "SELECT listing_id FROM listing")}
    served_ok = (
        site.served_listing_ids("sale") | site.served_listing_ids("rent") | site.served_listing_ids("sold")
    )
    assert stored == served_ok & truth
    assert stored
    # Each failed locality was tried once more at the end of the run.
    outcomes = fetch_all(database_url, "SELECT * FROM locality_crawl")
    assert {r["attempts"] for r in outcomes if r["errors"]} <= {2}
    [run] = fetch_all(database_url, "SELECT health, health_reasons FROM crawl_run")
    assert run["health"] == "unhealthy"
    assert any("errors in" in reason for reason in run["health_reasons"])


def test_block_pages_are_retried_until_the_real_page_comes(fakesite: RunningSite, database_url: str) -> None:
    site = fakesite.site
    site.faults.block_every = 3
    site.faults.max_each = 6
    result = run_crawl(
        fakesite.base_url,
        database_url,
        ";".join(site.locality_strings()),
        settings={
            "NEWHOMIE_NEXT_DATA_TIMEOUT": "2",
            "NEWHOMIE_BLOCK_SETTLE_SECONDS": "0.3",
            "NEWHOMIE_BLOCK_RETRIES": "5",
            "NEWHOMIE_BLOCK_BACKOFF": "0.2",
            # Each block doubles the download delay (up to this), as it should on the real site;
            # unbounded here, a block in every three pages made this test take minutes.
            "AUTOTHROTTLE_MAX_DELAY": "1",
            # One page in three blocked is far from a healthy run; here only the retries are judged.
            "NEWHOMIE_HEALTH_MAX_BLOCK_RATE": "1",
        },
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert any(r.page_kind == "block" for r in site.served.snapshot())
    assert "blocked page (status 403) [locality=" in result.stderr
    truth = truth_ids(site)
    stored = {r["listing_id"] for r in fetch_all(database_url, "SELECT listing_id FROM listing")}
    assert stored == truth
    [run] = fetch_all(database_url, "SELECT stats FROM crawl_run")
    assert run["stats"]["newhomie/blocked"] >= 1
