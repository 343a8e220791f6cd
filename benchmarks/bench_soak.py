"""Soak: the real crawler over hundreds of localities of the local site, with faults on, measured.

    python benchmarks/bench_soak.py [--localities 200] [--seed 7] [--listings 0-30] [--no-faults]

The local site (`FakeSite`, served in this process) gets `--localities` localities with a few
listings of each kind, and misbehaves on purpose: slow answers, 503s, block pages, 429s with a short
Retry-After, `__NEXT_DATA__` cut in half, and two paths that hang until released a while after their
locality started. The real `scrapy crawl listings` (all four kinds) runs in a subprocess, as
tests/crawling.py runs it, into a scratch database on the server in use (NEWHOMIE_DATABASE_URL's,
else an embedded PostgreSQL in a temporary directory), dropped afterwards. Settings keep the local
run fast (no delay, 4 pages at once) with every mechanism on (block back-off, Retry-After pauses,
browser restarts, the end-of-run retry of failed localities); health limits are relaxed, since the
faults are on purpose.

Truncated pages fail their locality for good (a page that parsed wrong is not retried; the locality
is, once, at the end of the run), so they are switched off when the crawl starts that retry pass:
with the other faults on throughout, the database must then equal the site's ground truth, and any
listing missing is a crawler bug.

Every 0.5 s the crawler process and all its descendants (Playwright's node driver, every Chromium
process) are sampled with psutil: CPU seconds (user + system, the last value seen per pid, so
processes that exited count too) and resident memory (summed over the tree; RSS counts memory
shared between Chromium's processes once per process, so the browser's figure is an upper bound).
Sampling misses what a process spent after its last sample; this process therefore also adopts the
crawl's orphans (Linux's child subreaper) and gives the kernel's exact CPU count of the whole tree,
and names any process still running 10 s after the crawler exited (a leaked browser).
It prints pages, rates, CPU per page, peak memory and whether it stays flat (the first quarter of
the run against the last), log lines by level, the run's summary and health, and the database
against the ground truth. The database server's own CPU is not counted.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import re
import resource
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
# Run as `python benchmarks/bench_soak.py` from a checkout, with or without the package installed.
sys.path.insert(0, str(ROOT))

from scratch import scratch_database  # noqa: E402 (benchmarks/scratch.py)

from newhomie.browser.handler import BROWSER_PROCESS_NAMES  # noqa: E402
from newhomie.store.embedded import HOME_ENV  # noqa: E402
from newhomie.testing.fakesite import KINDS, FakeSite, RunningSite, serve  # noqa: E402
from newhomie.watch.summary import format_summary  # noqa: E402
from tests.crawling import assert_listing_matches, crawl_command, fetch_all, start_crawl  # noqa: E402

SAMPLE_SECONDS = 0.5
MIB = 1024 * 1024
#: The end-of-run retry of failed localities starts with this line (see ListingsSpider.start).
RETRY_PASS = re.compile(r"retrying (\d+) failed localities")

#: Local-run speed with the mechanisms on (tests/crawling.py's FAST_SETTINGS add no delay, 4 at once).
SOAK_SETTINGS = {
    "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": "5000",
    "DOWNLOAD_TIMEOUT": "20",
    "NEWHOMIE_NEXT_DATA_TIMEOUT": "10",
    "NEWHOMIE_BLOCK_SETTLE_SECONDS": "0.3",
    "NEWHOMIE_BLOCK_BACKOFF": "0.5",
    "NEWHOMIE_BLOCK_BACKOFF_MAX": "4",
    "NEWHOMIE_RETRY_AFTER_MAX": "5",
}
#: The faults are on purpose: health is reported, not enforced.
RELAXED_HEALTH = {
    "NEWHOMIE_HEALTH_MAX_ERROR_RATE": "1",
    "NEWHOMIE_HEALTH_MAX_BLOCK_RATE": "1",
    "NEWHOMIE_HEALTH_MAX_FAILED_LOCALITIES": "1",
}


# --- The site and its faults -------------------------------------------------------------------


def switch_on_faults(site: FakeSite, hang_seconds: float) -> dict[str, str]:
    """Counted faults at prime intervals (so they do not always hit the same kind of page), and two
    hanging paths; returns {hung path: slug of its locality}."""
    faults = site.faults
    faults.slow_seconds = 0.05
    faults.fail_5xx_every = 37
    faults.truncate_json_every = 61
    faults.block_every = 83
    faults.rate_limit_every = 71
    faults.retry_after = 0.5
    localities = site.localities()
    first, second = localities[len(localities) // 10], localities[len(localities) // 3]
    hung = {f"/suburb-profile/{first.slug}": first.slug, f"/sold-listings/{second.slug}/": second.slug}
    faults.hang_paths.update(hung)
    return hung


@dataclass
class FaultSteward:
    """Releases each hung path `hang_seconds` after its locality's first page was served, and switches
    truncation off when the crawl starts its end-of-run retry pass."""

    site: FakeSite
    hung: dict[str, str]
    hang_seconds: float
    log_path: Path
    first_seen: dict[str, float] = field(default_factory=dict)
    released: dict[str, float] = field(default_factory=dict)
    retry_pass_at: float | None = None
    retried_localities: int = 0
    _log_offset: int = 0
    _served_offset: int = 0

    def tick(self, now: float, started: float) -> None:
        served = self.site.served.snapshot()
        for request in served[self._served_offset :]:
            if request.slug and request.slug in self.hung.values() and request.slug not in self.first_seen:
                self.first_seen[request.slug] = request.monotonic
        self._served_offset = len(served)
        for path, slug in self.hung.items():
            seen = self.first_seen.get(slug)
            if path not in self.released and seen is not None and now - seen >= self.hang_seconds:
                self.site.faults.hang_paths.discard(path)
                self.released[path] = now - started
        if self.retry_pass_at is None:
            with open(self.log_path, "rb") as log:
                log.seek(self._log_offset)
                data = log.read()
            # Only whole lines: a line being written is read again at the next tick.
            complete = data[: data.rfind(b"\n") + 1]
            self._log_offset += len(complete)
            match = RETRY_PASS.search(complete.decode("utf-8", errors="replace"))
            if match:
                self.retry_pass_at = now - started
                self.retried_localities = int(match[1])
                self.site.faults.truncate_json_every = 0


# --- The crawler's processes -------------------------------------------------------------------


def process_class(name: str, is_root: bool) -> str:
    if is_root:
        return "crawler"
    if any(n in name for n in BROWSER_PROCESS_NAMES):
        return "browser"
    if name.startswith("node"):  # Playwright's driver ("node-MainThread" once it names its thread)
        return "driver"
    return "other"


@dataclass
class Sample:
    seconds: float
    rss: dict[str, int]  # bytes per process class

    @property
    def total(self) -> int:
        return sum(self.rss.values())


@dataclass
class TreeSampler:
    """CPU and memory of a process and all its descendants, sampled over time."""

    root: int
    started: float
    processes: dict[int, psutil.Process] = field(default_factory=dict)
    cpu: dict[int, float] = field(default_factory=dict)  # last user+system seen, per pid
    classes: dict[int, str] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)

    def sample(self, now: float) -> None:
        try:
            root = self.processes.setdefault(self.root, psutil.Process(self.root))
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return  # the crawler has exited; its last values are kept
        rss: Counter[str] = Counter()
        for found in tree:
            # The same Process object per pid: psutil checks it is still the process first seen.
            process = self.processes.setdefault(found.pid, found)
            try:
                with process.oneshot():
                    name = process.name()
                    times = process.cpu_times()
                    memory = process.memory_info().rss
            except psutil.NoSuchProcess:
                continue  # exited between the listing and the reading
            # A process's class follows its latest name: Chromium starts as its wrapper script's shell.
            kind = self.classes[process.pid] = process_class(name, process.pid == self.root)
            self.names[process.pid] = name
            self.cpu[process.pid] = times.user + times.system
            rss[kind] += memory
        self.samples.append(Sample(now - self.started, dict(rss)))

    def cpu_by_class(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for pid, seconds in self.cpu.items():
            totals[self.classes[pid]] = totals.get(self.classes[pid], 0.0) + seconds
        return totals

    def peak(self, kind: str | None = None, samples: Iterable[Sample] | None = None) -> int:
        chosen = self.samples if samples is None else samples
        return max(
            (s.total if kind is None else s.rss.get(kind, 0) for s in chosen),
            default=0,
        )

    def quarter(self, which: int) -> list[Sample]:
        """The samples of the run's `which`-th quarter (0..3) by time."""
        if not self.samples:
            return []
        end = self.samples[-1].seconds
        low, high = end * which / 4, end * (which + 1) / 4
        return [s for s in self.samples if low <= s.seconds <= high]


# --- The database --------------------------------------------------------------------------------


@dataclass
class TruthCheck:
    listings: int
    missing: set[int]
    extra: set[int]
    mismatched: list[str]
    profiles_missing: set[str]

    @property
    def exact(self) -> bool:
        return not (self.missing or self.extra or self.mismatched or self.profiles_missing)


def check_against_truth(site: FakeSite, database_url: str, base_url: str) -> TruthCheck:
    """tests.crawling.assert_database_holds_ground_truth, counting what differs instead of raising."""
    truth = {
        item["listing_id"]: item
        for locality in site.localities()
        for kind in KINDS
        for item in site.ground_truth(locality.slug, kind)
    }
    rows: dict[int, dict[str, Any]] = {
        int(str(row["listing_id"])): row for row in fetch_all(database_url, "SELECT * FROM listing")
    }
    mismatched = []
    for listing_id in sorted(set(rows) & set(truth)):
        try:
            assert_listing_matches(rows[listing_id], truth[listing_id], base_url)
        except AssertionError as exc:  # counted and reported below
            mismatched.append(str(exc).splitlines()[0])
    profiles = fetch_all(database_url, "SELECT DISTINCT locality_slug FROM suburb_profile")
    profiled = {str(r["locality_slug"]) for r in profiles}
    return TruthCheck(
        listings=len(truth),
        missing=set(truth) - set(rows),
        extra=set(rows) - set(truth),
        mismatched=mismatched,
        profiles_missing={loc.slug for loc in site.localities()} - profiled,
    )


# --- Running it ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    wall: float
    exit_code: int | None
    timed_out: bool
    #: The kernel's user + system seconds of the crawler and every descendant (see Reaper); None
    #: where this process could not adopt orphans, so that some descendants went uncounted.
    kernel_cpu: float | None
    #: Descendants still alive 10 s after the crawler exited (killed then): "name pid".
    leftovers: list[str]


PR_SET_CHILD_SUBREAPER = 36


class Reaper:
    """Makes this process the subreaper of the crawl, so that the kernel counts all of its CPU.

    A process's CPU reaches its parent's count only when the parent reaps it; a browser killed by a
    restart, or Playwright's driver outliving the crawler, leaves orphans that the crawler never
    reaps. As a subreaper this process adopts them, reaps them, and their CPU is in its
    RUSAGE_CHILDREN. Linux only; elsewhere only the sampled figure is given.
    """

    def __init__(self) -> None:
        self.adopting = False
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            self.adopting = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
        except (OSError, AttributeError) as exc:
            print(f"cannot adopt the crawl's orphans ({exc}): the kernel's CPU count is left out")
        # What was reaped before the crawl (the embedded database's set-up) is not the crawl's.
        self.baseline = self.children_cpu()
        self.before = {child.pid for child in psutil.Process().children()}
        self.statuses: dict[int, int] = {}

    @staticmethod
    def children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def reap(self) -> None:
        """Collects every child that exited (the crawler, and adopted orphans)."""
        while True:
            try:
                pid, status, _ = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.statuses[pid] = status

    def adopted(self) -> list[psutil.Process]:
        return [child for child in psutil.Process().children() if child.pid not in self.before]

    def settle(self, seconds: float) -> list[str]:
        """Waits for the adopted orphans to end; kills and names those still alive after `seconds`."""
        deadline = time.monotonic() + seconds
        while True:
            self.reap()
            alive = self.adopted() if self.adopting else []
            if not alive or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        names = []
        for process in alive:
            try:
                names.append(f"{process.name()} {process.pid}")
                process.kill()
            except psutil.NoSuchProcess:
                continue  # it ended meanwhile
        psutil.wait_procs(alive, timeout=5)
        self.reap()
        return names

    def cpu(self) -> float | None:
        return self.children_cpu() - self.baseline if self.adopting else None


def run_and_sample(
    running: RunningSite,
    database_url: str,
    args: argparse.Namespace,
    log_path: Path,
    hung: dict[str, str],
) -> tuple[Outcome, TreeSampler, FaultSteward]:
    site = running.site
    settings = {**SOAK_SETTINGS, **({} if args.no_faults else RELAXED_HEALTH)}
    localities = ";".join(site.locality_strings())
    kinds = ("-a", "kinds=profile,sale,rent,sold")
    command, _ = crawl_command(running.base_url, database_url, localities, *kinds, settings=settings)
    shown = [part if not part.startswith("localities=") else "localities=<the site's>" for part in command]
    print("crawl:", " ".join(shown), flush=True)

    reaper = Reaper()
    started = time.monotonic()
    crawl = start_crawl(
        running.base_url, database_url, localities, *kinds, settings=settings, log_path=log_path
    )
    sampler = TreeSampler(crawl.pid, started)
    steward = FaultSteward(site, hung, args.hang_seconds, log_path)
    timed_out = False
    try:
        while True:
            now = time.monotonic()
            sampler.sample(now)
            steward.tick(now, started)
            # Reaped here rather than by Popen: the reaper also collects the crawl's orphans.
            reaper.reap()
            if crawl.pid in reaper.statuses:
                crawl.returncode = os.waitstatus_to_exitcode(reaper.statuses[crawl.pid])
                break
            if now - started > args.timeout:
                timed_out = True
                print(f"TIMED OUT after {args.timeout:.0f} s; killing the crawl", flush=True)
                os.killpg(crawl.pid, signal.SIGKILL)
                break
            time.sleep(SAMPLE_SECONDS)
    finally:
        if crawl.returncode is None and crawl.pid not in reaper.statuses:
            with contextlib.suppress(ProcessLookupError):  # it ended between the check and the kill
                os.killpg(crawl.pid, signal.SIGKILL)
    wall = time.monotonic() - started
    leftovers = reaper.settle(10.0)
    if crawl.returncode is None and crawl.pid in reaper.statuses:
        crawl.returncode = os.waitstatus_to_exitcode(reaper.statuses[crawl.pid])
    return Outcome(wall, crawl.returncode, timed_out, reaper.cpu(), leftovers), sampler, steward


def report(
    site: FakeSite,
    running: RunningSite,
    database_url: str,
    outcome: Outcome,
    sampler: TreeSampler,
    steward: FaultSteward,
    log_path: Path,
) -> None:
    served = site.served.snapshot()
    read = [
        r
        for r in served
        if r.page_kind in ("search", "profile") and r.status == 200 and r.fault != "truncated"
    ]
    pages = len(read)
    faults = Counter(r.fault for r in served if r.fault and r.fault != "slow")
    kinds = Counter(r.page_kind for r in served)
    runs = fetch_all(database_url, "SELECT stats, summary, health, health_reasons FROM crawl_run ORDER BY id")
    run = runs[-1] if runs else {}
    stats: dict[str, Any] = run.get("stats") or {}
    summary: dict[str, Any] | None = run.get("summary")
    outcomes = fetch_all(database_url, "SELECT status, attempts FROM locality_crawl")
    truth = check_against_truth(site, database_url, running.base_url)

    print(f"crawl exit code {outcome.exit_code}{' (timed out)' if outcome.timed_out else ''}; log {log_path}")
    print(f"localities: {len(site.localities())}")
    print(
        f"pages: {pages} search/profile pages read (status 200, whole); {len(served)} requests in all "
        f"({', '.join(f'{k} {n}' for k, n in kinds.most_common())})"
    )
    print(f"faults served: {', '.join(f'{k} {n}' for k, n in sorted(faults.items())) or 'none'}")
    if steward.hung:
        released = ", ".join(f"{p} at {s:.0f} s" for p, s in steward.released.items()) or "never"
        print(f"hung paths released: {released}")
    if steward.retry_pass_at is not None:
        print(
            f"retry pass: {steward.retried_localities} failed localities retried from "
            f"{steward.retry_pass_at:.0f} s (truncation switched off then)"
        )
    print(f"wall: {outcome.wall:.1f} s; {pages / outcome.wall:.2f} pages/s")

    cpu = sampler.cpu_by_class()
    total_cpu = sum(cpu.values())
    by_class = ", ".join(f"{k} {v:.1f}" for k, v in sorted(cpu.items()))
    kernel = (
        ""
        if outcome.kernel_cpu is None
        else f"; the kernel's count, every descendant reaped: {outcome.kernel_cpu:.1f} s"
    )
    print(f"cpu: {total_cpu:.1f} s sampled over {len(sampler.cpu)} processes ({by_class}){kernel}")
    others = Counter(sampler.names[pid] for pid, kind in sampler.classes.items() if kind == "other")
    if others:
        print(f"other processes: {dict(others)}")
    exact = total_cpu if outcome.kernel_cpu is None else outcome.kernel_cpu
    per_page, sampled_per_page = 1000 * exact / max(pages, 1), 1000 * total_cpu / max(pages, 1)
    print(f"cpu per page: {per_page:.0f} ms (sampled: {sampled_per_page:.0f} ms)")
    if outcome.leftovers:
        print(f"LEFT RUNNING after the crawl exited (killed 10 s later): {', '.join(outcome.leftovers)}")

    def mib(value: int) -> str:
        return f"{value / MIB:.0f}"

    print(
        f"peak rss MiB: crawler {mib(sampler.peak('crawler'))}, driver {mib(sampler.peak('driver'))}, "
        f"browser {mib(sampler.peak('browser'))}, all together {mib(sampler.peak())}"
    )
    first, last = sampler.quarter(0), sampler.quarter(3)
    for kind, label in (("crawler", "crawler"), ("driver", "driver"), ("browser", "browser"), (None, "all")):
        timeline = " ".join(mib(sampler.peak(kind, part)) for part in tenths(sampler.samples))
        print(
            f"rss {label} MiB, peak first quarter vs last quarter: {mib(sampler.peak(kind, first))} vs "
            f"{mib(sampler.peak(kind, last))}; peak per tenth of the run: {timeline}"
        )
    if sampler.samples:
        median = statistics.median(s.rss.get("browser", 0) for s in sampler.samples)
        print(f"rss browser MiB, median over the run: {median / MIB:.0f}")

    print(
        f"browser restarts {stats.get('newhomie/browser/restarts', 0)}, browsers launched "
        f"{stats.get('playwright/browser_count', 0)}, browser failures "
        f"{prefixed(stats, 'newhomie/browser/failures/')}, "
        f"blocks {stats.get('newhomie/blocked', 0)}, pauses {stats.get('newhomie/pace/pauses', 0)}, "
        f"retries {stats.get('retry/count', 0)}"
    )
    errors = prefixed(stats, "newhomie/errors/")
    print(f"errors: {sum(errors.values())} {errors}")
    levels = log_levels(log_path)
    print(f"log lines by level: {dict(levels.most_common())}")
    attempts = Counter((r["status"], r["attempts"]) for r in outcomes)
    print(f"locality outcomes (status, attempts): {dict(sorted(attempts.items()))}")
    if summary is not None:
        print(f"summary: {format_summary(summary)}")
    print(f"health: {run.get('health')} {run.get('health_reasons') or ''}")
    verdict = "EQUALS" if truth.exact else "DIFFERS FROM"
    print(
        f"database {verdict} the ground truth: {truth.listings} listings on the site, {len(truth.missing)} "
        f"missing, {len(truth.extra)} extra, {len(truth.mismatched)} with other fields; "
        f"{len(truth.profiles_missing)} localities without a suburb profile"
    )
    for line in truth.mismatched[:5]:
        print(f"  mismatch: {line}")
    if truth.missing:
        by_slug = Counter(f"{site.listing(i).slug} {site.listing(i).kind}" for i in truth.missing)
        print(f"  missing by locality: {dict(by_slug.most_common(10))}")
    if truth.profiles_missing:
        print(f"  no profile: {sorted(truth.profiles_missing)[:10]}")


#: "2026-03-12 14:06:36 [newhomie.browser.handler] WARNING: ..." -> (logger, level)
LOG_LINE = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[([^\]]+)\] ([A-Z]+): ")


def log_levels(log_path: Path) -> Counter[str]:
    """Log lines by level; ERROR ones by logger too ("ERROR playwright"), since they page people."""
    levels: Counter[str] = Counter()
    with open(log_path, "rb") as log:
        for line in log:
            match = LOG_LINE.match(line)
            if match:
                name, level = match[1].decode(), match[2].decode()
                levels[level if level != "ERROR" else f"ERROR {name}"] += 1
    return levels


def prefixed(stats: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The stats under `prefix`, keyed by the rest of their name."""
    return {k.removeprefix(prefix): v for k, v in stats.items() if k.startswith(prefix)}


def tenths(samples: list[Sample]) -> list[list[Sample]]:
    if not samples:
        return []
    end = samples[-1].seconds or 1.0
    parts: list[list[Sample]] = [[] for _ in range(10)]
    for sample in samples:
        parts[min(int(10 * sample.seconds / end), 9)].append(sample)
    return parts


def listing_range(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    return int(low), int(high or low)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--localities", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--listings", type=listing_range, default=(0, 30), help="per kind and locality, LOW-HIGH"
    )
    parser.add_argument(
        "--no-faults", action="store_true", help="a well-behaved site (and the default health limits)"
    )
    parser.add_argument("--hang-seconds", type=float, default=12.0, help="how long a hung path hangs")
    parser.add_argument("--timeout", type=float, default=3600.0, help="the crawl is killed after this long")
    args = parser.parse_args()

    site = FakeSite(localities=args.localities, seed=args.seed, listings_per_locality=args.listings)
    hung = {} if args.no_faults else switch_on_faults(site, args.hang_seconds)
    directory = Path(tempfile.mkdtemp(prefix="newhomie-soak-"))
    log_path = directory / "crawl.log"
    # Whatever the crawler keeps in its home (an embedded database, if it ever needs one) goes here,
    # never into the checkout's .newhomie/.
    os.environ[HOME_ENV] = str(directory)
    with scratch_database(directory, prefix="newhomie_soak") as scratch, serve(site) as running:
        print(f"{scratch.where}; scratch database {scratch.name} (dropped afterwards)", flush=True)
        outcome, sampler, steward = run_and_sample(running, scratch.url, args, log_path, hung)
        # Hung paths must not keep server threads waiting past the crawl.
        site.faults.hang_paths.clear()
        report(site, running, scratch.url, outcome, sampler, steward, log_path)
    print(f"log kept at {log_path}")


if __name__ == "__main__":
    main()
