"""Shared fixtures: a real PostgreSQL with a fresh database per test, and the local site."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2
import psycopg2.extensions
import pytest

from newhomie.store.connection import connect
from newhomie.store.embedded import release_embedded, stop_embedded
from newhomie.store.leases import IDLE_ENV
from newhomie.store.migrations import migrate
from newhomie.store.pg_cluster import scratch_server
from newhomie.store.target import with_database

pytest_plugins = ["newhomie.testing.fixtures"]

TEMPLATE_DB = "newhomie_test_template"


@pytest.fixture(autouse=True, scope="session")
def newhomie_home() -> Iterator[Path]:
    """NEWHOMIE_HOME of the whole session in a folder of its own: no test keeps anything (an embedded
    database, rows waiting for one) in the checkout's `.newhomie/`."""
    home = Path(tempfile.mkdtemp(prefix="newhomie-test-home-"))
    before = os.environ.get("NEWHOMIE_HOME")
    os.environ["NEWHOMIE_HOME"] = str(home)
    # A server that the commands tests run start stops as the last of them ends: none outlives the suite.
    os.environ.setdefault(IDLE_ENV, "0")
    yield home
    # The session's own embedded server (commands the tests ran started it): stopped now, not by its keeper
    # after the idle time, since its folder goes next.
    release_embedded()
    stop_embedded(force=True)
    if before is None:
        os.environ.pop("NEWHOMIE_HOME", None)
    else:
        os.environ["NEWHOMIE_HOME"] = before
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A PostgreSQL server: NEWHOMIE_TEST_DATABASE_URL, or an embedded one for this session."""
    url = os.environ.get("NEWHOMIE_TEST_DATABASE_URL")
    if url:
        yield url
        return
    # Its own directory: pytest's temporary directories are rotated by other pytest runs.
    data_dir = Path(tempfile.mkdtemp(prefix="newhomie-test-pg-"))
    try:
        with scratch_server(data_dir) as cluster:
            yield cluster.url()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _admin(url: str) -> psycopg2.extensions.connection:
    conn = connect(url)
    conn.autocommit = True
    return conn


@pytest.fixture(scope="session")
def pg_template(pg_server_url: str) -> str:
    """A database with every migration applied, copied for each test (fast: no DDL per test)."""
    admin = _admin(pg_server_url)
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB}")
        cur.execute(f"CREATE DATABASE {TEMPLATE_DB}")
    admin.close()
    conn = connect(with_database(pg_server_url, TEMPLATE_DB))
    migrate(conn)
    conn.close()
    return TEMPLATE_DB


@pytest.fixture
def database_factory(pg_server_url: str, pg_template: str) -> Iterator[Callable[[], str]]:
    """Makes fresh databases with the schema (the URL of each), all dropped after the test."""
    admin = _admin(pg_server_url)
    made: list[str] = []

    def make() -> str:
        name = f"newhomie_test_{uuid.uuid4().hex[:12]}"
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
        made.append(name)
        return with_database(pg_server_url, name)

    try:
        yield make
    finally:
        with admin.cursor() as cur:
            for name in made:
                cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@pytest.fixture
def database_url(database_factory: Callable[[], str]) -> str:
    """The URL of a fresh database with the schema, dropped after the test."""
    return database_factory()


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg2.extensions.connection]:
    connection = connect(database_url)
    yield connection
    connection.close()


@pytest.fixture
def own_tmp() -> Iterator[Path]:
    """A temporary folder of the test's own, outside pytest's: another pytest run on the machine rotates
    pytest's folders away, even while a server of this run still has its data there."""
    folder = Path(tempfile.mkdtemp(prefix="newhomie-test-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
