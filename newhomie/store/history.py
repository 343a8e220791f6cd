"""What the database knows of past crawls' cost: each locality's latest pages, and the pace of the
latest runs (for `plan --estimate`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from newhomie import sql
from newhomie.store.connection import connection, transaction

#: Runs the measured pace is taken over.
PACE_RUNS = 10


@dataclass(frozen=True)
class LatestCrawl:
    """A locality's latest crawl: how it ended, its pages, and its pages read and saved by kind."""

    status: str
    pages: int
    read: dict[str, Any]
    saved: dict[str, Any]


def latest_crawls(url: str) -> dict[str, LatestCrawl]:
    """Each locality's latest crawl, by slug."""
    with connection(url, application_name="newhomie-plan") as conn, transaction(conn) as cur:
        cur.execute(sql.query("latest_locality_pages"))
        return {slug: LatestCrawl(status, pages, read or {}, saved or {})
                for slug, status, pages, read, saved in cur.fetchall()}  # fmt: skip


def recent_pace(url: str, runs: int = PACE_RUNS) -> tuple[int, float, int]:
    """(pages, seconds, runs) of the latest finished runs that read pages."""
    with connection(url, application_name="newhomie-plan") as conn, transaction(conn) as cur:
        cur.execute(sql.query("recent_run_pace"), {"runs": runs})
        pages, seconds, counted = cur.fetchone()
    return int(pages), float(seconds), int(counted)
