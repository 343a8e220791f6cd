"""An embedded database made by an older PostgreSQL, as a user upgrading newhomie has one: never opened by
the new server nor replaced by an empty one, and carried over by `db upgrade` with every row.

The old folder is written by the old server's own programs: the `pgserver` package's PostgreSQL 16 the
way newhomie used it before (where pgserver installs: Python 3.12 and older), and the distribution's
older PostgreSQL (Debian's postgresql package, which the set-up installs)."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from newhomie.localities.catalog import load_catalog
from newhomie.store.connection import connection
from newhomie.store.embedded import embedded_url, release_embedded
from newhomie.store.errors import DatabaseUnavailable
from newhomie.store.localities import add_localities
from newhomie.store.migrations import migrate
from newhomie.store.pg_cluster import Cluster, binaries_in, data_version, embedded_binaries, package_bindir
from newhomie.store.pg_upgrade import row_counts
from tests.paths import REPO
from tests.storage import crawl, dandenong_profile, listing

NEW_MAJOR = embedded_binaries().major


def old_sources() -> list[str]:
    sources = []
    if package_bindir("pgserver") is not None:
        sources.append("pgserver")
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin")):
        if (folder / "postgres").exists() and int(folder.parent.name) < NEW_MAJOR:
            sources.append(f"debian-{folder.parent.name}")
    return sources


SOURCES = old_sources()


def test_an_older_postgresql_is_there_to_test_the_upgrade_with() -> None:
    """The upgrade's tests below need one; the set-up installs Debian's, so none is missing quietly."""
    assert SOURCES, "no PostgreSQL older than the embedded one: neither pgserver nor Debian's postgresql"


@pytest.fixture
def old_home(request: pytest.FixtureRequest, own_tmp: Path) -> Iterator[tuple[Path, Cluster]]:
    """A NEWHOMIE_HOME whose pgdata an older server wrote, with a crawl's rows in it; the old server
    left running when it was pgserver's (as newhomie left it), stopped otherwise."""
    home = own_tmp / "home"
    pgdata = home / "pgdata"
    home.mkdir()
    source: str = request.param
    if source == "pgserver":
        with warnings.catch_warnings():  # it asks for XDG_RUNTIME_DIR, which cron and containers lack
            warnings.simplefilter("ignore")
            import pgserver  # the old embedded database exactly as newhomie ran it

            pgserver.get_server(pgdata, cleanup_mode=None)
        old = Cluster(pgdata, binaries_in(package_bindir("pgserver")))  # type: ignore[arg-type]
    else:
        old = Cluster(pgdata, binaries_in(Path(f"/usr/lib/postgresql/{source.removeprefix('debian-')}/bin")))
        old.initdb()
        old.start()
    url = old.url()
    with connection(url) as conn:
        migrate(conn)
        add_localities(conn, load_catalog())
        conn.commit()
    crawl(url, [listing(1001), listing(1002, price_text="$650,000"), dandenong_profile()])
    if source != "pgserver":
        old.stop()
    previous = os.environ.get("NEWHOMIE_HOME")
    os.environ["NEWHOMIE_HOME"] = str(home)
    yield home, old
    release_embedded()
    os.environ["NEWHOMIE_HOME"] = previous or ""
    for folder in (pgdata, home / f"pgdata-{old.binaries.major}"):
        version = data_version(folder) if folder.exists() else None
        if version is not None:
            Cluster(folder, embedded_binaries() if version == NEW_MAJOR else old.binaries).stop("immediate")


@pytest.mark.parametrize("old_home", SOURCES, indirect=True)
def test_an_old_folder_is_never_opened_and_db_upgrade_carries_every_row_over(
    old_home: tuple[Path, Cluster],
) -> None:
    home, old = old_home
    pgdata = home / "pgdata"
    old_major = old.binaries.major
    was_running = old.running() is not None
    before = row_counts((old.running() or old.start()).url())
    if not was_running:
        old.stop()
    assert before["postgres.public.locality"] > 13_000
    assert before["postgres.public.listing"] == 2

    with pytest.raises(DatabaseUnavailable, match=r"python -m newhomie db upgrade") as refused:
        embedded_url()
    assert f"made by PostgreSQL {old_major}" in str(refused.value)
    assert data_version(pgdata) == old_major, "the old folder was touched"
    assert Cluster(pgdata, embedded_binaries()).running() is None or was_running

    env = {**os.environ, "NEWHOMIE_HOME": str(home), "NEWHOMIE_EMBEDDED_IDLE_SECONDS": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "newhomie", "db", "upgrade"], env=env, cwd=REPO, capture_output=True,
        text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"from PostgreSQL {old_major} to {NEW_MAJOR}" in done.stdout
    assert f"{sum(before.values()):,} rows" in done.stdout

    assert data_version(pgdata) == NEW_MAJOR
    assert data_version(home / f"pgdata-{old_major}") == old_major, "the old folder is not kept"
    after = row_counts(embedded_url())
    assert after == before

    again = subprocess.run(
        [sys.executable, "-m", "newhomie", "db", "upgrade"], env=env, cwd=REPO, capture_output=True,
        text=True, timeout=600,
    )  # fmt: skip
    assert again.returncode == 2
    assert "already" in again.stderr
