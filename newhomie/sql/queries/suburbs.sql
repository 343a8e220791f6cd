-- name: upsert_suburb_profile
-- One snapshot per locality and day. Conflict rule: a profile read again the same day replaces
-- that day's figures (the later read is the site's latest word), and a figure it no longer
-- carries keeps the earlier read's value: the site drops figures more often than it retracts them.
-- A later read only: a read older than the stored one (a replayed or slower writer) changes nothing.
INSERT INTO suburb_profile AS p (
    locality_slug, snapshot_on, region, area, population, owner_occupier_share, renter_share,
    married_share, single_share, most_common_age_bracket, surrounding_slugs, captured_at
) VALUES (
    %(locality_slug)s, %(snapshot_on)s, %(region)s, %(area)s, %(population)s, %(owner_occupier_share)s,
    %(renter_share)s, %(married_share)s, %(single_share)s, %(most_common_age_bracket)s,
    %(surrounding_slugs)s, %(captured_at)s
)
ON CONFLICT (locality_slug, snapshot_on) DO UPDATE SET
    region                  = coalesce(EXCLUDED.region, p.region),
    area                    = coalesce(EXCLUDED.area, p.area),
    population              = coalesce(EXCLUDED.population, p.population),
    owner_occupier_share    = coalesce(EXCLUDED.owner_occupier_share, p.owner_occupier_share),
    renter_share            = coalesce(EXCLUDED.renter_share, p.renter_share),
    married_share           = coalesce(EXCLUDED.married_share, p.married_share),
    single_share            = coalesce(EXCLUDED.single_share, p.single_share),
    most_common_age_bracket = coalesce(EXCLUDED.most_common_age_bracket, p.most_common_age_bracket),
    surrounding_slugs       = EXCLUDED.surrounding_slugs,
    captured_at             = EXCLUDED.captured_at
WHERE EXCLUDED.captured_at >= p.captured_at;

-- name: upsert_suburb_market
-- One snapshot per (locality, day, property category, bedrooms). Conflict rule: the later read of
-- the day replaces the figures whole, NULLs included: market figures come and go together (a
-- bedroom count with too few sales loses its medians), so mixing two reads would make a row no
-- read ever showed. An older read than the stored one changes nothing.
INSERT INTO suburb_market AS m (
    locality_slug, snapshot_on, property_category, bedrooms, median_sold_price, median_rent_weekly,
    days_on_market, number_sold, entry_level_price, luxury_level_price, auction_clearance_rate,
    captured_at
) VALUES (
    %(locality_slug)s, %(snapshot_on)s, %(property_category)s, %(bedrooms)s, %(median_sold_price)s,
    %(median_rent_weekly)s, %(days_on_market)s, %(number_sold)s, %(entry_level_price)s,
    %(luxury_level_price)s, %(auction_clearance_rate)s, %(captured_at)s
)
ON CONFLICT (locality_slug, snapshot_on, property_category, bedrooms) DO UPDATE SET
    median_sold_price      = EXCLUDED.median_sold_price,
    median_rent_weekly     = EXCLUDED.median_rent_weekly,
    days_on_market         = EXCLUDED.days_on_market,
    number_sold            = EXCLUDED.number_sold,
    entry_level_price      = EXCLUDED.entry_level_price,
    luxury_level_price     = EXCLUDED.luxury_level_price,
    auction_clearance_rate = EXCLUDED.auction_clearance_rate,
    captured_at            = EXCLUDED.captured_at
WHERE EXCLUDED.captured_at >= m.captured_at;

-- name: upsert_suburb_sales_growth
-- One row per (locality, category, bedrooms, year). Conflict rule: the latest profile's figures
-- for a year win, whole: the site revises a year as late-settled sales come in, and a year it now
-- shows without a median has too few sales to give one. An older profile never overwrites a newer.
INSERT INTO suburb_sales_growth AS g (
    locality_slug, property_category, bedrooms, year, number_sold, median_sold_price,
    annual_growth, observed_on, captured_at
) VALUES (
    %(locality_slug)s, %(property_category)s, %(bedrooms)s, %(year)s, %(number_sold)s,
    %(median_sold_price)s, %(annual_growth)s, %(observed_on)s, %(captured_at)s
)
ON CONFLICT (locality_slug, property_category, bedrooms, year) DO UPDATE SET
    number_sold       = EXCLUDED.number_sold,
    median_sold_price = EXCLUDED.median_sold_price,
    annual_growth     = EXCLUDED.annual_growth,
    observed_on       = EXCLUDED.observed_on,
    captured_at       = EXCLUDED.captured_at
WHERE EXCLUDED.captured_at >= g.captured_at;

-- name: upsert_school
-- Keyed by the ACARA id. Conflict rule: a school listed again (by this or another locality's
-- profile) takes its latest name and keeps a detail the new listing lacks (profiles of different
-- suburbs do not all carry every field); first_seen_at stays, last_seen_at only moves forward.
INSERT INTO school AS s (
    acara_id, name, school_type, sector, gender, year_range, url, first_seen_at, last_seen_at
) VALUES (
    %(acara_id)s, %(name)s, %(school_type)s, %(sector)s, %(gender)s, %(year_range)s, %(url)s,
    %(seen_at)s, %(seen_at)s
)
ON CONFLICT (acara_id) DO UPDATE SET
    name          = EXCLUDED.name,
    school_type   = coalesce(EXCLUDED.school_type, s.school_type),
    sector        = coalesce(EXCLUDED.sector, s.sector),
    gender        = coalesce(EXCLUDED.gender, s.gender),
    year_range    = coalesce(EXCLUDED.year_range, s.year_range),
    url           = coalesce(EXCLUDED.url, s.url),
    first_seen_at = least(s.first_seen_at, EXCLUDED.first_seen_at),
    last_seen_at  = greatest(s.last_seen_at, EXCLUDED.last_seen_at);

-- name: link_locality_school
-- A locality's profile lists a school. Conflict rule: listed again, only last_seen_at moves, so a
-- school the latest profile no longer lists shows as an older last_seen_at, never as a deletion.
INSERT INTO locality_school AS ls (locality_slug, acara_id, first_seen_at, last_seen_at)
VALUES (%(locality_slug)s, %(acara_id)s, %(seen_at)s, %(seen_at)s)
ON CONFLICT (locality_slug, acara_id) DO UPDATE SET
    first_seen_at = least(ls.first_seen_at, EXCLUDED.first_seen_at),
    last_seen_at  = greatest(ls.last_seen_at, EXCLUDED.last_seen_at);
