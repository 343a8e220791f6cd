"""The crawl's decisions, locality by locality: which localities, which pages of each, how many at once,
and how each attempt at a locality ended. The spider (`newhomie.spiders.listings`) orchestrates these.

- `arguments`: the spider's arguments, one typed model (`CrawlArguments`);
- `plan`: the localities they select, what a crawl already finished, crawl keys;
- `admission`: a few localities at a time, the failed ones again at the end, the stall watchdog;
- `engine`: what the watchdog reads of Scrapy's engine, in one named place;
- `progress`: one attempt at a locality: reading its pages, its next pages (`Fetch`), its outcome;
- `bands`: a search too big for the site split into price bands (pure);
- `requests`: a `Fetch` as a Scrapy request, and a request's meta read back.

It imports `newhomie.site`, `newhomie.localities`, `newhomie.items` and, for what a crawl already
finished, `newhomie.store.crawls`.
"""
