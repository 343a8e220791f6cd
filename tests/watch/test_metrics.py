"""The Prometheus exporter (newhomie.watch.metrics): stat naming, its switches, and real crawls of the local
site that push to a real Pushgateway, write a textfile and serve /metrics while they run."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from scrapy import Spider
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from newhomie import settings as project_settings
from newhomie.testing.fakesite import RunningSite
from newhomie.testing.fixtures import FakeSiteFactory
from newhomie.watch.metrics import PrometheusExporter
from newhomie.watch.metrics.families import StatsTranslator, metric_name
from newhomie.watch.metrics.outputs import Gateway, read_last_success
from tests.crawling import fetch_all, run_crawl, start_crawl

#: Debian's package (scripts/setup.sh installs it); the upstream binary is called pushgateway.
PUSHGATEWAY = shutil.which("prometheus-pushgateway") or shutil.which("pushgateway")
#: `-s EXTENSIONS=...` replaces the project's dict: the project's extensions and ours.
EXPORTER = json.dumps(
    {**getattr(project_settings, "EXTENSIONS", {}), "newhomie.watch.metrics.PrometheusExporter": 500}
)
JOB = "newhomie-test"
#: Labels the exporter adds (push: the group; textfile and /metrics: on every sample).
RUN_LABELS = {"spider": "listings", "shard": "1/1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def samples_of(text: str) -> list[Sample]:
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def only(samples: list[Sample], name: str, **labels: str) -> float:
    """The value of the one sample named `name` whose labels include `labels`."""
    found = [s for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, f"{name}{labels}: {found or 'absent'}"
    return found[0].value


@pytest.fixture
def pushgateway(tmp_path: Path) -> Iterator[str]:
    """A real Pushgateway on a free loopback port, stopped after the test."""
    assert PUSHGATEWAY, (
        "no Pushgateway: apt-get install prometheus-pushgateway (scripts/setup.sh does, as root)"
    )
    port = free_port()
    log = (tmp_path / "pushgateway.log").open("w")
    # Debian's build persists to /var/lib/prometheus by default: this one keeps its state in memory.
    command = [PUSHGATEWAY, f"--web.listen-address=127.0.0.1:{port}", "--persistence.file="]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if http_get(f"{url}/-/ready")[0] == 200:
                    break
            except OSError:
                pass  # not listening yet
            assert process.poll() is None, (tmp_path / "pushgateway.log").read_text()
            assert time.monotonic() < deadline, "the Pushgateway did not become ready"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def gateway_samples(url: str) -> list[Sample]:
    """What the gateway holds for our test job (it also exports its own metrics)."""
    status, text = http_get(f"{url}/metrics")
    assert status == 200
    return [s for s in samples_of(text) if s.labels.get("job") == JOB]


# --- Naming ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stat", "name"),
    [
        ("item_scraped_count", "scrapy_item_scraped_count"),
        ("downloader/response_status_count/200", "scrapy_downloader_response_status_count_200"),
        ("log_count/INFO", "scrapy_log_count_INFO"),
        (
            "downloader/exception_type_count/twisted.internet.error.TimeoutError",
            "scrapy_downloader_exception_type_count_twisted_internet_error_TimeoutError",
        ),
        ("playwright/page_count/max_concurrent", "scrapy_playwright_page_count_max_concurrent"),
        ("newhomie/blocked/status_403", "scrapy_newhomie_blocked_status_403"),
        ("odd stat-name:with+chars", "scrapy_odd_stat_name_with_chars"),
    ],
)
def test_a_stat_name_becomes_the_metric_name_scrapy_prometheus_gave_it(stat: str, name: str) -> None:
    assert metric_name("scrapy", stat) == name
    [family] = StatsTranslator("scrapy").translate({stat: 7})
    assert (family.name, family.type, family.samples[0].value) == (name, "gauge", 7.0)


def test_our_stats_become_labelled_families_and_the_rest_gauges(caplog: pytest.LogCaptureFixture) -> None:
    stats = {
        "newhomie/pages/sale/ok": 12,
        "newhomie/pages/rent/blocked": 2,
        "newhomie/items/listing/sale": 200,
        "newhomie/items/listing/rent": 90,
        "newhomie/items/suburb_profile": 3,
        "newhomie/price/unparsed": 4,
        "newhomie/errors/sale_search/TimeoutError": 5,
        "newhomie/errors/sale_search": 9,  # not the family's shape: stays a gauge of its own
        "newhomie/blocked": 6,
        "newhomie/pages_saved/sold": 40,
        "start_time": datetime(2025, 2, 1, 0, 0, tzinfo=UTC),
        "finish_reason": "finished",  # text: not a metric
        "newhomie/health/healthy": 1,  # the health gauge's, not a stat-named one
        "pages_total": 1,  # would clash with the pages family: left out, and said so
    }
    with caplog.at_level(logging.WARNING, logger="newhomie.watch.metrics"):
        families = {f.name: f for f in StatsTranslator("scrapy").translate(stats)}
    samples = [s for f in families.values() for s in f.samples]

    assert only(samples, "scrapy_pages_total", kind="sale", outcome="ok") == 12
    assert only(samples, "scrapy_pages_total", kind="rent", outcome="blocked") == 2
    assert only(samples, "scrapy_items_total", type="rent") == 90
    assert only(samples, "scrapy_items_total", type="suburb_profile") == 3
    assert only(samples, "scrapy_prices_total", outcome="unparsed") == 4
    assert only(samples, "scrapy_errors_total", stage="sale_search", error_type="TimeoutError") == 5
    assert only(samples, "scrapy_newhomie_errors_sale_search") == 9
    assert only(samples, "scrapy_blocked_total") == 6
    assert only(samples, "scrapy_pages_saved_total", kind="sold") == 40
    assert only(samples, "scrapy_start_time_seconds") == datetime(2025, 2, 1, tzinfo=UTC).timestamp()
    assert {s.name for s in samples} == {
        "scrapy_pages_total",
        "scrapy_items_total",
        "scrapy_prices_total",
        "scrapy_errors_total",
        "scrapy_newhomie_errors_sale_search",
        "scrapy_blocked_total",
        "scrapy_pages_saved_total",
        "scrapy_start_time_seconds",
    }
    assert "stat 'pages_total' would be exported as scrapy_pages_total, which is taken" in caplog.text


def test_without_an_output_the_extension_is_off_quietly(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("PROMETHEUS_PUSHGATEWAY", raising=False)
    caplog.set_level(logging.DEBUG, logger="newhomie.watch.metrics")
    with pytest.raises(NotConfigured) as off:
        PrometheusExporter.from_crawler(get_crawler())
    # No message: Scrapy would log one as a warning on every crawl that does not export metrics.
    assert not off.value.args
    assert "PROMETHEUS_PUSHGATEWAY, PROMETHEUS_TEXTFILE or PROMETHEUS_PORT" in caplog.text
    with pytest.raises(NotConfigured):
        PrometheusExporter.from_crawler(get_crawler(settings_dict={"PROMETHEUS_PORT": 0}))
    assert PrometheusExporter.from_crawler(
        get_crawler(settings_dict={"PROMETHEUS_PORT": 9})
    ).config.ports == [9]
    # A URL with a password belongs in the environment: Scrapy logs the settings it was given.
    monkeypatch.setenv("PROMETHEUS_PUSHGATEWAY", "http://u:pw@gateway:9091")
    exporter = PrometheusExporter.from_crawler(get_crawler())
    assert exporter.config.gateway == Gateway("http://gateway:9091", "u", "pw")


def test_gateway_credentials_go_to_basic_auth_and_logs_show_them_masked() -> None:
    gateway = Gateway.parse("https://crawler:s3cret@push.example:9091/base")
    assert gateway.url == "https://push.example:9091/base"
    assert (gateway.username, gateway.password) == ("crawler", "s3cret")
    assert gateway.shown == "https://crawler:***@push.example:9091/base"
    assert Gateway.parse("localhost:9091") == Gateway("http://localhost:9091")  # scrapy-prometheus's form


def test_a_run_that_fails_keeps_the_last_success_in_the_textfile(tmp_path: Path) -> None:
    path = tmp_path / "crawl-{shard}.prom"
    settings = {"PROMETHEUS_TEXTFILE": str(path), "PROMETHEUS_SAMPLE_INTERVAL": 0}
    spider = Spider("listings", shard="2/9")
    written = tmp_path / "crawl-2-9.prom"

    def run(reason: str) -> list[Sample]:
        exporter = PrometheusExporter.from_crawler(get_crawler(settings_dict=settings))
        exporter.spider_opened(spider)
        exporter.collector.close(reason, time.time())
        exporter.write_out(exporter.snapshot(final=True))
        return samples_of(written.read_text())

    before = time.time()
    first = run("finished")
    succeeded = only(first, "scrapy_last_success_timestamp_seconds", spider="listings", shard="2/9")
    assert before <= succeeded <= time.time()
    assert only(first, "scrapy_run_healthy", spider="listings", shard="2/9") == 1

    second = run("shutdown")
    assert only(second, "scrapy_run_healthy", spider="listings", shard="2/9") == 0
    assert only(second, "scrapy_last_success_timestamp_seconds", spider="listings", shard="2/9") == succeeded
    assert read_last_success(str(written), "scrapy_last_success_timestamp_seconds", {"shard": "1/9"}) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crawl-2-9.prom"]  # no temporary files left


def test_the_health_verdict_decides_whether_a_run_succeeded(tmp_path: Path) -> None:
    settings = {"PROMETHEUS_TEXTFILE": str(tmp_path / "m.prom"), "PROMETHEUS_SAMPLE_INTERVAL": 0}
    crawler = get_crawler(settings_dict=settings)
    exporter = PrometheusExporter.from_crawler(crawler)
    exporter.spider_opened(Spider("listings"))
    assert crawler.stats is not None
    crawler.stats.set_value("newhomie/health/healthy", 0)  # unhealthy, though it finished
    exporter.collector.close("finished", time.time())
    snapshot = exporter.snapshot(final=True)
    samples = [s for f in snapshot.run for s in f.samples]
    assert only(samples, "scrapy_run_healthy") == 0
    assert not [s for f in snapshot.labelled for s in f.samples if "last_success" in s.name]
    assert snapshot.success == []  # nothing for the last-success group: the previous success stands


# --- Real crawls ----------------------------------------------------------------------------------


def stat_samples(stats: dict[str, Any]) -> list[Sample]:
    """The samples the exporter's naming gives the numeric stats of a run."""
    numeric = {k: v for k, v in stats.items() if isinstance(v, int | float)}
    return [s for f in StatsTranslator("scrapy").translate(numeric) for s in f.samples]


@pytest.mark.e2e
def test_a_crawl_pushes_its_stats_and_process_figures_to_the_pushgateway_and_writes_the_textfile(
    fakesite: RunningSite, database_url: str, pushgateway: str, tmp_path: Path
) -> None:
    textfile = tmp_path / "newhomie-1-1.prom"
    textfile.write_text("# an older file, replaced whole\n")
    old_inode = textfile.stat().st_ino
    started = time.time()
    result = run_crawl(
        fakesite.base_url,
        database_url,
        ";".join(fakesite.site.locality_strings()),
        "-a",
        "shard=1/1",
        settings={
            "EXTENSIONS": EXPORTER,
            "PROMETHEUS_PUSHGATEWAY": pushgateway,
            "PROMETHEUS_JOB": JOB,
            "PROMETHEUS_TEXTFILE": str(tmp_path / "newhomie-{shard}.prom"),
            "PROMETHEUS_PUSH_INTERVAL": "0",  # at close only: one push to count
        },
    )
    finished = time.time()
    assert result.returncode == 0, result.stderr[-3000:]
    runs: list[dict[str, Any]] = fetch_all(database_url, "SELECT started_at, status, stats FROM crawl_run")
    [run] = runs
    stats: dict[str, Any] = run["stats"]
    listings: list[dict[str, Any]] = fetch_all(
        database_url, "SELECT listing_type, count(*) AS n FROM listing GROUP BY 1"
    )
    assert listings, "the crawl should have stored listings"

    pushed = gateway_samples(pushgateway)
    run_group = [s for s in pushed if s.labels.get("instance")]
    # Every sample of the run's group carries the grouping labels.
    assert run_group
    for sample in run_group:
        assert sample.labels["instance"] == socket.gethostname(), sample
        assert {k: sample.labels.get(k) for k in RUN_LABELS} == RUN_LABELS, sample

    # Scrapy's stats, as the run recorded them in the database, are what the gateway holds.
    assert only(pushed, "scrapy_item_scraped_count") == stats["item_scraped_count"]
    assert only(pushed, "scrapy_response_received_count") == stats["response_received_count"]
    for expected in stat_samples(stats):
        if "newhomie_metrics_" not in expected.name:  # the exporter's own accounting moves as it exports
            assert only(pushed, expected.name, **expected.labels) == expected.value, expected
    # Ours: listings by type and rows written, against the database itself.
    for row in listings:
        assert only(pushed, "scrapy_items_total", type=row["listing_type"]) == row["n"]
    assert only(pushed, "scrapy_db_rows_written_total") == stats["newhomie/db/rows_written"]
    assert only(pushed, "scrapy_start_time_seconds") == pytest.approx(run["started_at"].timestamp(), abs=10)
    # The health verdict's stat where the run has one, else "it finished".
    assert only(pushed, "scrapy_run_healthy") == stats.get("newhomie/health/healthy", 1) == 1

    # The crawler and its browser: CPU and memory, sampled while the browser still ran.
    for process in ("crawler", "browser"):
        assert only(pushed, "scrapy_process_cpu_seconds_total", process=process) > 0
        rss = only(pushed, "scrapy_process_resident_memory_bytes", process=process)
        assert rss > 10_000_000
        assert only(pushed, "scrapy_process_resident_memory_peak_bytes", process=process) >= rss
    assert only(pushed, "scrapy_processes", process="browser") >= 2  # Playwright's driver, Chromium

    # The last success has its own group, without instance, that a failed run never overwrites.
    last_success = only(pushed, "scrapy_last_success_timestamp_seconds", instance="", **RUN_LABELS)
    assert started <= last_success <= finished
    assert "'newhomie/metrics/pushes': 1" in result.stderr  # the final push, counted in the stats dump
    assert "PrometheusExporter." not in result.stderr  # no warning about any of its methods

    # The textfile: replaced whole (a new file renamed over the old), the same figures, labelled.
    assert textfile.stat().st_ino != old_inode
    written = samples_of(textfile.read_text())
    assert only(written, "scrapy_item_scraped_count", **RUN_LABELS) == stats["item_scraped_count"]
    assert only(written, "scrapy_last_success_timestamp_seconds", **RUN_LABELS) == last_success
    assert only(written, "scrapy_process_cpu_seconds_total", process="browser", **RUN_LABELS) > 0
    assert all(s.labels.get("spider") == "listings" for s in written)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("newhomie")) == [textfile.name]


@pytest.mark.e2e
def test_a_running_crawl_answers_on_metrics_and_pushes_and_writes_at_the_interval(
    fakesite_factory: FakeSiteFactory, database_url: str, pushgateway: str, tmp_path: Path
) -> None:
    running = fakesite_factory(localities=1, listings_per_locality=(45, 60))
    running.site.faults.slow_seconds = 2.0
    port = free_port()
    textfile = tmp_path / "live.prom"
    endpoint = f"http://127.0.0.1:{port}/metrics"
    settings = {
        "EXTENSIONS": EXPORTER,
        "PROMETHEUS_PORT": str(port),
        "PROMETHEUS_PUSHGATEWAY": pushgateway,
        "PROMETHEUS_JOB": JOB,
        "PROMETHEUS_PUSH_INTERVAL": "1",
        "PROMETHEUS_TEXTFILE": str(textfile),
    }
    localities = ";".join(running.site.locality_strings())
    log_path = tmp_path / "crawl.log"
    crawl = start_crawl(running.base_url, database_url, localities, settings=settings, log_path=log_path)
    try:
        live: list[Sample] = []
        deadline = time.monotonic() + 120
        while crawl.poll() is None and time.monotonic() < deadline:
            try:
                status, body = http_get(endpoint)
            except OSError:
                time.sleep(0.2)  # not listening yet
                continue
            assert status == 200
            live = samples_of(body)
            if any(s.name == "scrapy_response_received_count" and s.value >= 1 for s in live):
                break
            time.sleep(0.2)
        pushed_during = gateway_samples(pushgateway)
        textfile_during = samples_of(textfile.read_text()) if textfile.exists() else []
        still_running = crawl.poll() is None
        not_found = http_get(endpoint.replace("/metrics", "/")) if still_running else (0, "")
        returncode = crawl.wait(timeout=300)
    finally:
        if crawl.poll() is None:
            os.killpg(crawl.pid, signal.SIGKILL)  # its own process group: the crawler and its browser
            crawl.wait()
    log = log_path.read_text()
    assert returncode == 0, log[-3000:]
    assert still_running, "the crawl ended before it could be watched"

    # /metrics while it ran: live figures, labelled with the spider, and no end yet.
    assert only(live, "scrapy_response_received_count", spider="listings") >= 1
    assert only(live, "scrapy_process_resident_memory_bytes", process="crawler", spider="listings") > 0
    assert not [s for s in live if s.name in ("scrapy_finish_time_seconds", "scrapy_run_healthy")]
    assert not_found[0] == 404
    # The interval's pushes and writes happened before the end.
    assert only(pushed_during, "scrapy_start_time_seconds") > 0
    assert not [s for s in pushed_during if s.name == "scrapy_finish_time_seconds"]
    assert only(textfile_during, "scrapy_start_time_seconds", spider="listings") > 0

    # At the end: the final figures everywhere, and the endpoint closed.
    assert only(gateway_samples(pushgateway), "scrapy_finish_time_seconds") > 0
    assert only(samples_of(textfile.read_text()), "scrapy_run_healthy", spider="listings") == 1
    with pytest.raises(urllib.error.URLError, match="Connection refused"):
        http_get(endpoint)
    assert f"metrics at http://127.0.0.1:{port}/metrics" in log


@pytest.mark.e2e
def test_a_push_to_a_gateway_that_is_down_is_logged_masked_and_the_crawl_goes_on(
    fakesite_factory: FakeSiteFactory, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = fakesite_factory(localities=1, listings_per_locality=(3, 8))
    port = free_port()  # nothing listens there
    monkeypatch.setenv("PROMETHEUS_PUSHGATEWAY", f"http://crawler:hunter2secret@127.0.0.1:{port}")
    result = run_crawl(
        running.base_url,
        database_url,
        ";".join(running.site.locality_strings()),
        settings={"EXTENSIONS": EXPORTER, "PROMETHEUS_PUSH_TIMEOUT": "2", "PROMETHEUS_PUSH_INTERVAL": "0"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert [r["status"] for r in fetch_all(database_url, "SELECT status FROM crawl_run")] == ["finished"]
    assert fetch_all(database_url, "SELECT listing_id FROM listing")
    assert f"metrics push to http://crawler:***@127.0.0.1:{port} failed (URLError)" in result.stderr
    assert "hunter2secret" not in result.stderr + result.stdout
    assert "'newhomie/metrics/push_failures': 1" in result.stderr
    assert "Traceback" not in result.stderr
