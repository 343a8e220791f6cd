-- What a suburb profile page holds: the locality's boundary, a daily snapshot of its profile and
-- of its market per (property category, bedrooms), the yearly sales series, and its schools.
-- CHECKs are guard rails: a figure outside them is a misread, and its row goes to rejected_item.

-- GeoJSON as the site sends it (a Polygon, in lng/lat order); jsonb so it can be queried and
-- handed to any GIS tool without PostGIS.
ALTER TABLE locality ADD COLUMN boundary jsonb
    CONSTRAINT locality_boundary_geojson CHECK (
        boundary IS NULL OR (jsonb_typeof(boundary) = 'object' AND jsonb_typeof(boundary -> 'type') = 'string'));

-- One snapshot a day (the locality's own calendar day): profiles change slowly, and a daily
-- grain keeps repeated crawls of a day from piling up rows while keeping a history.
CREATE TABLE suburb_profile (
    locality_slug           text NOT NULL REFERENCES locality (slug),
    snapshot_on             date NOT NULL,
    region                  text,
    area                    text,
    population              integer CHECK (population BETWEEN 0 AND 10000000),
    owner_occupier_share    double precision CHECK (owner_occupier_share BETWEEN 0 AND 1),
    renter_share            double precision CHECK (renter_share BETWEEN 0 AND 1),
    married_share           double precision CHECK (married_share BETWEEN 0 AND 1),
    single_share            double precision CHECK (single_share BETWEEN 0 AND 1),
    most_common_age_bracket text,
    surrounding_slugs       text[] NOT NULL DEFAULT '{}',
    captured_at             timestamptz NOT NULL,
    PRIMARY KEY (locality_slug, snapshot_on),
    -- Owners and renters are shares of one whole (rounding leaves a little slack).
    CONSTRAINT suburb_profile_tenure_total CHECK (owner_occupier_share + renter_share <= 1.01)
);

-- The market per (property category, bedrooms), one snapshot a day. NULL is "the site has no
-- figure" (it writes 0 for that); a real figure must be plausible.
CREATE TABLE suburb_market (
    locality_slug           text NOT NULL REFERENCES locality (slug),
    snapshot_on             date NOT NULL,
    property_category       text NOT NULL CHECK (property_category <> ''),
    bedrooms                smallint NOT NULL CHECK (bedrooms BETWEEN 0 AND 50),
    median_sold_price       bigint CHECK (median_sold_price BETWEEN 10000 AND 100000000),
    median_rent_weekly      bigint CHECK (median_rent_weekly BETWEEN 50 AND 20000),
    days_on_market          integer CHECK (days_on_market BETWEEN 0 AND 3650),
    number_sold             integer CHECK (number_sold >= 0),
    entry_level_price       bigint CHECK (entry_level_price BETWEEN 10000 AND 100000000),
    luxury_level_price      bigint CHECK (luxury_level_price BETWEEN 10000 AND 100000000),
    auction_clearance_rate  double precision CHECK (auction_clearance_rate BETWEEN 0 AND 1),
    captured_at             timestamptz NOT NULL,
    PRIMARY KEY (locality_slug, snapshot_on, property_category, bedrooms),
    CONSTRAINT suburb_market_price_order CHECK (entry_level_price <= luxury_level_price)
);

-- The yearly sales series of a (locality, category, bedrooms). A past year's figures are history,
-- not a snapshot: one row per year, revised by later profiles (the site adds late-settled sales),
-- with the day of the snapshot that last wrote it.
CREATE TABLE suburb_sales_growth (
    locality_slug           text NOT NULL REFERENCES locality (slug),
    property_category       text NOT NULL CHECK (property_category <> ''),
    bedrooms                smallint NOT NULL CHECK (bedrooms BETWEEN 0 AND 50),
    year                    smallint NOT NULL CHECK (year BETWEEN 1900 AND 2200),
    number_sold             integer CHECK (number_sold >= 0),
    median_sold_price       bigint CHECK (median_sold_price BETWEEN 10000 AND 100000000),
    -- A fraction: 0.05 is 5 %. A home market does not lose everything or grow tenfold in a year.
    annual_growth           double precision CHECK (annual_growth > -1 AND annual_growth < 10),
    observed_on             date NOT NULL,
    captured_at             timestamptz NOT NULL,
    PRIMARY KEY (locality_slug, property_category, bedrooms, year)
);

-- Schools are keyed by their ACARA id (the national register's), never by name: several
-- localities list the same school, and names repeat across states.
CREATE TABLE school (
    acara_id                text PRIMARY KEY CHECK (acara_id ~ '^[0-9]{1,10}$'),
    name                    text NOT NULL CHECK (name <> ''),
    school_type             text,
    sector                  text,
    gender                  text,
    year_range              text,
    url                     text,
    first_seen_at           timestamptz NOT NULL,
    last_seen_at            timestamptz NOT NULL,
    CHECK (first_seen_at <= last_seen_at)
);

-- Which localities' profiles list a school; last_seen_at older than the locality's latest profile
-- means the profile no longer lists it.
CREATE TABLE locality_school (
    locality_slug           text NOT NULL REFERENCES locality (slug),
    acara_id                text NOT NULL REFERENCES school (acara_id),
    first_seen_at           timestamptz NOT NULL,
    last_seen_at            timestamptz NOT NULL,
    PRIMARY KEY (locality_slug, acara_id),
    CHECK (first_seen_at <= last_seen_at)
);
CREATE INDEX locality_school_school_idx ON locality_school (acara_id);
