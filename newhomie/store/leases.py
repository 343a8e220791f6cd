"""Who uses the embedded server, told by file locks the kernel lets go of when a process ends, however it
ends (a `kill -9` included); and the keeper, a small detached process that stops the server once nobody
has used it for NEWHOMIE_EMBEDDED_IDLE_SECONDS.

Under NEWHOMIE_HOME/server/:
- `users.lock`: every command using the server holds a shared lock on it for as long as it runs. The
  keeper waits for the exclusive lock, which it gets only when no command holds one.
- `users/<pid>`: one file per command, locked by it, naming it (for `db status`); a file nobody locks is
  a command that was killed, and is removed by whoever sees it.
- `start.lock`: held while the server is started or stopped, so that two commands started at once start
  one server and share it.
- `keeper.lock`: held by the keeper, so that there is one.
"""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import newhomie
from newhomie.store.redact import redact

logger = logging.getLogger(__name__)

IDLE_ENV = "NEWHOMIE_EMBEDDED_IDLE_SECONDS"
DEFAULT_IDLE_S = 60.0


def idle_seconds() -> float:
    """How long the server outlives its last command (0: it stops as that command ends)."""
    text = os.environ.get(IDLE_ENV, "").strip()
    if not text:
        return DEFAULT_IDLE_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise ValueError(f"{IDLE_ENV}={text!r}: a number of seconds, 0 or more")
    return value


def server_folder(home: Path) -> Path:
    return home / "server"


def _open_lock(path: Path) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "a+", encoding="utf-8")


def _try_lock(handle: IO[str], kind: int) -> bool:
    try:
        fcntl.flock(handle, kind | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@dataclass(frozen=True)
class User:
    pid: int
    command: str


class Lease:
    """This process uses the server in `home` until `release()` or until it ends."""

    def __init__(self, home: Path) -> None:
        folder = server_folder(home)
        (folder / "users").mkdir(parents=True, exist_ok=True)
        self._mine = folder / "users" / str(os.getpid())
        self._name = _open_lock(self._mine)
        fcntl.flock(self._name, fcntl.LOCK_EX)
        self._name.truncate(0)
        self._name.write(redact(" ".join(sys.argv)) or sys.executable)  # `db status` shows it
        self._name.flush()
        self._users = _open_lock(folder / "users.lock")
        # Waits only while the keeper is stopping the server; the start that follows starts it again.
        fcntl.flock(self._users, fcntl.LOCK_SH)

    def release(self) -> None:
        self._mine.unlink(missing_ok=True)  # first: it is what the keeper's idle time counts from
        self._users.close()
        self._name.close()


@contextmanager
def start_lock(home: Path) -> Iterator[None]:
    with _open_lock(server_folder(home) / "start.lock") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def users_of(home: Path) -> list[User]:
    """The commands using the server now; the files of killed ones are removed on the way."""
    folder = server_folder(home) / "users"
    users = []
    for path in sorted(folder.glob("[0-9]*")) if folder.exists() else []:
        with open(path, "a+", encoding="utf-8") as handle:
            if _try_lock(handle, fcntl.LOCK_EX):
                path.unlink(missing_ok=True)  # nobody holds it: a command that was killed
                continue
            handle.seek(0)
            users.append(User(pid=int(path.name), command=handle.read().strip()))
    return users


@contextmanager
def no_users(home: Path, *, wait: bool) -> Iterator[bool]:
    """Hold the users' lock exclusively: yields True when no command uses the server (new ones wait until
    the block ends), False when some do and `wait` is false."""
    with _open_lock(server_folder(home) / "users.lock") as handle:
        if wait:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield True
        else:
            yield _try_lock(handle, fcntl.LOCK_EX)


def take_keeper_lock(home: Path) -> IO[str] | None:
    """The keeper's lock, taken and held until the handle is closed; None when another keeper holds it."""
    handle = _open_lock(server_folder(home) / "keeper.lock")
    if _try_lock(handle, fcntl.LOCK_EX):
        return handle
    handle.close()
    return None


def keeper_running(home: Path) -> bool:
    with _open_lock(server_folder(home) / "keeper.lock") as handle:
        return not _try_lock(handle, fcntl.LOCK_SH)


def spawn_keeper(home: Path, pgdata: Path, bindir: Path) -> None:
    """Start the keeper, detached (it forks again and this call returns when the first fork exits)."""
    if keeper_running(home):
        return
    log = server_folder(home) / "keeper.log"
    # Where this process found the package (a checkout, site-packages, or the zipped egg Scrapyd runs, which
    # is on sys.path only in its runner): the keeper imports it from there too.
    package_root = str(Path(newhomie.__file__).resolve().parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
    }
    with open(log, "a", encoding="utf-8") as out:
        try:
            subprocess.run(
                [sys.executable, "-m", "newhomie.store.keeper", str(home), str(pgdata), str(bindir)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True, check=True, cwd="/",
                timeout=60, env=env,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError) as exc:
            # The command goes on (its data matters more); only the idle stop is lost, and said so.
            logger.warning("no keeper for the embedded server in %s (%s; see %s): stop it with "
                           "`python -m newhomie db stop`", home, exc, log)  # fmt: skip
