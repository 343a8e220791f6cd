-- name: start_crawl_run
INSERT INTO crawl_run (spider, arguments) VALUES (%(spider)s, %(arguments)s) RETURNING id;

-- name: finish_crawl_run
UPDATE crawl_run
SET finished_at = now(), status = %(status)s, stats = %(stats)s
WHERE id = %(run_id)s;

-- name: upsert_locality
-- Written by a search page's visit (crawled_at set, boundary NULL) and by a suburb profile
-- (crawled_at NULL: a profile is not a crawl of the listings; boundary set). Conflict rule:
--  * the status follows the latest answer: a crawl that reaches it again without a 404 makes it
--    active (a recheck of a not_found one that now exists), and so does a profile page;
--  * the first crawl time stays; the last one only moves forward (greatest ignores NULL);
--  * the boundary keeps its old value when the new one is NULL: a search visit carries none.
INSERT INTO locality (slug, name, state, postcode, status, first_crawled_at, last_crawled_at, boundary)
VALUES (%(slug)s, %(name)s, %(state)s, %(postcode)s, %(status)s, %(crawled_at)s, %(crawled_at)s,
        %(boundary)s)
ON CONFLICT (slug) DO UPDATE SET
    status = EXCLUDED.status,
    first_crawled_at = coalesce(locality.first_crawled_at, EXCLUDED.first_crawled_at),
    last_crawled_at = greatest(locality.last_crawled_at, EXCLUDED.last_crawled_at),
    boundary = coalesce(EXCLUDED.boundary, locality.boundary);

-- name: insert_crawl_error
INSERT INTO crawl_error (run_id, locality, url, stage, error_type, message, occurred_at)
VALUES (%(run_id)s, %(locality)s, %(url)s, %(stage)s, %(error_type)s, %(message)s, %(occurred_at)s);

-- name: insert_rejected_item
INSERT INTO rejected_item (run_id, kind, locality, url, raw, reason)
VALUES (%(run_id)s, %(kind)s, %(locality)s, %(url)s, %(raw)s, %(reason)s);
