"""A scratch PostgreSQL for the benchmarks: the server in use, or an embedded one of their own."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from newhomie import db


def server_url(scratch: Path) -> tuple[str, Any]:
    """The server in use (NEWHOMIE_DATABASE_URL), else an embedded one under `scratch` (returned, to stop)."""
    url = os.environ.get(db.DATABASE_URL_ENV, "").strip()
    if url:
        return url, None
    server = db.import_pgserver().get_server(scratch / "pgdata", cleanup_mode="delete")
    return str(server.get_uri()), server


def admin_execute(url: str, statement: str) -> None:
    """One statement outside a transaction (CREATE/DROP DATABASE)."""
    conn = db.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()
