-- name: shard_runs
-- Per shard of one crawl (python -m newhomie schedule): how many runs it had, and whether one of
-- them ended with Scrapy's 'finished' (a run still going, or killed, stays 'running').
SELECT shard, count(*) AS runs, bool_or(status = 'finished') AS finished
FROM crawl_run
WHERE crawl_key = %(crawl_key)s AND shard IS NOT NULL
GROUP BY shard;
