"""A crawl whose database goes away loses nothing: it holds its rows while the server restarts and lands
the site's ground truth; when the server stays away past the end of the run, the run says it is
unhealthy, how many rows it kept and where, and the next run writes them first and marks the run that
could not record its end as interrupted."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from newhomie.store.connection import connection
from newhomie.store.migrations import migrate
from newhomie.testing.fakesite import RunningSite
from newhomie.testing.fixtures import FakeSiteFactory
from tests.browser.test_healing import localities_of, wait_until
from tests.crawling import assert_database_holds_ground_truth, fetch_all, run_crawl, start_crawl
from tests.pg import RestartableServer

pytestmark = pytest.mark.e2e

#: Small batches, a quick writer, a short wait at close: an outage shows within a few pages.
OUTAGE_SETTINGS = {
    "NEWHOMIE_DB_BATCH_SIZE": "20",
    "NEWHOMIE_DB_FLUSH_SECONDS": "0.2",
    "NEWHOMIE_DB_RECONNECT_MAX_SECONDS": "1",
}


@pytest.fixture
def server() -> Iterator[RestartableServer]:
    running = RestartableServer()
    with connection(running.url) as conn:
        migrate(conn)
    yield running
    running.close()


def listings(url: str) -> int:
    return int(fetch_all(url, "SELECT count(*) AS n FROM listing")[0]["n"])


def slow_site(fakesite_factory: FakeSiteFactory) -> RunningSite:
    running = fakesite_factory(localities=3, seed=11, listings_per_locality=(40, 60))
    running.site.faults.slow_seconds = 0.15  # long enough a crawl to take its database away in the middle
    return running


def test_a_crawl_whose_database_restarts_in_the_middle_lands_the_sites_ground_truth(
    fakesite_factory: FakeSiteFactory, server: RestartableServer, tmp_path: Path
) -> None:
    running = slow_site(fakesite_factory)
    site = running.site
    log = tmp_path / "crawl.log"
    crawl = start_crawl(
        running.base_url, server.url, localities_of(site), settings=OUTAGE_SETTINGS, log_path=log
    )
    try:
        wait_until(lambda: listings(server.url) >= 20, 120, "the first listings in the database")
        server.stop()
        served = len(site.served)
        wait_until(lambda: len(site.served) >= served + 15, 120, "the crawl to go on without its database")
        server.start()
        assert crawl.wait(timeout=300) == 0, log.read_text()[-3000:]
    finally:
        if crawl.poll() is None:
            crawl.send_signal(signal.SIGKILL)
    assert_database_holds_ground_truth(site, server.url, running.base_url)
    (run,) = fetch_all(server.url, "SELECT status, health, stats FROM crawl_run")
    assert (run["status"], run["health"]) == ("finished", "healthy")
    assert run["stats"]["newhomie/db/reconnects"] >= 1
    assert run["stats"]["newhomie/db/rows_unwritten"] == 0
    assert "the database is back after" in log.read_text()


def test_rows_kept_while_the_database_stays_away_are_written_by_the_next_run(
    fakesite_factory: FakeSiteFactory, server: RestartableServer, tmp_path: Path
) -> None:
    running = slow_site(fakesite_factory)
    site = running.site
    first, rest = site.locality_strings()[0], site.locality_strings()[1:]
    spill = tmp_path / "unwritten"
    settings = {**OUTAGE_SETTINGS, "NEWHOMIE_DB_CLOSE_WAIT_SECONDS": "1", "NEWHOMIE_DB_SPILL_DIR": str(spill)}
    log = tmp_path / "first.log"
    crawl = start_crawl(running.base_url, server.url, ";".join(rest), settings=settings, log_path=log)
    try:
        wait_until(lambda: listings(server.url) >= 20, 120, "the first listings in the database")
        server.stop()
        assert crawl.wait(timeout=300) == 3, log.read_text()[-3000:]  # unhealthy
    finally:
        if crawl.poll() is None:
            crawl.send_signal(signal.SIGKILL)
    said = log.read_text()
    assert "rows were not written to the database; kept in" in said
    assert "the run was unhealthy" in said
    assert "rows could not be written to the database (kept in" in said
    kept = list(spill.glob("unwritten-*.jsonl"))
    assert len(kept) == 1
    assert str(kept[0]) in said

    server.start()
    (stuck,) = fetch_all(server.url, "SELECT id, status FROM crawl_run")
    assert stuck["status"] == "running"  # it could not say it ended
    # The next run (another locality, the same spill folder) writes what the first kept, first.
    second = run_crawl(running.base_url, server.url, first, settings=settings)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "writing first the rows earlier runs could not write" in second.stderr
    assert_database_holds_ground_truth(site, server.url, running.base_url)
    runs = fetch_all(server.url, "SELECT id, status, health FROM crawl_run ORDER BY id")
    assert [(r["status"], r["health"]) for r in runs] == [
        ("interrupted", "unhealthy"),
        ("finished", "healthy"),
    ]
    assert list(spill.iterdir()) == []
