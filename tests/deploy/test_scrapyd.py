"""One full crawl spread over two real Scrapyd nodes by `python -m newhomie schedule`.

Two Scrapyd servers (from PyPI) on loopback ports, each with its own directories, one slot each and
HTTP basic auth; the egg built and uploaded by scrapyd-deploy from a copy of the project; a crawl of
six bundled localities served by the local site, cut into three shards, so that the third shard has
to wait for a free slot. The database must hold the site's listings exactly once, with one finished
run per shard under one crawl key, and scheduling again must find nothing left to do.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from newhomie.browser.chromium import resolve_chromium
from newhomie.cli.schedule import ActiveJob, NodeState, assign, shard_states
from newhomie.cli.schedule import add_commands as add_schedule_command
from newhomie.cli.scrapyd import ScrapydNode, parse_job_id, shard_text
from newhomie.localities import Locality
from newhomie.localities.catalog import load_catalog
from newhomie.localities.selection import shard_of
from newhomie.store.crawls import ShardRuns
from newhomie.store.target import DATABASE_URL_ENV
from newhomie.testing.fakesite import KINDS, FakeSite, RunningSite
from newhomie.testing.fixtures import FakeSiteFactory
from tests.crawling import FAST_SETTINGS, assert_database_holds_ground_truth, fetch_all, truth_ids
from tests.deploy.test_packaging import VENV_BIN, copy_project

SHARDS = 3
USERNAME = "crawler"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ScrapydServer:
    name: str
    port: int
    directory: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def job_logs(self) -> str:
        """Every job's log, for the message of a failed assertion."""
        logs = sorted((self.directory / "logs").rglob("*.log"))
        server_log = (self.directory / "scrapyd.out").read_text(errors="replace")
        parts = [f"--- {self.name} scrapyd.out\n{server_log[-3000:]}"]
        parts += [f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}" for log in logs]
        return "\n".join(parts)

    def stop(self) -> None:
        """The server and every job it started (they share its process group)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start_scrapyd(root: Path, name: str, password: str, env: dict[str, str]) -> ScrapydServer:
    directory = root / name
    (directory / "home").mkdir(parents=True)
    port = free_port()
    (directory / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"node_name = {name}\n"
        "bind_address = 127.0.0.1\n"
        f"http_port = {port}\n"
        "max_proc = 1\n"
        "poll_interval = 1\n"
        f"eggs_dir = {directory / 'eggs'}\n"
        f"logs_dir = {directory / 'logs'}\n"
        f"dbs_dir = {directory / 'dbs'}\n"
        "items_dir =\n"
        "jobs_dir =\n"
        f"username = {USERNAME}\n"
        f"password = {password}\n",
        encoding="utf-8",
    )
    with (directory / "scrapyd.out").open("wb") as out:
        # Its own session: stopping it stops its crawls too. Its own HOME, so that no ~/.scrapyd.conf
        # applies, and the jobs find their browser as they would for a service user: not under HOME.
        process = subprocess.Popen(
            [str(VENV_BIN / "scrapyd")],
            cwd=directory,
            env={**env, "HOME": str(directory / "home")},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = ScrapydServer(name, port, directory, process)
    node = ScrapydNode(server.url, USERNAME, password)
    deadline = time.monotonic() + 60
    while True:
        try:
            node.daemon_status()
            return server
        except Exception as exc:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise AssertionError(f"scrapyd {name} did not start: {exc}\n{server.job_logs()}") from exc
            time.sleep(0.3)


@dataclass
class ScrapydPair:
    a: ScrapydServer
    b: ScrapydServer
    password: str

    def job_logs(self) -> str:
        return f"{self.a.job_logs()}\n{self.b.job_logs()}"


@pytest.fixture
def scrapyd_pair(tmp_path: Path, database_url: str, site_for_shards: RunningSite) -> Iterator[ScrapydPair]:
    """Two Scrapyd servers whose jobs write to the test's database and crawl the local site."""
    password = "pw-" + secrets.token_hex(8)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SCRAPY"))}
    env[DATABASE_URL_ENV] = database_url
    env["DOMAIN_BASE_URL"] = site_for_shards.base_url
    env["NEWHOMIE_CHROMIUM"] = str(resolve_chromium(None))
    servers: list[ScrapydServer] = []
    try:
        for name in ("node-a", "node-b"):
            servers.append(start_scrapyd(tmp_path / "scrapyd", name, password, env))
        yield ScrapydPair(servers[0], servers[1], password)
    finally:
        for server in servers:
            server.stop()


def catalog_localities_per_shard(per_shard: int) -> list[Locality]:
    """The first bundled Victorian localities, `per_shard` of each of the SHARDS shards."""
    chosen: dict[int, list[Locality]] = {k: [] for k in range(1, SHARDS + 1)}
    for locality in load_catalog():
        if locality.state == "VIC" and len(chosen[shard_of(locality, SHARDS)]) < per_shard:
            chosen[shard_of(locality, SHARDS)].append(locality)
    return [locality for k in sorted(chosen) for locality in chosen[k]]


@pytest.fixture
def site_for_shards(fakesite_factory: FakeSiteFactory) -> RunningSite:
    # The shards filter the bundled list, so the site serves localities of that list.
    site = FakeSite(localities=0, seed=11)
    for index, locality in enumerate(catalog_localities_per_shard(2)):
        # The first has a second page of sales; a few have no rentals or no sales history.
        sale = 27 if index == 0 else 4 + index
        site.add_locality(locality.name, locality.state, locality.postcode, sale=sale,
                          rent=index % 3, sold=(index + 1) % 4)  # fmt: skip
    return fakesite_factory(site=site)


def deploy(project: Path, server: ScrapydServer, password: str) -> None:
    env = {
        **os.environ,
        "SCRAPYD_URL": server.url,
        "SCRAPYD_USERNAME": USERNAME,
        "SCRAPYD_PASSWORD": password,
    }
    result = subprocess.run(
        [str(VENV_BIN / "scrapyd-deploy")], cwd=project, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"spiders": 1' in result.stdout, result.stdout


def wait_until_idle(nodes: list[ScrapydNode], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while any(status["running"] or status["pending"] for status in (node.daemon_status() for node in nodes)):
        assert time.monotonic() < deadline, "the Scrapyd nodes still run jobs"
        time.sleep(0.5)


def run_schedule(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """`python -m newhomie schedule ARGV...`, in this process; its exit status and its output."""
    parser = argparse.ArgumentParser(prog="python -m newhomie")
    add_schedule_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["schedule", *argv])
    status = args.func(args)
    captured = capsys.readouterr()
    return status, captured.out + captured.err


@pytest.mark.e2e
def test_a_sharded_crawl_over_two_scrapyd_nodes_lands_the_site_once(
    scrapyd_pair: ScrapydPair,
    site_for_shards: RunningSite,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    node_a, node_b, password = scrapyd_pair.a, scrapyd_pair.b, scrapyd_pair.password
    project = copy_project(tmp_path / "project")
    for server in (node_a, node_b):
        deploy(project, server, password)

    site = site_for_shards.site
    localities = ";".join(site.locality_strings())
    # Node a's credentials in its URL, node b's from the environment: both ways the command takes them.
    nodes = f"http://{USERNAME}:{password}@127.0.0.1:{node_a.port}/,{node_b.url}"
    monkeypatch.setenv("SCRAPYD_USERNAME", USERNAME)
    monkeypatch.setenv("SCRAPYD_PASSWORD", password)
    monkeypatch.setenv(DATABASE_URL_ENV, database_url)
    common = ["--scrapyd", nodes, "--shards", str(SHARDS), "-a", f"localities={localities}"]
    for name, value in FAST_SETTINGS.items():
        common += ["-s", f"{name}={value}"]
    outputs: list[str] = []

    try:
        # A new crawl: one shard per node (one slot each), the third waits.
        status, out = run_schedule(capsys, *common)
        outputs.append(out)
        assert status == 0, out
        crawl_key = out.split("carry on with --crawl ")[1].split()[0]
        common += ["--crawl", crawl_key]
        assert out.count("scheduled shard") == 2, out
        assert f"scheduled shard 1/{SHARDS} on {node_a.url.rstrip('/')}" in out
        assert f"scheduled shard 2/{SHARDS} on {node_b.url.rstrip('/')}" in out
        assert "1 waiting" in out

        # Again at once: no free slot, and nothing scheduled twice.
        status, out = run_schedule(capsys, *common)
        outputs.append(out)
        assert (status, out.count("scheduled shard")) == (0, 0), out
        status, out = run_schedule(capsys, *common, "--status")
        outputs.append(out)
        table = {line.split()[0]: line for line in out.splitlines() if line[:1].isdigit()}
        assert node_a.url.rstrip("/") in table[f"1/{SHARDS}"], out
        assert crawl_key in table[f"1/{SHARDS}"], out
        assert node_b.url.rstrip("/") in table[f"2/{SHARDS}"], out
        assert table[f"3/{SHARDS}"].split()[1] == "waiting", out

        # Keep feeding the nodes until every shard is done.
        status, out = run_schedule(capsys, *common, "--wait", "--poll-seconds", "1", "--timeout", "420")
        outputs.append(out)
        assert status == 0, out
        assert f"scheduled shard 3/{SHARDS} on" in out
        assert f"crawl {crawl_key}: all {SHARDS} shards done" in out

        status, out = run_schedule(capsys, *common)
        outputs.append(out)
        assert (status, out.count("scheduled shard")) == (0, 0), out
        assert f"all {SHARDS} shards done" in out
        # Without the database, from the nodes' own lists of ended jobs: once the last crawl process,
        # which recorded its run as finished before closing its browser, has exited.
        wait_until_idle([ScrapydNode(server.url, USERNAME, password) for server in (node_a, node_b)])
        monkeypatch.delenv(DATABASE_URL_ENV)
        status, out = run_schedule(capsys, *common, "--status")
        outputs.append(out)
        assert f"all {SHARDS} shards done" in out
        assert "NEWHOMIE_DATABASE_URL is not set" in out
    except AssertionError as error:
        raise AssertionError(f"{error}\n{scrapyd_pair.job_logs()}") from None
    assert not [out for out in outputs if password in out], "the Scrapyd password was printed"

    # Scrapyd's view: one job per shard, named after the crawl and the shard, spread over both nodes.
    ended: list[tuple[str, tuple[str, tuple[int, int]] | None]] = []
    for server in (node_a, node_b):
        jobs = ScrapydNode(server.url, USERNAME, password).list_jobs("newhomie")
        assert (jobs["pending"], jobs["running"]) == ([], [])
        ended += [(server.name, parse_job_id(job["id"])) for job in jobs["finished"]]
    assert sorted(str(shard) for _, shard in ended) == [
        str((crawl_key, (k, SHARDS))) for k in range(1, SHARDS + 1)
    ]
    assert {name for name, _ in ended} == {"node-a", "node-b"}

    # The database: the site's ground truth, each listing once, and one finished run per shard.
    assert truth_ids(site), "the local site should serve listings"
    assert_database_holds_ground_truth(site, database_url, site_for_shards.base_url)
    # One price episode per priced listing: no shard's writes were repeated.
    priced = [
        t
        for loc in site.localities()
        for kind in KINDS
        for t in site.ground_truth(loc.slug, kind)
        if t["price_text"]
    ]
    assert len(fetch_all(database_url, "SELECT id FROM listing_price_history")) == len(priced)
    runs = fetch_all(database_url, "SELECT crawl_key, shard, status FROM crawl_run ORDER BY shard")
    assert runs == [
        {"crawl_key": crawl_key, "shard": shard_text((k, SHARDS)), "status": "finished"}
        for k in range(1, SHARDS + 1)
    ]
    outcomes = fetch_all(
        database_url, "SELECT crawl_key, locality_slug, status, attempts FROM locality_crawl"
    )
    assert sorted(
        (r["locality_slug"], r["status"], r["attempts"], r["crawl_key"]) for r in outcomes
    ) == sorted((locality.slug, "done", 1, crawl_key) for locality in site.localities())


def test_schedule_refuses_what_would_break_the_crawl_before_asking_any_node(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Port 9 on loopback: nothing listens there, so a request would fail loudly; none is made.
    node = "http://127.0.0.1:9/"
    cases = {
        ("-a", "shard=1/3"): "set by this command",
        ("-a", "localities=Richmond 3121"): "'Richmond 3121'",
        ("-s", "NEWHOMIE_DATABASE_URL=postgresql://u:p@h/db"): "the database URL is not a setting",
        ("--crawl", "bad key!"): "crawl='bad key!'",
    }
    for extra, message in cases.items():
        status, out = run_schedule(capsys, "--scrapyd", node, "--shards", "3", "-a", "localities=all", *extra)
        assert status == 2, (extra, out)
        assert message in out, (extra, out)
        assert "cannot reach" not in out


def test_schedule_names_an_unreachable_node_without_its_password(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run_schedule(
        capsys,
        "--scrapyd",
        f"http://{USERNAME}:hunter2@127.0.0.1:9/",
        "--shards",
        "2",
        "-a",
        "localities=all",
    )
    assert status == 2
    assert "cannot reach Scrapyd at http://127.0.0.1:9" in out
    assert "hunter2" not in out


def test_a_scrapyd_job_id_names_its_crawl_and_shard_and_reads_back() -> None:
    from newhomie.cli.scrapyd import job_id

    for key in ("20261121T101500Z-a1b2c3", "week/2026-W47", "a.shard-1-of-3.b"):
        assert parse_job_id(job_id(key, (2, 3), "20261121T101501-ab12")) == (key, (2, 3))
        assert "/" not in job_id(key, (2, 3), "x")  # Scrapyd names the job's log file after it
    assert parse_job_id("5f0c6a2e8b1111efb5e50242ac120002") is None  # a job someone else scheduled


def test_url_credentials_are_kept_apart_from_the_printable_url() -> None:
    node = ScrapydNode.parse("https://crawler:p%40ss@scrapyd.example:6800/prefix", env={})
    assert (node.url, node.username, node.password) == (
        "https://scrapyd.example:6800/prefix/",
        "crawler",
        "p@ss",
    )
    assert "p@ss" not in repr(node)
    from_env = ScrapydNode.parse(
        "http://10.0.0.2:6800", env={"SCRAPYD_USERNAME": "u", "SCRAPYD_PASSWORD": "pw"}
    )
    assert (from_env.username, from_env.password) == ("u", "pw")
    assert ScrapydNode.parse("http://10.0.0.2:6800", env={}).username is None


@pytest.mark.e2e
def test_a_shard_whose_runs_keep_failing_is_retried_then_given_up(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The node's crawls cannot reach their database: each fails its preflight check and exits at once,
    # leaving no run in the database the command reads, only Scrapyd's record of an ended job.
    password = "pw-" + secrets.token_hex(8)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SCRAPY"))}
    env[DATABASE_URL_ENV] = "postgresql://nobody:nothing@127.0.0.1:9/none"
    server = start_scrapyd(tmp_path / "scrapyd", "node-a", password, env)
    try:
        deploy(copy_project(tmp_path / "project"), server, password)
        monkeypatch.setenv(DATABASE_URL_ENV, database_url)
        argv = ["--scrapyd", f"http://{USERNAME}:{password}@127.0.0.1:{server.port}", "--shards", "1"]
        argv += [
            "-a",
            "localities=Dandenong VIC 3175",
            "--max-attempts",
            "2",
            "--wait",
            "--poll-seconds",
            "1",
        ]
        status, out = run_schedule(capsys, *argv, "--timeout", "300")
        jobs = ScrapydNode(server.url, USERNAME, password).list_jobs("newhomie")
    finally:
        server.stop()
    assert status == 1, out
    assert out.count("scheduled shard 1/1") == 2, out
    assert "gave up on shard(s) 1/1 after 2 runs each" in out
    assert len(jobs["finished"]) == 2
    assert password not in out


def node_state(name: str, running: int, pending: int) -> NodeState:
    return NodeState(ScrapydNode(f"http://{name}:6800/"), running, pending, active={}, ended={})


def test_waiting_shards_go_in_order_to_the_nodes_with_the_most_free_slots() -> None:
    nodes = [node_state("a", running=1, pending=0), node_state("b", running=0, pending=0)]
    waiting = shard_states(4, nodes, runs={})
    chosen = [(shard.shard[0], node.node.name) for shard, node in assign(waiting, nodes, slots=2)]
    # b has two free slots, a one; ties go to the node named first; then no slot is left.
    assert chosen == [(1, "http://b:6800"), (2, "http://a:6800"), (3, "http://b:6800")]


def test_a_shard_is_done_by_the_database_when_there_is_one_else_by_scrapyd() -> None:
    node = node_state("a", running=1, pending=0)
    node.active[(1, 3)] = [ActiveJob("http://a:6800", "k+shard-1-of-3+x", "running")]
    node.ended[(2, 3)] = 1  # a job of shard 2 ended; the database says how it ended
    runs = {"2/3": ShardRuns(runs=1, finished=False), "3/3": ShardRuns(runs=2, finished=True)}
    with_db = {s.shard[0]: s.status(max_attempts=3) for s in shard_states(3, [node], runs)}
    assert with_db == {1: "running", 2: "waiting", 3: "done"}
    without_db = {s.shard[0]: s.status(max_attempts=3) for s in shard_states(3, [node], None)}
    assert without_db == {1: "running", 2: "done", 3: "waiting"}
    gave_up = shard_states(3, [node], {"2/3": ShardRuns(runs=3, finished=False)})[1]
    assert gave_up.status(max_attempts=3) == "gave up"
