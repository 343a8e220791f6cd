"""A PostgreSQL server of a test's own, that the test can stop and start again at the same URL: for the
tests of what the crawl does when its database goes away."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from newhomie.store.pg_cluster import Cluster, embedded_binaries


class RestartableServer:
    """The embedded PostgreSQL binaries, on a data folder of the test's own, listening on a socket."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="newhomie-test-restart-"))
        self.cluster = Cluster(self.folder / "pgdata", embedded_binaries())
        self.cluster.initdb()
        self.url: str = self.cluster.start().url()
        self.running = True

    def stop(self) -> None:
        """Fast shutdown: every connection is ended, as in a restart of the server."""
        self.cluster.stop("fast")
        self.running = False

    def start(self) -> None:
        self.cluster.start()
        self.running = True

    def close(self) -> None:
        self.cluster.delete()
        shutil.rmtree(self.folder, ignore_errors=True)
