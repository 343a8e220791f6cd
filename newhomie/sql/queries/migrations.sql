-- name: lock_migrations
-- Serialises migrations when several crawls start at once against one database: a session-level
-- advisory lock ("newh"), released by unlock_migrations or when the session ends.
SELECT pg_advisory_lock(1852143464);

-- name: unlock_migrations
SELECT pg_advisory_unlock(1852143464);

-- name: create_migration_table
-- The record of what was applied: one row per migration, written in the migration's own transaction.
CREATE TABLE IF NOT EXISTS schema_migration (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- name: applied_migrations
SELECT version FROM schema_migration;

-- name: record_migration
-- Conflict rule: none is possible; a migration is applied under the lock only when its version is
-- not recorded, so a second row of one version is a bug that must fail loudly.
INSERT INTO schema_migration (version, name) VALUES (%(version)s, %(name)s);

-- name: missing_relations
-- Which of the tables and views the applied migrations made are not there (dropped by hand since).
SELECT name FROM unnest(%(names)s::text[]) AS name WHERE to_regclass(name) IS NULL ORDER BY name;
