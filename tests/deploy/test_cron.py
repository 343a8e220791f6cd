"""The cron wrapper `deploy/cron/newhomie-crawl`, really run: its lock against a running crawl, its
rotated logs, the exit status it passes on, and the resume of a crawl killed or stopped mid-way.

Each crawl is the real `scrapy crawl listings` with a real Chromium and PostgreSQL, against the local
copy of the site; processes are started in their own session, so that a kill reaches the whole group.
"""

from __future__ import annotations

import fcntl
import gzip
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

import pytest

from newhomie.store.target import DATABASE_URL_ENV
from newhomie.testing.fakesite import FakeSite, Kind, RunningSite
from newhomie.testing.fixtures import FakeSiteFactory
from tests.crawling import FAST_SETTINGS, REPO, assert_listing_matches, fetch_all

pytestmark = pytest.mark.e2e

WRAPPER = REPO / "deploy" / "cron" / "newhomie-crawl"
EX_TEMPFAIL = 75  # the wrapper's status when another run holds the lock
KINDS: tuple[Kind, ...] = ("sale", "rent")
BAD_LOCALITY = "Nowhere XX 1"  # no such state: the crawl stops at its preflight check, status 2
CRAWL_KEY_ARGUMENT = re.compile(r" -a crawl=(\S+)")


class Cron:
    """The wrapper with its state under one directory, as a crontab line would run it."""

    def __init__(self, directory: Path, base_url: str, database_url: str, **environment: str) -> None:
        self.directory = directory
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("NEWHOMIE_CRON_")},
            "DOMAIN_BASE_URL": base_url,
            DATABASE_URL_ENV: database_url,
            "NEWHOMIE_CRON_DIR": str(directory),
            # The scrapy of the environment running the tests (the default is the checkout's .venv).
            "NEWHOMIE_SCRAPY": str(Path(sys.executable).with_name("scrapy")),
            **environment,
        }
        self.started: list[subprocess.Popen[str]] = []

    @property
    def lock(self) -> Path:
        return self.directory / "newhomie-crawl.lock"

    @property
    def job(self) -> Path:
        return self.directory / "job"

    @property
    def logs(self) -> Path:
        return self.directory / "logs"

    def start(self, *arguments: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [str(WRAPPER), *arguments],
            env=self.env,
            cwd="/",  # the wrapper finds the project by itself, as from cron
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.started.append(process)
        return process

    def run(self, *arguments: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        process = self.start(*arguments)
        stdout, stderr = process.communicate(timeout=timeout)
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    def kill_all(self) -> None:
        """Every process group this started, killed and reaped (a no-op for those already gone)."""
        for process in self.started:
            with suppress(ProcessLookupError):  # the group ended by itself
                os.killpg(process.pid, signal.SIGKILL)
            with suppress(subprocess.TimeoutExpired):
                process.communicate(timeout=10)

    def log_names(self) -> list[str]:
        return sorted(path.name for path in self.logs.glob("crawl-*"))

    def latest_log(self) -> Path:
        return self.logs / os.readlink(self.logs / "latest.log")


@pytest.fixture
def cron_factory(tmp_path: Path) -> Iterator[Callable[..., Cron]]:
    made: list[Cron] = []

    def make(base_url: str, database_url: str, **environment: str) -> Cron:
        cron = Cron(tmp_path / f"cron{len(made)}", base_url, database_url, **environment)
        made.append(cron)
        return cron

    try:
        yield make
    finally:
        for cron in made:
            cron.kill_all()


def crawl_arguments(locality: str) -> list[str]:
    arguments = ["-a", f"localities={locality}", "-a", f"kinds={','.join(KINDS)}"]
    for name, value in FAST_SETTINGS.items():
        arguments += ["-s", f"{name}={value}"]
    return arguments


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def lock_is_free(path: Path) -> bool:
    with path.open("rb") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(lock, fcntl.LOCK_UN)
        return True


def search_pages_served(site: FakeSite) -> int:
    return sum(1 for r in site.served.snapshot() if r.page_kind == "search" and r.status == 200)


def one_locality_site(fakesite_factory: FakeSiteFactory) -> tuple[RunningSite, str, str]:
    """A site of one locality with a few pages per kind; its locality string and slug."""
    running = fakesite_factory(localities=1, seed=7, listings_per_locality=(45, 60))
    [locality] = running.site.localities()
    return running, str(locality), locality.slug


def assert_database_holds_the_site(running: RunningSite, slug: str, database_url: str) -> None:
    truth = {item["listing_id"]: item for kind in KINDS for item in running.site.ground_truth(slug, kind)}
    assert truth, "the local site should serve listings"
    rows = {row["listing_id"]: row for row in fetch_all(database_url, "SELECT * FROM listing")}
    assert set(rows) == set(truth)
    for listing_id, row in rows.items():
        assert_listing_matches(row, truth[listing_id], running.base_url)


def crawl_key_passed(log: Path) -> str:
    """The `-a crawl=KEY` of the command line the wrapper logged."""
    keys = CRAWL_KEY_ARGUMENT.findall(log.read_text())
    assert len(keys) == 1, f"one command line with a crawl key expected in {log}"
    return keys[0]


def test_a_second_start_while_a_crawl_runs_exits_at_once_naming_the_lock_and_the_first_lands_the_site(
    fakesite_factory: FakeSiteFactory, database_url: str, cron_factory: Callable[..., Cron]
) -> None:
    running, locality, slug = one_locality_site(fakesite_factory)
    running.site.faults.slow_seconds = 1.0  # so that the first crawl is still running for a while
    cron = cron_factory(running.base_url, database_url)

    first = cron.start(*crawl_arguments(locality))
    wait_until(lambda: search_pages_served(running.site) > 0, "the first crawl to read a search page")
    second = cron.run(*crawl_arguments(locality), timeout=30)

    assert second.returncode == EX_TEMPFAIL, second.stderr
    # Refused at once, not after waiting for the lock: the first crawl still runs.
    assert first.poll() is None, "the refused start should have overlapped a running crawl"
    assert f"another crawl holds the lock {cron.lock}" in second.stderr
    assert f"PID {first.pid} " in second.stderr
    assert second.stdout == ""
    assert len(cron.log_names()) == 1, "a refused start writes no log"

    stdout, stderr = first.communicate(timeout=300)
    log = cron.latest_log()
    assert first.returncode == 0, f"{stderr}\n{log.read_text()[-3000:]}"
    assert stdout == stderr == "", "a crawl that went well says nothing (cron mails any output)"
    assert "Spider closed (finished)" in log.read_text()
    assert not cron.job.exists(), "a finished crawl leaves no job, so the next start is a fresh crawl"
    assert_database_holds_the_site(running, slug, database_url)


def test_logs_are_rotated_and_the_crawls_exit_status_is_the_wrappers(
    fakesite: RunningSite, database_url: str, cron_factory: Callable[..., Cron]
) -> None:
    cron = cron_factory(fakesite.base_url, database_url, NEWHOMIE_CRON_KEEP_LOGS="2")
    runs = [
        cron.run("-a", f"localities={BAD_LOCALITY}", "-a", "kinds=sale,rent", timeout=60) for _ in range(3)
    ]

    logs = [re.search(r"log: (\S+)", run.stderr) for run in runs]
    for run, named in zip(runs, logs, strict=True):
        assert run.returncode == 2, run.stderr  # the preflight's status, passed on
        assert f"cannot read locality '{BAD_LOCALITY}'" in run.stderr  # scrapy's last error, for the mail
        assert named is not None, f"the failure line should name the log: {run.stderr!r}"
    first, second, third = (Path(named[1]) for named in logs if named)
    assert len({first, second, third}) == 3, "one log per run"
    # Newest as it is, the one before gzipped, the oldest deleted.
    assert cron.log_names() == [f"{second.name}.gz", third.name]
    assert cron.latest_log() == third
    with gzip.open(cron.logs / f"{second.name}.gz", "rt") as compressed:
        earlier = compressed.read()
    for text in (earlier, third.read_text()):
        assert f"cannot read locality '{BAD_LOCALITY}'" in text  # scrapy's own output is in the log
        assert "scrapy exited with status 2" in text
    assert fakesite.site.served.snapshot() == []


def test_the_database_password_is_never_printed(
    fakesite: RunningSite, cron_factory: Callable[..., Cron]
) -> None:
    cron = cron_factory(fakesite.base_url, "postgresql://crawler:hunter2secret@127.0.0.1:1/homes")
    [locality, *_] = fakesite.site.locality_strings()
    result = cron.run(*crawl_arguments(locality), timeout=120)
    assert result.returncode == 2, result.stderr  # the database check of the preflight, passed on
    log = cron.latest_log().read_text()
    assert "database unavailable" in log
    assert "hunter2secret" not in result.stderr + result.stdout + log
    assert fakesite.site.served.snapshot() == []


def test_a_hard_killed_crawl_leaves_its_job_and_the_next_run_continues_its_crawl_key(
    fakesite_factory: FakeSiteFactory, database_url: str, cron_factory: Callable[..., Cron]
) -> None:
    running, locality, slug = one_locality_site(fakesite_factory)
    running.site.faults.slow_seconds = 1.0
    cron = cron_factory(running.base_url, database_url)

    killed = cron.start(*crawl_arguments(locality))
    wait_until(lambda: search_pages_served(running.site) > 0, "the crawl to read a search page")
    os.killpg(killed.pid, signal.SIGKILL)
    killed.communicate(timeout=30)
    # The wrapper dies at once; scrapy, which holds the lock too, a moment later.
    wait_until(lambda: lock_is_free(cron.lock), "the killed crawl's lock to be released", timeout=30)
    killed_log = cron.latest_log()
    key = crawl_key_passed(killed_log)
    assert (cron.job / "crawl-key").read_text().strip() == key
    assert (cron.job / "running").exists(), "the marker of a run that did not end under the wrapper"

    running.site.faults.slow_seconds = 0.0
    resumed = cron.run(*crawl_arguments(locality))
    resumed_log = cron.latest_log()
    text = resumed_log.read_text()
    assert resumed.returncode == 0, f"{resumed.stderr}\n{text[-3000:]}"
    assert resumed_log != killed_log
    assert crawl_key_passed(resumed_log) == key
    assert "(resuming: yes)" in text
    assert "the last run was killed" in text  # and Scrapy's half-written state was dropped
    assert not cron.job.exists()
    assert_database_holds_the_site(running, slug, database_url)
    runs = fetch_all(database_url, "SELECT status FROM crawl_run ORDER BY id")
    assert len(runs) == 2, "the killed run and the resumed one"
    assert runs[-1]["status"] == "finished"


def test_a_crawl_stopped_by_sigterm_keeps_scrapys_job_and_the_next_run_finishes_it(
    fakesite_factory: FakeSiteFactory, database_url: str, cron_factory: Callable[..., Cron]
) -> None:
    running, locality, slug = one_locality_site(fakesite_factory)
    running.site.faults.slow_seconds = 1.0
    cron = cron_factory(running.base_url, database_url)

    stopped = cron.start(*crawl_arguments(locality))
    wait_until(lambda: search_pages_served(running.site) > 0, "the crawl to read a search page")
    os.killpg(stopped.pid, signal.SIGTERM)  # what cron's or systemd's stop does: the whole group
    _, stderr = stopped.communicate(timeout=120)
    stopped_log = cron.latest_log()
    # Scrapy's own status when it reports the cut-short run as a failure, else 128 + SIGTERM.
    assert stopped.returncode != 0, stderr
    assert "Spider closed (shutdown)" in stopped_log.read_text()
    assert "spider closed: shutdown; job kept for the next start to resume" in stderr
    assert stderr.rstrip().endswith(f"log: {stopped_log}")
    assert (cron.job / "scrapy" / "requests.queue").is_dir(), "Scrapy's saved queue is kept"
    key = crawl_key_passed(stopped_log)

    running.site.faults.slow_seconds = 0.0
    resumed = cron.run(*crawl_arguments(locality))
    text = cron.latest_log().read_text()
    assert resumed.returncode == 0, f"{resumed.stderr}\n{text[-3000:]}"
    assert crawl_key_passed(cron.latest_log()) == key
    assert "(resuming: yes)" in text
    assert not cron.job.exists()
    assert_database_holds_the_site(running, slug, database_url)
