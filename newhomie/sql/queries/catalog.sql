-- name: insert_catalog_localities
-- The bundled locality list into `locality`, as one jsonb array of {slug, name, state, postcode,
-- latitude, longitude} (one round trip for all ~17,000). New rows start 'active' with no crawl times.
-- Conflict rule: ON CONFLICT (slug) DO UPDATE of the coordinates only, and only of a row that has none
-- while the list has them (a database from before the list carried coordinates). Everything else of a
-- row that exists was written by a crawl, which knows more than a postcode list does: its status (a
-- not_found locality must stay not_found, or every run would try it again), its crawl times and
-- boundary, its source (a discovered locality stays discovered, with the profile that named it). Its
-- name is left alone too: a slug match means the same letters and digits, so the names differ at
-- most in case or punctuation, and an update would make the name flip on every load.
-- The WHERE clause leaves rows with coordinates unlocked and untouched, so a load never waits on (or
-- blocks) a running crawl's writer; rows go in slug order, the order that writer locks localities in.
-- The row count is the number of localities added or given coordinates.
INSERT INTO locality (slug, name, state, postcode, latitude, longitude)
SELECT l.slug, l.name, l.state, l.postcode, l.latitude, l.longitude
FROM jsonb_to_recordset(%(localities)s::jsonb)
     AS l (slug text, name text, state text, postcode text, latitude double precision,
           longitude double precision)
ORDER BY l.slug
ON CONFLICT (slug) DO UPDATE SET latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude
WHERE locality.latitude IS NULL AND EXCLUDED.latitude IS NOT NULL;

-- name: insert_discovered_localities
-- Localities a suburb profile names as its neighbours, as one jsonb array of {slug, name, state,
-- postcode}. Conflict rule: ON CONFLICT (slug) DO NOTHING: a locality already known (bundled, or
-- discovered by another profile) keeps what it has; only the first profile that names one is its
-- source. Returns the slugs added, to count them.
INSERT INTO locality (slug, name, state, postcode, source, discovered_from, discovered_at)
SELECT l.slug, l.name, l.state, l.postcode, 'discovered', %(discovered_from)s, %(discovered_at)s
FROM jsonb_to_recordset(%(localities)s::jsonb) AS l (slug text, name text, state text, postcode text)
ORDER BY l.slug
ON CONFLICT (slug) DO NOTHING
RETURNING slug;

-- name: discovered_localities
-- Every discovered locality, for a crawl of the catalog (one the site did not know is left out later,
-- as a bundled one is).
SELECT name, state, postcode, latitude, longitude FROM locality
WHERE source = 'discovered' ORDER BY state, postcode, slug;

-- name: locality_coverage
-- Per state, then for the whole country (state NULL): the bundled list (passed in as a jsonb array of
-- {slug, state}: the database holds only what was loaded or crawled) against the `locality` table.
-- A bundled locality not in the table yet is active and never crawled; `named` counts localities
-- crawled from a list given to a crawl that neither the bundled list nor a profile had.
WITH bundled AS (
    SELECT b.slug, b.state FROM jsonb_to_recordset(%(bundled)s::jsonb) AS b (slug text, state text)
), everything AS (
    SELECT coalesce(l.state, b.state) AS state,
           b.slug IS NOT NULL AS is_bundled,
           b.slug IS NULL AND l.source = 'discovered' AS is_discovered,
           coalesce(l.status, 'active') AS status,
           l.last_crawled_at
    FROM bundled b FULL JOIN locality l ON l.slug = b.slug
)
SELECT state,
       count(*) FILTER (WHERE is_bundled) AS bundled,
       count(*) FILTER (WHERE is_discovered) AS discovered,
       count(*) FILTER (WHERE NOT is_bundled AND NOT is_discovered) AS named,
       count(*) FILTER (WHERE status = 'active') AS active,
       count(*) FILTER (WHERE status = 'not_found') AS not_found,
       count(*) FILTER (WHERE status = 'active' AND last_crawled_at IS NULL) AS never_crawled,
       min(last_crawled_at) AS oldest_last_crawl
FROM everything
GROUP BY ROLLUP (state)
ORDER BY state NULLS LAST;
