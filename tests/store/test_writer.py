"""The batch writer loses nothing: not while its database restarts, not when it stays away past the end
of the run (the rows wait in a file, and the next writer writes them first), and not for one row that
PostgreSQL refuses, even when keeping that row in rejected_item is refused too."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg2.extensions
import pytest

from newhomie.store.connection import connection, transaction
from newhomie.store.migrations import migrate
from newhomie.store.rows import LISTING_COLUMNS, STATEMENT_ORDER, rejected_row, write_rows
from newhomie.store.spill import decode_write, encode_write
from newhomie.store.write import Write
from newhomie.store.writer import BatchWriter
from tests.pg import RestartableServer
from tests.storage import fetch, listing, listing_write


@pytest.fixture
def server() -> Iterator[RestartableServer]:
    """A database that the test can take away and bring back, with the schema."""
    running = RestartableServer()
    with connection(running.url) as conn:
        migrate(conn)
        with transaction(conn) as cur:
            cur.execute("INSERT INTO locality (slug, name, state, postcode) VALUES "
                        "('dandenong-vic-3175', 'Dandenong', 'VIC', '3175')")  # fmt: skip
    yield running
    running.close()


def listing_ids(url: str) -> list[int]:
    return [row["listing_id"] for row in fetch(url, "SELECT listing_id FROM listing ORDER BY listing_id")]


def writes(ids: range) -> list[Write]:
    now = datetime.now(UTC)
    return [listing_write(listing(listing_id), now) for listing_id in ids]


def keep_refused(cur: psycopg2.extensions.cursor, write: Write, reason: str, run_id: int | None) -> None:
    """What the pipeline does with a refused row (without logging it)."""
    from newhomie import sql

    cur.execute(sql.query("insert_rejected_item"), rejected_row(write, reason, run_id))


def writer(url: str, spill: Path | None, **options: Any) -> BatchWriter:
    settings: dict[str, Any] = {"batch_size": 10, "flush_seconds": 0.05, "reconnect_max_seconds": 0.2,
                                "close_wait_seconds": 30.0, "memory_rows": 1_000, **options}  # fmt: skip
    return BatchWriter(
        url, write_rows, keep_refused, statement_order=STATEMENT_ORDER, spill_dir=spill, **settings
    )


def wait_for(condition: Any, what: str, timeout: float = 60.0) -> None:
    event = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        event.wait(0.05)
    raise AssertionError(f"gave up waiting for {what}")


# --- The database goes away, and comes back -----------------------------------------------------------


def test_rows_are_held_while_the_database_restarts_and_written_when_it_is_back(
    server: RestartableServer, tmp_path: Path
) -> None:
    batch = writer(server.url, tmp_path / "spill")
    batch.add(writes(range(1, 21)))
    wait_for(lambda: batch.stats.rows_written >= 20, "the first rows to be written")
    server.stop()
    batch.add(writes(range(21, 61)))  # while the database is away
    wait_for(lambda: batch.stats.batches >= 2 or not server.running, "the writer to meet the outage")
    server.start()
    stats = batch.close()
    assert listing_ids(server.url) == list(range(1, 61))
    assert stats.reconnects >= 1
    assert (stats.rows_written, stats.rows_unwritten, stats.rows_rejected) == (60, 0, 0)
    assert stats.spill_files == []


def test_rows_beyond_the_memory_bound_wait_in_a_file_and_are_written_first(
    server: RestartableServer, tmp_path: Path
) -> None:
    spill = tmp_path / "spill"
    batch = writer(server.url, spill, memory_rows=20)
    server.stop()
    batch.add(writes(range(1, 101)))
    wait_for(lambda: batch.stats.rows_spilled >= 80, "the oldest rows to go to a file")
    assert len(list(spill.glob("unwritten-*"))) == 1
    batch.add(writes(range(101, 111)))
    server.start()
    stats = batch.close()
    assert listing_ids(server.url) == list(range(1, 111))
    assert stats.rows_written == 110
    assert list(spill.iterdir()) == []  # written whole: the file is gone


def test_rows_the_database_never_took_are_kept_said_and_written_by_the_next_writer(
    server: RestartableServer, tmp_path: Path
) -> None:
    spill = tmp_path / "spill"
    first = writer(server.url, spill, close_wait_seconds=0.5)
    first.add(writes(range(1, 11)))
    wait_for(lambda: first.stats.rows_written >= 10, "the first rows to be written")
    server.stop()
    first.add(writes(range(11, 36)))
    stats = first.close()
    assert stats.rows_unwritten == 25
    (kept,) = stats.spill_files
    assert Path(kept).parent == spill
    assert Path(kept).name.startswith("unwritten-")
    assert len(Path(kept).read_text(encoding="utf-8").splitlines()) == 25

    server.start()
    second = writer(server.url, spill)  # the next run, with the same folder: those rows first
    second.add(writes(range(36, 41)))
    after = second.close()
    assert after.rows_replayed == 25
    assert listing_ids(server.url) == list(range(1, 41))
    assert list(spill.iterdir()) == []


# --- One refused row costs that row alone --------------------------------------------------------------


#: Values a page can carry that PostgreSQL refuses: (the listing row's column, the value).
HOSTILE = {
    "nul in a text": (LISTING_COLUMNS.index("price_text"), "$550,000\x00 - $575,000"),
    "lone surrogate in a text": (LISTING_COLUMNS.index("street"), "16 Rodwell Street \ud800"),
    "a number beyond bigint": (LISTING_COLUMNS.index("agency_id"), 10**20),
    "nul in a url": (LISTING_COLUMNS.index("url"), "https://www.domain.com.au/a\x00b-5"),
}


@pytest.mark.parametrize(("column", "value"), HOSTILE.values(), ids=HOSTILE.keys())
def test_a_row_postgresql_refuses_is_kept_in_rejected_item_and_the_writer_goes_on(
    database_url: str, column: int, value: Any, tmp_path: Path
) -> None:
    with connection(database_url) as conn, transaction(conn) as cur:
        cur.execute("INSERT INTO locality (slug, name, state, postcode) VALUES "
                    "('dandenong-vic-3175', 'Dandenong', 'VIC', '3175')")  # fmt: skip
    bad = listing_write(listing(5), datetime.now(UTC))
    bad.params = tuple(value if i == column else v for i, v in enumerate(bad.params))
    batch = writer(database_url, tmp_path / "spill")
    batch.add([*writes(range(1, 5)), bad, *writes(range(6, 10))])
    batch.add(writes(range(10, 30)))  # and later batches still go
    stats = batch.close()
    assert listing_ids(database_url) == [n for n in range(1, 30) if n != 5]
    (kept,) = fetch(database_url, "SELECT kind, locality, url, raw, reason FROM rejected_item")
    assert (kept["kind"], kept["locality"]) == ("upsert_listings", "dandenong-vic-3175")
    assert kept["raw"]["listing_id"] == 5
    assert kept["reason"]
    assert (stats.rows_rejected, stats.rows_unstorable, stats.rows_unwritten) == (1, 0, 0)


def test_a_row_that_cannot_be_kept_in_rejected_item_either_is_counted_and_the_writer_goes_on(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse_to_keep(
        cur: psycopg2.extensions.cursor, write: Write, reason: str, run_id: int | None
    ) -> None:
        cur.execute("SELECT 1/0")  # keeping it fails in the database too

    with connection(database_url) as conn, transaction(conn) as cur:
        cur.execute("INSERT INTO locality (slug, name, state, postcode) VALUES "
                    "('dandenong-vic-3175', 'Dandenong', 'VIC', '3175')")  # fmt: skip
    bad = listing_write(listing(5), datetime.now(UTC))
    price_text = LISTING_COLUMNS.index("price_text")
    bad.params = tuple("\x00" if i == price_text else v for i, v in enumerate(bad.params))
    batch = BatchWriter(database_url, write_rows, refuse_to_keep, statement_order=STATEMENT_ORDER,
                        batch_size=10, flush_seconds=0.05, spill_dir=tmp_path)  # fmt: skip
    batch.add([*writes(range(1, 5)), bad, *writes(range(6, 25))])
    stats = batch.close()
    assert listing_ids(database_url) == [n for n in range(1, 25) if n != 5]
    assert (stats.rows_unstorable, stats.rows_rejected, stats.rows_written) == (1, 0, 23)
    (line,) = [r for r in caplog.records if "could not be kept in rejected_item either" in r.getMessage()]
    assert line.url == bad.url  # type: ignore[attr-defined]


def test_a_spilled_row_reads_back_as_it_was() -> None:
    now = datetime.now(UTC)
    write = listing_write(listing(7), now)
    write.params = tuple("$1\x00 \ud800" if i == LISTING_COLUMNS.index("price_text") else v
                         for i, v in enumerate(write.params))  # fmt: skip
    profile = Write("upsert_school", ({"acara_id": "1", "name": "X", "seen_at": now, "year_range": None},),
                    "dandenong-vic-3175", None, ("1",))  # fmt: skip
    for original in (write, profile):
        assert decode_write(encode_write(original, 3)) == (original, 3)
