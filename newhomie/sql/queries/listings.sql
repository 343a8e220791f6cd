-- name: upsert_listings
-- Keyed by the site's listing id (see the table). Conflict rule:
--  * a listing seen again takes its latest fields and moves last_seen_at forward; first_seen_at stays;
--  * a field the card no longer carries (coordinates, features, land, agency) keeps its old value:
--    cards drop fields more often than facts change;
--  * the price follows the latest text, even to none: "Contact Agent" replacing a price is news;
--  * a sold record never reverts: a sale card of a listing already stored as sold (a stale search)
--    changes nothing at all.
-- The batch comes as one jsonb parameter: an array of rows, each an array of the values in the
-- column order below (pipelines.LISTING_COLUMNS), one row per listing id, sorted by listing id.
-- One parameter keeps the statement's text constant and small: a VALUES list of 500 rows is
-- 16,500 literals for PostgreSQL to parse and plan every batch, and for psycopg2 to quote one by
-- one; this way is about twice as fast (benchmarks/bench_upsert.py). Rows are inserted in array
-- order (ORDER BY n): the listing_id order in which every writer locks them.
INSERT INTO listing AS l (
    listing_id, listing_type, locality_slug, url, street, suburb, state, postcode, lat, lng,
    beds, baths, parking, property_type, land_area_m2, is_rural, is_retirement,
    price_text, price_low, price_high, auction_at, inspection_start, inspection_end, time_zone,
    tag, agency, agency_id, promo_type, sold_on, sold_method, sold_price, first_seen_at, last_seen_at
)
SELECT (r->>0)::bigint, r->>1, r->>2, r->>3, r->>4, r->>5, r->>6, r->>7,
       (r->>8)::double precision, (r->>9)::double precision,
       (r->>10)::smallint, (r->>11)::smallint, (r->>12)::smallint, r->>13, (r->>14)::double precision,
       (r->>15)::boolean, (r->>16)::boolean,
       r->>17, (r->>18)::bigint, (r->>19)::bigint,
       (r->>20)::timestamptz, (r->>21)::timestamptz, (r->>22)::timestamptz, r->>23,
       r->>24, r->>25, (r->>26)::bigint, r->>27, (r->>28)::date, r->>29, (r->>30)::bigint,
       (r->>31)::timestamptz, (r->>32)::timestamptz
FROM jsonb_array_elements(%(rows)s::jsonb) WITH ORDINALITY AS batch (r, n)
ORDER BY n
ON CONFLICT (listing_id) DO UPDATE SET
    listing_type     = EXCLUDED.listing_type,
    locality_slug    = EXCLUDED.locality_slug,
    url              = EXCLUDED.url,
    street           = coalesce(EXCLUDED.street, l.street),
    suburb           = EXCLUDED.suburb,
    state            = EXCLUDED.state,
    postcode         = EXCLUDED.postcode,
    lat              = coalesce(EXCLUDED.lat, l.lat),
    lng              = coalesce(EXCLUDED.lng, l.lng),
    beds             = coalesce(EXCLUDED.beds, l.beds),
    baths            = coalesce(EXCLUDED.baths, l.baths),
    parking          = coalesce(EXCLUDED.parking, l.parking),
    property_type    = coalesce(EXCLUDED.property_type, l.property_type),
    land_area_m2     = coalesce(EXCLUDED.land_area_m2, l.land_area_m2),
    is_rural         = EXCLUDED.is_rural,
    is_retirement    = EXCLUDED.is_retirement,
    price_text       = EXCLUDED.price_text,
    price_low        = EXCLUDED.price_low,
    price_high       = EXCLUDED.price_high,
    auction_at       = EXCLUDED.auction_at,
    inspection_start = EXCLUDED.inspection_start,
    inspection_end   = EXCLUDED.inspection_end,
    time_zone        = EXCLUDED.time_zone,
    tag              = EXCLUDED.tag,
    agency           = coalesce(EXCLUDED.agency, l.agency),
    agency_id        = coalesce(EXCLUDED.agency_id, l.agency_id),
    promo_type       = EXCLUDED.promo_type,
    sold_on          = coalesce(EXCLUDED.sold_on, l.sold_on),
    sold_method      = coalesce(EXCLUDED.sold_method, l.sold_method),
    sold_price       = coalesce(EXCLUDED.sold_price, l.sold_price),
    last_seen_at     = greatest(l.last_seen_at, EXCLUDED.last_seen_at)
WHERE NOT (l.listing_type = 'sold' AND EXCLUDED.listing_type <> 'sold');

-- name: record_price_history
-- One row per (listing, price text) episode. The same text seen again only moves last_seen_at;
-- a changed text starts a new row, and so does a text that comes back after another one.
-- It reads the listings of the batch as upsert_listings left them, so only texts of a listing's
-- current type are recorded (a stale sale card of a sold listing changed nothing, so it records
-- nothing new), and each episode's time is the listing's last sighting.
-- Concurrency: it runs in the writer's transaction after upsert_listings, which holds the row
-- locks of these listings until commit, so no other writer records them meanwhile; and as a
-- statement of its own it sees (READ COMMITTED) every episode committed before it began, so it
-- never starts a second episode of a text another writer has just recorded. Folding it into the
-- upsert's statement would lose that: a statement's snapshot predates the lock waits inside it.
WITH incoming AS (
    SELECT l.listing_id, l.listing_type, l.price_text, l.price_low, l.price_high, l.last_seen_at AS seen_at
    FROM listing l
    WHERE l.listing_id = ANY(%(listing_ids)s) AND l.price_text IS NOT NULL
),
latest AS (
    -- Each listing's latest episode, one index probe each (listing_price_history_listing_idx).
    SELECT i.listing_id, c.id, c.listing_type, c.price_text
    FROM incoming i
    CROSS JOIN LATERAL (
        SELECT h.id, h.listing_type, h.price_text
        FROM listing_price_history h
        WHERE h.listing_id = i.listing_id
        ORDER BY h.id DESC
        LIMIT 1
    ) c
),
seen_again AS (
    UPDATE listing_price_history h
    SET last_seen_at = i.seen_at
    FROM incoming i
    JOIN latest c ON c.listing_id = i.listing_id
    WHERE h.id = c.id AND c.price_text = i.price_text AND c.listing_type = i.listing_type
      AND h.last_seen_at < i.seen_at
    RETURNING h.listing_id
)
INSERT INTO listing_price_history
    (listing_id, listing_type, price_text, price_low, price_high, first_seen_at, last_seen_at)
SELECT i.listing_id, i.listing_type, i.price_text, i.price_low, i.price_high, i.seen_at, i.seen_at
FROM incoming i
WHERE NOT EXISTS (
    SELECT 1 FROM latest c
    WHERE c.listing_id = i.listing_id AND c.price_text = i.price_text AND c.listing_type = i.listing_type
);
