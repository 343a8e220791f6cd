-- name: start_crawl_run
INSERT INTO crawl_run (spider, arguments, crawl_key, shard, crawl_kind, host, pid, process_started_at,
                       alive_at)
VALUES (%(spider)s, %(arguments)s, %(crawl_key)s, %(shard)s, %(crawl_kind)s, %(host)s, %(pid)s,
        %(process_started_at)s, now())
RETURNING id;

-- name: crawl_run_alive
-- Every minute or so while a run crawls: it is alive (see end_stale_runs).
UPDATE crawl_run SET alive_at = now() WHERE id = %(run_id)s AND status = 'running';

-- name: running_runs_of_host
-- The runs this machine's processes started that still say 'running', to check their processes.
SELECT id, pid, process_started_at FROM crawl_run WHERE status = 'running' AND host = %(host)s;

-- name: end_stale_runs
-- Runs that could not record their end: their process is gone (the ids found on this machine), or
-- nothing has been heard of them for longer than a run can be silent. Conflict rule: only a row that
-- still says 'running' changes; a run that recorded its end meanwhile keeps what it recorded.
UPDATE crawl_run
SET status = 'interrupted',
    finished_at = coalesce(alive_at, started_at),
    health = 'unhealthy',
    health_reasons = '["its process ended before the run could record how it ended"]'
WHERE status = 'running'
  AND (id = ANY(%(dead_ids)s)
       OR coalesce(alive_at, started_at) < now() - make_interval(secs => %(silent_seconds)s))
RETURNING id, crawl_key, shard;

-- name: finish_crawl_run
UPDATE crawl_run
SET finished_at = now(), status = %(status)s, stats = %(stats)s, summary = %(summary)s,
    health = %(health)s, health_reasons = %(health_reasons)s, pages_saved = %(pages_saved)s
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

-- name: upsert_locality_crawl
-- Conflict rule: the latest attempt at a locality within one crawl says how it ended (a failure
-- retried at the end of the run, or by a resumed run, becomes done); attempts add up, and the
-- first start time stays so the whole effort is visible.
INSERT INTO locality_crawl (crawl_key, locality_slug, run_id, locality, status, attempts, started_at,
                            finished_at, pages, listings, errors, incomplete, pages_saved, pages_by_kind,
                            pages_saved_by_kind, kinds, complete_kinds)
VALUES (%(crawl_key)s, %(locality_slug)s, %(run_id)s, %(locality)s, %(status)s, 1, %(started_at)s,
        %(finished_at)s, %(pages)s, %(listings)s, %(errors)s, %(incomplete)s, %(pages_saved)s,
        %(pages_by_kind)s, %(pages_saved_by_kind)s, %(kinds)s, %(complete_kinds)s)
ON CONFLICT (crawl_key, locality_slug) DO UPDATE SET
    run_id = EXCLUDED.run_id,
    status = EXCLUDED.status,
    attempts = locality_crawl.attempts + 1,
    started_at = least(locality_crawl.started_at, EXCLUDED.started_at),
    finished_at = EXCLUDED.finished_at,
    pages = EXCLUDED.pages,
    listings = EXCLUDED.listings,
    errors = EXCLUDED.errors,
    incomplete = EXCLUDED.incomplete,
    pages_saved = EXCLUDED.pages_saved,
    pages_by_kind = EXCLUDED.pages_by_kind,
    pages_saved_by_kind = EXCLUDED.pages_saved_by_kind,
    kinds = EXCLUDED.kinds,
    complete_kinds = EXCLUDED.complete_kinds;

-- name: finished_localities
-- Localities this crawl already finished (done, or known missing), which a resumed run skips.
SELECT locality_slug FROM locality_crawl
WHERE crawl_key = %(crawl_key)s AND status IN ('done', 'not_found');

-- name: missing_localities
-- Localities the site answered with its 404 page, skipped unless a recheck is asked for.
SELECT slug FROM locality WHERE status = 'not_found';

-- name: sold_search_whole
-- Whether the sold search of a locality may be read incrementally: the latest crawl that asked for it
-- read it whole (every page it needed, none failed, nothing truncated). NULL (no row): never asked.
SELECT 'sold' = ANY(complete_kinds) FROM locality_crawl
WHERE locality_slug = %(slug)s AND 'sold' = ANY(kinds)
ORDER BY finished_at DESC
LIMIT 1;

-- name: known_sold_listings
-- The locality's listings already stored as sold: a sold search read newest first stops at a page of them.
SELECT listing_id FROM listing WHERE locality_slug = %(slug)s AND listing_type = 'sold';

-- name: latest_profile_capture
-- When the locality's suburb profile was last read (NULL: never).
SELECT max(captured_at) FROM suburb_profile WHERE locality_slug = %(slug)s;

-- name: latest_locality_pages
-- Per locality, its latest crawl's pages: read, left unread by increments, by kind, and how it ended
-- (`plan --estimate`).
SELECT DISTINCT ON (locality_slug) locality_slug, status, pages, pages_by_kind, pages_saved_by_kind
FROM locality_crawl
ORDER BY locality_slug, finished_at DESC;

-- name: recent_run_pace
-- The pages and seconds of the latest finished runs that read pages: the pace measured on this
-- deployment (its politeness, its machine, the site's answers).
SELECT coalesce(sum((summary->>'pages_total')::bigint), 0),
       coalesce(sum(extract(epoch FROM finished_at - started_at)), 0),
       count(*)
FROM (SELECT summary, started_at, finished_at FROM crawl_run
      WHERE status = 'finished' AND finished_at IS NOT NULL AND (summary->>'pages_total')::bigint > 0
      ORDER BY id DESC LIMIT %(runs)s) AS latest;
