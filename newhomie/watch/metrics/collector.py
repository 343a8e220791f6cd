"""All metrics of one crawl, built afresh at each collection from the stats, the signals' records and
a process sample."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from scrapy.statscollectors import StatsCollector

from newhomie.watch.metrics.families import (
    DB_BATCH_BUCKETS,
    HEALTHY_STAT,
    LAST_SUCCESS_STAT,
    LOCALITY_BUCKETS,
    BucketCounts,
    StatsTranslator,
    counter_family,
    stat_number,
)
from newhomie.watch.metrics.processes import ProcessSampler


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
