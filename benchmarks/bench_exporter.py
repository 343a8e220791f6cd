"""What the Prometheus exporter (newhomie.watch.metrics) costs: CPU seconds per page of a crawl of the local
site, without the exporter and with it.

    python benchmarks/bench_exporter.py [--localities 3] [--rounds 1] [--interval 1]

Each round runs the same real `scrapy crawl listings` (Chromium, the local copy of the site, a
fresh database each) twice: without the exporter, then with all three of its outputs on (a push to
a Pushgateway started here when one is installed, a textfile, the /metrics endpoint) and pushing
and writing every `--interval` seconds, which is far more often than production would; the order
flips each round. CPU is that of the crawl's whole process tree (the crawler, Playwright's driver
and Chromium), from getrusage of the reaped children. Chromium leaves processes behind that no
ancestor waits for (their CPU would reach nobody's getrusage: half of the browser's on this site);
this script makes itself their subreaper (Linux prctl), inherits them and reaps them, so that they
count. Pages are Scrapy's response_received_count.

The whole-crawl difference is small against the noise of a browser on a shared machine, so the
exporter's own account is printed too: the reactor-thread CPU its collections took
(`newhomie/metrics/collect_cpu_seconds`); the pushes' and writes' network and file work run in a
thread outside that figure and within the crawl's total.

The database server is NEWHOMIE_DATABASE_URL's, else an embedded PostgreSQL in a temporary
directory; each crawl gets a scratch database there, dropped afterwards.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newhomie import settings as project_settings  # noqa: E402
from newhomie.store.connection import connect  # noqa: E402
from newhomie.store.migrations import migrate  # noqa: E402
from newhomie.store.pg_cluster import scratch_server  # noqa: E402
from newhomie.store.target import DATABASE_URL_ENV, with_database  # noqa: E402
from newhomie.testing.fakesite import FakeSite, serve  # noqa: E402
from tests.crawling import run_crawl  # noqa: E402

EXPORTER = "newhomie.watch.metrics.PrometheusExporter"


@dataclass
class CrawlCost:
    cpu_seconds: float
    wall_seconds: float
    pages: int
    exporter_cpu_seconds: float | None = None
    exporter_collects: int | None = None

    @property
    def per_page_ms(self) -> float:
        return 1000 * self.cpu_seconds / self.pages


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stat(stderr: str, name: str) -> float | None:
    """A value from the stats Scrapy dumps at the end of the crawl's log."""
    match = re.search(rf"'{re.escape(name)}': ([0-9.e+-]+)", stderr)
    return float(match[1]) if match else None


@contextmanager
def database_server(directory: Path) -> Iterator[str]:
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if url:
        yield url
        return
    with scratch_server(directory) as cluster:
        yield cluster.url()


@contextmanager
def scratch_database(server: str) -> Iterator[str]:
    name = f"newhomie_bench_{uuid.uuid4().hex[:10]}"
    admin = connect(server)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    url = with_database(server, name)
    try:
        conn = connect(url)
        migrate(conn)
        conn.close()
        yield url
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@contextmanager
def pushgateway() -> Iterator[str | None]:
    binary = shutil.which("prometheus-pushgateway") or shutil.which("pushgateway")
    if binary is None:
        print("no Pushgateway installed: the exporter's run pushes to nothing (its failures are logged)")
        yield None
        return
    port = free_port()
    command = [binary, f"--web.listen-address=127.0.0.1:{port}", "--persistence.file="]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/-/ready", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def become_subreaper() -> None:
    """Orphaned descendants (Chromium's) become this process's children instead of init's."""
    pr_set_child_subreaper = 36
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def reap_orphans(keep: set[int], timeout: float = 15.0) -> int:
    """Waits for the crawl's orphans we inherited (not the children in `keep`), so that their CPU is
    counted; those still running after `timeout` are killed and counted too. Returns how many."""
    deadline = time.monotonic() + timeout
    reaped = 0
    while True:
        orphans = [child for child in psutil.Process().children() if child.pid not in keep]
        if not orphans:
            return reaped
        for orphan in orphans:
            if time.monotonic() > deadline:
                print(f"killing an orphan of the crawl still running: {orphan.pid} {orphan.name()}")
                orphan.kill()
            pid, _ = os.waitpid(orphan.pid, 0 if time.monotonic() > deadline else os.WNOHANG)
            reaped += pid != 0
        time.sleep(0.1)


def crawl(site_url: str, localities: str, database_url: str, settings: dict[str, str]) -> CrawlCost:
    keep = {child.pid for child in psutil.Process().children()}  # the database, the Pushgateway
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = run_crawl(site_url, database_url, localities, settings=settings, timeout=1800)
    wall = time.perf_counter() - started
    reap_orphans(keep)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"the crawl failed ({result.returncode}):\n{result.stderr[-3000:]}")
    pages = stat(result.stderr, "response_received_count")
    if not pages:
        raise SystemExit("no response_received_count in the crawl's stats")
    collects = stat(result.stderr, "newhomie/metrics/collects")
    return CrawlCost(
        cpu_seconds=(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        wall_seconds=wall,
        pages=int(pages),
        exporter_cpu_seconds=stat(result.stderr, "newhomie/metrics/collect_cpu_seconds"),
        exporter_collects=int(collects) if collects is not None else None,
    )


def exporter_settings(directory: Path, gateway: str | None, interval: float) -> dict[str, str]:
    extensions: dict[str, Any] = {**getattr(project_settings, "EXTENSIONS", {}), EXPORTER: 500}
    settings = {
        "EXTENSIONS": json.dumps(extensions),
        "PROMETHEUS_TEXTFILE": str(directory / "newhomie-bench.prom"),
        "PROMETHEUS_PORT": str(free_port()),
        "PROMETHEUS_PUSH_INTERVAL": str(interval),
    }
    if gateway:
        settings["PROMETHEUS_PUSHGATEWAY"] = gateway
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--localities", type=int, default=3, help="localities of the local site")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1, help="pairs of crawls (the order flips each round)")
    parser.add_argument(
        "--interval", type=float, default=1.0, help="PROMETHEUS_PUSH_INTERVAL of the run with it"
    )
    args = parser.parse_args()

    become_subreaper()
    site = FakeSite(localities=args.localities, seed=args.seed)
    localities = ";".join(site.locality_strings())
    runs: dict[str, list[CrawlCost]] = {"without": [], "with": []}
    with (
        tempfile.TemporaryDirectory(prefix="newhomie-bench-exporter-") as directory,
        database_server(Path(directory)) as server,
        pushgateway() as gateway,
        serve(site) as running,
    ):
        with_exporter = exporter_settings(Path(directory), gateway, args.interval)
        for round_number in range(args.rounds):
            order = ["without", "with"] if round_number % 2 == 0 else ["with", "without"]
            for variant in order:
                with scratch_database(server) as database_url:
                    settings = with_exporter if variant == "with" else {}
                    cost = crawl(running.base_url, localities, database_url, settings)
                runs[variant].append(cost)
                print(
                    f"round {round_number + 1} {variant:>7} exporter: {cost.pages} pages, "
                    f"{cost.cpu_seconds:.2f} CPU s, {cost.wall_seconds:.1f} s wall, "
                    f"{cost.per_page_ms:.1f} CPU ms/page"
                    + (
                        f"; exporter's own: {cost.exporter_collects} collections, "
                        f"{1000 * cost.exporter_cpu_seconds:.1f} CPU ms"
                        if cost.exporter_cpu_seconds is not None
                        else ""
                    )
                )

    def per_page(variant: str) -> float:
        costs = runs[variant]
        return 1000 * sum(c.cpu_seconds for c in costs) / sum(c.pages for c in costs)

    own = [c for c in runs["with"] if c.exporter_cpu_seconds is not None and c.exporter_collects]
    own_ms = 1000 * sum(c.exporter_cpu_seconds or 0.0 for c in own)
    own_pages = sum(c.pages for c in own)
    own_collects = sum(c.exporter_collects or 0 for c in own)
    print(f"without the exporter: {per_page('without'):.1f} CPU ms/page")
    print(f"with the exporter:    {per_page('with'):.1f} CPU ms/page (push/write every {args.interval:g} s)")
    if own_pages and own_collects:
        print(
            f"exporter's own collections: {own_ms / own_pages:.2f} CPU ms/page, "
            f"{own_ms / own_collects:.2f} CPU ms per collection"
        )


if __name__ == "__main__":
    main()
