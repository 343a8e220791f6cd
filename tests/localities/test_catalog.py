"""The bundled locality list: its content, filters, stable shards, the database load, and the command."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import psycopg2.extensions
import pytest

from newhomie.localities import STATES, Locality, parse_locality_list
from newhomie.localities.catalog import load_catalog
from newhomie.localities.selection import (
    Selection,
    parse_limit,
    parse_postcodes,
    parse_shard,
    parse_state,
    select,
    shard_of,
)
from newhomie.store.localities import add_localities
from tests.paths import REPO

DANDENONG = Locality("Dandenong", "VIC", "3175")
RICHMOND = Locality("Richmond", "VIC", "3121")
BROKEN_HILL = Locality("Broken Hill", "NSW", "2880")


@pytest.fixture(scope="module")
def catalog() -> list[Locality]:
    return load_catalog()


# --- The list -----------------------------------------------------------------------------------


def test_the_list_is_large_unique_sorted_and_every_row_reads_back(catalog: list[Locality]) -> None:
    assert len(catalog) > 10_000
    slugs = [loc.slug for loc in catalog]
    assert len(set(slugs)) == len(slugs)
    assert catalog == sorted(catalog, key=lambda loc: (loc.state, loc.postcode, loc.slug))
    assert {loc.state for loc in catalog} == set(STATES)
    # Each line of `localities list` must be accepted by the spider's `-a localities=` as the same locality.
    unreadable = [loc for loc in catalog if Locality.parse(str(loc)) != loc]
    assert unreadable == []


@pytest.mark.parametrize(
    "text",
    [
        "Dandenong VIC 3175",
        "Richmond VIC 3121",
        "Broken Hill NSW 2880",  # missing from the 2021-04 source
        "Mooroolbark VIC 3138",  # the 2021-04 source lacked these three; the 2025-09 list has them
        "Croudace Bay NSW 2280",
        "Woodville South SA 5011",
        "Whitlam ACT 2611",  # the other way round: only the older list has it (a new suburb)
        "Bilgola Plateau NSW 2107",  # in the 2025-09 list without an Australia Post type
        "Noble Park North VIC 3174",
        "O'Connor ACT 2602",  # apostrophe kept, as the spider reads it
        "Darwin City NT 0800",  # the source wrote 800: the leading zero is restored
        "Parramatta NSW 2150",
        "Fortitude Valley QLD 4006",
    ],
)
def test_known_localities_are_in_the_list(catalog: list[Locality], text: str) -> None:
    assert Locality.parse(text) in catalog


@pytest.mark.parametrize(
    "text",
    [
        "Perth Gpo WA 6000",  # a mail-only name
        "Sydney NSW 2001",  # Sydney's PO-box postcode (Sydney NSW 2000 is listed)
        "Australia Square NSW 1215",  # the NSW 1xxx block of PO boxes
        "Melbourne VIC 8001",  # the VIC 8xxx block
    ],
)
def test_po_box_and_large_receiver_postcodes_are_left_out(catalog: list[Locality], text: str) -> None:
    assert Locality.parse(text) not in catalog


def test_the_list_has_every_delivery_area_with_its_coordinates(catalog: list[Locality]) -> None:
    assert len(catalog) > 16_400  # 16,475 readable delivery areas and what the older list adds
    by_slug = {loc.slug: loc for loc in catalog}
    mooroolbark = by_slug["mooroolbark-vic-3138"]
    assert (mooroolbark.latitude, mooroolbark.longitude) == (
        pytest.approx(-37.78391),
        pytest.approx(145.322794),
    )
    located = [
        (loc.state, loc.latitude, loc.longitude)
        for loc in catalog
        if loc.latitude is not None and loc.longitude is not None
    ]
    assert len(located) > 0.98 * len(catalog)
    # Coordinates fall within Australia and its islands, and each state in its own longitudes.
    assert all(-55 < lat < -9 and 96 < lng < 168 for _, lat, lng in located)
    west = [lng for state, _, lng in located if state == "WA"]
    east = [lng for state, _, lng in located if state == "NSW"]
    assert max(west) < min(east)


def test_the_build_script_rebuilds_the_bundled_list_byte_for_byte(tmp_path: Path) -> None:
    """The bundled list is what the script makes of the sources in data/localities: nobody edited it by
    hand, and a clone can rebuild it. The report names every decision on the older list."""
    output = tmp_path / "localities.csv"
    done = subprocess.run(
        [sys.executable, "scripts/build_locality_list.py", "--output", str(output),
         "--previous", str(REPO / "newhomie/localities/localities.csv")],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert output.read_bytes() == (REPO / "newhomie/localities/localities.csv").read_bytes()
    for decision in (
        "left out: a PO-box or delivery-centre name or postcode",
        "left out: the PO-box or LVR postcode of a place listed under its delivery postcode",
        "kept: named in the 2025 list without an Australia Post type",
        "kept: a place the 2025 list lacks",
    ):
        assert decision in done.stdout
    assert "left the list" not in done.stdout  # rebuilt from the same sources: nothing moved


def test_unreadable_names_of_the_source_are_left_out(catalog: list[Locality]) -> None:
    names = {loc.name for loc in catalog}
    assert not any("(" in name or any(ch.isdigit() for ch in name) for name in names)
    assert not any(len(loc.postcode) != 4 for loc in catalog)


def test_each_call_gets_its_own_list(catalog: list[Locality]) -> None:
    mine = load_catalog()
    mine.clear()
    assert len(load_catalog()) == len(catalog)


def test_the_list_loads_from_a_zipped_package(tmp_path: Path) -> None:
    """Scrapyd runs the project from an egg (a zip): the data must come through importlib.resources."""
    egg = tmp_path / "newhomie.egg"
    with zipfile.ZipFile(egg, "w") as archive:
        for path in (REPO / "newhomie").rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(REPO).as_posix())
    script = (
        "import newhomie.localities.catalog as c; "
        f"assert c.__file__.startswith({str(egg)!r}), c.__file__; "
        "print(len(c.load_catalog()))"
    )
    env = {**os.environ, "PYTHONPATH": str(egg)}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(load_catalog())


# --- Filters ------------------------------------------------------------------------------------


def test_state_filter(catalog: list[Locality]) -> None:
    vic = select(catalog, Selection(state="VIC"))
    assert vic
    assert all(loc.state == "VIC" for loc in vic)
    assert len(vic) == sum(loc.state == "VIC" for loc in catalog)
    assert DANDENONG in vic
    assert BROKEN_HILL not in vic


def test_postcode_ranges(catalog: list[Locality]) -> None:
    inner = select(catalog, Selection(postcodes=((3100, 3130),)))
    assert inner
    assert all(3100 <= int(loc.postcode) <= 3130 for loc in inner)
    assert RICHMOND in inner
    assert DANDENONG not in inner
    both = select(catalog, Selection(postcodes=parse_postcodes("3121,3175")))
    assert {loc.postcode for loc in both} == {"3121", "3175"}
    assert {RICHMOND, DANDENONG} <= set(both)
    # Postcodes with a leading zero compare as numbers.
    nt = select(catalog, Selection(postcodes=parse_postcodes("0800-0899")))
    assert nt
    assert all(loc.postcode.startswith("08") for loc in nt)


def test_filters_apply_in_order_state_postcodes_shard_limit(catalog: list[Locality]) -> None:
    nsw_2880 = select(catalog, Selection(state="NSW", postcodes=((2880, 2880),)))
    assert BROKEN_HILL in nsw_2880
    assert all(loc.state == "NSW" for loc in nsw_2880)
    vic = [loc for loc in catalog if loc.state == "VIC"]
    assert select(catalog, Selection(state="VIC", limit=5)) == vic[:5]
    shard_two = [loc for loc in vic if shard_of(loc, 7) == 2]
    assert select(catalog, Selection(state="VIC", shard=(2, 7), limit=3)) == shard_two[:3]
    assert select(catalog, Selection()) == catalog


# --- Shards -------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 7, 90])
def test_shards_cover_the_list_once(catalog: list[Locality], n: int) -> None:
    shards = [select(catalog, Selection(shard=(k, n))) for k in range(1, n + 1)]
    assert sum(len(shard) for shard in shards) == len(catalog)
    assert set().union(*map(set, shards)) == set(catalog)
    mean = len(catalog) / n
    assert all(0.7 * mean <= len(shard) <= 1.3 * mean for shard in shards), sorted(map(len, shards))


def test_a_localitys_shard_depends_on_its_slug_only(catalog: list[Locality]) -> None:
    before = {loc: shard_of(loc, 90) for loc in catalog}
    newer_list = [loc for loc in catalog if random.Random(1).random() < 0.5] or catalog[:1]
    random.Random(2).shuffle(newer_list)
    for k in (1, 45, 90):
        members = select(newer_list, Selection(shard=(k, 90)))
        assert members
        assert all(before[loc] == k for loc in members)
        assert {loc for loc in newer_list if before[loc] == k} == set(members)


def test_shards_are_the_same_in_every_process_and_version() -> None:
    # CRC-32 of the slug, not Python's per-process hash(): pinned so a change of the function shows.
    assert [shard_of(loc, 90) for loc in (DANDENONG, RICHMOND, BROKEN_HILL)] == [66, 90, 79]
    assert [shard_of(loc, 7) for loc in (DANDENONG, RICHMOND, BROKEN_HILL)] == [2, 1, 4]
    assert shard_of(DANDENONG, 1) == 1


# --- Parsers ------------------------------------------------------------------------------------


def test_parsers_read_the_accepted_forms() -> None:
    assert parse_state(" vic ") == "VIC"
    assert parse_postcodes("3000") == ((3000, 3000),)
    assert parse_postcodes("3000-3207, 4000 - 4999") == ((3000, 3207), (4000, 4999))
    assert parse_postcodes("0800-0899") == ((800, 899),)
    assert parse_shard(" 3/90 ") == (3, 90)
    assert parse_shard("1/1") == (1, 1)
    assert parse_limit("50") == 50
    assert Selection.parse(state="nsw", postcodes="2880", shard="4/7", limit="2") == Selection(
        state="NSW", postcodes=((2880, 2880),), shard=(4, 7), limit=2
    )


@pytest.mark.parametrize(
    ("parse", "text", "form"),
    [
        (parse_shard, "0/5", "K/N"),
        (parse_shard, "6/5", "K/N"),
        (parse_shard, "3", "K/N"),
        (parse_shard, "a/b", "K/N"),
        (parse_shard, "3/0", "K/N"),
        (parse_shard, "-1/5", "K/N"),
        (parse_postcodes, "3000-", "3000-3207"),
        (parse_postcodes, "30000", "3000-3207"),
        (parse_postcodes, "300", "3000-3207"),
        (parse_postcodes, "3207-3000", "3000-3207"),
        (parse_postcodes, "3000,,3100", "3000-3207"),
        (parse_postcodes, "", "3000-3207"),
        (parse_state, "XX", "VIC"),
        (parse_state, "Victoria", "VIC"),
        (parse_state, "", "VIC"),
        (parse_limit, "0", "whole number"),
        (parse_limit, "-3", "whole number"),
        (parse_limit, "ten", "whole number"),
    ],
)
def test_parsers_name_the_bad_text_and_the_form(parse: object, text: str, form: str) -> None:
    with pytest.raises(ValueError, match="expected") as caught:
        parse(text)  # type: ignore[operator]
    assert repr(text) in str(caught.value)
    assert form in str(caught.value)


@pytest.mark.parametrize(
    "fields",
    [
        {"state": "VICTORIA"},
        {"postcodes": ((3207, 3000),)},
        {"postcodes": ()},
        {"shard": (0, 5)},
        {"limit": 0},
    ],
)
def test_a_selection_cannot_be_built_wrong(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="expected"):
        Selection(**fields)  # type: ignore[arg-type]


def test_shard_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="0 shards"):
        shard_of(DANDENONG, 0)


# --- The database -------------------------------------------------------------------------------


def _localities_in_db(conn: psycopg2.extensions.connection) -> dict[str, tuple[str, str, str, str]]:
    with conn.cursor() as cur:
        cur.execute("SELECT slug, name, state, postcode, status FROM locality")
        rows = {
            slug: (name, state, postcode, status) for slug, name, state, postcode, status in cur.fetchall()
        }
    conn.rollback()
    return rows


def test_add_localities_adds_all_once_and_keeps_what_crawls_learnt(
    conn: psycopg2.extensions.connection, catalog: list[Locality]
) -> None:
    # What a crawl wrote before the list was ever loaded: a locality the site does not know, with its
    # crawl times, and one spelt as the user typed it.
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO locality (slug, name, state, postcode, status, first_crawled_at, last_crawled_at)"
            " VALUES ('warriewood-shopping-square-nsw-2102', 'Warriewood Shopping Square', 'NSW', '2102',"
            "         'not_found',"
            "         '2025-02-01T00:00:00Z', '2025-02-03T00:00:00Z'),"
            "        ('dandenong-vic-3175', 'DANDENONG', 'VIC', '3175', 'active', now(), now())"
        )
    conn.commit()
    assert Locality("Warriewood Shopping Square", "NSW", "2102") in catalog

    # Every locality but those two is new; the two, known without coordinates, get the list's.
    assert add_localities(conn, catalog) == len(catalog)

    rows = _localities_in_db(conn)
    assert len(rows) == len(catalog)
    assert rows["broken-hill-nsw-2880"] == ("Broken Hill", "NSW", "2880", "active")
    assert rows["darwin-city-nt-0800"] == ("Darwin City", "NT", "0800", "active")
    assert rows["warriewood-shopping-square-nsw-2102"][3] == "not_found"
    assert rows["dandenong-vic-3175"][0] == "DANDENONG"
    with conn.cursor() as cur:
        cur.execute(
            "SELECT first_crawled_at, last_crawled_at FROM locality"
            " WHERE slug = 'warriewood-shopping-square-nsw-2102'"
        )
        assert cur.fetchone() == (datetime(2025, 2, 1, tzinfo=UTC), datetime(2025, 2, 3, tzinfo=UTC))
        cur.execute("SELECT count(*) FROM locality WHERE first_crawled_at IS NOT NULL")
        assert cur.fetchone() == (2,)
        cur.execute("SELECT latitude, longitude, source FROM locality WHERE slug = 'dandenong-vic-3175'")
        assert cur.fetchone() == (pytest.approx(-38.016114), pytest.approx(145.208504), "list")
        cur.execute("SELECT count(*) FROM locality WHERE latitude IS NULL")
        assert cur.fetchone() == (sum(loc.latitude is None for loc in catalog),)
    conn.rollback()

    assert add_localities(conn, reversed(catalog)) == 0
    assert _localities_in_db(conn) == rows


def test_add_localities_of_a_selection_with_repeats(conn: psycopg2.extensions.connection) -> None:
    assert add_localities(conn, [DANDENONG, RICHMOND, DANDENONG]) == 2
    assert add_localities(conn, []) == 0
    assert set(_localities_in_db(conn)) == {"dandenong-vic-3175", "richmond-vic-3121"}


# --- The command --------------------------------------------------------------------------------


def _newhomie(
    tmp_path: Path, *args: str, database_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NEWHOMIE_DATABASE_URL"}
    env["NEWHOMIE_HOME"] = str(tmp_path / "home")  # never the developer's own embedded database
    if database_url:
        env["NEWHOMIE_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "newhomie", "localities", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_cli_list_prints_what_the_spider_accepts(tmp_path: Path, catalog: list[Locality]) -> None:
    done = _newhomie(tmp_path, "list", "--state", "vic", "--postcodes", "3121,3175")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "Dandenong VIC 3175" in lines
    assert "Richmond VIC 3121" in lines
    assert parse_locality_list(";".join(lines)) == select(
        catalog, Selection(state="VIC", postcodes=((3121, 3121), (3175, 3175)))
    )


def test_cli_count(tmp_path: Path, catalog: list[Locality]) -> None:
    done = _newhomie(tmp_path, "count", "--shard", "3/90")
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(select(catalog, Selection(shard=(3, 90))))
    done = _newhomie(tmp_path, "count")
    assert int(done.stdout) == len(catalog)


def test_cli_load(tmp_path: Path, database_url: str, conn: psycopg2.extensions.connection) -> None:
    done = _newhomie(tmp_path, "load", "--state", "VIC", "--limit", "20", database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert "20 new localities of 20 selected" in done.stdout
    assert len(_localities_in_db(conn)) == 20
    done = _newhomie(tmp_path, "load", "--state", "VIC", "--limit", "30", database_url=database_url)
    assert "10 new localities of 30 selected" in done.stdout, done.stdout + done.stderr
    assert all(state == "VIC" for _, state, _, _ in _localities_in_db(conn).values())


@pytest.mark.parametrize(
    ("option", "text"),
    [("--shard", "0/5"), ("--postcodes", "3000-"), ("--state", "XX"), ("--limit", "0")],
)
def test_cli_bad_filter_says_so_in_one_line_and_exits_2(tmp_path: Path, option: str, text: str) -> None:
    done = _newhomie(tmp_path, "load", option, text)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert repr(text) in done.stderr
    assert "expected" in done.stderr
    assert not (tmp_path / "home").exists()  # refused before any database was touched
