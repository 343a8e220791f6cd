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

from __future__ import annotations

import logging
import os
import re
import resource
import socket
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

import psutil
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import (
    CONTENT_TYPE_PLAIN_0_0_4,
    basic_auth_handler,
    default_handler,
    generate_latest,
    push_to_gateway,
    write_to_textfile,
)
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.utils import floatToGoString
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings
from scrapy.statscollectors import StatsCollector
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.reactor import listen_tcp
from twisted.internet.defer import DeferredLock
from twisted.internet.error import CannotListenError
from twisted.internet.tcp import Port
from twisted.internet.threads import deferToThread
from twisted.web import http
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from newhomie import signals as newhomie_signals
from newhomie.store.redact import redact_url

logger = logging.getLogger(__name__)

# --- Settings and their defaults (newhomie/settings.py may set any of them) ----------------------
#: Pushgateway URL ("http://host:9091", or scrapy-prometheus's "host:9091"); empty: no push.
#: Falls back to the environment variable PROMETHEUS_PUSHGATEWAY (for URLs with a password).
PROMETHEUS_PUSHGATEWAY = ""
#: The `job` label of pushed metrics.
PROMETHEUS_JOB = "scrapy"
#: The first part of every metric name.
PROMETHEUS_METRIC_PREFIX = "scrapy"
#: Extra grouping labels of the push; `instance` defaults to the host name; spider and shard are ours.
PROMETHEUS_GROUPING_KEY: dict[str, str] = {}
#: Seconds a push may take.
PROMETHEUS_PUSH_TIMEOUT = 5.0
#: Seconds between pushes and textfile writes during the crawl; 0: only at close.
PROMETHEUS_PUSH_INTERVAL = 0.0
#: Path of the textfile (must end in .prom for node_exporter); `{spider}`, `{shard}` are filled in.
PROMETHEUS_TEXTFILE = ""
#: Port of the /metrics endpoint while the crawl runs; 0: off; "low,high": the first free one.
PROMETHEUS_PORT = 0
#: Address the endpoint listens on.
PROMETHEUS_HOST = "127.0.0.1"
#: Seconds between process samples that only update the memory peaks; 0: sample only at exports.
PROMETHEUS_SAMPLE_INTERVAL = 10.0

GATEWAY_ENV = "PROMETHEUS_PUSHGATEWAY"

# --- Stat and signal vocabulary -----------------------------------------------------------------
HEALTHY_STAT = "newhomie/health/healthy"
LAST_SUCCESS_STAT = "newhomie/health/last_success_timestamp"
ROWS_WRITTEN_STAT = "newhomie/db/rows_written"
ROWS_REJECTED_STAT = "newhomie/db/rows_rejected"
CPU_STAT = "newhomie/metrics/collect_cpu_seconds"

#: Locality crawls take from a second (not found) to half an hour (a big suburb, slowly).
LOCALITY_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 900, 1200, 1800)
#: A batch of up to 500 rows: milliseconds normally, a minute when the server is in trouble.
DB_BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

CRAWLER, BROWSER, OTHER = "crawler", "browser", "other"


@dataclass(frozen=True)
class StatFamily:
    """Stats whose names carry label values, exported as one labelled family.

    `pattern` matches the whole stat name; its named groups are the labels.
    """

    name: str
    documentation: str
    labels: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]


def _family(name: str, documentation: str, *patterns: str) -> StatFamily:
    compiled = tuple(re.compile(p) for p in patterns)
    return StatFamily(name, documentation, tuple(compiled[0].groupindex), compiled)


#: The stats of ours exported as labelled counters (`<prefix>_<name>_total`).
STAT_FAMILIES = (
    _family(
        "pages",
        "Search and profile pages by kind and outcome.",
        r"newhomie/pages/(?P<kind>[^/]+)/(?P<outcome>[^/]+)",
    ),
    _family(
        "items",
        "Items scraped by type (listing types, suburb_profile).",
        r"newhomie/items/listing/(?P<type>[^/]+)",
        r"newhomie/items/(?P<type>suburb_profile)",
    ),
    _family(
        "prices",
        "Listing price texts by outcome: parsed, unparsed (gave no price), no_price_phrase.",
        r"newhomie/price/(?P<outcome>parsed|unparsed|no_price_phrase)",
    ),
    _family(
        "errors",
        "Pages that failed, by stage and error type.",
        r"newhomie/errors/(?P<stage>[^/]+)/(?P<error_type>[^/]+)",
    ),
    _family("blocked", "Bot-protection block pages seen.", r"newhomie/blocked"),
    _family("browser_restarts", "Browsers replaced by a fresh one.", r"newhomie/browser/restarts"),
    _family("db_rows_written", "Rows written to the database.", ROWS_WRITTEN_STAT),
    _family("db_rows_rejected", "Rows the database refused (kept in rejected_item).", ROWS_REJECTED_STAT),
)

#: Stats consumed by the health families rather than exported under their own names.
HEALTH_STATS = frozenset({HEALTHY_STAT, LAST_SUCCESS_STAT})

#: Our families that are not named after stats: name (after the prefix) -> type.
OWN_FAMILIES = {
    "locality_duration_seconds": "histogram",
    "localities": "counter",
    "db_batch_seconds": "histogram",
    "browser_restart_reasons": "counter",
    "process_cpu_seconds": "counter",
    "process_resident_memory_bytes": "gauge",
    "process_resident_memory_peak_bytes": "gauge",
    "processes": "gauge",
    "run_healthy": "gauge",
    "last_success_timestamp_seconds": "gauge",
}

_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_]")
_VALID_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def metric_name(prefix: str, stat: str) -> str:
    """The gauge a Scrapy stat becomes: `/` and anything else outside [A-Za-z0-9_] turn into `_`."""
    return f"{prefix}_{_NOT_IN_NAME.sub('_', stat)}"


def stat_number(value: Any) -> float | None:
    """A stat's value as a sample value: numbers (and booleans) as they are, datetimes as unix
    time (naive ones taken as UTC, as Scrapy records them); None for anything else."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.timestamp()
    return None


def reserved_names(prefix: str) -> set[str]:
    """Every sample name our families can expose, which no stat-named gauge may take."""
    suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created")}
    families = {**{spec.name: "counter" for spec in STAT_FAMILIES}, **OWN_FAMILIES}
    return {
        f"{prefix}_{name}{suffix}"
        for name, kind in families.items()
        for suffix in ("", *suffixes.get(kind, ()))
    }


class StatsTranslator:
    """Scrapy stats -> metric families: ours into labelled families, any other number into a gauge.

    Two stats that would give one name (`a/b` and `a_b`), or a stat whose name is taken by one of
    our families, would make the exposition invalid and a Pushgateway refuse the whole push: the
    later one is left out and logged once.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.reserved = reserved_names(prefix)
        self._warned: set[str] = set()

    def translate(self, stats: Mapping[str, Any]) -> list[Metric]:
        counters: dict[str, CounterMetricFamily] = {}
        gauges: dict[str, GaugeMetricFamily] = {}
        for stat, value in sorted(stats.items()):
            number = stat_number(value)
            if number is None or stat in HEALTH_STATS:
                continue
            spec, labels = self._match(stat)
            if spec is not None:
                name = f"{self.prefix}_{spec.name}"
                family = counters.get(name)
                if family is None:
                    family = counters[name] = CounterMetricFamily(
                        name, spec.documentation, labels=spec.labels
                    )
                family.add_metric([labels[label] for label in spec.labels], number)
                continue
            name = metric_name(self.prefix, stat)
            if isinstance(value, datetime):
                name += "_seconds"
            if name in gauges or name in self.reserved:
                self._warn_once(stat, f"stat {stat!r} would be exported as {name}, which is taken; left out")
                continue
            gauges[name] = GaugeMetricFamily(name, f"Scrapy stat {stat}", value=number)
        return [*counters.values(), *gauges.values()]

    @staticmethod
    def _match(stat: str) -> tuple[StatFamily | None, dict[str, str]]:
        for spec in STAT_FAMILIES:
            for pattern in spec.patterns:
                match = pattern.fullmatch(stat)
                if match is not None:
                    return spec, match.groupdict()
        return None, {}

    def _warn_once(self, stat: str, message: str) -> None:
        if stat not in self._warned:
            self._warned.add(stat)
            logger.warning(message)


# --- Signal-fed families ------------------------------------------------------------------------


class BucketCounts:
    """A histogram per label set, kept by hand: no prometheus_client metric objects (and their
    `_created` series and process-wide state) for what is a handful of observations per run."""

    def __init__(self, bounds: Iterable[float]) -> None:
        self.bounds = tuple(sorted(float(b) for b in bounds))
        self._counts: dict[tuple[str, ...], list[int]] = {}
        self._sums: dict[tuple[str, ...], float] = defaultdict(float)

    def observe(self, labels: tuple[str, ...], value: float) -> None:
        counts = self._counts.setdefault(labels, [0] * (len(self.bounds) + 1))
        index = next((i for i, bound in enumerate(self.bounds) if value <= bound), len(self.bounds))
        counts[index] += 1
        self._sums[labels] += value

    def family(
        self, name: str, documentation: str, labelnames: tuple[str, ...]
    ) -> HistogramMetricFamily | None:
        if not self._counts:
            return None
        family = HistogramMetricFamily(name, documentation, labels=labelnames)
        for labels, counts in sorted(self._counts.items()):
            cumulative, buckets = 0, []
            for bound, count in zip((*self.bounds, float("inf")), counts, strict=True):
                cumulative += count
                buckets.append((floatToGoString(bound), float(cumulative)))
            family.add_metric(list(labels), buckets, sum_value=self._sums[labels])
        return family


def counter_family(
    name: str, documentation: str, labelnames: tuple[str, ...], values: Mapping[tuple[str, ...], float]
) -> CounterMetricFamily | None:
    if not values:
        return None
    family = CounterMetricFamily(name, documentation, labels=labelnames)
    for labels, value in sorted(values.items()):
        family.add_metric(list(labels), value)
    return family


# --- Processes ----------------------------------------------------------------------------------


@dataclass
class ProcessFigures:
    cpu_seconds: float = 0.0
    rss_bytes: int = 0
    peak_rss_bytes: int = 0
    processes: int = 0


def is_browser_process(process: psutil.Process) -> bool:
    """Chromium's processes by name; Playwright's node driver by its command line."""
    if process.name().startswith(("chrom", "headless_shell")):
        return True
    return any("playwright" in part for part in process.cmdline())


def _own_peak_rss() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux


class ProcessSampler:
    """CPU seconds and resident memory of the crawler (this process) and of its descendants: the
    browser (Playwright's driver, Chromium's processes) and any other child, one figure per group."""

    def __init__(self, root: psutil.Process | None = None) -> None:
        self.root = root or psutil.Process()
        self.figures: dict[str, ProcessFigures] = {}

    def sample(self) -> dict[str, ProcessFigures]:
        cpu: dict[str, float] = defaultdict(float)
        rss: dict[str, int] = defaultdict(int)
        count: dict[str, int] = defaultdict(int)
        with self.root.oneshot():
            own = self.root.cpu_times()
            cpu[CRAWLER] = own.user + own.system
            rss[CRAWLER] = self.root.memory_info().rss
            count[CRAWLER] = 1
            descendants = self.root.children(recursive=True)  # one pass over /proc
        for process in descendants:
            try:
                with process.oneshot():
                    role = BROWSER if is_browser_process(process) else OTHER
                    times = process.cpu_times()
                    # Exited children that it reaped (Chromium's renderers) count too.
                    process_cpu = times.user + times.system + times.children_user + times.children_system
                    process_rss = process.memory_info().rss
            except psutil.Error as exc:  # it ended while we looked: nothing left to count
                logger.debug("process %s gone while sampling: %s", process.pid, exc)
                continue
            cpu[role] += process_cpu
            rss[role] += process_rss
            count[role] += 1
        for role in {*self.figures, *count}:
            figures = self.figures.setdefault(role, ProcessFigures())
            figures.cpu_seconds = max(figures.cpu_seconds, cpu.get(role, 0.0))  # a counter never goes down
            figures.rss_bytes = rss.get(role, 0)
            figures.processes = count.get(role, 0)
            figures.peak_rss_bytes = max(figures.peak_rss_bytes, figures.rss_bytes)
        crawler = self.figures[CRAWLER]
        crawler.peak_rss_bytes = max(crawler.peak_rss_bytes, _own_peak_rss())
        return self.figures


# --- The collector ------------------------------------------------------------------------------


@dataclass
class RunState:
    """What is known about the run beyond its stats: how it ended, and its last success."""

    finish_reason: str | None = None
    #: Unix time at which this run closed healthy.
    succeeded_at: float | None = None
    #: The last success read from the previous textfile.
    carried_last_success: float | None = None


class CrawlCollector:
    """All metrics of one crawl, built afresh at each collect from the stats, the signals' records
    and a process sample. Runs in the reactor thread (the stats are not thread-safe)."""

    def __init__(self, prefix: str, stats: StatsCollector, sampler: ProcessSampler) -> None:
        self.prefix = prefix
        self.stats = stats
        self.sampler = sampler
        self.run = RunState()
        self.locality_seconds = BucketCounts(LOCALITY_BUCKETS)
        self.localities: dict[tuple[str, ...], float] = defaultdict(float)
        self.db_batch_seconds = BucketCounts(DB_BATCH_BUCKETS)
        self.db_rows = {"written": 0.0, "rejected": 0.0}
        self.restart_reasons: dict[tuple[str, ...], float] = defaultdict(float)
        self.translator = StatsTranslator(prefix)

    # Signal handlers (kwargs as documented in newhomie/signals.py; missing ones tolerated).

    def on_locality_finished(self, status: str = "unknown", seconds: float | None = None, **_: Any) -> None:
        self.localities[(str(status),)] += 1
        if seconds is not None:
            self.locality_seconds.observe((str(status),), float(seconds))

    def on_db_batch_written(
        self, rows: int = 0, rejected: int = 0, seconds: float | None = None, **_: Any
    ) -> None:
        self.db_rows["written"] += rows
        self.db_rows["rejected"] += rejected
        if seconds is not None:
            self.db_batch_seconds.observe((), float(seconds))

    def on_browser_restarted(self, reason: str = "unknown", **_: Any) -> None:
        self.restart_reasons[(str(reason),)] += 1

    # Collection.

    def collect(self) -> Iterator[Metric]:
        stats = dict(self.stats.get_stats())
        families = self.translator.translate(stats)
        present = {family.name for family in families}
        yield from families
        yield from self._own_families(stats, present)

    def last_success(self, stats: Mapping[str, Any] | None = None) -> float | None:
        if self.run.succeeded_at is not None:
            return self.run.succeeded_at
        stat = stat_number((stats if stats is not None else self.stats.get_stats()).get(LAST_SUCCESS_STAT))
        return stat if stat is not None else self.run.carried_last_success

    def healthy(self, stats: Mapping[str, Any]) -> float | None:
        """The health verdict's stat when there is one; at close without it, a normal finish."""
        verdict = stat_number(stats.get(HEALTHY_STAT))
        if verdict is not None:
            return 1.0 if verdict else 0.0
        if self.run.finish_reason is None:
            return None
        return 1.0 if self.run.finish_reason == "finished" else 0.0

    def close(self, reason: str, now: float) -> None:
        self.run.finish_reason = reason
        if self.healthy(self.stats.get_stats()) == 1.0:
            self.run.succeeded_at = now

    def _own_families(self, stats: Mapping[str, Any], present: set[str]) -> Iterator[Metric]:
        """The families of OWN_FAMILIES (and the rows' running sums); those without data are left out."""
        p = self.prefix
        candidates = (
            self.locality_seconds.family(
                f"{p}_locality_duration_seconds", "Seconds a locality took, by its status.", ("status",)
            ),
            counter_family(
                f"{p}_localities", "Localities finished, by status.", ("status",), self.localities
            ),
            self.db_batch_seconds.family(f"{p}_db_batch_seconds", "Seconds a database batch took.", ()),
            counter_family(
                f"{p}_browser_restart_reasons",
                "Browser restarts by reason.",
                ("reason",),
                self.restart_reasons,
            ),
        )
        yield from (family for family in candidates if family is not None)
        # Until the writer reports its totals at close, the batches' running sums stand in.
        for key, name in (("written", "db_rows_written"), ("rejected", "db_rows_rejected")):
            if f"{p}_{name}" not in present and self.db_rows[key]:
                yield CounterMetricFamily(
                    f"{p}_{name}", "Rows (running sum of batches).", value=self.db_rows[key]
                )
        yield from self._process_families()
        healthy = self.healthy(stats)
        if healthy is not None:
            yield GaugeMetricFamily(f"{p}_run_healthy", "1 if the run is healthy, 0 if not.", value=healthy)
        last_success = self.last_success(stats)
        if last_success is not None:
            yield GaugeMetricFamily(
                f"{p}_last_success_timestamp_seconds",
                "Unix time of the end of the last healthy run.",
                value=last_success,
            )

    def _process_families(self) -> Iterator[Metric]:
        figures = self.sampler.sample()
        p = self.prefix
        cpu = CounterMetricFamily(
            f"{p}_process_cpu_seconds", "CPU seconds (user + system).", labels=["process"]
        )
        rss = GaugeMetricFamily(f"{p}_process_resident_memory_bytes", "Resident memory.", labels=["process"])
        peak = GaugeMetricFamily(
            f"{p}_process_resident_memory_peak_bytes", "Largest resident memory seen.", labels=["process"]
        )
        count = GaugeMetricFamily(f"{p}_processes", "Processes in the group.", labels=["process"])
        for role, figure in sorted(figures.items()):
            cpu.add_metric([role], figure.cpu_seconds)
            rss.add_metric([role], figure.rss_bytes)
            peak.add_metric([role], figure.peak_rss_bytes)
            count.add_metric([role], figure.processes)
        yield from (cpu, rss, peak, count)


# --- Outputs ------------------------------------------------------------------------------------


class Families:
    """Metric families collected once, served as a registry (prometheus_client's Collector)."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> list[Metric]:
        return self.families


def with_labels(families: Iterable[Metric], labels: Mapping[str, str]) -> list[Metric]:
    """Copies of `families` whose every sample also carries `labels`."""
    labelled = []
    for family in families:
        copy = Metric(family.name, family.documentation, family.type, family.unit)
        copy.samples = [sample._replace(labels={**labels, **sample.labels}) for sample in family.samples]
        labelled.append(copy)
    return labelled


@dataclass(frozen=True)
class Gateway:
    """A Pushgateway: its URL without credentials, and the credentials for basic auth."""

    url: str
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, text: str) -> Self:
        text = text.strip()
        if "://" not in text:
            text = f"http://{text}"  # scrapy-prometheus took "host:port"
        parts = urlsplit(text)
        if parts.username is None and parts.password is None:
            return cls(text)
        netloc = parts.netloc.rsplit("@", 1)[1]
        return cls(urlunsplit(parts._replace(netloc=netloc)), parts.username, parts.password)

    @property
    def shown(self) -> str:
        """For logs: the URL with the user, never the password."""
        if self.username is None:
            return self.url
        parts = urlsplit(self.url)
        user = self.username if self.password is None else f"{self.username}:{self.password}"
        return redact_url(urlunsplit(parts._replace(netloc=f"{user}@{parts.netloc}")))

    def push(self, job: str, families: list[Metric], grouping_key: dict[str, str], timeout: float) -> None:
        push_to_gateway(
            self.url,
            job,
            Families(families),
            grouping_key=grouping_key,
            timeout=timeout,
            handler=self._handler,
        )

    def _handler(self, url: str, method: str, timeout: float | None, headers: list[Any], data: bytes) -> Any:
        if self.username is None:
            return default_handler(url, method, timeout, headers, data)
        return basic_auth_handler(url, method, timeout, headers, data, self.username, self.password)


def read_last_success(path: str, name: str, labels: Mapping[str, str]) -> float | None:
    """The last-success time in a textfile we wrote before, for the same spider and shard."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        logger.warning("cannot read the previous metrics textfile %s: %s", path, exc)
        return None
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return float(sample.value)
    except ValueError as exc:
        logger.warning("previous metrics textfile %s is not in the exposition format: %s", path, exc)
    return None


def parse_ports(value: Any) -> list[int]:
    """PROMETHEUS_PORT: 0/empty (off), a port, or a range "low,high" / [low, high]."""
    if not value or value == "0":
        return []
    if isinstance(value, int):
        return [value]
    parts = value.replace("-", ",").split(",") if isinstance(value, str) else list(value)
    ports = [int(part) for part in parts if str(part).strip()]
    if not 1 <= len(ports) <= 2 or ports[0] > ports[-1] or ports[0] <= 0:
        raise ValueError(f"PROMETHEUS_PORT must be a port or a range low,high, not {value!r}")
    return ports


def _file_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", text)


@dataclass(frozen=True)
class ExporterConfig:
    """The settings, read once."""

    prefix: str
    job: str
    grouping_key: dict[str, str]
    gateway: Gateway | None
    push_timeout: float
    interval: float
    textfile: str
    ports: list[int]
    host: str
    sample_interval: float

    @classmethod
    def from_settings(cls, settings: BaseSettings, environ: Mapping[str, str] = os.environ) -> Self:
        prefix = settings.get("PROMETHEUS_METRIC_PREFIX", PROMETHEUS_METRIC_PREFIX)
        if not isinstance(prefix, str) or not _VALID_PREFIX.fullmatch(prefix):
            raise ValueError(f"PROMETHEUS_METRIC_PREFIX must match [A-Za-z_][A-Za-z0-9_]*, not {prefix!r}")
        gateway = settings.get("PROMETHEUS_PUSHGATEWAY", PROMETHEUS_PUSHGATEWAY) or environ.get(
            GATEWAY_ENV, ""
        )
        grouping = settings.getdict("PROMETHEUS_GROUPING_KEY", PROMETHEUS_GROUPING_KEY)
        return cls(
            prefix=prefix,
            job=str(settings.get("PROMETHEUS_JOB", PROMETHEUS_JOB)),
            grouping_key={str(k): str(v) for k, v in grouping.items()},
            gateway=Gateway.parse(gateway) if gateway else None,
            push_timeout=settings.getfloat("PROMETHEUS_PUSH_TIMEOUT", PROMETHEUS_PUSH_TIMEOUT),
            interval=settings.getfloat("PROMETHEUS_PUSH_INTERVAL", PROMETHEUS_PUSH_INTERVAL),
            textfile=str(settings.get("PROMETHEUS_TEXTFILE", PROMETHEUS_TEXTFILE) or ""),
            ports=parse_ports(settings.get("PROMETHEUS_PORT", PROMETHEUS_PORT)),
            host=str(settings.get("PROMETHEUS_HOST", PROMETHEUS_HOST)),
            sample_interval=settings.getfloat("PROMETHEUS_SAMPLE_INTERVAL", PROMETHEUS_SAMPLE_INTERVAL),
        )

    @property
    def exports(self) -> bool:
        """Whether anything is pushed or written (the outputs an interval applies to)."""
        return self.gateway is not None or bool(self.textfile)


@dataclass(frozen=True)
class Snapshot:
    """One collection, shaped for each output; built in the reactor thread, written out in another."""

    run: list[Metric]
    labelled: list[Metric]
    success: list[Metric] = field(default_factory=list)


@dataclass
class ExportOutcome:
    pushed: bool | None = None
    written: bool | None = None


class _MetricsPage(Resource):
    isLeaf = True

    def __init__(self, render: Callable[[], bytes]) -> None:
        super().__init__()
        self._render = render

    def render_GET(self, request: Request) -> bytes:
        if request.path != b"/metrics":
            request.setResponseCode(404)
            return b"metrics are at /metrics\n"
        try:
            body = self._render()
        except Exception:
            logger.exception("collecting metrics for /metrics failed")
            request.setResponseCode(500)
            return b"collecting metrics failed; see the crawl's log\n"
        request.setHeader(b"Content-Type", CONTENT_TYPE_PLAIN_0_0_4.encode())
        return body


class _QuietSite(Site):
    """No access log: a scrape every 15 s would fill the crawl's log."""

    noisy = False

    def log(self, request: http.Request) -> None:
        return None


# --- The extension ------------------------------------------------------------------------------


class PrometheusExporter:
    """The Scrapy extension: wires the collector to signals and to the configured outputs."""

    def __init__(self, crawler: Crawler, config: ExporterConfig) -> None:
        assert crawler.stats is not None
        self.crawler = crawler
        self.config = config
        self.stats = crawler.stats
        self.collector = CrawlCollector(config.prefix, crawler.stats, ProcessSampler())
        # Private to this crawler: several crawlers in one process must not mix their metrics.
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.collector)
        self.target_labels: dict[str, str] = {}
        self.grouping_key: dict[str, str] = {}
        self.textfile = ""
        self._export_lock = DeferredLock()
        self._push_failing = False
        self._tasks: list[Any] = []
        self._listener: Port | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        config = ExporterConfig.from_settings(crawler.settings)
        if not (config.exports or config.ports):
            # Off by default, so said at DEBUG: Scrapy logs a NotConfigured with a message as a warning.
            logger.debug("metrics off: set PROMETHEUS_PUSHGATEWAY, PROMETHEUS_TEXTFILE or PROMETHEUS_PORT")
            raise NotConfigured
        if config.textfile and not config.textfile.endswith(".prom"):
            logger.warning(
                "PROMETHEUS_TEXTFILE %s: node_exporter reads only files ending in .prom", config.textfile
            )
        exporter = cls(crawler, config)
        crawler.signals.connect(exporter.spider_opened, signal=signals.spider_opened)
        collector = exporter.collector
        crawler.signals.connect(collector.on_locality_finished, signal=newhomie_signals.locality_finished)
        crawler.signals.connect(collector.on_db_batch_written, signal=newhomie_signals.db_batch_written)
        crawler.signals.connect(collector.on_browser_restarted, signal=newhomie_signals.browser_restarted)
        return exporter

    def name_run(self, spider: Spider) -> None:
        """The labels that name this run: spider, shard (when the spider has one), instance."""
        shard = getattr(spider, "shard", None)
        shard = str(shard) if shard not in (None, "") else None
        self.target_labels = {"spider": spider.name, **({"shard": shard} if shard else {})}
        self.grouping_key = {
            "instance": socket.gethostname(),
            **self.config.grouping_key,
            **self.target_labels,
        }
        if self.config.textfile:
            self.textfile = self.config.textfile.replace("{spider}", _file_safe(spider.name)).replace(
                "{shard}", _file_safe(shard or "all")
            )

    def spider_opened(self, spider: Spider) -> None:
        self.name_run(spider)
        if self.textfile:
            self.collector.run.carried_last_success = read_last_success(
                self.textfile, f"{self.config.prefix}_last_success_timestamp_seconds", self.target_labels
            )
        # Connected now, not in from_crawler: it then runs after the other components' handlers.
        self.crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        if self.config.ports:
            self._listen()
        if self.config.exports and self.config.interval > 0:
            self._start(self.export_tick, self.config.interval, now=True)
        if self.config.sample_interval > 0:
            self._start(self.sample_tick, self.config.sample_interval, now=False)

    async def spider_closed(self, reason: str) -> None:
        for task in self._tasks:
            if task.running:
                task.stop()
        self.collector.close(reason, time.time())
        snapshot = self.snapshot(final=True)  # now, while the browser still runs
        self._stop_listening()
        if self.config.exports:
            # After any interval export still under way, so that the final figures land last.
            exported = self._export_lock.run(deferToThread, self.write_out, snapshot)
            self._count(await maybe_deferred_to_future(exported))

    def export_tick(self) -> None:
        """A push and write during the crawl; skipped while the previous one is still under way."""
        if self._export_lock.locked:
            logger.debug("previous metrics export still running; this one skipped")
            return
        snapshot = self.snapshot(final=False)
        exported = self._export_lock.run(deferToThread, self.write_out, snapshot)
        exported.addCallbacks(self._count, lambda failure: logger.error("metrics export failed: %s", failure))

    def snapshot(self, final: bool) -> Snapshot:
        started = time.thread_time()
        families = list(self.registry.collect())
        last_success_name = f"{self.config.prefix}_last_success_timestamp_seconds"
        run = [family for family in families if family.name != last_success_name]
        success: list[Metric] = []
        # Its own group holds only what this run (or the health verdict) knows, never the value
        # carried over from an old textfile, which could be older than another host's push.
        from_run = self.collector.run.succeeded_at is not None
        if final and (from_run or stat_number(self.stats.get_value(LAST_SUCCESS_STAT)) is not None):
            success = [family for family in families if family.name == last_success_name]
        snapshot = Snapshot(run=run, labelled=with_labels(families, self.target_labels), success=success)
        self._account(started)
        return snapshot

    def write_out(self, snapshot: Snapshot) -> ExportOutcome:
        """Runs in a thread: file and network only, no stats."""
        outcome = ExportOutcome()
        if self.textfile:
            try:
                write_to_textfile(self.textfile, Families(snapshot.labelled))
                outcome.written = True
            except OSError as exc:
                logger.error("writing the metrics textfile %s failed: %s", self.textfile, exc)
                outcome.written = False
        if self.config.gateway is not None:
            outcome.pushed = self._push(self.config.gateway, snapshot)
        return outcome

    def _push(self, gateway: Gateway, snapshot: Snapshot) -> bool:
        groups = [(self.grouping_key, snapshot.run)]
        if snapshot.success:
            success_key = {k: v for k, v in self.grouping_key.items() if k != "instance"}
            groups.append((success_key, snapshot.success))
        try:
            for grouping_key, families in groups:
                gateway.push(self.config.job, families, grouping_key, self.config.push_timeout)
        except Exception as exc:  # urllib's errors, the gateway's refusals, a malformed URL: never fatal
            # The URL pushed to has no credentials, so no message can carry them.
            (logger.warning if self._push_failing else logger.error)(
                "metrics push to %s failed (%s): %s", gateway.shown, type(exc).__name__, exc
            )
            self._push_failing = True
            return False
        if self._push_failing:
            logger.info("metrics push to %s works again", gateway.shown)
            self._push_failing = False
        return True

    def render(self) -> bytes:
        """The /metrics page."""
        started = time.thread_time()
        page = generate_latest(Families(with_labels(self.registry.collect(), self.target_labels)))
        self._account(started)
        return page

    def sample_tick(self) -> None:
        """A process sample between exports, for the memory peaks."""
        started = time.thread_time()
        self.collector.sampler.sample()
        self._account(started)

    def _account(self, started: float) -> None:
        """The exporter's own CPU (the reactor thread's), in the crawl's stats."""
        self.stats.inc_value("newhomie/metrics/collects")
        spent = time.thread_time() - started
        # set_value: inc_value is typed for whole counts.
        self.stats.set_value(CPU_STAT, self.stats.get_value(CPU_STAT, 0.0) + spent)

    def _count(self, outcome: ExportOutcome) -> None:
        """Back in the reactor thread: the outcome in the crawl's stats."""
        for done, ok_stat, failed_stat in (
            (outcome.pushed, "pushes", "push_failures"),
            (outcome.written, "textfile_writes", "textfile_failures"),
        ):
            if done is not None:
                self.stats.inc_value(f"newhomie/metrics/{ok_stat if done else failed_stat}")

    def _start(self, function: Callable[[], object], interval: float, now: bool) -> None:
        task = create_looping_call(function)
        task.start(interval, now=now)
        self._tasks.append(task)

    def _listen(self) -> None:
        site: Any = _QuietSite(_MetricsPage(self.render))
        try:
            listener = listen_tcp(self.config.ports, self.config.host, site)
        except CannotListenError as exc:  # a port taken must not stop the crawl
            logger.error("no /metrics endpoint: %s", exc)
            return
        self._listener = listener
        logger.info("metrics at http://%s:%s/metrics", self.config.host, listener.getHost().port)

    def _stop_listening(self) -> None:
        if self._listener is not None:
            self._listener.stopListening()
            self._listener = None
