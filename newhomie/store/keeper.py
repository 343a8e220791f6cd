"""The keeper of an embedded server: `python -m newhomie.store.keeper HOME PGDATA BINDIR`.

Started, detached, by the first command that uses the server (`newhomie.store.leases.spawn_keeper`). It
waits until no command holds a lease, then until the server has been idle for
NEWHOMIE_EMBEDDED_IDLE_SECONDS since the last one ended, stops the server and exits. Commands killed
with `kill -9` let go of their leases too (the kernel drops their locks), so their server stops as well.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from newhomie.store.leases import idle_seconds, no_users, server_folder, start_lock, take_keeper_lock
from newhomie.store.pg_cluster import Cluster, binaries_in

logger = logging.getLogger("newhomie.store.keeper")


def keep(home: Path, pgdata: Path, bindir: Path) -> int:
    folder = server_folder(home)
    keeper_lock = take_keeper_lock(home)
    if keeper_lock is None:
        return 0  # another keeper keeps it
    idle = idle_seconds()
    cluster = Cluster(pgdata, binaries_in(bindir))
    logger.info("keeping the server on %s (pid %d, idle time %.0f s)", pgdata, os.getpid(), idle)
    while True:
        with no_users(home, wait=True):
            if not cluster.initialised():
                return 0  # its folder was deleted (a test's, a scratch one): nothing is left to stop
            # The users' folder changes when a command ends: the idle time counts from the last one.
            quiet_for = time.time() - (folder / "users").stat().st_mtime
            if quiet_for >= idle:
                with start_lock(home):
                    if cluster.stop():
                        logger.info("no command has used it for %.1f s: stopped", quiet_for)
                # Let go of the keeper's lock before the users' lock: a command that starts the server
                # next must be able to start a keeper of its own.
                keeper_lock.close()
                return 0
        wake = time.monotonic() + idle - quiet_for
        while time.monotonic() < wake:
            time.sleep(min(1.0, max(0.0, wake - time.monotonic())))
            with start_lock(home):  # a command starts a server (and asks for a keeper) under this lock
                if cluster.running() is None:  # stopped meanwhile (`db stop`): nothing left to keep
                    keeper_lock.close()
                    return 0


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s keeper %(process)d: %(message)s")
    home, pgdata, bindir = (Path(arg) for arg in sys.argv[1:4])
    if os.fork() > 0:
        return 0  # the first fork returns to the command that started it; the second is the keeper
    os.setsid()
    return keep(home, pgdata, bindir)


if __name__ == "__main__":
    sys.exit(main())
