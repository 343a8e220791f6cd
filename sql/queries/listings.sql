-- name: upsert_listings
-- Keyed by the site's listing id (see the table). Conflict rule:
--  * a listing seen again takes its latest fields and moves last_seen_at forward; first_seen_at stays;
--  * a field the card no longer carries (coordinates, features, land, agency) keeps its old value:
--    cards drop fields more often than facts change;
--  * the price follows the latest text, even to none: "Contact Agent" replacing a price is news;
--  * a sold record never reverts: a sale card of a listing already stored as sold (a stale search)
--    changes nothing at all.
INSERT INTO listing AS l (
    listing_id, listing_type, locality_slug, url, street, suburb, state, postcode, lat, lng,
    beds, baths, parking, property_type, land_area_m2, is_rural, is_retirement,
    price_text, price_low, price_high, auction_at, inspection_start, inspection_end, time_zone,
    tag, agency, agency_id, promo_type, sold_on, sold_method, sold_price, first_seen_at, last_seen_at
) VALUES %s
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
-- Only texts of the listing's current type are recorded (a stale sale card of a sold listing
-- is not a new price).
WITH incoming (listing_id, listing_type, price_text, price_low, price_high, seen_at) AS (
    VALUES %s
),
latest AS (
    SELECT DISTINCT ON (h.listing_id) h.id, h.listing_id, h.listing_type, h.price_text
    FROM listing_price_history h
    WHERE h.listing_id IN (SELECT listing_id FROM incoming)
    ORDER BY h.listing_id, h.id DESC
),
seen_again AS (
    UPDATE listing_price_history h
    SET last_seen_at = greatest(h.last_seen_at, i.seen_at)
    FROM incoming i
    JOIN latest c ON c.listing_id = i.listing_id
    WHERE h.id = c.id AND c.price_text = i.price_text AND c.listing_type = i.listing_type
    RETURNING h.listing_id
)
INSERT INTO listing_price_history
    (listing_id, listing_type, price_text, price_low, price_high, first_seen_at, last_seen_at)
SELECT i.listing_id, i.listing_type, i.price_text, i.price_low, i.price_high, i.seen_at, i.seen_at
FROM incoming i
JOIN listing l ON l.listing_id = i.listing_id AND l.listing_type = i.listing_type
WHERE NOT EXISTS (
    SELECT 1 FROM latest c
    WHERE c.listing_id = i.listing_id AND c.price_text = i.price_text AND c.listing_type = i.listing_type
);
