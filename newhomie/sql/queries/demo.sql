-- name: demo_localities
-- `python -m newhomie demo`: what landed, per locality of the local site.
SELECT name, state, postcode, status, sale_listings, rent_listings, median_asking_price,
       median_weekly_rent, gross_rental_yield_pct
FROM locality_summary ORDER BY slug;

-- name: demo_listings
-- `python -m newhomie demo`: a few listings, those with an auction first, with the auction in local time.
SELECT listing_id, listing_type, street, suburb, beds, price_text, price_low, price_high,
       auction_at AT TIME ZONE time_zone AS auction_local
FROM listing ORDER BY auction_at IS NULL, listing_id LIMIT 8;
