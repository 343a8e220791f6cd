"""Every spider argument and every setting is checked before anything starts: a bad value is one line
naming it, the value and the accepted form, and `scrapy crawl` stops with exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.settings import Settings

from newhomie import settings as project_settings
from newhomie.config import RULES, setting_problems
from newhomie.crawl.arguments import ArgumentError, CrawlArguments
from tests.paths import REPO

#: For every rule, a value it refuses (and one it takes), with words of the message.
BAD_SETTINGS = {
    "NEWHOMIE_LOCALITIES_AT_ONCE": ("0", "2", "a whole number from 1 to 64"),
    "NEWHOMIE_STALL_SECONDS": ("-1", "30", "more than 0"),
    "NEWHOMIE_PROFILE_MAX_AGE_DAYS": ("-1", "3.5", "a number of days, 0 or more"),
    "NEWHOMIE_NEXT_DATA_TIMEOUT": ("0", "5", "more than 0"),
    "NEWHOMIE_BLOCK_SETTLE_SECONDS": ("soon", "1.5", "a number of seconds, 0 or more"),
    "NEWHOMIE_BROWSER_RETRIES": ("2.5", "3", "a whole number from 0 to 20"),
    "NEWHOMIE_BROWSER_CLOSE_TIMEOUT": ("0", "10", "more than 0"),
    "NEWHOMIE_BLOCK_BACKOFF": ("-30", "30", "0 or more"),
    "NEWHOMIE_BLOCK_BACKOFF_MAX": ("inf", "600", "0 or more"),
    "NEWHOMIE_BLOCK_RETRIES": ("-1", "3", "a whole number from 0 to 20"),
    "NEWHOMIE_RETRY_AFTER_MAX": ("nan", "900", "0 or more"),
    "NEWHOMIE_DB_ENABLED": ("perhaps", "False", "True or False"),
    "NEWHOMIE_DB_BATCH_SIZE": ("0", "100", "a whole number from 1 to 100000"),
    "NEWHOMIE_DB_FLUSH_SECONDS": ("0", "0.5", "more than 0"),
    "NEWHOMIE_DB_MEMORY_ROWS": ("-5", "5000", "a whole number from 1"),
    "NEWHOMIE_DB_CLOSE_WAIT_SECONDS": ("-1", "0", "0 or more"),
    "NEWHOMIE_DB_RECONNECT_MAX_SECONDS": ("0", "5", "more than 0"),
    "NEWHOMIE_JSON_LOGS": ("json", "1", "True or False"),
    "NEWHOMIE_HEALTH_MIN_LISTINGS": ("-1", "0", "a whole number of at least 0"),
    "NEWHOMIE_HEALTH_MAX_ERROR_RATE": ("5%", "0.05", "a share from 0 to 1"),
    "NEWHOMIE_HEALTH_MAX_BLOCK_RATE": ("1.5", "0.1", "a share from 0 to 1"),
    "NEWHOMIE_HEALTH_MAX_UNPARSED_PRICE_RATE": ("-0.1", "0", "a share from 0 to 1"),
    "NEWHOMIE_HEALTH_MAX_FAILED_LOCALITIES": ("2", "1", "a share from 0 to 1"),
    "DOWNLOAD_DELAY": ("abc", "2", "a number of seconds, 0 or more"),
    "DOWNLOAD_DELAY_JITTER": ("2", "0.5", "a share from 0 to 1"),
    "CONCURRENT_REQUESTS": ("0", "4", "a whole number from 1 to 64"),
    "CONCURRENT_REQUESTS_PER_DOMAIN": ("many", "4", "a whole number from 1 to 64"),
    "AUTOTHROTTLE_ENABLED": ("sometimes", "0", "True or False"),
    "AUTOTHROTTLE_START_DELAY": ("-3", "3", "0 or more"),
    "AUTOTHROTTLE_MAX_DELAY": ("0", "60", "more than 0"),
    "AUTOTHROTTLE_TARGET_CONCURRENCY": ("0", "1.5", "a number more than 0"),
    "DOWNLOAD_TIMEOUT": ("0", "90", "more than 0"),
    "RETRY_TIMES": ("-1", "2", "a whole number from 0 to 20"),
    "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": ("0", "45000", "a whole number of at least 1"),
    "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": ("0", "4", "a whole number from 1 to 64"),
    "PROMETHEUS_PUSH_TIMEOUT": ("0", "5", "more than 0"),
    "PROMETHEUS_PUSH_INTERVAL": ("-60", "60", "0 or more"),
    "PROMETHEUS_SAMPLE_INTERVAL": ("x", "10", "0 or more"),
    "NEWHOMIE_FEED_ITEMS": ("Listing,Houses", "all", "listings, all, or a comma list of Listing"),
}
TEXT_SETTINGS = {"NEWHOMIE_DB_SPILL_DIR", "NEWHOMIE_CHROMIUM", "NEWHOMIE_TEST_LOSE_URL"}
#: For every spider argument, a value it refuses, with words of the message.
BAD_ARGUMENTS = {
    "localities": ("Dandenong 3175", "cannot read locality 'Dandenong 3175'"),
    "state": ("Victoria", "unknown state 'Victoria'"),
    "postcodes": ("3207-3000", "runs backwards"),
    "shard": ("91/90", "bad shard '91/90': expected K/N"),
    "limit": ("none", "bad limit 'none'"),
    "kinds": ("buy", "kinds='buy': expected a comma list of profile, sale, rent, sold"),
    "crawl": ("two words", "crawl='two words': letters, digits"),
    "recheck_missing": ("perhaps", "recheck_missing='perhaps': expected 1 or 0"),
    "full": ("always", "full='always': expected 1 or 0"),
}


def test_the_table_covers_every_rule_and_every_argument() -> None:
    assert {rule.name for rule in RULES} == set(BAD_SETTINGS) | TEXT_SETTINGS
    assert set(BAD_ARGUMENTS) == set(CrawlArguments.model_fields)


@pytest.mark.parametrize("name", sorted(BAD_SETTINGS))
def test_a_bad_setting_is_one_line_naming_it_its_value_and_the_accepted_form(name: str) -> None:
    bad, good, words = BAD_SETTINGS[name]
    settings = Settings({"NEWHOMIE_DB_BATCH_SIZE": 1, "NEWHOMIE_DB_MEMORY_ROWS": 200_000})
    settings.set(name, good)
    assert setting_problems(settings, environ={}) == []
    settings.set(name, bad)
    (problem,) = setting_problems(settings, environ={})
    assert problem.startswith(f"{name}={bad!r}: expected ")
    assert words in problem


@pytest.mark.parametrize("name", sorted(BAD_ARGUMENTS))
def test_a_bad_argument_is_one_line_naming_it_and_the_accepted_form(name: str) -> None:
    bad, words = BAD_ARGUMENTS[name]
    arguments = {"localities": "Dandenong VIC 3175", name: bad}
    with pytest.raises(ArgumentError) as caught:
        CrawlArguments.check(arguments)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_projects_own_settings_pass() -> None:
    settings = Settings()
    settings.setmodule(project_settings)
    assert setting_problems(settings, environ={}) == []


def test_a_misspelt_setting_of_ours_is_refused_with_the_nearest_name() -> None:
    problems = setting_problems(Settings({"NEWHOMIE_DB_BATCHSIZE": "10"}), environ={})
    assert problems == ["NEWHOMIE_DB_BATCHSIZE: no such setting (did you mean NEWHOMIE_DB_BATCH_SIZE?)"]


def test_the_database_url_is_never_a_setting() -> None:
    (problem,) = setting_problems(
        Settings({"NEWHOMIE_DATABASE_URL": "postgresql://u:S3cret@h/db"}), environ={}
    )
    assert "not a setting" in problem
    assert "S3cret" not in problem


def test_a_home_that_cannot_be_made_is_said(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    (problem,) = setting_problems(Settings(), environ={"NEWHOMIE_HOME": str(blocker / "home")})
    assert problem.startswith(f"NEWHOMIE_HOME={str(blocker / 'home')!r}: cannot make the folder")


def test_memory_for_fewer_rows_than_a_batch_is_refused() -> None:
    problems = setting_problems(
        Settings({"NEWHOMIE_DB_BATCH_SIZE": 500, "NEWHOMIE_DB_MEMORY_ROWS": 100}), environ={}
    )
    assert problems == ["NEWHOMIE_DB_MEMORY_ROWS=100: expected at least NEWHOMIE_DB_BATCH_SIZE (500)"]


def crawl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "listings", *args], cwd=REPO,
        env={**os.environ, "DOMAIN_BASE_URL": "http://127.0.0.1:9", **(env or {})},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        (
            ("-a", "localities=all", "-a", "shards=3/90"),
            {},
            "unknown argument 'shards' (did you mean shard?)",
        ),
        (
            ("-a", "localities=Dandenong VIC 3175", "-s", "DOWNLOAD_DELAY=abc"),
            {},
            "DOWNLOAD_DELAY='abc': expected",
        ),
        (
            ("-a", "localities=Dandenong VIC 3175", "-s", "NEWHOMIE_DB_BATCH_SIZE=0"),
            {},
            "NEWHOMIE_DB_BATCH_SIZE='0'",
        ),
        (("-a", "localities=Dandenong VIC 3175", "-s", "NEWHOMIE_LOCALITIES_AT_ONCE=0"), {}, "AT_ONCE='0'"),
        (
            ("-a", "localities=Dandenong VIC 3175"),
            {"NEWHOMIE_HOME": "/proc/newhomie"},
            "NEWHOMIE_HOME='/proc/newhomie'",
        ),
    ],
    ids=["misspelt argument", "delay", "batch size", "localities at once", "home"],
)
def test_scrapy_crawl_stops_before_anything_starts_with_one_line(
    args: tuple[str, ...], env: dict[str, str], words: str
) -> None:
    done = crawl(*args, env=env)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("scrapy crawl listings: ")]
    assert words in line
    assert "Spider opened" not in done.stderr


def test_thousands_of_bad_localities_are_said_in_a_short_line_once() -> None:
    bad = ";".join(f"Nowhere{n} 0{n:03d}" for n in range(5_000))
    done = crawl("-a", f"localities={bad}")
    assert done.returncode == 2
    (line,) = [line for line in done.stderr.splitlines() if "cannot read locality" in line]
    assert len(line) < 1_000
    assert "and 4995 more of the 5000 given" in line
