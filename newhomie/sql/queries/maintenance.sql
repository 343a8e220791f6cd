-- name: next_listing_ids
-- The next chunk of listings to renormalise, in listing_id order (the order writers lock them in).
SELECT listing_id FROM listing WHERE listing_id > %(after)s ORDER BY listing_id LIMIT %(limit)s;

-- name: lock_listing_prices
-- The stored prices of a chunk of listings, locked in listing_id order like the crawl's writer
-- locks them, so renormalising during a crawl waits instead of deadlocking; the history of a
-- listing is only ever changed under its listing's row lock.
SELECT listing_id, listing_type, price_text, price_low, price_high, sold_price
FROM listing
WHERE listing_id = ANY(%(ids)s)
ORDER BY listing_id
FOR NO KEY UPDATE;

-- name: select_history_prices
SELECT id, listing_id, listing_type, price_text, price_low, price_high
FROM listing_price_history
WHERE listing_id = ANY(%(ids)s)
ORDER BY listing_id, id;

-- name: renormalise_listing_prices
-- The casts: a column of VALUES that holds only NULLs would otherwise be text.
-- Only where the text is still the one that was read (a crawl may have changed it meanwhile).
UPDATE listing AS l
SET price_low = v.price_low::bigint, price_high = v.price_high::bigint, sold_price = v.sold_price::bigint
FROM (VALUES %s) AS v (listing_id, price_text, price_low, price_high, sold_price)
WHERE l.listing_id = v.listing_id AND l.price_text IS NOT DISTINCT FROM v.price_text;

-- name: renormalise_history_prices
UPDATE listing_price_history AS h
SET price_low = v.price_low::bigint, price_high = v.price_high::bigint
FROM (VALUES %s) AS v (id, price_text, price_low, price_high)
WHERE h.id = v.id AND h.price_text = v.price_text;

-- name: server_databases
-- Every database of a server but its templates: what `db upgrade` carries over and counts.
SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY datname;

-- name: user_tables
-- Every table of a database outside the system's schemas: what `db upgrade` counts the rows of.
SELECT table_schema, table_name
FROM information_schema.tables
WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
ORDER BY table_schema, table_name;

-- name: count_table_rows
-- One table's exact row count; {table} is filled with a quoted identifier (psycopg2.sql), never text.
SELECT count(*) FROM {table};
