"""The embedded PostgreSQL (the `pgserver` package): started on demand with its data under
NEWHOMIE_HOME, and left running for later commands."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

from newhomie.store.errors import DatabaseUnavailable

HOME_ENV = "NEWHOMIE_HOME"


def newhomie_home() -> Path:
    """Where the embedded database keeps its data: NEWHOMIE_HOME, else `.newhomie/` here."""
    return Path(os.environ.get(HOME_ENV) or Path.cwd() / ".newhomie").resolve()


def import_pgserver() -> Any:
    """The embedded PostgreSQL package, imported only when no server is configured."""
    with warnings.catch_warnings():
        # At import it asks for a runtime directory; without XDG_RUNTIME_DIR (cron, containers)
        # platformdirs falls back to /tmp and warns, which is fine for a lock file.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pgserver
    # It logs every command it runs, with its output, at INFO.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    return pgserver


def embedded_url(data_dir: Path | None = None) -> str:
    """Start (or reuse) the embedded PostgreSQL and return its URL."""
    pgserver = import_pgserver()

    data_dir = (data_dir or newhomie_home() / "pgdata").resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseUnavailable(
            f"cannot make the embedded PostgreSQL's folder {data_dir} ({exc.strerror or exc}): set "
            f"{HOME_ENV} to a folder that can be written, or NEWHOMIE_DATABASE_URL to a server"
        ) from None
    try:
        server = pgserver.get_server(data_dir, cleanup_mode=None)
    except Exception as exc:
        raise DatabaseUnavailable(f"cannot start the embedded PostgreSQL in {data_dir}: {exc}") from exc
    return str(server.get_uri())
