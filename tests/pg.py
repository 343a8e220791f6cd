"""A PostgreSQL server of a test's own, that the test can stop and start again at the same URL: for the
tests of what the crawl does when its database goes away."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from newhomie.store.embedded import import_pgserver


class RestartableServer:
    """The embedded PostgreSQL binaries, on a data folder of the test's own, listening on a socket."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="newhomie-test-restart-"))
        pgserver = import_pgserver()
        self._pg_ctl = pgserver._commands.pg_ctl
        self.server = pgserver.get_server(self.folder / "pgdata", cleanup_mode="delete")
        self.url: str = self.server.get_uri()
        info = self.server.get_postmaster_info()
        log = str(self.server.log)
        self._start_args = ["-w", "-o", '-h ""', "-o", f"-k {info.socket_dir}", "-l", log, "start"]
        self.running = True

    def stop(self) -> None:
        """Fast shutdown: every connection is ended, as in a restart of the server."""
        self._pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user)
        self.running = False

    def start(self) -> None:
        self._pg_ctl(self._start_args, pgdata=self.server.pgdata, user=self.server.system_user, timeout=60)
        self.running = True

    def close(self) -> None:
        if not self.running:
            self.start()  # pgserver stops and deletes what it started
        self.server.cleanup()
        shutil.rmtree(self.folder, ignore_errors=True)
