-- Crawls as units of work. A "crawl" (crawl_key) is one full pass over a set of localities; it
-- may take several runs (a resumed run after a kill, the shards of one crawl spread over cron
-- jobs or Scrapyd nodes). locality_crawl says how each locality of a crawl ended, so that a
-- resumed or repeated run skips what is done, and reports can say what failed and how long it took.

ALTER TABLE crawl_run
    ADD COLUMN crawl_key text,
    -- "3/90" when the run crawled one shard of the locality list.
    ADD COLUMN shard text,
    -- localities done / not found / failed, listings by type, pages, errors by stage, duration.
    ADD COLUMN summary jsonb,
    -- 'healthy' or 'unhealthy', with the reasons (the thresholds a run broke).
    ADD COLUMN health text CHECK (health IN ('healthy', 'unhealthy')),
    ADD COLUMN health_reasons jsonb;
CREATE INDEX crawl_run_crawl_key_idx ON crawl_run (crawl_key, shard);

CREATE TABLE locality_crawl (
    crawl_key         text NOT NULL,
    locality_slug     text NOT NULL,
    -- The run that last crawled it (a retry at the end of a run, or a resumed run).
    run_id            bigint REFERENCES crawl_run (id) ON DELETE SET NULL,
    locality          text NOT NULL,
    status            text NOT NULL CHECK (status IN ('done', 'not_found', 'failed')),
    attempts          integer NOT NULL DEFAULT 1 CHECK (attempts > 0),
    started_at        timestamptz NOT NULL,
    finished_at       timestamptz NOT NULL,
    pages             integer NOT NULL DEFAULT 0,
    listings          integer NOT NULL DEFAULT 0,
    errors            integer NOT NULL DEFAULT 0,
    PRIMARY KEY (crawl_key, locality_slug),
    CHECK (started_at <= finished_at)
);
CREATE INDEX locality_crawl_run_idx ON locality_crawl (run_id);
