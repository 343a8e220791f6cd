-- A locality crawled to the end whose searches could not all be read whole (the site shows 1,000 results
-- at most, and some search could not be cut into price bands that fit): what was missed, and why, as a
-- list of reasons; NULL when nothing was.
ALTER TABLE locality_crawl ADD COLUMN incomplete jsonb;
