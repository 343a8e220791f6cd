"""The database layer on a real PostgreSQL: migrations, named queries, the batched writer."""

from __future__ import annotations

import psycopg2
import psycopg2.extensions
import pytest

from newhomie import sql
from newhomie.store.connection import connect, transaction
from newhomie.store.errors import DatabaseUnavailable, SchemaDamaged
from newhomie.store.migrations import migrate
from newhomie.store.redact import redact_url
from newhomie.store.write import Write
from newhomie.store.writer import BatchWriter


def test_redact_url_masks_the_password() -> None:
    assert redact_url("postgresql://crawler:s3cret@db.example:5432/homes") == (
        "postgresql://crawler:***@db.example:5432/homes"
    )
    assert (
        redact_url("postgresql://postgres:@/postgres?host=/tmp/x")
        == "postgresql://postgres:@/postgres?host=/tmp/x"
    )
    assert redact_url("host=db password=s3cret user=x") == "host=db password=*** user=x"
    assert redact_url("postgresql:///homes") == "postgresql:///homes"


def test_connect_failure_names_the_database_without_its_password() -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        connect("postgresql://crawler:s3cret@127.0.0.1:1/homes")
    assert "s3cret" not in str(caught.value)
    assert "127.0.0.1:1/homes" in str(caught.value)


def test_migrations_apply_once_and_are_recorded(conn: psycopg2.extensions.connection) -> None:
    # The template already has them: applying again changes nothing.
    assert migrate(conn) == []
    with conn.cursor() as cur:
        cur.execute("SELECT version, name FROM schema_migration ORDER BY version")
        rows = cur.fetchall()
    assert [name for _, name in rows] == [m.name for m in sql.migrations()]


def test_a_failing_migration_leaves_nothing_behind(conn: psycopg2.extensions.connection) -> None:
    broken = sql.Migration(
        9999, "9999_broken", "CREATE TABLE half_done (x int); SELECT no_such_column FROM half_done;"
    )
    said = (
        r'migration 9999_broken failed: column "no_such_column" does not exist .*\[SQLSTATE 42703\]; nothing'
    )
    with pytest.raises(DatabaseUnavailable, match=said):
        migrate(conn, [broken])
    with conn.cursor() as cur:
        cur.execute(
            "SELECT to_regclass('half_done'), (SELECT count(*) FROM schema_migration WHERE version = 9999)"
        )
        assert cur.fetchone() == (None, 0)


def test_named_queries_parse_and_every_block_has_sql() -> None:
    text = "-- name: first\nSELECT 1;\n\n-- name: second\n-- a comment\nSELECT 2;\n"
    assert sql.parse_named_queries(text) == {"first": "SELECT 1;", "second": "-- a comment\nSELECT 2;"}
    with pytest.raises(RuntimeError, match="defined twice"):
        sql.parse_named_queries("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;")
    loaded = sql.queries()
    assert {"upsert_listings", "record_price_history", "upsert_locality", "start_crawl_run"} <= set(loaded)
    assert all(sql.strip() for sql in loaded.values())


def _write_numbers(cur: psycopg2.extensions.cursor, statement: str, writes: list[Write]) -> None:
    for write in writes:
        cur.execute("INSERT INTO numbers (n) VALUES (%s)", write.params)


def test_batch_writer_keeps_good_rows_of_a_failing_batch(database_url: str) -> None:
    setup = connect(database_url)
    with transaction(setup) as cur:
        cur.execute("CREATE TABLE numbers (n int PRIMARY KEY CHECK (n > 0))")
    rejected: list[tuple[tuple[object, ...], str]] = []
    writer = BatchWriter(
        database_url,
        _write_numbers,
        lambda cur, write, reason, run_id: rejected.append((write.params, reason)),
        batch_size=10,
        flush_seconds=0.05,
    )
    writer.add(Write("numbers", (n,), "Testville VIC 3999", f"http://x/{n}") for n in [1, 2, -3, 4, 5])
    stats = writer.close()
    with setup.cursor() as cur:
        cur.execute("SELECT n FROM numbers ORDER BY n")
        assert [r[0] for r in cur.fetchall()] == [1, 2, 4, 5]
    setup.close()
    assert (stats.rows_written, stats.rows_rejected, stats.retried_batches) == (4, 1, 1)
    assert rejected[0][0] == (-3,)
    assert "numbers_n_check" in rejected[0][1]


def test_tables_of_applied_migrations_that_are_gone_are_named_and_migrate_does_not_pretend(
    conn: psycopg2.extensions.connection,
) -> None:
    assert migrate(conn) == []  # a whole schema: nothing to do, nothing missing
    with transaction(conn) as cur:
        cur.execute("DROP TABLE listing CASCADE")  # and with it the views that read it
    with pytest.raises(SchemaDamaged) as caught:
        migrate(conn)
    message = str(caught.value)
    assert "listing (made by 0001_initial)" in message
    assert "current_sale (made by 0003_views)" in message
    assert "restore the database from a backup" in message
    assert "suburb_profile" not in message
