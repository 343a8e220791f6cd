"""The spider's arguments (`CrawlArguments`) and the plan they make: which localities a crawl covers,
what it reads, and what a crawl key skips."""

from __future__ import annotations

import logging
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2.extensions
import pytest
from scrapy.settings import Settings

from newhomie.crawl.arguments import KINDS, ArgumentError, CrawlArguments
from newhomie.crawl.plan import (
    CRAWL_KEY_FILE,
    CrawlPlan,
    crawl_key_for_jobdir,
    localities_to_crawl,
    new_crawl_key,
)
from newhomie.localities import Locality
from newhomie.localities.catalog import load_catalog
from newhomie.localities.selection import shard_of
from newhomie.preflight import PreflightError
from newhomie.spiders.listings import ListingsSpider
from newhomie.store.connection import transaction
from newhomie.store.target import DATABASE_URL_ENV

DANDENONG = Locality("Dandenong", "VIC", "3175")
RICHMOND = Locality("Richmond", "VIC", "3121")
PARRAMATTA = Locality("Parramatta", "NSW", "2150")
THREE = f"{DANDENONG};{RICHMOND};{PARRAMATTA}"
KEY_FORM = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")


def plan_of(arguments: dict[str, str]) -> CrawlPlan:
    """The plan of the spider's arguments as `-a` gives them."""
    return CrawlPlan.of(CrawlArguments.check(arguments))


@pytest.fixture(scope="module")
def catalog() -> list[Locality]:
    return load_catalog()


# --- Which localities -------------------------------------------------------------------------------


def test_an_explicit_list_is_crawled_in_the_order_given() -> None:
    plan = plan_of({"localities": f"{RICHMOND}; {DANDENONG};{RICHMOND}"})
    assert plan.localities == (RICHMOND, DANDENONG)
    assert plan.source == "list"
    assert plan.kinds == KINDS == ("profile", "sale", "rent", "sold")
    assert plan.arguments.crawl is None
    assert plan.arguments.recheck_missing is False
    assert plan.arguments.shard_text is None


@pytest.mark.parametrize("text", ["all", "ALL", " All "])
def test_all_is_the_whole_catalog(text: str, catalog: list[Locality]) -> None:
    plan = plan_of({"localities": text})
    assert plan.source == "catalog"
    assert list(plan.localities) == catalog


def test_a_state_alone_takes_that_states_localities(catalog: list[Locality]) -> None:
    plan = plan_of({"state": "vic"})
    assert plan.source == "catalog"
    assert list(plan.localities) == [loc for loc in catalog if loc.state == "VIC"]
    assert DANDENONG in plan.localities


def test_postcodes_alone_take_those_postcodes(catalog: list[Locality]) -> None:
    plan = plan_of({"postcodes": "3100-3150,2150"})
    expected = [loc for loc in catalog if 3100 <= int(loc.postcode) <= 3150 or loc.postcode == "2150"]
    assert list(plan.localities) == expected
    assert RICHMOND in plan.localities
    assert PARRAMATTA in plan.localities
    assert DANDENONG not in plan.localities


def test_a_shard_alone_takes_that_shard(catalog: list[Locality]) -> None:
    plan = plan_of({"shard": "3/90"})
    assert plan.localities
    assert list(plan.localities) == [loc for loc in catalog if shard_of(loc, 90) == 3]
    assert plan.arguments.shard_text == "3/90"


def test_the_shards_of_all_cover_the_catalog_exactly_once(catalog: list[Locality]) -> None:
    seen: Counter[str] = Counter()
    for k in range(1, 91):
        plan = plan_of({"localities": "all", "shard": f"{k}/90"})
        seen.update(loc.slug for loc in plan.localities)
    assert set(seen) == {loc.slug for loc in catalog}
    assert set(seen.values()) == {1}


def test_filters_narrow_an_explicit_list() -> None:
    plan = plan_of({"localities": THREE, "state": "VIC"})
    assert plan.source == "list"
    assert plan.localities == (DANDENONG, RICHMOND)
    plan = plan_of({"localities": THREE, "postcodes": "2000-2999"})
    assert plan.localities == (PARRAMATTA,)
    # A locality not in the bundled list is still crawled when named (the list may lag the site).
    plan = plan_of({"localities": "Newtown Estate VIC 3999", "state": "VIC"})
    assert plan.localities == (Locality("Newtown Estate", "VIC", "3999"),)


def test_a_limit_takes_the_first_of_the_selection(catalog: list[Locality]) -> None:
    plan = plan_of({"state": "VIC", "limit": "5"})
    assert list(plan.localities) == [loc for loc in catalog if loc.state == "VIC"][:5]
    plan = plan_of({"localities": THREE, "limit": "2"})
    assert plan.localities == (DANDENONG, RICHMOND)


def test_a_limit_alone_does_not_say_which_localities() -> None:
    with pytest.raises(ValueError, match="say which localities"):
        plan_of({"limit": "5"})


def test_nothing_given_is_a_clear_message() -> None:
    for arguments in ({}, {"localities": "  "}, {"kinds": "sale"}):
        with pytest.raises(ValueError, match="say which localities") as caught:
            plan_of(arguments)
        message = str(caught.value)
        assert '-a localities="Dandenong VIC 3175;..."' in message
        assert "-a localities=all" in message
        assert "state=VIC" in message
        assert "shard=3/90" in message


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"localities": "Dandenong 3175"}, "Dandenong 3175"),
        ({"localities": THREE, "state": "Victoria"}, "unknown state 'Victoria'"),
        ({"localities": THREE, "postcodes": "3207-3000"}, "runs backwards"),
        ({"localities": "all", "shard": "91/90"}, "bad shard '91/90'"),
        ({"localities": "all", "limit": "0"}, "bad limit '0'"),
    ],
)
def test_a_bad_selection_names_the_argument_and_its_form(arguments: dict[str, str], words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        plan_of(arguments)


def test_a_malformed_locality_is_an_argument_error() -> None:
    with pytest.raises(ArgumentError, match="cannot read locality 'Nowhere': expected"):
        plan_of({"localities": f"{DANDENONG};Nowhere"})


def test_an_unknown_argument_is_named_with_the_nearest_known_one() -> None:
    with pytest.raises(
        ArgumentError, match=r"unknown argument 'shards' \(did you mean shard\?\); known: crawl, full, kinds"
    ):
        plan_of({"localities": "all", "shards": "3/90"})
    with pytest.raises(ArgumentError, match=r"unknown argument 'colour'; known: crawl, full, kinds"):
        plan_of({"localities": THREE, "colour": "red"})


def test_scrapyds_own_arguments_are_ignored() -> None:
    assert plan_of({"localities": THREE, "_job": "abc123"}).localities == (DANDENONG, RICHMOND, PARRAMATTA)


# --- What of each locality ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("sold,profile", ("profile", "sold")),
        ("SALE, rent ,sale", ("sale", "rent")),
        ("rent,sale,sold,profile", KINDS),
        ("sale,", ("sale",)),
    ],
)
def test_kinds_are_read_in_a_fixed_order(text: str, kinds: tuple[str, ...]) -> None:
    assert plan_of({"localities": THREE, "kinds": text}).kinds == kinds


@pytest.mark.parametrize("text", ["", ",", "buy", "sale,lease"])
def test_unknown_kinds_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="expected a comma list of profile, sale, rent, sold"):
        plan_of({"localities": THREE, "kinds": text})


# --- The crawl key and rechecks ----------------------------------------------------------------------


@pytest.mark.parametrize("key", ["nightly", "2026-03-12", "full.vic:3/90", "a" * 100, "K_1"])
def test_a_crawl_key_of_letters_digits_and_punctuation_is_taken(key: str) -> None:
    assert plan_of({"localities": THREE, "crawl": key}).arguments.crawl == key


@pytest.mark.parametrize("key", ["-nightly", "night ly", "nightly;drop", "a" * 101, "é"])
def test_a_bad_crawl_key_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match="letters, digits and"):
        plan_of({"localities": THREE, "crawl": key})


def test_a_blank_crawl_key_is_none() -> None:
    assert plan_of({"localities": THREE, "crawl": "  "}).arguments.crawl is None


@pytest.mark.parametrize(
    ("text", "flag"),
    [("1", True), ("true", True), ("Yes", True), ("on", True), ("0", False), ("no", False), ("", False)],
)
def test_recheck_missing_is_a_flag(text: str, flag: bool) -> None:
    assert plan_of({"localities": THREE, "recheck_missing": text}).arguments.recheck_missing is flag


@pytest.mark.parametrize(("text", "flag"), [("1", True), ("yes", True), ("0", False), ("", False)])
def test_full_is_a_flag_and_is_kept_in_the_record(text: str, flag: bool) -> None:
    plan = plan_of({"localities": THREE, "full": text})
    assert plan.arguments.full is flag
    assert ("full" in plan.describe()) is flag


def test_a_recheck_missing_that_is_no_flag_is_refused() -> None:
    with pytest.raises(ValueError, match=r"recheck_missing='maybe': expected 1 or 0"):
        plan_of({"localities": THREE, "recheck_missing": "maybe"})


def test_a_jobdir_keeps_its_crawl_key(tmp_path: Path) -> None:
    jobdir = tmp_path / "job"
    key = crawl_key_for_jobdir(str(jobdir))
    assert KEY_FORM.match(key)
    assert (jobdir / CRAWL_KEY_FILE).read_text(encoding="utf-8") == key + "\n"
    # A resumed run reads it back, and never writes another.
    assert crawl_key_for_jobdir(str(jobdir)) == key
    assert (jobdir / CRAWL_KEY_FILE).read_text(encoding="utf-8") == key + "\n"


def test_an_empty_key_file_gets_a_new_key(tmp_path: Path) -> None:
    (tmp_path / CRAWL_KEY_FILE).write_text("\n", encoding="utf-8")
    key = crawl_key_for_jobdir(str(tmp_path))
    assert KEY_FORM.match(key)
    assert crawl_key_for_jobdir(str(tmp_path)) == key


def test_without_a_jobdir_every_run_is_a_new_crawl() -> None:
    keys = {crawl_key_for_jobdir(None), crawl_key_for_jobdir(""), new_crawl_key()}
    assert len(keys) == 3
    assert all(KEY_FORM.match(key) for key in keys)


# --- How a plan is told ------------------------------------------------------------------------------


def test_describe_stores_the_arguments_of_a_list() -> None:
    plan = plan_of({"localities": THREE, "kinds": "sale", "crawl": "k1", "state": "vic"})
    assert plan.describe() == {
        "localities": [str(DANDENONG), str(RICHMOND)],
        "kinds": ["sale"],
        "selected": 2,
        "crawl": "k1",
        "state": "VIC",
    }
    assert plan.summary == "2 selected from the list, kinds sale, crawl=k1, state=VIC"


def test_describe_keeps_the_argument_of_a_catalog_crawl_not_its_thousands_of_names() -> None:
    plan = plan_of({"localities": "all", "shard": "3/90"})
    described = plan.describe()
    assert described["localities"] == "all"
    assert described["shard"] == "3/90"
    assert described["selected"] == len(plan.localities)
    assert described["kinds"] == list(KINDS)
    assert plan.arguments.shard_text == "3/90"
    assert plan.summary.startswith(f"{len(plan.localities)} selected from the catalog, kinds ")


# --- What is left to crawl ---------------------------------------------------------------------------


def test_without_the_database_the_whole_selection_is_crawled() -> None:
    plan = plan_of({"localities": THREE})
    assert localities_to_crawl(plan, "any-key", use_database=False) == [DANDENONG, RICHMOND, PARRAMATTA]


def insert_locality(cur: psycopg2.extensions.cursor, locality: Locality, status: str) -> None:
    cur.execute(
        "INSERT INTO locality (slug, name, state, postcode, status) VALUES (%s, %s, %s, %s, %s)",
        (locality.slug, locality.name, locality.state, locality.postcode, status),
    )


def insert_finished(cur: psycopg2.extensions.cursor, key: str, locality: Locality, status: str) -> None:
    finished = datetime.now(UTC)
    cur.execute(
        "INSERT INTO locality_crawl (crawl_key, locality_slug, locality, status, started_at, finished_at)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (key, locality.slug, str(locality), status, finished - timedelta(seconds=30), finished),
    )


@pytest.fixture
def plan_database(
    database_url: str, conn: psycopg2.extensions.connection, monkeypatch: pytest.MonkeyPatch
) -> psycopg2.extensions.connection:
    """The database the plan reads (through NEWHOMIE_DATABASE_URL, as a crawl does)."""
    monkeypatch.setenv(DATABASE_URL_ENV, database_url)
    return conn


FIVE = [
    DANDENONG,
    RICHMOND,
    PARRAMATTA,
    Locality("Noble Park", "VIC", "3174"),
    Locality("Broken Hill", "NSW", "2880"),
]


def test_a_crawl_skips_what_it_already_finished(plan_database: psycopg2.extensions.connection) -> None:
    dandenong, richmond, parramatta, noble_park, broken_hill = FIVE
    with transaction(plan_database) as cur:
        for locality in FIVE:
            insert_locality(cur, locality, "active")
        insert_finished(cur, "crawl-a", dandenong, "done")
        insert_finished(cur, "crawl-a", richmond, "not_found")
        insert_finished(cur, "crawl-a", parramatta, "failed")  # failed: crawled again
        insert_finished(cur, "crawl-b", noble_park, "done")  # another crawl's
    plan = plan_of({"localities": ";".join(map(str, FIVE))})
    assert localities_to_crawl(plan, "crawl-a") == [parramatta, noble_park, broken_hill]
    assert localities_to_crawl(plan, "crawl-b") == [dandenong, richmond, parramatta, broken_hill]
    assert localities_to_crawl(plan, "crawl-c") == FIVE


def test_localities_the_site_did_not_know_are_skipped_unless_rechecked(
    plan_database: psycopg2.extensions.connection, caplog: pytest.LogCaptureFixture
) -> None:
    dandenong, richmond, parramatta, noble_park, broken_hill = FIVE
    with transaction(plan_database) as cur:
        insert_locality(cur, dandenong, "active")
        insert_locality(cur, richmond, "not_found")
        insert_locality(cur, broken_hill, "not_found")
        insert_finished(cur, "crawl-a", broken_hill, "not_found")
    arguments = {"localities": ";".join(map(str, FIVE))}
    with caplog.at_level(logging.INFO, logger="newhomie.crawl.plan"):
        todo = localities_to_crawl(plan_of(arguments), "crawl-a")
    assert todo == [dandenong, parramatta, noble_park]
    assert "skipping 1 localities the site did not know last time" in caplog.text
    assert str(richmond) in caplog.text
    assert "skipping 1 localities it already finished" in caplog.text

    rechecked = plan_of({**arguments, "recheck_missing": "1"})
    # A recheck brings back what was missing, but not what this crawl already finished.
    assert localities_to_crawl(rechecked, "crawl-a") == [
        dandenong,
        richmond,
        parramatta,
        noble_park,
    ]
    assert localities_to_crawl(rechecked, "crawl-b") == FIVE


# --- The spider's preflight --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({}, "say which localities"),
        ({"localities": "Dandenong VIC"}, "cannot read locality 'Dandenong VIC'"),
        ({"localities": THREE, "kinds": "buy"}, "kinds='buy'"),
        ({"localities": "all", "shard": "0/90"}, "bad shard '0/90'"),
        ({"localities": THREE, "crawl": "two words"}, "crawl='two words'"),
        ({"localities": THREE, "recheck_missing": "perhaps"}, "recheck_missing='perhaps'"),
    ],
)
def test_the_spiders_preflight_refuses_bad_arguments_in_one_line(
    arguments: dict[str, str], words: str
) -> None:
    with pytest.raises(PreflightError) as caught:
        ListingsSpider.preflight(Settings(), arguments)
    message = str(caught.value)
    assert message.startswith("bad spider argument: ")
    assert words in message
    assert "\n" not in message


def test_the_spiders_preflight_passes_good_arguments() -> None:
    # Scrapyd adds `_job` to every run's arguments: the spider takes what is not the plan's.
    ListingsSpider.preflight(Settings(), {"localities": THREE, "kinds": "sale,rent", "_job": "abc123"})
    spider = ListingsSpider(localities=THREE, kinds="sale", crawl="k1", _job="abc123")
    assert spider.plan.localities == (DANDENONG, RICHMOND, PARRAMATTA)
    assert spider.arguments["selected"] == 3
    assert spider.crawl_key == "k1"


def test_the_arguments_schema_describes_each_argument_as_text() -> None:
    """What Scrapy Cloud's UI shows for the spider (scrapy-spider-metadata's param_schema)."""
    schema = ListingsSpider.get_param_schema()
    assert set(schema["properties"]) == {
        "localities", "state", "postcodes", "shard", "limit", "kinds", "crawl", "recheck_missing", "full"
    }  # fmt: skip
    for name, field in schema["properties"].items():
        assert field["type"] == "string", name
        assert field["description"], name
    assert "K/N" in schema["properties"]["shard"]["description"]
