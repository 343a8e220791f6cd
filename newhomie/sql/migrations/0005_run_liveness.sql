-- A run that cannot record its end (killed while the database was away) must not show 'running' for
-- ever: every run says where it runs and keeps saying it is alive, and the next run ends the runs
-- whose process is gone (on its own machine) or that have not been heard of for a long time.
ALTER TABLE crawl_run
    ADD COLUMN host text,
    ADD COLUMN pid integer,
    -- When the run's process started (with the host and pid: a pid the system reused is not the run).
    ADD COLUMN process_started_at timestamptz,
    ADD COLUMN alive_at timestamptz;
CREATE INDEX crawl_run_running_idx ON crawl_run (status) WHERE status = 'running';
