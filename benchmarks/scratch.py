"""A scratch PostgreSQL for the benchmarks: the server in use, or an embedded one of their own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from newhomie.store.connection import connect
from newhomie.store.pg_cluster import scratch_server
from newhomie.store.redact import redact_url
from newhomie.store.target import DATABASE_URL_ENV, with_database


@contextmanager
def server_url(scratch: Path) -> Iterator[tuple[str, bool]]:
    """The server in use (NEWHOMIE_DATABASE_URL), else an embedded one under `scratch`, deleted afterwards;
    and whether it is that embedded one."""
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if url:
        yield url, False
        return
    with scratch_server(scratch) as cluster:
        yield cluster.url(), True


def admin_execute(url: str, statement: str) -> None:
    """One statement outside a transaction (CREATE/DROP DATABASE)."""
    conn = connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


@dataclass(frozen=True)
class ScratchDatabase:
    url: str
    name: str
    #: Where it lives, for the printout: "embedded PostgreSQL" or the server's redacted URL.
    where: str


@contextmanager
def scratch_database(directory: Path, prefix: str = "newhomie_bench") -> Iterator[ScratchDatabase]:
    """A database of its own on the scratch server, dropped afterwards (and the embedded server stopped)."""
    with server_url(directory) as (server, embedded):
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        admin_execute(server, f"CREATE DATABASE {name}")
        where = "embedded PostgreSQL" if embedded else redact_url(server)
        try:
            yield ScratchDatabase(with_database(server, name), name, where)
        finally:
            admin_execute(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
