"""What the page is built from: the named queries of `report.sql`, run in one read-only snapshot,
into a `ReportData` of plain values. The only part of the report that touches the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg2.extensions
import psycopg2.extras

from newhomie import sql

TIME_BUCKETS = 20
TOP_ERROR_LOCALITIES = 20
ERROR_KINDS = 30
SLOWEST_LOCALITIES = 20
TOP_PRICE_TEXTS = 50
HISTOGRAM_BINS = 20
#: Arguments longer than this (a list of a thousand localities) are folded away in the header.
LONG_ARGUMENT = 200


LOCALITY_STATUSES = ("done", "not_found", "failed")
LISTING_TYPES = ("sale", "rent", "sold")
PAGE_KINDS = ("sale", "rent", "sold", "profile")


@dataclass
class ReportData:
    """What the page is built from: plain values, as the queries returned them."""

    run: dict[str, Any]
    locality_statuses: dict[str, int] = field(default_factory=dict)
    listings_seen: dict[str, int] = field(default_factory=dict)
    span_start: datetime | None = None
    span_end: datetime | None = None
    buckets: int = TIME_BUCKETS
    #: (stage, bucket, errors)
    errors_by_stage_bucket: list[tuple[str, int, int]] = field(default_factory=list)
    #: (locality or None, stage, errors), the localities with the most errors first
    errors_by_locality_stage: list[tuple[str | None, str, int]] = field(default_factory=list)
    #: stage, error_type, errors, latest_message, latest_url, latest_locality
    error_kinds: list[dict[str, Any]] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    #: locality_crawl rows with `seconds`, the slowest first
    slowest: list[dict[str, Any]] = field(default_factory=list)
    #: locality_crawl rows of the not_found and failed localities
    unfinished: list[dict[str, Any]] = field(default_factory=list)
    #: (price_text, listings, listing types): every text with no price, no-price phrases included
    priceless_texts: list[tuple[str, int, list[str]]] = field(default_factory=list)
    #: (kind, rows, latest reason)
    rejected: list[tuple[str, int, str]] = field(default_factory=list)


def _fetch(cur: psycopg2.extensions.cursor, name: str, **params: Any) -> list[dict[str, Any]]:
    cur.execute(sql.query(name), params)
    return [dict(row) for row in cur.fetchall()]


def latest_run_id(conn: psycopg2.extensions.connection) -> int | None:
    with conn.cursor() as cur:
        cur.execute(sql.query("report_latest_run_id"))
        row = cur.fetchone()
    return None if row is None else int(row[0])


def load_report_data(
    conn: psycopg2.extensions.connection, run_id: int, *, buckets: int = TIME_BUCKETS
) -> ReportData | None:
    """Everything the page shows about run `run_id`, or None when there is no such run."""
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        runs = _fetch(cur, "report_run", run_id=run_id)
        if not runs:
            return None
        data = ReportData(run=runs[0], buckets=buckets)
        data.locality_statuses = {
            r["status"]: r["localities"] for r in _fetch(cur, "report_locality_statuses", run_id=run_id)
        }
        data.listings_seen = {
            r["listing_type"]: r["listings"] for r in _fetch(cur, "report_listings_seen", run_id=run_id)
        }
        span = _fetch(cur, "report_error_span", run_id=run_id)[0]
        data.span_start, data.span_end = span["span_start"], span["span_end"]
        seconds = (data.span_end - data.span_start).total_seconds()
        data.errors_by_stage_bucket = [
            (r["stage"], r["bucket"], r["errors"])
            for r in _fetch(
                cur,
                "report_errors_by_stage_and_time",
                run_id=run_id,
                buckets=buckets,
                span_start=data.span_start,
                span_seconds=max(seconds, 1e-6),
            )
        ]
        data.errors_by_locality_stage = [
            (r["locality"], r["stage"], r["errors"])
            for r in _fetch(
                cur, "report_errors_by_locality_and_stage", run_id=run_id, limit=TOP_ERROR_LOCALITIES
            )
        ]
        data.error_kinds = _fetch(cur, "report_error_kinds", run_id=run_id, limit=ERROR_KINDS)
        data.durations = [r["seconds"] for r in _fetch(cur, "report_locality_durations", run_id=run_id)]
        data.slowest = _fetch(cur, "report_slowest_localities", run_id=run_id, limit=SLOWEST_LOCALITIES)
        data.unfinished = _fetch(cur, "report_unfinished_localities", run_id=run_id)
        data.priceless_texts = [
            (r["price_text"], r["listings"], list(r["types"]))
            for r in _fetch(cur, "report_priceless_texts", run_id=run_id)
        ]
        data.rejected = [
            (r["kind"], r["rows"], r["latest_reason"])
            for r in _fetch(cur, "report_rejected_items", run_id=run_id)
        ]
    return data
