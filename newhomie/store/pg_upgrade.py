"""Carrying an embedded database made by an older PostgreSQL (16, from the `pgserver` package newhomie used
before) over to the PostgreSQL the embedded database runs now.

A dump and a restore, not `pg_upgrade`: the new server's own `initdb` defaults (data checksums on since
18, the locale) need not match the old folder's, and a dump is read by any newer server. The old server's
programs read the old folder: those of the `pgserver` package when it is still installed, Debian's or
Ubuntu's `postgresql-<major>` package, or a `bin/` folder named with `--old-bindir`.

Nothing is deleted. The old folder is kept beside the new one (`pgdata-16`) and the dump too; the new
folder replaces `pgdata` only when every table of every database has as many rows as before.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2.sql

from newhomie import sql
from newhomie.store.connection import connection, transaction
from newhomie.store.errors import DatabaseUnavailable
from newhomie.store.leases import no_users
from newhomie.store.pg_cluster import (
    Binaries,
    Cluster,
    binaries_in,
    data_version,
    embedded_binaries,
    package_bindir,
)
from newhomie.store.target import with_database

#: The one error a restore into a new folder is expected to print: its superuser exists already.
EXPECTED_RESTORE_ERRORS = ('role "postgres" already exists',)


@dataclass
class UpgradeReport:
    old_major: int
    new_major: int
    kept: Path
    dump: Path
    seconds: float
    #: "database.schema.table" -> rows, equal before and after.
    rows: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        tables = len(self.rows)
        databases = len({name.split(".")[0] for name in self.rows})
        return (
            f"carried the embedded database over from PostgreSQL {self.old_major} to {self.new_major} in "
            f"{self.seconds:.1f} s: {sum(self.rows.values()):,} rows in {tables} tables of {databases} "
            f"database(s), as many as before. The old folder is kept at {self.kept} and the dump at "
            f"{self.dump}: delete them once you are satisfied."
        )


def old_binaries(major: int, given: Path | None) -> Binaries:
    """PostgreSQL `major`'s programs: `given`, else the pgserver package's, else the distribution's."""
    candidates = [given] if given else [package_bindir("pgserver"), Path(f"/usr/lib/postgresql/{major}/bin")]
    for bindir in candidates:
        if bindir is not None and (bindir / "postgres").exists():
            binaries = binaries_in(bindir)
            if binaries.major == major:
                return binaries
            if given:
                raise DatabaseUnavailable(
                    f"{given} holds PostgreSQL {binaries.major}'s programs, not {major}'s"
                )
    hint = "`pip install pgserver==0.1.4` under Python 3.12 or older, or " if major == 16 else ""
    raise DatabaseUnavailable(
        f"no PostgreSQL {major} programs are installed to read the old folder with: install them "
        f"({hint}`apt-get install postgresql-{major}`) and run this again, naming their bin folder with "
        "--old-bindir if they are elsewhere"
    )


def row_counts(server_url: str) -> dict[str, int]:
    """Every table's exact row count in every database of the server."""
    counts: dict[str, int] = {}
    with connection(server_url, application_name="newhomie-upgrade") as conn, transaction(conn) as cur:
        cur.execute(sql.query("server_databases"))
        databases = [row[0] for row in cur.fetchall()]
    count_rows = psycopg2.sql.SQL(sql.query("count_table_rows"))
    for database in databases:
        url = with_database(server_url, database)
        with connection(url, application_name="newhomie-upgrade") as conn, transaction(conn) as cur:
            cur.execute(sql.query("user_tables"))
            for schema, table in cur.fetchall():
                cur.execute(count_rows.format(table=psycopg2.sql.Identifier(schema, table)))
                counts[f"{database}.{schema}.{table}"] = int(cur.fetchone()[0])
    return counts


def _client(binaries: Binaries, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binaries.tool(tool), *args], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=None
    )


def upgrade_embedded(home: Path, *, old_bindir: Path | None = None) -> UpgradeReport:
    """Carry `home`'s embedded database over to the embedded PostgreSQL's major version."""
    started = time.monotonic()
    pgdata = home / "pgdata"
    new = embedded_binaries()
    old_major = data_version(pgdata)
    if old_major is None:
        raise DatabaseUnavailable(f"there is no embedded database in {pgdata} to upgrade")
    if old_major == new.major:
        raise DatabaseUnavailable(f"the embedded database in {pgdata} is PostgreSQL {new.major}'s already")
    kept = home / f"pgdata-{old_major}"
    if kept.exists():
        raise DatabaseUnavailable(f"{kept} exists (an earlier upgrade's): move it away first")
    with no_users(home, wait=False) as idle:
        if not idle:
            raise DatabaseUnavailable(f"commands are using {home}'s embedded database: let them end first")
        old = Cluster(pgdata, old_binaries(old_major, old_bindir))
        # A server pgserver left running on it is used as it is; otherwise one is started for the dump.
        old_url = (old.running() or old.start()).url()
        before = row_counts(old_url)
        dump = home / f"upgrade-{old_major}-to-{new.major}.sql"
        done = _client(new, "pg_dumpall", "--dbname", old_url, "--file", str(dump))
        if done.returncode != 0:
            raise DatabaseUnavailable(f"pg_dumpall of {pgdata} failed: {done.stderr.strip()[-600:]}")
        old.stop()

        upgrading = Cluster(home / "pgdata.upgrading", new)
        if upgrading.pgdata.exists():  # an earlier attempt that did not finish
            upgrading.delete()
        upgrading.initdb()
        try:
            new_url = upgrading.start().url()
            restored = _client(new, "psql", "-X", "-q", "-d", new_url, "-f", str(dump))
            errors = [line for line in restored.stderr.splitlines() if "ERROR:" in line]
            unexpected = [line for line in errors if not any(e in line for e in EXPECTED_RESTORE_ERRORS)]
            if restored.returncode != 0 or unexpected:
                raise DatabaseUnavailable(
                    f"restoring {dump} into PostgreSQL {new.major} failed ({'; '.join(unexpected)[:600]}); "
                    f"{pgdata} is left as it was"
                )
            after = row_counts(new_url)
            if after != before:
                differ = sorted(
                    name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
                )
                raise DatabaseUnavailable(
                    f"the restored database differs from {pgdata} in {', '.join(differ[:10])}; "
                    f"{pgdata} is left as it was"
                )
            upgrading.stop()
        except BaseException:
            upgrading.delete()
            raise
        pgdata.rename(kept)
        upgrading.pgdata.rename(pgdata)
    return UpgradeReport(old_major, new.major, kept, dump, time.monotonic() - started, before)
