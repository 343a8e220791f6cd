"""Which database: NEWHOMIE_DATABASE_URL, else on Zyte Scrapy Cloud the setting of that name.

Scrapy Cloud gives a job no environment variables of ours, only the settings set in its UI, as the JSON
of SHUB_SETTINGS that its entry point (sh_scrapy, of scrapinghub-entrypoint-scrapy) merges into Scrapy's
settings. These tests hold our reading of it to sh_scrapy's own code, which .venv has;
tests/deploy/test_docker.py runs a whole Scrapy Cloud job with it.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import tempfile
from pathlib import Path

import pytest
from sh_scrapy.env import decode_uri
from sh_scrapy.settings import populate_settings

from newhomie.store.embedded import HOME_ENV
from newhomie.store.errors import DatabaseUnavailable
from newhomie.store.migrations import ready_database
from newhomie.store.target import (
    DATABASE_URL_ENV,
    SCRAPY_CLOUD_JOB_ENV,
    SCRAPY_CLOUD_SECTIONS,
    SCRAPY_CLOUD_SETTINGS_ENV,
    DatabaseTarget,
    database_target,
    decode_scrapy_cloud_settings,
    scrapy_cloud_setting,
)

UNREACHABLE = "postgresql://crawler:cloud-s3cret@127.0.0.1:1/homes"


@pytest.fixture(autouse=True)
def no_database_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither the variable nor Scrapy Cloud's, whatever the shell running the tests has."""
    for name in (DATABASE_URL_ENV, SCRAPY_CLOUD_SETTINGS_ENV, SCRAPY_CLOUD_JOB_ENV):
        monkeypatch.delenv(name, raising=False)


def test_the_environment_variable_wins_over_scrapy_clouds_setting(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, database_url)
    settings = {"project_settings": {DATABASE_URL_ENV: UNREACHABLE}}
    monkeypatch.setenv(SCRAPY_CLOUD_SETTINGS_ENV, json.dumps(settings))
    monkeypatch.setenv(SCRAPY_CLOUD_JOB_ENV, "123/4/5")
    target, _ = ready_database()  # connects: the setting's server does not exist
    assert target == DatabaseTarget(url=database_url, embedded=False)


def test_a_url_only_in_scrapy_clouds_settings_is_used_and_the_log_says_so_masked(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = {"project_settings": {DATABASE_URL_ENV: f"  {database_url}\n"}, "job_settings": {"X": "1"}}
    monkeypatch.setenv(SCRAPY_CLOUD_SETTINGS_ENV, json.dumps(settings))
    monkeypatch.setenv(SCRAPY_CLOUD_JOB_ENV, "123/4/5")
    target, _ = ready_database()
    assert target.url == database_url
    assert not target.embedded

    monkeypatch.setenv(
        SCRAPY_CLOUD_SETTINGS_ENV, json.dumps({"spider_settings": {DATABASE_URL_ENV: UNREACHABLE}})
    )
    described = database_target().describe()
    assert described == (
        "PostgreSQL at postgresql://crawler:***@127.0.0.1:1/homes "
        f"(from the Scrapy Cloud setting {DATABASE_URL_ENV})"
    )
    with pytest.raises(DatabaseUnavailable) as caught:
        ready_database()
    assert "cloud-s3cret" not in str(caught.value)


def sh_scrapys_value(settings: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> str | None:
    """What the entry point's own merge gives Scrapy for the setting, for a spider job."""
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "newhomie.settings")
    merged = populate_settings(json.loads(json.dumps(settings)), spider="listings")
    value = merged.get(DATABASE_URL_ENV)
    return None if value is None else str(value).strip()


def test_the_setting_is_taken_from_the_section_sh_scrapy_gives_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # sh_scrapy makes a JOBDIR for each spider job
    sections = SCRAPY_CLOUD_SECTIONS
    checked = 0
    for size in range(len(sections) + 1):
        for chosen in itertools.combinations(sections, size):
            settings = {section: {DATABASE_URL_ENV: f"postgresql://u:p@{section}/db"} for section in chosen}
            settings.setdefault("job_settings", {})["LOG_LEVEL"] = "INFO"
            monkeypatch.setenv(SCRAPY_CLOUD_SETTINGS_ENV, json.dumps(settings))
            ours = scrapy_cloud_setting(DATABASE_URL_ENV)
            assert ours == sh_scrapys_value(settings, monkeypatch), chosen
            assert ours == (f"postgresql://u:p@{chosen[-1]}/db" if chosen else None)
            checked += 1
    assert checked == 16
    # A job's empty setting blanks the project's, for sh_scrapy as for us (and then no database is set).
    blanked = {
        "project_settings": {DATABASE_URL_ENV: UNREACHABLE},
        "job_settings": {DATABASE_URL_ENV: ""},
    }
    monkeypatch.setenv(SCRAPY_CLOUD_SETTINGS_ENV, json.dumps(blanked))
    assert scrapy_cloud_setting(DATABASE_URL_ENV) == sh_scrapys_value(blanked, monkeypatch) == ""


def test_settings_are_decoded_in_every_form_sh_scrapy_reads(tmp_path: Path) -> None:
    settings = {"project_settings": {DATABASE_URL_ENV: "postgresql://u:pässword@h/db"}}
    text = json.dumps(settings)
    encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
    path = tmp_path / "settings.json"
    path.write_text(text, encoding="utf-8")
    forms = [
        text,
        f"data:application/json;base64,{encoded}",
        f"data:;base64,{encoded}",
        f"data:application/json;charset=utf-8;base64,{encoded}",
        str(path),
        f"file://{path}",
    ]
    for form in forms:
        assert decode_scrapy_cloud_settings(form) == decode_uri(form) == settings, form


def test_unreadable_settings_are_ignored_with_a_warning_that_shows_none_of_them(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    broken = '{"project_settings": {"NEWHOMIE_DATABASE_URL": "postgresql://u:cloud-s3cret@h/db"'
    for text in (broken, "data:;base64,@@@", "not settings", "[1, 2]"):
        monkeypatch.setenv(SCRAPY_CLOUD_SETTINGS_ENV, text)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="newhomie.store.target"):
            assert scrapy_cloud_setting(DATABASE_URL_ENV) is None
        assert [r.levelno for r in caplog.records] == [logging.WARNING], text
        assert f"cannot read {SCRAPY_CLOUD_SETTINGS_ENV}" in caplog.text
        assert "s3cret" not in caplog.text


def test_a_scrapy_cloud_job_without_a_database_is_refused_an_embedded_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    monkeypatch.setenv(SCRAPY_CLOUD_SETTINGS_ENV, json.dumps({"project_settings": {"LOG_LEVEL": "INFO"}}))
    monkeypatch.setenv(SCRAPY_CLOUD_JOB_ENV, "123/4/5")
    with pytest.raises(DatabaseUnavailable, match=f"set {DATABASE_URL_ENV} in the project's"):
        database_target()
    assert list(tmp_path.iterdir()) == []  # no embedded database was started
