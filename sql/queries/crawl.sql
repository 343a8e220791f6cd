-- name: start_crawl_run
INSERT INTO crawl_run (spider, arguments) VALUES (%(spider)s, %(arguments)s) RETURNING id;

-- name: finish_crawl_run
UPDATE crawl_run
SET finished_at = now(), status = %(status)s, stats = %(stats)s
WHERE id = %(run_id)s;

-- name: upsert_locality
-- A locality seen again keeps its first crawl time and its status: a crawl that reaches it
-- again without a 404 makes it active (a recheck of a not_found one that now exists).
INSERT INTO locality (slug, name, state, postcode, status, first_crawled_at, last_crawled_at)
VALUES (%(slug)s, %(name)s, %(state)s, %(postcode)s, %(status)s, %(crawled_at)s, %(crawled_at)s)
ON CONFLICT (slug) DO UPDATE SET
    status = EXCLUDED.status,
    first_crawled_at = coalesce(locality.first_crawled_at, EXCLUDED.first_crawled_at),
    last_crawled_at = greatest(locality.last_crawled_at, EXCLUDED.last_crawled_at);

-- name: insert_crawl_error
INSERT INTO crawl_error (run_id, locality, url, stage, error_type, message, occurred_at)
VALUES (%(run_id)s, %(locality)s, %(url)s, %(stage)s, %(error_type)s, %(message)s, %(occurred_at)s);

-- name: insert_rejected_item
INSERT INTO rejected_item (run_id, kind, locality, url, raw, reason)
VALUES (%(run_id)s, %(kind)s, %(locality)s, %(url)s, %(raw)s, %(reason)s);
