"""`python -m newhomie sql` reads by default and writes only when told; `migrate` names what is missing."""

from __future__ import annotations

import pytest

from newhomie import cli
from tests.storage import fetch


@pytest.fixture
def database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("NEWHOMIE_DATABASE_URL", database_url)
    return database_url


def test_sql_reads_and_prints_a_table(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sql", "select 1 as one, 'two' as two"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["one", "|", "two"]
    assert out.rstrip().endswith("(1 row)")


@pytest.mark.parametrize(
    "statement",
    [
        "DROP TABLE listing",
        "DELETE FROM locality",
        "INSERT INTO locality (slug, name, state, postcode) VALUES ('x-vic-3000', 'X', 'VIC', '3000')",
        "CREATE TABLE mine (n int)",
    ],
)
def test_sql_changes_nothing_unless_told(
    database: str, statement: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["sql", statement]) == 1
    err = capsys.readouterr().err
    assert "read-only transaction" in err
    assert "--write allows changes" in err
    assert fetch(database, "SELECT to_regclass('listing') IS NOT NULL AS there")[0]["there"]
    assert fetch(database, "SELECT to_regclass('mine') IS NULL AS absent")[0]["absent"]


def test_sql_write_changes_and_says_so_in_its_help(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sql", "--write", "CREATE TABLE mine (n int)"]) == 0
    assert capsys.readouterr().out.strip() == "CREATE TABLE"
    assert fetch(database, "SELECT to_regclass('mine') IS NOT NULL AS there")[0]["there"]
    with pytest.raises(SystemExit):
        cli.main(["sql", "--help"])
    assert "read-only" in capsys.readouterr().out


def test_migrate_names_the_tables_dropped_by_hand_and_fails(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["sql", "--write", "DROP TABLE locality_school"]) == 0
    capsys.readouterr()
    assert cli.main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert "schema is damaged" in err
    assert "locality_school (made by 0002_suburbs_and_schools)" in err
