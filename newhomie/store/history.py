"""What the database knows of past crawls' cost: each locality's latest pages, and the pace of the
latest runs (for `plan --estimate`)."""

from __future__ import annotations

from typing import Any

from newhomie import sql
from newhomie.store.connection import connection, transaction

#: Runs the measured pace is taken over.
PACE_RUNS = 10


def latest_crawls(url: str) -> dict[str, tuple[str, int, dict[str, Any], dict[str, Any]]]:
    """Each locality's latest crawl, by slug: how it ended, its pages, and its pages read and left
    unread by kind (the fields of `crawl.estimate.LocalityPages`)."""
    with connection(url, application_name="newhomie-plan") as conn, transaction(conn) as cur:
        cur.execute(sql.query("latest_locality_pages"))
        return {slug: (status, pages, read or {}, saved or {})
                for slug, status, pages, read, saved in cur.fetchall()}  # fmt: skip


def recent_pace(url: str, runs: int = PACE_RUNS) -> tuple[int, float, int]:
    """(pages, seconds, runs) of the latest finished runs that read pages."""
    with connection(url, application_name="newhomie-plan") as conn, transaction(conn) as cur:
        cur.execute(sql.query("recent_run_pace"), {"runs": runs})
        pages, seconds, counted = cur.fetchone()
    return int(pages), float(seconds), int(counted)
