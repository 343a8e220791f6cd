"""Scrapy stats and our signals' records as Prometheus metric families: labelled families for our
stats, a gauge for any other number, histograms kept by hand."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString

logger = logging.getLogger(__name__)


HEALTHY_STAT = "newhomie/health/healthy"
LAST_SUCCESS_STAT = "newhomie/health/last_success_timestamp"
ROWS_WRITTEN_STAT = "newhomie/db/rows_written"
ROWS_REJECTED_STAT = "newhomie/db/rows_rejected"
CPU_STAT = "newhomie/metrics/collect_cpu_seconds"

#: Locality crawls take from a second (not found) to half an hour (a big suburb, slowly).
LOCALITY_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 900, 1200, 1800)
#: A batch of up to 500 rows: milliseconds normally, a minute when the server is in trouble.
DB_BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


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
        "pages_saved",
        "Pages an incremental crawl left unread, by kind (sold pages of known sales, fresh profiles).",
        r"newhomie/pages_saved/(?P<kind>[^/]+)",
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
