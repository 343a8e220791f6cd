"""A crawl run's record (`crawl_run`): started with where it runs, kept alive, ended; and the runs that
could not record their end, ended by the next run.

A run killed while the database was away cannot say how it ended. The next run ends it as
'interrupted' (unhealthy): on its own machine when the run's process (host, pid and start time) is
gone, and on any machine when the run has not said it is alive for `SILENT_SECONDS`.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime
from typing import Any

import psutil

from newhomie import sql
from newhomie.store.connection import connection, transaction
from newhomie.store.rows import as_json

logger = logging.getLogger(__name__)

#: A run that has not said it is alive for this long is taken to be gone (it says so every minute while
#: its database is there; an outage longer than this makes it look gone, and its own end then overwrites).
SILENT_SECONDS = 3600
#: How often a run says it is alive.
ALIVE_SECONDS = 60.0


def this_process() -> dict[str, Any]:
    """Where this run runs: host, pid and the process's start time."""
    started = datetime.fromtimestamp(psutil.Process().create_time(), tz=UTC)
    return {"host": socket.gethostname(), "pid": os.getpid(), "process_started_at": started}


def _gone(pid: int | None, started: datetime | None) -> bool:
    """The process of a run on this machine is gone (a pid reused by another process counts as gone)."""
    if pid is None:
        return False
    try:
        process = psutil.Process(pid)
        if started is None:
            return False
        return abs(process.create_time() - started.timestamp()) > 1.0
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False


def end_stale_runs(cur: Any) -> list[tuple[int, str | None, str | None]]:
    """Ends the runs that could not record their end; (id, crawl key, shard) of each."""
    host = socket.gethostname()
    cur.execute(sql.query("running_runs_of_host"), {"host": host})
    dead = [run_id for run_id, pid, started in cur.fetchall() if _gone(pid, started)]
    cur.execute(sql.query("end_stale_runs"), {"dead_ids": dead, "silent_seconds": SILENT_SECONDS})
    ended: list[tuple[int, str | None, str | None]] = cur.fetchall()
    for run_id, crawl_key, shard in ended:
        logger.warning("run %d (crawl %s%s) ended without recording it: marked interrupted", run_id,
                       crawl_key or "-", f", shard {shard}" if shard else "")  # fmt: skip
    return ended


def start_run(
    url: str,
    spider: str,
    arguments: dict[str, Any],
    crawl_key: str | None,
    shard: str | None,
    crawl_kind: str | None = None,
) -> int:
    """Ends stale runs, then records this one; its id."""
    with connection(url) as conn, transaction(conn) as cur:
        end_stale_runs(cur)
        cur.execute(
            sql.query("start_crawl_run"),
            {"spider": spider, "arguments": as_json(arguments), "crawl_key": crawl_key, "shard": shard,
             "crawl_kind": crawl_kind, **this_process()},
        )  # fmt: skip
        run_id: int = cur.fetchone()[0]
    return run_id


def finish_run(url: str, run_id: int, status: str, stats: dict[str, Any], summary: Any, healthy: Any) -> None:
    with connection(url) as conn, transaction(conn) as cur:
        cur.execute(
            sql.query("finish_crawl_run"),
            {
                "run_id": run_id,
                "status": status,
                "stats": as_json(stats),
                "summary": as_json(summary) if summary is not None else None,
                "health": None if healthy is None else ("healthy" if healthy else "unhealthy"),
                "health_reasons": as_json(stats.get("newhomie/health/reasons", [])),
                "pages_saved": pages_saved(stats),
            },
        )


def pages_saved(stats: dict[str, Any]) -> int:
    """The pages an incremental run did not fetch (`newhomie/pages_saved/<kind>`), all kinds."""
    return sum(
        int(value) for key, value in stats.items()
        if key.startswith("newhomie/pages_saved/") and isinstance(value, int | float)
    )  # fmt: skip
