-- The whole country, crawled incrementally.
--
-- A locality knows where it is (the bundled list's coordinates, for the explorer's map) and where it
-- came from: 'list' (the bundled list, or a list given to a crawl) or 'discovered' (a suburb profile
-- named it as a neighbour, and no list had it).
ALTER TABLE locality
    ADD COLUMN latitude double precision CHECK (latitude BETWEEN -90 AND 90),
    ADD COLUMN longitude double precision CHECK (longitude BETWEEN -180 AND 180),
    ADD COLUMN source text NOT NULL DEFAULT 'list' CHECK (source IN ('list', 'discovered')),
    -- For a discovered locality: the profile (its slug) that named it first, and when.
    ADD COLUMN discovered_from text,
    ADD COLUMN discovered_at timestamptz,
    ADD CONSTRAINT locality_discovered_from CHECK ((source = 'discovered') = (discovered_from IS NOT NULL));
CREATE INDEX locality_discovered_idx ON locality (state) WHERE source = 'discovered';

-- Which kind each run was: 'full' reads every page; 'incremental' stops a sold search at the first
-- page it already holds and skips profiles fresher than NEWHOMIE_PROFILE_MAX_AGE_DAYS. The pages the
-- increments did not fetch are counted (a search's unread pages, from the count the site reported).
ALTER TABLE crawl_run
    ADD COLUMN crawl_kind text CHECK (crawl_kind IN ('full', 'incremental')),
    ADD COLUMN pages_saved integer CHECK (pages_saved >= 0);

-- Per locality of a crawl: pages not fetched, pages by kind, and the kinds read whole. A sold search
-- may be read incrementally only after one that was read whole (or incrementally after one), with
-- no page lost: a page that failed would otherwise never be read again.
ALTER TABLE locality_crawl
    ADD COLUMN pages_saved integer NOT NULL DEFAULT 0 CHECK (pages_saved >= 0),
    -- {"sale": 3, "sold": 2, ...}: pages read, and pages left unread, by kind.
    ADD COLUMN pages_by_kind jsonb,
    ADD COLUMN pages_saved_by_kind jsonb,
    -- The kinds asked for (profile, sale, rent, sold) and those read whole.
    ADD COLUMN kinds text[] NOT NULL DEFAULT '{}',
    ADD COLUMN complete_kinds text[] NOT NULL DEFAULT '{}';
CREATE INDEX locality_crawl_slug_idx ON locality_crawl (locality_slug, finished_at);
