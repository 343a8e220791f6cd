"""Prometheus metrics of a crawl: a Scrapy extension that exports the run's stats, our own signals
and the CPU and memory of the crawler and its browser.

    EXTENSIONS = {"newhomie.metrics.PrometheusExporter": 500}

It replaces scrapy-prometheus (0.4.4, 2017), which exports nothing on current Scrapy, and keeps its
setting names (PROMETHEUS_PUSHGATEWAY, PROMETHEUS_JOB, PROMETHEUS_METRIC_PREFIX,
PROMETHEUS_GROUPING_KEY, PROMETHEUS_PUSH_TIMEOUT) and its naming of Scrapy stats. Three outputs, each
off until configured (none configured: NotConfigured, the extension is off):

- **Pushgateway** (PROMETHEUS_PUSHGATEWAY, or the environment variable of that name, which is the
  place for a URL with a password: Scrapy logs every overridden *setting*): the run's metrics are
  PUT at close, and every PROMETHEUS_PUSH_INTERVAL seconds during the crawl, to the group
  {job, instance, spider, shard} (job = PROMETHEUS_JOB, instance = host name unless
  PROMETHEUS_GROUPING_KEY says otherwise, shard = the spider's `shard` attribute, omitted when
  absent; other PROMETHEUS_GROUPING_KEY entries are added). PUT replaces the whole group, so a
  family the run no longer has (an error type of yesterday's run) does not linger. A healthy run
  also PUTs `<prefix>_last_success_timestamp_seconds` to its own group {job, spider, shard}
  (no instance): a failed run never overwrites it, and a crawl that moves host keeps its history.
- **Textfile** for node_exporter's textfile collector (PROMETHEUS_TEXTFILE; `{spider}` and
  `{shard}` in the path are filled in, so that shards on one host do not overwrite each other's
  file): written at close and at the same interval, atomically (a temporary file renamed over it).
  Every sample carries `spider` and `shard` labels; the last-success time is carried over from
  the previous file when this run did not succeed.
- **HTTP** `/metrics` while the crawl runs (PROMETHEUS_PORT, on PROMETHEUS_HOST), for long Scrapyd
  jobs; samples carry `spider` and `shard` labels. Served from the reactor thread, like everything
  that reads the stats; only the network and file writes of push and textfile run in a thread.

A failing push or write is logged (the gateway's URL with its password masked) and counted in
the stats `newhomie/metrics/push_failures` and `newhomie/metrics/textfile_failures`; it never fails
the crawl. The exporter's own cost is in the stats too: `newhomie/metrics/collects` (collections and
process samples) and `newhomie/metrics/collect_cpu_seconds` (the reactor thread's CPU they took).

Metrics (`p` = PROMETHEUS_METRIC_PREFIX, "scrapy" by default, which deploy/ assumes):

| metric                                 | type      | labels            | from                           |
|----------------------------------------|-----------|-------------------|--------------------------------|
| `p_pages_total`                        | counter   | kind, outcome     | stats (1)                      |
| `p_items_total`                        | counter   | type              | stats (2)                      |
| `p_prices_total`                       | counter   | outcome           | stats (3)                      |
| `p_errors_total`                       | counter   | stage, error_type | stats (4)                      |
| `p_blocked_total`                      | counter   |                   | `newhomie/blocked`             |
| `p_browser_restarts_total`             | counter   |                   | `newhomie/browser/restarts`    |
| `p_browser_restart_reasons_total`      | counter   | reason            | signal `browser_restarted`     |
| `p_db_rows_written_total`              | counter   |                   | `newhomie/db/rows_written` (5) |
| `p_db_rows_rejected_total`             | counter   |                   | `newhomie/db/rows_rejected` (5)|
| `p_db_batch_seconds`                   | histogram |                   | signal `db_batch_written` (6)  |
| `p_locality_duration_seconds`          | histogram | status            | signal `locality_finished` (6) |
| `p_localities_total`                   | counter   | status            | signal `locality_finished`     |
| `p_process_cpu_seconds_total`          | counter   | process           | psutil (7)                     |
| `p_process_resident_memory_bytes`      | gauge     | process           | psutil (7)                     |
| `p_process_resident_memory_peak_bytes` | gauge     | process           | psutil (7)                     |
| `p_processes`                          | gauge     | process           | psutil (7)                     |
| `p_run_healthy`                        | gauge     |                   | `newhomie/health/healthy` (8)  |
| `p_last_success_timestamp_seconds`     | gauge     |                   | the run's end (8)              |
| `p_start_time_seconds`                 | gauge     |                   | `start_time` (9)               |
| `p_finish_time_seconds`                | gauge     |                   | `finish_time` (9)              |
| `p_<stat>`                             | gauge     |                   | any other numeric stat (10)    |

(1) `newhomie/pages/<kind>/<outcome>`: kind profile, sale, rent, sold; outcome ok, not_found, error,
    blocked.
(2) `newhomie/items/listing/<type>` (type sale, rent, sold) and `newhomie/items/suburb_profile`
    (type "suburb_profile"). Scrapy's own count of every item is `p_item_scraped_count` (10).
(3) `newhomie/price/<outcome>`: parsed, unparsed (the text gave no price), no_price_phrase.
(4) `newhomie/errors/<stage>/<ErrorType>`.
(5) The writer sets the stat at close; until then the running sums of `db_batch_written`'s `rows`
    and `rejected` stand in.
(6) Signals of `newhomie.signals`. Buckets: localities 1 s .. 30 min, database batches 5 ms .. 60 s.
(7) process="crawler": this process; "browser": Playwright's node driver and Chromium's processes
    (descendants of the crawler named chrom*/headless_shell, or whose command line names
    playwright); "other": any other descendant. Memory is the sum of RSS over the group (shared pages counted
    once per process: an upper bound); the peak is the largest sum seen (for the crawler also its
    own getrusage peak).
(8) `p_run_healthy` is the stat `newhomie/health/healthy` (1/0, the health verdict) when present;
    at close without it, 1 if the finish reason is "finished". A run that closes with
    `p_run_healthy` 1 sets `p_last_success_timestamp_seconds` to the unix time of its end; else it
    is the stat `newhomie/health/last_success_timestamp` when present, else (textfile) the value of
    the previous file.
(9) Every datetime stat `x` becomes `p_x_seconds`, in unix time.
(10) Named as scrapy-prometheus did: `p_` + the stat, with `/` and every other character outside
    [A-Za-z0-9_] replaced by `_`, case kept: `item_scraped_count` -> `scrapy_item_scraped_count`,
    `downloader/response_status_count/200` -> `scrapy_downloader_response_status_count_200`. A name
    taken by a family above, or by an earlier stat, is left out and logged once.

A family without data is absent. Process figures are sampled at every push, write and scrape, at
close, and every PROMETHEUS_SAMPLE_INTERVAL seconds in between (for the peaks). Browser CPU counts
each live process's own time and that of the exited children it reaped (Chromium's renderers come
and go; zygotes reap them). Not getrusage of reaped children: Chromium leaves processes no ancestor
waits for, about half of its CPU on the local site. A counter never goes down, so the CPU of
processes that end unreaped by the rest of the tree (a replaced browser) is lost, not subtracted:
the figure is a lower bound across browser restarts.

The final export happens in `spider_closed`, connected when the spider opens so that it runs after
the handlers of the other components (the database's run record, the health verdict) and while the
browser still runs.
"""

from newhomie.watch.metrics.exporter import PrometheusExporter

__all__ = ["PrometheusExporter"]
