"""deploy/grafana and deploy/prometheus name only what the exporter really exports.

The names come from a real exporter (newhomie.watch.metrics.PrometheusExporter on a real Scrapy crawler,
with a Chromium child for the browser figures) fed a representative set of the crawl's stats and
signals, never from a list written here; every metric, label and label value the dashboard and the
alert rules select must be among them.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psutil
import pytest
import yaml
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from scrapy import Spider
from scrapy.utils.test import get_crawler

from newhomie import signals as newhomie_signals
from newhomie.browser.chromium import resolve_chromium
from newhomie.watch.metrics import PrometheusExporter
from newhomie.watch.metrics.families import Families
from newhomie.watch.metrics.processes import is_browser_process
from tests.paths import REPO

DASHBOARD = REPO / "deploy" / "grafana" / "newhomie-dashboard.json"
ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"
SCRAPE_CONFIG = REPO / "deploy" / "prometheus" / "prometheus.example.yml"

#: Labels a sample has beyond its own: the push's grouping key (job, instance, spider, shard), or
#: spider and shard on the textfile's and /metrics' samples with job and instance from the scrape.
TARGET_LABELS = frozenset({"job", "instance", "spider", "shard"})
#: PromQL words that are neither metrics nor functions called with "(" right after them.
PROMQL_WORDS = frozenset({"and", "or", "unless", "bool", "offset", "inf", "nan"})
AGGREGATIONS = frozenset(
    {"sum", "min", "max", "avg", "count", "group", "stddev", "stdvar", "topk", "bottomk"}
)

#: The stats a crawl leaves (names as the spider, middlewares, pipelines and Scrapy count them).
REPRESENTATIVE_STATS: dict[str, Any] = {
    "start_time": datetime(2025, 2, 1, 1, 0, tzinfo=UTC),
    "finish_time": datetime(2025, 2, 1, 3, 0, tzinfo=UTC),
    "elapsed_time_seconds": 7200.0,
    "finish_reason": "finished",
    "item_scraped_count": 1400,
    "response_received_count": 120,
    "downloader/response_status_count/200": 118,
    "downloader/response_status_count/403": 2,
    "log_count/ERROR": 3,
    "memusage/max": 250_000_000,
    "newhomie/pages/profile/ok": 3,
    "newhomie/pages/sale/ok": 60,
    "newhomie/pages/sale/blocked": 2,
    "newhomie/pages/rent/not_found": 1,
    "newhomie/pages/sold/error": 1,
    "newhomie/items/listing/sale": 700,
    "newhomie/items/listing/rent": 300,
    "newhomie/items/listing/sold": 390,
    "newhomie/items/suburb_profile": 3,
    "newhomie/price/parsed": 900,
    "newhomie/price/unparsed": 12,
    "newhomie/price/no_price_phrase": 88,
    "newhomie/errors/sale_search/TimeoutError": 2,
    "newhomie/errors/profile/PageShapeError": 1,
    "newhomie/blocked": 2,
    "newhomie/blocked/status_403": 2,
    "newhomie/browser/restarts": 1,
    "newhomie/db/rows_written": 1390,
    "newhomie/db/rows_rejected": 4,
    "newhomie/localities/done": 3,
    "newhomie/health/healthy": 1,
}


@dataclass(frozen=True)
class Selector:
    metric: str
    #: (label, operator, value) of each matcher between braces.
    matchers: tuple[tuple[str, str, str], ...]


def read_promql(expr: str) -> tuple[list[Selector], set[str]]:
    """The series selectors of a PromQL expression, and the labels it groups or matches by."""
    text = re.sub(r"\[[^\]]*\]", " ", expr)  # range and subquery durations, $__rate_interval
    selectors = []
    for match in re.finditer(r"(?<![\w$.])([A-Za-z_:][\w:]*)?\s*\{([^}]*)\}", text):
        matchers = tuple(
            (label, operator, value)
            for label, operator, value in re.findall(r'(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"', match[2])
        )
        selectors.append(Selector(match[1] or "", matchers))
    text = re.sub(r"(?<![\w$.])([A-Za-z_:][\w:]*)?\s*\{[^}]*\}", " ", text)
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)  # strings outside selectors (label_replace's)
    grouping = re.findall(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", text)
    labels = {label.strip() for group in grouping for label in group.split(",") if label.strip()}
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    for match in re.finditer(r"(?<![\w$.])([A-Za-z_:][\w:]*)\b(?!\s*\()", text):
        word = match[1]
        if word.lower() not in PROMQL_WORDS and word not in AGGREGATIONS:
            selectors.append(Selector(word, ()))
    return selectors, labels


@dataclass(frozen=True)
class Exported:
    """Sample name -> label -> the values seen, from a real exporter."""

    labels: dict[str, dict[str, set[str]]]

    def check(self, expr: str, where: str) -> set[str]:
        """Asserts every selector of `expr` selects exported series; returns the metrics it names."""
        selectors, grouping = read_promql(expr)
        assert selectors, f"{where}: no metric in {expr!r}"
        known_labels = set(TARGET_LABELS) | {"le"}
        for selector in selectors:
            assert selector.metric in self.labels, f"{where}: {selector.metric} is not exported ({expr!r})"
            own = self.labels[selector.metric]
            known_labels |= set(own)
            for label, operator, value in selector.matchers:
                assert label in own or label in TARGET_LABELS, (
                    f"{where}: {selector.metric} has no label {label}"
                )
                if operator == "=" and "$" not in value and label not in TARGET_LABELS:
                    assert value in own[label], (
                        f"{where}: {selector.metric}{{{label}={value!r}}} never exported"
                    )
        unknown = grouping - known_labels
        assert not unknown, f"{where}: grouped by labels no selected metric has: {unknown}"
        return {selector.metric for selector in selectors}


def chromium_runs(pid: int) -> bool:
    """The browser is up: it has children, and every one is Chromium's."""
    try:
        children = psutil.Process(pid).children(recursive=True)
        return bool(children) and all(is_browser_process(child) for child in children)
    except psutil.Error:
        return False  # a helper ended while we looked


@pytest.fixture(scope="module")
def browser_child() -> Iterator[subprocess.Popen[bytes]]:
    """A real Chromium as a child of this process: the exporter's "browser" group."""
    chromium = resolve_chromium(None)
    command = [str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0"]
    process = subprocess.Popen(
        [*command, "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    # Wait for Chromium's own children (zygote, GPU, network), not for a time. Debian's /usr/bin/chromium
    # is a shell script whose helpers (uname, grep, tr) come first: they are not the browser.
    deadline = time.monotonic() + 60
    while not chromium_runs(process.pid):
        assert process.poll() is None, "Chromium did not start"
        assert time.monotonic() < deadline, "Chromium started no processes of its own"
        time.sleep(0.05)
    yield process
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def exported(browser_child: subprocess.Popen[bytes], tmp_path_factory: pytest.TempPathFactory) -> Exported:
    textfile = tmp_path_factory.mktemp("metrics") / "newhomie.prom"
    settings = {"PROMETHEUS_TEXTFILE": str(textfile), "PROMETHEUS_SAMPLE_INTERVAL": 0}
    crawler = get_crawler(settings_dict=settings)
    exporter = PrometheusExporter.from_crawler(crawler)
    exporter.spider_opened(Spider("listings", shard="3/90"))
    assert crawler.stats is not None
    for stat, value in REPRESENTATIVE_STATS.items():
        crawler.stats.set_value(stat, value)
    send = crawler.signals.send_catch_log
    for status, seconds in (("done", 300.0), ("not_found", 2.0), ("failed", 1800.0)):
        send(newhomie_signals.locality_finished, locality="Dandenong VIC 3175", slug="dandenong-vic-3175",
             status=status, seconds=seconds, pages=12, listings=200, errors=0, attempt=1)  # fmt: skip
    send(newhomie_signals.db_batch_written, rows=500, rejected=2, seconds=0.4)
    send(newhomie_signals.browser_restarted, reason="memory")
    exporter.collector.close("finished", time.time())
    # What the textfile and /metrics carry: every family, with spider and shard.
    text = generate_latest(Families(exporter.snapshot(final=True).labelled)).decode()
    labels: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels[sample.name]  # a metric without labels is exported all the same
            for label, value in sample.labels.items():
                labels[sample.name][label].add(value)
    assert labels["scrapy_process_cpu_seconds_total"]["process"] == {"crawler", "browser"}
    return Exported({name: dict(values) for name, values in labels.items()})


def dashboard_queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(panel title, panel type, expr) of every query of the dashboard, rows' panels included."""
    panels = list(dashboard["panels"])
    while panels:
        panel = panels.pop(0)
        panels.extend(panel.get("panels", []))
        for target in panel.get("targets", []):
            yield panel["title"], panel["type"], target["expr"]


def test_every_series_the_dashboard_selects_is_exported(exported: Exported) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    used: dict[str, set[str]] = defaultdict(set)  # panel type -> metrics
    for title, kind, expr in dashboard_queries(dashboard):
        used[kind] |= exported.check(expr, f"panel {title!r}")
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            match = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", variable["definition"])
            assert match, variable["definition"]
            [metric] = exported.check(match[1], f"variable {variable['name']}")
            assert match[2] in exported.labels[metric] or match[2] in TARGET_LABELS
    # What the dashboard is for: throughput, errors over time by stage, localities' durations,
    # the crawler's and browser's CPU and memory, blocks and browser restarts.
    everything = set().union(*used.values())
    assert {
        "scrapy_pages_total",
        "scrapy_items_total",
        "scrapy_process_cpu_seconds_total",
        "scrapy_process_resident_memory_bytes",
        "scrapy_blocked_total",
        "scrapy_browser_restarts_total",
    } <= everything
    assert {"scrapy_errors_total", "scrapy_locality_duration_seconds_bucket"} <= used["heatmap"]


def test_the_dashboard_is_a_grafana_dashboard_on_a_prometheus_datasource() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"]
    assert dashboard["title"]
    assert dashboard["schemaVersion"] >= 36
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    [source] = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    assert source["query"] == "prometheus"
    for panel in dashboard["panels"]:
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        if panel["type"] != "row":
            assert panel["targets"], panel["title"]
            assert panel["datasource"]["uid"] == "${" + source["name"] + "}"


def test_every_series_the_alert_rules_select_is_exported(exported: Exported) -> None:
    rules = yaml.safe_load(ALERTS.read_text())
    names = []
    for group in rules["groups"]:
        assert group["name"]
        assert group["rules"]
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
            names.append(rule["alert"])
            exported.check(rule["expr"], f"alert {rule['alert']}")
            assert re.fullmatch(r"\d+[smhd]", rule.get("for", "0s")), rule
            assert rule["labels"]["severity"] in {"info", "warning", "critical"}
            assert rule["annotations"]["summary"]
    assert len(names) == len(set(names))
    # The two the crawl's health needs: the last run unhealthy, and no healthy run for days.
    expressions = {rule["alert"]: rule["expr"] for group in rules["groups"] for rule in group["rules"]}
    assert "scrapy_run_healthy" in expressions["NewhomieCrawlUnhealthy"]
    assert "scrapy_last_success_timestamp_seconds" in expressions["NewhomieNoSuccessfulCrawl"]


def test_the_scrape_config_keeps_the_pushed_labels_and_loads_the_rules() -> None:
    config = yaml.safe_load(SCRAPE_CONFIG.read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert len(jobs) == len(config["scrape_configs"])
    assert jobs["pushgateway"]["honor_labels"] is True  # job, instance, spider, shard as pushed
    assert all(job["static_configs"][0]["targets"] for job in jobs.values())
    assert any(path.endswith("alerts.yml") for path in config["rule_files"])


@pytest.mark.parametrize(
    ("expr", "metrics", "grouping"),
    [
        ("max by (spider, shard) (scrapy_run_healthy) == 0", {"scrapy_run_healthy"}, {"spider", "shard"}),
        (
            'sum(rate(x_total{a="1", b=~"$v"}[$__rate_interval])) / sum(y) > 4e9',
            {"x_total", "y"},
            set(),
        ),
        ("time() - max by (s) (t_seconds) > 2 * 86400", {"t_seconds"}, {"s"}),
        ("changes(r[30m]) == 0 unless on (instance) f", {"r", "f"}, {"instance"}),
    ],
)
def test_the_promql_reader_finds_the_metrics_and_grouping_labels(
    expr: str, metrics: set[str], grouping: set[str]
) -> None:
    selectors, labels = read_promql(expr)
    assert {s.metric for s in selectors} == metrics
    assert labels == grouping


def test_the_promql_reader_reads_every_matcher() -> None:
    selectors, _ = read_promql('rate(x_total{a="1", b=~"$v", c!="z"}[5m]) / y{d="2"}')
    assert selectors == [
        Selector("x_total", (("a", "=", "1"), ("b", "=~", "$v"), ("c", "!=", "z"))),
        Selector("y", (("d", "=", "2"),)),
    ]


def test_the_check_refuses_a_metric_label_or_value_that_is_not_exported(exported: Exported) -> None:
    with pytest.raises(AssertionError, match="scrapy_pages is not exported"):
        exported.check("rate(scrapy_pages[5m])", "test")
    with pytest.raises(AssertionError, match="has no label kind"):
        exported.check('scrapy_items_total{kind="sale"}', "test")
    with pytest.raises(AssertionError, match="never exported"):
        exported.check('scrapy_process_cpu_seconds_total{process="chrome"}', "test")
    with pytest.raises(AssertionError, match="grouped by labels"):
        exported.check("sum by (stage) (scrapy_items_total)", "test")
