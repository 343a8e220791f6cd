"""The Scrapy extension: wires the collector to signals and to the configured outputs."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from typing import Any, Self

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import (
    generate_latest,
    write_to_textfile,
)
from prometheus_client.metrics_core import (
    Metric,
)
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.reactor import listen_tcp
from twisted.internet.defer import DeferredLock
from twisted.internet.error import CannotListenError
from twisted.internet.tcp import Port
from twisted.internet.threads import deferToThread

from newhomie import signals as newhomie_signals
from newhomie.watch.metrics.collector import CrawlCollector
from newhomie.watch.metrics.config import (
    ExporterConfig,
    file_safe,
)
from newhomie.watch.metrics.families import CPU_STAT, LAST_SUCCESS_STAT, Families, stat_number, with_labels
from newhomie.watch.metrics.outputs import (
    ExportOutcome,
    Gateway,
    MetricsPage,
    QuietSite,
    Snapshot,
    read_last_success,
)
from newhomie.watch.metrics.processes import ProcessSampler

logger = logging.getLogger(__name__)


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
            self.textfile = self.config.textfile.replace("{spider}", file_safe(spider.name)).replace(
                "{shard}", file_safe(shard or "all")
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
        site: Any = QuietSite(MetricsPage(self.render))
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
