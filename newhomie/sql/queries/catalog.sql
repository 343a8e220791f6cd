-- name: insert_catalog_localities
-- The bundled locality list into `locality`, as one jsonb array of {slug, name, state, postcode}
-- (one round trip for all ~13,000). New rows start 'active' with no crawl times.
-- Conflict rule: ON CONFLICT (slug) DO NOTHING. A row that exists was written by a crawl, which
-- knows more than a postcode list does: its status (a not_found locality must stay not_found, or
-- every run would try it again), its crawl times and boundary. Its name is left alone too: a slug
-- match means the same letters and digits, so the names differ at most in case or punctuation, and
-- an update would make the name flip between the crawl's spelling and the list's on every load.
-- DO NOTHING also takes no lock on existing rows, so a load never waits on (or blocks) a running
-- crawl's writer; new rows are inserted in slug order, the order that writer locks localities in.
-- The row count is the number of new localities.
INSERT INTO locality (slug, name, state, postcode)
SELECT l.slug, l.name, l.state, l.postcode
FROM jsonb_to_recordset(%(localities)s::jsonb) AS l (slug text, name text, state text, postcode text)
ORDER BY l.slug
ON CONFLICT (slug) DO NOTHING;
