-- What `python -m newhomie report` reads about one crawl run (newhomie/watch/report/data.py). Read-only; run in
-- one REPEATABLE READ snapshot so that the figures of a page agree with each other while a crawl writes.
-- "This run's localities" are the locality_crawl rows whose run_id is the run: the run that last
-- crawled them (a locality a later resumed run crawled again belongs to that later run).

-- name: report_latest_run_id
SELECT id FROM crawl_run ORDER BY started_at DESC, id DESC LIMIT 1;

-- name: report_run
SELECT id, spider, arguments, crawl_key, shard, started_at, finished_at, status, stats, summary,
       health, health_reasons, crawl_kind, pages_saved
FROM crawl_run
WHERE id = %(run_id)s;

-- name: report_locality_statuses
SELECT status, count(*) AS localities
FROM locality_crawl
WHERE run_id = %(run_id)s
GROUP BY status;

-- name: report_listings_seen
-- Listings by type that the run saw: in its localities, last seen while it ran. Only used when the
-- run's summary has no listing counts (an older run); a later crawl of the same locality moves
-- last_seen_at on, so for an old run this undercounts, and the page says where the figure came from.
SELECT l.listing_type, count(*) AS listings
FROM listing l
JOIN crawl_run r ON r.id = %(run_id)s
WHERE l.locality_slug IN (SELECT locality_slug FROM locality_crawl WHERE run_id = %(run_id)s)
  AND l.last_seen_at BETWEEN r.started_at AND coalesce(r.finished_at, now())
GROUP BY l.listing_type;

-- name: report_error_span
-- The time axis of the errors heat map: the whole run, stretched to any error recorded outside it
-- (a run that never recorded its end still spans its errors). least/greatest skip NULLs.
SELECT least(r.started_at, min(e.occurred_at)) AS span_start,
       greatest(r.started_at, r.finished_at, max(e.occurred_at)) AS span_end,
       count(e.id) AS errors
FROM crawl_run r
LEFT JOIN crawl_error e ON e.run_id = r.id
WHERE r.id = %(run_id)s
GROUP BY r.id, r.started_at, r.finished_at;

-- name: report_errors_by_stage_and_time
-- Errors per stage and time bucket: `buckets` equal buckets from `span_start`, `span_seconds` long
-- in all (never 0: the caller passes a tiny span for an instant). The last instant falls in the
-- last bucket, not one past it.
SELECT stage,
       greatest(0, least(%(buckets)s - 1,
           floor(%(buckets)s * extract(epoch FROM occurred_at - %(span_start)s) / %(span_seconds)s)))::int
           AS bucket,
       count(*) AS errors
FROM crawl_error
WHERE run_id = %(run_id)s
GROUP BY 1, 2
ORDER BY 1, 2;

-- name: report_errors_by_locality_and_stage
-- Errors per stage of the `limit` localities with the most errors (errors without a locality
-- count as one more "locality", NULL).
WITH top AS (
    SELECT locality, count(*) AS total
    FROM crawl_error
    WHERE run_id = %(run_id)s
    GROUP BY locality
    ORDER BY total DESC, locality NULLS LAST
    LIMIT %(limit)s
)
SELECT t.locality, e.stage, count(*) AS errors, t.total
FROM crawl_error e
JOIN top t ON e.locality IS NOT DISTINCT FROM t.locality
WHERE e.run_id = %(run_id)s
GROUP BY t.locality, e.stage, t.total
ORDER BY t.total DESC, t.locality NULLS LAST, e.stage;

-- name: report_error_kinds
-- Errors by stage and type, with the latest message and URL of each, most frequent first.
SELECT stage, error_type, count(*) AS errors,
       (array_agg(message ORDER BY occurred_at DESC, id DESC))[1] AS latest_message,
       (array_agg(url ORDER BY occurred_at DESC, id DESC))[1] AS latest_url,
       (array_agg(locality ORDER BY occurred_at DESC, id DESC))[1] AS latest_locality
FROM crawl_error
WHERE run_id = %(run_id)s
GROUP BY stage, error_type
ORDER BY errors DESC, stage, error_type
LIMIT %(limit)s;

-- name: report_locality_durations
SELECT extract(epoch FROM finished_at - started_at)::float8 AS seconds
FROM locality_crawl
WHERE run_id = %(run_id)s;

-- name: report_slowest_localities
SELECT locality, locality_slug, status, attempts, started_at, finished_at,
       extract(epoch FROM finished_at - started_at)::float8 AS seconds, pages, listings, errors
FROM locality_crawl
WHERE run_id = %(run_id)s
ORDER BY finished_at - started_at DESC, locality
LIMIT %(limit)s;

-- name: report_unfinished_localities
SELECT locality, locality_slug, status, attempts, errors, finished_at
FROM locality_crawl
WHERE run_id = %(run_id)s AND status IN ('not_found', 'failed')
ORDER BY status, locality;

-- name: report_priceless_texts
-- Price texts that gave no price at all (neither side: "Up to $X" has a price) in this run's
-- localities, with their counts; the known no-price phrases ("Contact Agent") are filtered out by
-- the caller with the parser's own rule (newhomie.site.prices.is_no_price_phrase).
SELECT price_text, count(*) AS listings, array_agg(DISTINCT listing_type ORDER BY listing_type) AS types
FROM listing
WHERE price_text IS NOT NULL
  AND price_low IS NULL AND price_high IS NULL
  AND locality_slug IN (SELECT locality_slug FROM locality_crawl WHERE run_id = %(run_id)s)
GROUP BY price_text
ORDER BY listings DESC, price_text;

-- name: report_rejected_items
SELECT kind, count(*) AS rows, (array_agg(reason ORDER BY rejected_at DESC, id DESC))[1] AS latest_reason
FROM rejected_item
WHERE run_id = %(run_id)s
GROUP BY kind
ORDER BY rows DESC, kind;
