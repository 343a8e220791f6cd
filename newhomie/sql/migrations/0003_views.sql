-- Views for exploring the data (documented with example queries in docs/storage.md), and the
-- indexes behind their common filters: locality, type, price, bedrooms, sold date.
--
-- "Current" means confirmed by the latest crawl of the listing's locality: seen no more than
-- 12 hours before that crawl started (a locality's pages are read within minutes; the next crawl
-- is days later). A listing the latest crawl did not see was withdrawn, leased or sold. A locality
-- never visited (rows written without a crawl) counts every listing as current.
--
-- The asking price is the middle of the normalised range, or its one known side ("From $X",
-- "Up to $Y"); whole dollars for sale, dollars a week for rent. The same expression is indexed
-- below, so filters on it use the index.

CREATE VIEW current_listing AS
SELECT l.*,
       coalesce((l.price_low + l.price_high) / 2, l.price_low, l.price_high) AS asking_price
FROM listing l
JOIN locality loc ON loc.slug = l.locality_slug
WHERE l.listing_type IN ('sale', 'rent')
  AND l.last_seen_at >= coalesce(loc.last_crawled_at, l.last_seen_at) - interval '12 hours';

CREATE VIEW current_sale AS
SELECT listing_id, locality_slug, suburb, state, postcode, street, property_type,
       beds, baths, parking, land_area_m2, price_text, price_low, price_high, asking_price,
       asking_price / nullif(beds, 0) AS price_per_bedroom,
       round(asking_price / land_area_m2)::bigint AS price_per_m2_land,
       auction_at AT TIME ZONE time_zone AS auction_local,
       inspection_start AT TIME ZONE time_zone AS inspection_local,
       tag, agency, url, lat, lng, first_seen_at, last_seen_at,
       floor(extract(epoch FROM last_seen_at - first_seen_at) / 86400)::integer AS days_listed
FROM current_listing
WHERE listing_type = 'sale';

CREATE VIEW current_rental AS
SELECT listing_id, locality_slug, suburb, state, postcode, street, property_type,
       beds, baths, parking, land_area_m2, price_text, price_low, price_high,
       asking_price AS weekly_rent,
       asking_price / nullif(beds, 0) AS weekly_rent_per_bedroom,
       inspection_start AT TIME ZONE time_zone AS inspection_local,
       tag, agency, url, lat, lng, first_seen_at, last_seen_at,
       floor(extract(epoch FROM last_seen_at - first_seen_at) / 86400)::integer AS days_listed
FROM current_listing
WHERE listing_type = 'rent';

-- Sales of the last 12 months (by sold date; by last sighting when the site gave no date).
-- sold_price is NULL when the price was withheld or not one exact figure.
CREATE VIEW recent_sale AS
SELECT listing_id, locality_slug, suburb, state, postcode, street, property_type,
       beds, baths, parking, land_area_m2, sold_on, sold_method, sold_price, price_text,
       sold_price / nullif(beds, 0) AS price_per_bedroom,
       round(sold_price / land_area_m2)::bigint AS price_per_m2_land,
       agency, url, lat, lng, first_seen_at, last_seen_at
FROM listing
WHERE listing_type = 'sold'
  AND (sold_on >= current_date - 365 OR (sold_on IS NULL AND last_seen_at >= now() - interval '365 days'));

-- One row per locality. The gross rental yield is the median weekly rent times 52 over the median
-- asking price of current sale listings (both of today's market; recent sold prices are fewer).
CREATE VIEW locality_summary AS
SELECT loc.slug, loc.name, loc.state, loc.postcode, loc.status, loc.last_crawled_at,
       coalesce(s.listings, 0) AS sale_listings,
       coalesce(r.listings, 0) AS rent_listings,
       coalesce(so.sales, 0) AS recent_sales,
       s.median_asking_price,
       so.median_sold_price,
       r.median_weekly_rent,
       round((100.0 * r.median_weekly_rent * 52 / s.median_asking_price)::numeric, 2) AS gross_rental_yield_pct
FROM locality loc
LEFT JOIN (
    SELECT locality_slug, count(*) AS listings,
           (percentile_cont(0.5) WITHIN GROUP (ORDER BY asking_price))::bigint AS median_asking_price
    FROM current_sale GROUP BY locality_slug
) s ON s.locality_slug = loc.slug
LEFT JOIN (
    SELECT locality_slug, count(*) AS listings,
           (percentile_cont(0.5) WITHIN GROUP (ORDER BY weekly_rent))::bigint AS median_weekly_rent
    FROM current_rental GROUP BY locality_slug
) r ON r.locality_slug = loc.slug
LEFT JOIN (
    SELECT locality_slug, count(*) AS sales,
           (percentile_cont(0.5) WITHIN GROUP (ORDER BY sold_price))::bigint AS median_sold_price
    FROM recent_sale GROUP BY locality_slug
) so ON so.locality_slug = loc.slug;

-- The latest market snapshot of each (locality, category, bedrooms), with the site's own gross
-- yield (its median rent over its median sold price).
CREATE VIEW latest_suburb_market AS
SELECT DISTINCT ON (m.locality_slug, m.property_category, m.bedrooms)
       m.*,
       round((100.0 * m.median_rent_weekly * 52 / m.median_sold_price)::numeric, 2) AS gross_rental_yield_pct
FROM suburb_market m
ORDER BY m.locality_slug, m.property_category, m.bedrooms, m.snapshot_on DESC;

-- Indexes for the views' filters. None of them holds last_seen_at, which every sighting moves:
-- an update that changes no indexed column stays a cheap heap-only (HOT) update.
CREATE INDEX listing_type_asking_price_idx
    ON listing (listing_type, (coalesce((price_low + price_high) / 2, price_low, price_high)));
CREATE INDEX listing_type_beds_idx ON listing (listing_type, beds);
CREATE INDEX listing_type_sold_on_idx ON listing (listing_type, sold_on);
-- Room on each page for the new version of a row, so that sightings stay HOT updates.
ALTER TABLE listing SET (fillfactor = 85);
