-- The first schema: localities, listings keyed by the site's listing id, their price history,
-- and the crawl's own records (runs, errors, rejected items). Times are timestamptz: the site's
-- local wall-clock times are given their zone before they get here, never stored as if UTC.

CREATE TABLE locality (
    slug              text PRIMARY KEY,
    name              text NOT NULL,
    state             text NOT NULL CHECK (state IN ('ACT', 'NSW', 'NT', 'QLD', 'SA', 'TAS', 'VIC', 'WA')),
    postcode          text NOT NULL CHECK (postcode ~ '^[0-9]{4}$'),
    -- not_found: the site answered its /404 page; later runs skip it unless asked to recheck.
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'not_found')),
    first_crawled_at  timestamptz,
    last_crawled_at   timestamptz
);

CREATE TABLE listing (
    -- The site's id, never the address: units of one building, and two listings of one house,
    -- share a street address and must stay separate rows.
    listing_id        bigint PRIMARY KEY CHECK (listing_id > 0),
    listing_type      text NOT NULL CHECK (listing_type IN ('sale', 'rent', 'sold')),
    locality_slug     text NOT NULL REFERENCES locality (slug),
    url               text NOT NULL,
    street            text,
    suburb            text NOT NULL,
    state             text NOT NULL CHECK (state IN ('ACT', 'NSW', 'NT', 'QLD', 'SA', 'TAS', 'VIC', 'WA')),
    postcode          text NOT NULL CHECK (postcode ~ '^[0-9]{4}$'),
    lat               double precision CHECK (lat BETWEEN -45 AND -9),
    lng               double precision CHECK (lng BETWEEN 112 AND 155),
    beds              smallint CHECK (beds BETWEEN 0 AND 50),
    baths             smallint CHECK (baths BETWEEN 0 AND 50),
    parking           smallint CHECK (parking BETWEEN 0 AND 50),
    property_type     text,
    land_area_m2      double precision CHECK (land_area_m2 > 0),
    is_rural          boolean NOT NULL DEFAULT false,
    is_retirement     boolean NOT NULL DEFAULT false,
    price_text        text,
    price_low         bigint,
    price_high        bigint,
    auction_at        timestamptz,
    inspection_start  timestamptz,
    inspection_end    timestamptz,
    -- The zone the site wrote this listing's times in, so local wall-clock times can be shown.
    time_zone         text NOT NULL,
    tag               text,
    agency            text,
    agency_id         bigint,
    promo_type        text,
    sold_on           date,
    sold_method       text,
    sold_price        bigint CHECK (sold_price BETWEEN 10000 AND 100000000),
    first_seen_at     timestamptz NOT NULL,
    last_seen_at      timestamptz NOT NULL,
    CONSTRAINT listing_price_order CHECK (price_low <= price_high),
    -- Sale prices in whole dollars, rent in dollars a week; outside these bounds a "price" is a
    -- misread phone number, year or area, never a price.
    CONSTRAINT listing_price_bounds CHECK (
        CASE WHEN listing_type = 'rent'
             THEN coalesce(price_low, 50) BETWEEN 50 AND 20000 AND coalesce(price_high, 50) BETWEEN 50 AND 20000
             ELSE coalesce(price_low, 10000) BETWEEN 10000 AND 100000000
                  AND coalesce(price_high, 10000) BETWEEN 10000 AND 100000000
        END),
    CONSTRAINT listing_inspection_order CHECK (inspection_start <= inspection_end)
);
CREATE INDEX listing_locality_type_idx ON listing (locality_slug, listing_type);

-- One row per episode of a price text: seen again, only last_seen_at moves; changed, a new row.
CREATE TABLE listing_price_history (
    id                bigserial PRIMARY KEY,
    listing_id        bigint NOT NULL REFERENCES listing (listing_id) ON DELETE CASCADE,
    listing_type      text NOT NULL CHECK (listing_type IN ('sale', 'rent', 'sold')),
    price_text        text NOT NULL,
    price_low         bigint,
    price_high        bigint,
    first_seen_at     timestamptz NOT NULL,
    last_seen_at      timestamptz NOT NULL,
    CHECK (first_seen_at <= last_seen_at)
);
CREATE INDEX listing_price_history_listing_idx ON listing_price_history (listing_id, id DESC);

CREATE TABLE crawl_run (
    id                bigserial PRIMARY KEY,
    spider            text NOT NULL,
    arguments         jsonb NOT NULL DEFAULT '{}',
    started_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    status            text NOT NULL DEFAULT 'running',
    stats             jsonb
);

CREATE TABLE crawl_error (
    id                bigserial PRIMARY KEY,
    run_id            bigint REFERENCES crawl_run (id) ON DELETE CASCADE,
    locality          text,
    url               text,
    stage             text NOT NULL,
    error_type        text NOT NULL,
    message           text NOT NULL,
    occurred_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX crawl_error_run_idx ON crawl_error (run_id);

-- What could not be stored as it came is kept here with the reason, never dropped.
CREATE TABLE rejected_item (
    id                bigserial PRIMARY KEY,
    run_id            bigint REFERENCES crawl_run (id) ON DELETE CASCADE,
    kind              text NOT NULL,
    locality          text,
    url               text,
    raw               jsonb NOT NULL,
    reason            text NOT NULL,
    rejected_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rejected_item_run_idx ON rejected_item (run_id);
