"""The embedded server's life, as a user sees it: started by the first command that needs it, shared by the
commands that run meanwhile, stopped by its keeper when none has used it for the idle time, whatever way
the commands ended; `db status` and `db stop` show and end it; a stale postmaster.pid does not stop a run.

Each test has a NEWHOMIE_HOME of its own and runs real commands in processes of their own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from newhomie.store.pg_cluster import Cluster, embedded_binaries
from tests.paths import REPO

# Waits for a condition, never for a time: the deadline only bounds a test that is going to fail.
DEADLINE_S = 180

# Holds the embedded database until the file named by its argument exists, printing the server's pid.
HOLD = """
import sys, time, pathlib
from newhomie.store.embedded import embedded_url, newhomie_home
from newhomie.store.pg_cluster import Cluster, embedded_binaries
import psycopg2
psycopg2.connect(embedded_url()).close()
print(Cluster(newhomie_home() / "pgdata", embedded_binaries()).running().pid, flush=True)
while not pathlib.Path(sys.argv[1]).exists():
    time.sleep(0.05)
"""


def wait_until(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {DEADLINE_S} s for {what}")
        time.sleep(0.1)


@pytest.fixture
def home(own_tmp: Path) -> Iterator[Path]:
    folder = own_tmp / "home"
    yield folder
    cluster = Cluster(folder / "pgdata", embedded_binaries())
    if cluster.initialised():
        cluster.stop("immediate")


def env_for(home: Path, idle: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NEWHOMIE_DATABASE_URL"}
    env.update(NEWHOMIE_HOME=str(home), NEWHOMIE_EMBEDDED_IDLE_SECONDS=str(idle))
    return env


def newhomie(home: Path, *args: str, idle: float = 0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newhomie", *args], env=env_for(home, idle), cwd=REPO,
        capture_output=True, text=True, timeout=DEADLINE_S,
    )  # fmt: skip


def holder(home: Path, release: Path, idle: float = 0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", HOLD, str(release)], env=env_for(home, idle), cwd=REPO,
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip


def server_of(home: Path) -> Cluster:
    return Cluster(home / "pgdata", embedded_binaries())


def keepers_of(home: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "newhomie.store.keeper" in cmdline and str(home) in cmdline:
            found.append(process)
    return found


def test_a_commands_server_stops_when_the_command_ends(home: Path) -> None:
    done = newhomie(home, "sql", "select 1 as one")
    assert done.returncode == 0, done.stderr
    assert "one" in done.stdout
    assert server_of(home).initialised()
    wait_until(lambda: server_of(home).running() is None, "the server to stop after its only command")
    wait_until(lambda: not keepers_of(home), "the keeper to exit")


def test_the_idle_time_keeps_it_warm_and_db_stop_ends_it(home: Path) -> None:
    assert newhomie(home, "migrate", idle=600).returncode == 0
    first = server_of(home).running()
    assert first is not None, "the server stopped although the idle time had not passed"
    assert newhomie(home, "sql", "select 1", idle=600).returncode == 0
    again = server_of(home).running()
    assert again is not None
    assert again.pid == first.pid, "the next command did not reuse the warm server"

    status = newhomie(home, "db", "status")
    assert status.returncode == 0, status.stderr
    assert f"running, pid {first.pid}" in status.stdout
    assert "commands using it: 0" in status.stdout

    stopped = newhomie(home, "db", "stop")
    assert stopped.returncode == 0
    assert "stopped the embedded server" in stopped.stdout
    assert server_of(home).running() is None
    wait_until(lambda: not keepers_of(home), "the keeper to exit once the server is stopped")
    assert "not running" in newhomie(home, "db", "status").stdout


def test_two_commands_at_once_share_one_server(home: Path, own_tmp: Path) -> None:
    release = own_tmp / "release"
    first, second = holder(home, release), holder(home, release)
    try:
        assert first.stdout is not None
        assert second.stdout is not None
        pids = {int(first.stdout.readline()), int(second.stdout.readline())}
        assert len(pids) == 1, f"two servers were started: {pids}"
        status = newhomie(home, "db", "status")
        assert "commands using it: 2" in status.stdout, status.stdout
        refused = newhomie(home, "db", "stop")
        assert refused.returncode == 2
        assert "in use by" in refused.stderr
        assert server_of(home).running() is not None
    finally:
        release.touch()
        first.wait(DEADLINE_S)
        second.wait(DEADLINE_S)
    wait_until(lambda: server_of(home).running() is None, "the server to stop after both commands")


def test_a_killed_commands_server_still_stops(home: Path, own_tmp: Path) -> None:
    command = holder(home, own_tmp / "never")
    assert command.stdout is not None
    int(command.stdout.readline())
    command.send_signal(signal.SIGKILL)  # no atexit, no clean-up: only the kernel lets go of its locks
    command.wait(DEADLINE_S)
    wait_until(lambda: server_of(home).running() is None, "the keeper to stop a killed command's server")


def test_a_server_left_without_its_keeper_is_reused_then_stopped(home: Path, own_tmp: Path) -> None:
    command = holder(home, own_tmp / "never")
    assert command.stdout is not None
    left = int(command.stdout.readline())
    wait_until(lambda: keepers_of(home), "the keeper to start")
    for keeper in keepers_of(home):
        keeper.kill()
    command.kill()
    command.wait(DEADLINE_S)
    assert server_of(home).running() is not None, "the server is left running, as after a killed crawl"

    release = own_tmp / "release"
    reuser = holder(home, release)
    assert reuser.stdout is not None
    assert int(reuser.stdout.readline()) == left, "the left server was not reused"
    wait_until(lambda: keepers_of(home), "a new keeper for the reused server")
    release.touch()
    reuser.wait(DEADLINE_S)
    wait_until(lambda: server_of(home).running() is None, "the new keeper to stop it")


def test_a_stale_postmaster_pid_does_not_stop_the_next_run(home: Path, own_tmp: Path) -> None:
    release = own_tmp / "release"
    command = holder(home, release, idle=600)
    assert command.stdout is not None
    postmaster = psutil.Process(int(command.stdout.readline()))
    release.touch()
    command.wait(DEADLINE_S)
    for keeper in keepers_of(home):
        keeper.kill()
    children = postmaster.children()
    postmaster.kill()  # as a machine's crash or an OOM kill: postmaster.pid stays behind
    psutil.wait_procs([postmaster, *children], timeout=DEADLINE_S)
    # The pid it names belongs to another program by now, as happens after a reboot or in a container.
    other = subprocess.Popen(["sleep", "600"])
    try:
        pid_file = home / "pgdata" / "postmaster.pid"
        lines = pid_file.read_text().splitlines()
        pid_file.write_text("\n".join([str(other.pid), *lines[1:]]) + "\n")

        done = newhomie(home, "sql", "select 2 as two")
        assert done.returncode == 0, done.stderr
        assert "two" in done.stdout
        assert "stale file, removed" in done.stderr
    finally:
        other.kill()
        other.wait()
    wait_until(lambda: server_of(home).running() is None, "the restarted server to stop")
