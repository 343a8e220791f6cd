"""The browser: which Chromium, how a page is rendered and known to be ready, and what happens around
a download (bot protection, pace, a browser that hangs or dies).

- `chromium`: the Chromium to launch (`BrowserAddon`);
- `handler`: scrapy-playwright's download handler, made to heal (a hung or dead browser is replaced);
- `rendering`: every request rendered in the browser, loading only what is read (`PageContextMiddleware`);
- `page_ready`: a page is ready when it shows its `__NEXT_DATA__`, or is plainly a block page;
- `challenge`: a page that passed the challenge, or a block, retried in a fresh context
  (`ChallengeMiddleware`);
- `pace`: one pace for the crawl after blocks and Retry-After (`PaceMiddleware`);
- `failures`: hangs and crashes restart the browser and retry the page (`BrowserFailureMiddleware`);
- `retries`: retries of a page counted apart from Scrapy's.

It imports `newhomie.site` (what a block page looks like) and `newhomie.signals`.
"""
