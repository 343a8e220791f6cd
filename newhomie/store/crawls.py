"""What the database knows of crawls: the localities a crawl finished, those the site does not know,
and the runs of each shard of a crawl."""

from __future__ import annotations

from dataclasses import dataclass

from newhomie import sql
from newhomie.localities import Locality
from newhomie.store.connection import connection, transaction


@dataclass(frozen=True)
class ShardRuns:
    """What the database knows of one shard: its runs, and whether one finished."""

    runs: int
    finished: bool


def finished_and_missing(url: str, crawl_key: str) -> tuple[set[str], set[str]]:
    """The slugs this crawl already finished, and those the site answered with its 404 page."""
    with connection(url, application_name="newhomie-plan") as conn, transaction(conn) as cur:
        cur.execute(sql.query("finished_localities"), {"crawl_key": crawl_key})
        finished = {row[0] for row in cur.fetchall()}
        cur.execute(sql.query("missing_localities"))
        missing = {row[0] for row in cur.fetchall()}
    return finished, missing


def shard_runs(url: str, crawl_key: str) -> dict[str, ShardRuns]:
    """crawl_run's runs per shard ("K/N") of the crawl."""
    with connection(url, application_name="newhomie-schedule") as conn, transaction(conn) as cur:
        cur.execute(sql.query("shard_runs"), {"crawl_key": crawl_key})
        return {shard: ShardRuns(runs, finished) for shard, runs, finished in cur.fetchall()}


def discovered_localities(url: str) -> list[Locality]:
    """The localities suburb profiles named that no list had (`locality.source = 'discovered'`)."""
    with connection(url, application_name="newhomie-plan") as conn, transaction(conn) as cur:
        cur.execute(sql.query("discovered_localities"))
        return [Locality(name, state, postcode, latitude, longitude)
                for name, state, postcode, latitude, longitude in cur.fetchall()]  # fmt: skip
