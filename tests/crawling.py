"""Running the real `scrapy crawl listings` against the local site, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg2.extras
import pytest

from newhomie.localities import time_zone
from newhomie.store.connection import connection
from newhomie.store.target import DATABASE_URL_ENV
from newhomie.testing.fakesite import FakeSite, Kind, RunningSite, ServedRequest
from tests.paths import REPO

# Politeness is for the real site; the local one is ours and on loopback.
FAST_SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_START_DELAY": "0",
    "AUTOTHROTTLE_TARGET_CONCURRENCY": "4",
    "CONCURRENT_REQUESTS": "4",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "4",
    "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": "4",
    "NEWHOMIE_DB_FLUSH_SECONDS": "0.5",
}


KINDS: tuple[Kind, ...] = ("sale", "rent", "sold")


def crawl_command(
    base_url: str,
    database_url: str | None,
    localities: str,
    *extra_args: str,
    settings: dict[str, str] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The `scrapy crawl listings` command line and environment for a crawl of the local site."""
    env = {**os.environ, "DOMAIN_BASE_URL": base_url}
    env.pop(DATABASE_URL_ENV, None)
    if database_url is not None:
        env[DATABASE_URL_ENV] = database_url
    command = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "listings",
        "-a",
        f"localities={localities}",
        *extra_args,
    ]
    for name, value in {**FAST_SETTINGS, **(settings or {})}.items():
        command += ["-s", f"{name}={value}"]
    return command, env


def run_crawl(
    base_url: str,
    database_url: str | None,
    localities: str,
    *extra_args: str,
    settings: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    command, env = crawl_command(base_url, database_url, localities, *extra_args, settings=settings)
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def start_crawl(
    base_url: str,
    database_url: str | None,
    localities: str,
    *extra_args: str,
    settings: dict[str, str] | None = None,
    log_path: Path,
) -> subprocess.Popen[bytes]:
    """A crawl in the background, in its own process group (so that a test can kill all of it)."""
    command, env = crawl_command(base_url, database_url, localities, *extra_args, settings=settings)
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def fetch_all(database_url: str, statement: str, params: Sequence[object] = ()) -> list[dict[str, Any]]:
    with connection(database_url) as conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(statement, params)
        return [dict(row) for row in cur.fetchall()]


def expected_price(truth: dict[str, Any]) -> tuple[int | None, int | None]:
    """The (low, high) the site's generator meant, in the normaliser's terms."""
    intended = truth["price_intended"]
    if intended is None:
        return None, None
    kind = truth["price_kind"]
    if kind in ("over", "from"):
        return intended["low"], None
    if kind == "up_to":
        return None, intended["high"]
    return intended["low"], intended["high"]


def local(moment: datetime | None, zone: str) -> str | None:
    """A stored instant as the site's local wall-clock text."""
    return None if moment is None else moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M:%S")


def truth_ids(site: FakeSite, kinds: Sequence[Kind] = KINDS) -> set[int]:
    slugs = [locality.slug for locality in site.localities()]
    return {item["listing_id"] for slug in slugs for kind in kinds for item in site.ground_truth(slug, kind)}


def served_url(running: RunningSite, request: ServedRequest) -> str:
    query = "&".join(f"{k}={v}" for k, v in request.query.items())
    return running.base_url + request.path + (f"?{query}" if query else "")


def assert_listing_matches(row: dict[str, Any], truth: dict[str, Any], base_url: str) -> None:
    where = f"listing {truth['listing_id']}"
    assert row["listing_type"] == truth["listing_type"], where
    assert row["locality_slug"] == truth["locality"], where
    assert row["url"] == base_url + truth["url"], where
    assert row["street"] == truth["street"], where
    assert row["suburb"].upper() == truth["suburb"], where
    assert (row["state"], row["postcode"]) == (truth["state"], truth["postcode"]), where
    assert row["lat"] == pytest.approx(truth["lat"]), where
    assert row["lng"] == pytest.approx(truth["lng"]), where
    for feature in ("beds", "baths", "parking"):
        assert row[feature] == truth[feature], f"{where} {feature}"
    assert row["property_type"] == truth["property_type"], where
    assert row["land_area_m2"] == pytest.approx(truth["land_area_m2"]), where
    assert (row["is_rural"], row["is_retirement"]) == (truth["is_rural"], truth["is_retirement"]), where
    assert row["price_text"] == truth["price_text"], where
    assert (row["price_low"], row["price_high"]) == expected_price(truth), f"{where}: {truth['price_text']!r}"
    zone = time_zone(truth["state"], truth["postcode"]).key
    assert row["time_zone"] == zone, where
    # Local wall-clock times keep their meaning: stored as instants, read back in the zone.
    assert local(row["auction_at"], zone) == truth["auction"], where
    assert local(row["inspection_start"], zone) == truth["inspection_open"], where
    assert local(row["inspection_end"], zone) == truth["inspection_close"], where
    assert row["tag"] == truth["tag"], where
    assert (row["agency"], row["agency_id"]) == (truth["agency"], truth["agency_id"]), where
    if truth["listing_type"] == "sold":
        assert str(row["sold_on"]) == truth["sold_on"], where
        assert row["sold_method"] == truth["sold_method"].replace(" ", "_"), where


def assert_database_holds_ground_truth(
    site: FakeSite, database_url: str, base_url: str, kinds: Sequence[Kind] = KINDS
) -> None:
    """Every listing of the site, exactly once and exactly as served; nothing else."""
    truth = {
        item["listing_id"]: item
        for locality in site.localities()
        for kind in kinds
        for item in site.ground_truth(locality.slug, kind)
    }
    rows = {row["listing_id"]: row for row in fetch_all(database_url, "SELECT * FROM listing")}
    missing, extra = set(truth) - set(rows), set(rows) - set(truth)
    assert not missing, f"{len(missing)} listings of the site missing from the database"
    assert not extra, f"{len(extra)} listings in the database that the site does not have"
    for listing_id, row in rows.items():
        assert_listing_matches(row, truth[listing_id], base_url)


def run_crawl_reacting(
    base_url: str,
    database_url: str | None,
    localities: str,
    *,
    when: str,
    then: Callable[[], object],
    log_path: Path,
    settings: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """A crawl that does `then()` once its log says `when` (a condition, not a clock: under load a crawl
    reaches a point late, never early); its exit status and log, as run_crawl gives them."""
    crawl = start_crawl(base_url, database_url, localities, settings=settings, log_path=log_path)
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if when in log_path.read_text(encoding="utf-8", errors="replace"):
                then()
                return
            done.wait(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        returncode = crawl.wait(timeout=timeout)
    finally:
        done.set()
        if crawl.poll() is None:
            os.killpg(crawl.pid, signal.SIGKILL)
            crawl.wait()
    log = log_path.read_text(encoding="utf-8", errors="replace")
    return subprocess.CompletedProcess(crawl.args, returncode, stdout="", stderr=log)


#: Observation times that `age_database` moves back; `auction_at` is the site's own data, not ours.
_OBSERVED_DATES = ("snapshot_on", "observed_on")


def age_database(database_url: str, days: int) -> None:
    """Moves every time the crawls recorded `days` back, as if they had happened that long ago: what a
    test does beside `FakeSite.advance(days)`, so that "current", "fresh" and "last crawled" mean what
    they would a week later. The site's own dates (sold_on, auctions, inspections) stay."""
    with connection(database_url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND column_name <> 'auction_at'"
            "   AND ((data_type = 'timestamp with time zone' AND column_name LIKE '%%\\_at')"
            "        OR column_name = ANY(%s))"
            "   AND table_name IN (SELECT table_name FROM information_schema.tables"
            "                      WHERE table_schema = 'public' AND table_type = 'BASE TABLE')",
            (list(_OBSERVED_DATES),),
        )
        columns: dict[str, list[str]] = {}
        for table, column in cur.fetchall():
            columns.setdefault(table, []).append(column)
        for table, names in sorted(columns.items()):
            moves = ", ".join(f"{name} = {name} - %(days)s * interval '1 day'" for name in names)
            cur.execute(f"UPDATE {table} SET {moves}", {"days": days})
        conn.commit()
