"""Every Scrapy setting of the project in one place.

Environment overrides: DOMAIN_BASE_URL (the site to crawl), NEWHOMIE_CHROMIUM (a browser binary).
The database URL is deliberately not a setting: Scrapy logs overridden settings, and the URL may
hold a password. It is read by `newhomie.store.target` alone: from the environment variable
NEWHOMIE_DATABASE_URL, or on Zyte Scrapy Cloud from the setting of that name in SHUB_SETTINGS' JSON,
never from Scrapy's settings object.
"""

import os

BOT_NAME = "newhomie"
SPIDER_MODULES = ["newhomie.spiders"]
NEWSPIDER_MODULE = "newhomie.spiders"
# `crawl` with preflight checks (spider arguments, the database) before anything starts.
COMMANDS_MODULE = "newhomie.commands"

# The site to crawl; the local copy of the site in tests and demos.
DOMAIN_BASE_URL = os.environ.get("DOMAIN_BASE_URL", "https://www.domain.com.au")

# --- Rendering through scrapy-playwright --------------------------------------------------------
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
DOWNLOAD_HANDLERS = {
    # scrapy-playwright's handler, with a browser that is replaced when it hangs or dies.
    "http": "newhomie.browser.handler.PlaywrightHandler",
    "https": "newhomie.browser.handler.PlaywrightHandler",
}
ADDONS = {
    "newhomie.browser.chromium.BrowserAddon": 100,
    # A feed (-o/-O, FEEDS) holds the listings unless told otherwise (NEWHOMIE_FEED_ITEMS).
    "newhomie.feeds.FeedItemsAddon": 200,
}
PLAYWRIGHT_BROWSER_TYPE = "chromium"
# Path of a Chromium binary; empty means Playwright's own build if installed, else the system one.
NEWHOMIE_CHROMIUM = os.environ.get("NEWHOMIE_CHROMIUM", "")
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "headless": True,
    # Without these Chromium keeps opening background connections (updates, sync, field trials)
    # that only add noise and load on a closed or metered network.
    "args": [
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-gpu",
        "--disable-dev-shm-usage",
    ],
}
# The browser sends its own headers: Scrapy's would replace the bot-protection cookie the page's
# script set, and a "Scrapy/x.y" user agent is the first thing bot protection looks at.
PLAYWRIGHT_PROCESS_REQUEST_HEADERS = None
PLAYWRIGHT_ABORT_REQUEST = "newhomie.browser.rendering.should_abort_request"
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 45_000  # ms
# One browser context per locality, closed when the locality ends; how many are open at once is
# bounded by NEWHOMIE_LOCALITIES_AT_ONCE, not by PLAYWRIGHT_MAX_CONTEXTS (which would make a
# locality's block retry, in a fresh context, wait for a context that only it can free).
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 2
# How long a page may take to show its __NEXT_DATA__ after navigation (the bot-protection
# challenge reloads the page once); a page without it by then is treated as blocked. A page that
# has been complete for NEWHOMIE_BLOCK_SETTLE_SECONDS without it is judged at once.
NEWHOMIE_NEXT_DATA_TIMEOUT = 20.0  # seconds
NEWHOMIE_BLOCK_SETTLE_SECONDS = 5.0
# A page that takes longer than DOWNLOAD_TIMEOUT altogether, or a browser that crashed, gets the
# browser replaced; the page is tried NEWHOMIE_BROWSER_RETRIES more times.
NEWHOMIE_BROWSER_RETRIES = 3
NEWHOMIE_BROWSER_CLOSE_TIMEOUT = 10.0  # seconds for a restart's close before the browser is killed

# --- What is crawled at once --------------------------------------------------------------------
# Localities in flight at once (each in its own browser context). A locality with no request in
# flight, while the engine is idle, for NEWHOMIE_STALL_SECONDS is ended as failed (and retried).
NEWHOMIE_LOCALITIES_AT_ONCE = 2
NEWHOMIE_STALL_SECONDS = 120.0

# --- Incremental crawls (newhomie.crawl.increments; `-a full=1` reads everything) -------------------
# A suburb profile read less than this many days ago is not read again; 0 reads it every time.
NEWHOMIE_PROFILE_MAX_AGE_DAYS = 7.0

# --- Politeness ---------------------------------------------------------------------------------
# People who crawled this site in production ran at most 3 browsers at once. We stay under that
# and let AutoThrottle slow down further when the site answers slowly.
ROBOTSTXT_OBEY = False  # robots.txt would be fetched by plain HTTP, which the site refuses anyway
CONCURRENT_REQUESTS = 2
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 2.0
DOWNLOAD_DELAY_JITTER = 0.5  # each delay is DOWNLOAD_DELAY × (1 ± 0.5)
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 3.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 90
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# A block page (bot protection answered) pauses the whole crawl: NEWHOMIE_BLOCK_BACKOFF seconds,
# doubled for each block in a row up to NEWHOMIE_BLOCK_BACKOFF_MAX; the page is retried in a fresh
# browser context up to NEWHOMIE_BLOCK_RETRIES times. A Retry-After header (429, 503, a block page)
# is honoured up to NEWHOMIE_RETRY_AFTER_MAX seconds. Each such pause also doubles the delay between
# pages (at most AUTOTHROTTLE_MAX_DELAY), which AutoThrottle lowers again as good pages come.
NEWHOMIE_BLOCK_BACKOFF = 30.0
NEWHOMIE_BLOCK_BACKOFF_MAX = 600.0
NEWHOMIE_BLOCK_RETRIES = 3
NEWHOMIE_RETRY_AFTER_MAX = 900.0
COOKIES_ENABLED = False  # cookies live in the browser context, not in Scrapy's jar

# --- Components ---------------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    "newhomie.middlewares.PageContextMiddleware": 50,
    "newhomie.middlewares.PaceMiddleware": 540,
    "newhomie.middlewares.ChallengeMiddleware": 560,
    "newhomie.middlewares.BrowserFailureMiddleware": 570,
}
EXTENSIONS = {
    # Locality, stage and URL on every log line about a page (and JSON lines, below).
    "newhomie.watch.logs.LogContext": 50,
    # The run summary and health verdict at close (before the pipeline stores the run's end).
    "newhomie.watch.summary.RunSummary": 100,
    # Prometheus metrics (newhomie.watch.metrics); switches itself off until an output below is set.
    "newhomie.watch.metrics.PrometheusExporter": 500,
}

# --- Prometheus metrics (newhomie.watch.metrics) -------------------------------------------------
# Each output is off until set. A Pushgateway URL with a password goes in the environment variable
# PROMETHEUS_PUSHGATEWAY (read when this setting is empty): Scrapy logs every setting it is given.
PROMETHEUS_PUSHGATEWAY = ""  # e.g. "http://pushgateway:9091": push at close and at the interval
PROMETHEUS_JOB = "newhomie"  # the pushed `job` label
PROMETHEUS_METRIC_PREFIX = "scrapy"  # deploy/grafana and deploy/prometheus assume "scrapy"
PROMETHEUS_GROUPING_KEY: dict[str, str] = {}  # extra grouping labels; instance = host name unless given
PROMETHEUS_PUSH_TIMEOUT = 5.0  # seconds
PROMETHEUS_PUSH_INTERVAL = 60.0  # seconds between pushes/textfile writes during a crawl; 0: at close only
PROMETHEUS_TEXTFILE = ""  # e.g. "/var/lib/prometheus/node-exporter/newhomie-{shard}.prom"
PROMETHEUS_PORT = 0  # /metrics while the crawl runs, e.g. 9410 or "9410,9419"; 0: off
PROMETHEUS_HOST = "127.0.0.1"  # "0.0.0.0" to be scraped from another host
PROMETHEUS_SAMPLE_INTERVAL = 10.0  # seconds between process samples (memory peaks); 0: at exports only
# One JSON object per line (stderr or LOG_FILE) for log shippers, instead of Scrapy's text lines.
NEWHOMIE_JSON_LOGS = False
# A run is unhealthy (logged, stored in crawl_run, and `scrapy crawl` exits 3) when it breaks one of:
NEWHOMIE_HEALTH_MIN_LISTINGS = 1  # listings in a run that crawled some locality
NEWHOMIE_HEALTH_MAX_ERROR_RATE = 0.05  # errors per page
NEWHOMIE_HEALTH_MAX_BLOCK_RATE = 0.10  # block pages per page
NEWHOMIE_HEALTH_MAX_UNPARSED_PRICE_RATE = 0.05  # price texts that gave no price, per price text
NEWHOMIE_HEALTH_MAX_FAILED_LOCALITIES = 0.02  # share of the localities crawled that failed
ITEM_PIPELINES = {
    "newhomie.pipelines.PriceNormalisationPipeline": 300,
    "newhomie.pipelines.PostgresPipeline": 800,
}
# Rows are written in batches by a worker thread, so the browser's event loop never waits on them.
NEWHOMIE_DB_BATCH_SIZE = 500
NEWHOMIE_DB_FLUSH_SECONDS = 5.0
# While the database is away the writer reconnects (back-off doubling up to the max) and holds its
# rows: up to NEWHOMIE_DB_MEMORY_ROWS in memory, the older ones in a file of NEWHOMIE_DB_SPILL_DIR
# (empty: `unwritten/` in JOBDIR, else under NEWHOMIE_HOME), written first once it is back. At close it
# waits NEWHOMIE_DB_CLOSE_WAIT_SECONDS for a database still away, then keeps the rest in that folder for
# the next run (and the run is unhealthy).
NEWHOMIE_DB_MEMORY_ROWS = 20_000
NEWHOMIE_DB_SPILL_DIR = ""
NEWHOMIE_DB_CLOSE_WAIT_SECONDS = 60.0
NEWHOMIE_DB_RECONNECT_MAX_SECONDS = 30.0

FEED_EXPORT_ENCODING = "utf-8"
# What a feed holds by default: "listings", "all", or a comma list of item names (newhomie.feeds).
NEWHOMIE_FEED_ITEMS = "listings"
LOG_LEVEL = os.environ.get("NEWHOMIE_LOG_LEVEL", "INFO")
# No control ports: a crawl is steered by its arguments, JOBDIR and signals.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
