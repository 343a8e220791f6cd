-- name: savepoint_row
-- The batch writer writes a failed batch again row by row, each in a savepoint, so that one row the
-- database refuses costs that row alone (and keeping it in rejected_item is one more savepoint).
SAVEPOINT one_row;

-- name: rollback_to_row
ROLLBACK TO SAVEPOINT one_row;

-- name: release_row
RELEASE SAVEPOINT one_row;
