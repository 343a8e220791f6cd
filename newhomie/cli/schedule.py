"""`python -m newhomie schedule`: the shards of one full crawl, spread over Scrapyd nodes.

    python -m newhomie schedule --scrapyd http://a:6800,http://b:6800 --shards 90 -a localities=all
    python -m newhomie schedule --scrapyd ... --shards 90 --crawl KEY -a localities=all   # fill in more
    python -m newhomie schedule --scrapyd ... --shards 90 --crawl KEY -a localities=all --wait
    python -m newhomie schedule --scrapyd ... --shards 90 --crawl KEY --status

Shard K of N is one Scrapyd job: `scrapy crawl listings -a shard=K/N -a crawl=KEY` with the spider
arguments given, under a job id that names the crawl and the shard (`KEY+shard-K-of-N+ATTEMPT`, a `/`
of the key written `~`), so that Scrapyd's own job lists show which shard runs where. Each call reads
every node's load and jobs, then fills each node's free slots with the next shards that are neither
running (pending or running on any node) nor done. No shard is scheduled while a job of it is pending
or running anywhere; a cron entry, or `--wait`, keeps feeding the cluster until every shard is done.
Without `--crawl` the crawl gets a new key, printed so that later calls can carry on with it.

"Done" is read from the database when NEWHOMIE_DATABASE_URL is set (it must be the database the
nodes write to): a run of the shard in `crawl_run` that ended with Scrapy's 'finished'. Without it,
from Scrapyd: a job of the shard that ended on some node. Scrapyd does not say whether an ended job
succeeded, and forgets ended jobs when it restarts, so the database is the one to trust. A shard
that ended `--max-attempts` times without being done is given up on (exit status 1 with `--wait`).

Slots: Scrapyd runs at most `max_proc` jobs at once but does not publish it, so `--slots-per-node`
says it (default 1: one crawl, one browser, per machine). A node's free slots are its slots less its
running and pending jobs of every project. Scrapyd's HTTP basic auth: `https://user:pass@host:6800`,
or SCRAPYD_USERNAME / SCRAPYD_PASSWORD for nodes whose URL names no user. A password is never printed.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from newhomie.cli.scrapyd import (
    SCRAPYD_URL_ENV,
    ScrapydError,
    ScrapydNode,
    Shard,
    job_id,
    new_attempt,
    parse_job_id,
    shard_text,
)
from newhomie.crawl.arguments import CrawlArguments
from newhomie.crawl.plan import new_crawl_key
from newhomie.store.crawls import ShardRuns, shard_runs
from newhomie.store.target import DATABASE_URL_ENV

logger = logging.getLogger(__name__)


DEFAULT_PROJECT = "newhomie"
DEFAULT_SPIDER = "listings"


#: Spider arguments this command sets itself, one value per shard.
OWN_ARGUMENTS = ("shard", "crawl")
#: Form fields of Scrapyd's schedule.json that are not spider arguments.
SCRAPYD_FIELDS = frozenset({"project", "spider", "jobid", "priority", "setting", "_version"})


@dataclass(frozen=True)
class ActiveJob:
    node: str
    job_id: str
    state: str  # "pending" or "running"


@dataclass
class NodeState:
    node: ScrapydNode
    #: Jobs of every project: they all share the node's slots.
    running: int
    pending: int
    #: This crawl's jobs, by shard.
    active: dict[Shard, list[ActiveJob]]
    ended: dict[Shard, int]

    def free(self, slots: int) -> int:
        return max(0, slots - self.running - self.pending)


def read_node(node: ScrapydNode, project: str, crawl_key: str, shards: int) -> NodeState:
    status = node.daemon_status()
    jobs = node.list_jobs(project)
    active: dict[Shard, list[ActiveJob]] = {}
    ended: dict[Shard, int] = {}
    for state in ("pending", "running", "finished"):
        for job in jobs.get(state, []):
            parsed = parse_job_id(str(job.get("id", "")))
            if parsed is None or parsed[0] != crawl_key or parsed[1][1] != shards:
                continue
            if state == "finished":
                ended[parsed[1]] = ended.get(parsed[1], 0) + 1
            else:
                active.setdefault(parsed[1], []).append(ActiveJob(node.name, job["id"], state))
    return NodeState(node, int(status["running"]), int(status["pending"]), active, ended)


def database_shard_runs(crawl_key: str) -> dict[str, ShardRuns] | None:
    """crawl_run's runs per shard ("K/N") of the crawl; None when NEWHOMIE_DATABASE_URL is not set (an
    embedded database on this machine is not the one the nodes write to)."""
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    return shard_runs(url, crawl_key) if url else None


@dataclass
class ShardState:
    shard: Shard
    active: list[ActiveJob]
    done: bool
    #: Runs of the shard so far: the larger of the database's count and Scrapyd's ended jobs.
    attempts: int

    def status(self, max_attempts: int) -> str:
        if self.done:
            return "done"
        if self.active:
            return "running" if any(job.state == "running" for job in self.active) else "pending"
        return "gave up" if self.attempts >= max_attempts else "waiting"


def shard_states(
    shards: int, nodes: Sequence[NodeState], runs: Mapping[str, ShardRuns] | None
) -> list[ShardState]:
    states = []
    for k in range(1, shards + 1):
        shard = (k, shards)
        active = [job for node in nodes for job in node.active.get(shard, [])]
        ended = sum(node.ended.get(shard, 0) for node in nodes)
        if runs is None:
            done, attempts = ended > 0, ended
        else:
            recorded = runs.get(shard_text(shard), ShardRuns(0, False))
            # A job that failed its preflight left no run, only Scrapyd's record of it; attempts only
            # matter for a shard with no job pending or running.
            done, attempts = recorded.finished, max(recorded.runs, ended)
        states.append(ShardState(shard, active, done, attempts))
    return states


def assign(
    waiting: Sequence[ShardState], nodes: Sequence[NodeState], slots: int
) -> list[tuple[ShardState, NodeState]]:
    """Waiting shards in order, each to the node with the most free slots (the first given on a tie)."""
    free = {id(node): node.free(slots) for node in nodes}
    assignments = []
    for shard in waiting:
        node = max(nodes, key=lambda n: free[id(n)])
        if free[id(node)] <= 0:
            break
        free[id(node)] -= 1
        assignments.append((shard, node))
    return assignments


@dataclass(frozen=True)
class ScheduleRequest:
    nodes: tuple[ScrapydNode, ...]
    shards: int
    crawl_key: str
    arguments: dict[str, str]
    settings: dict[str, str]
    slots_per_node: int = 1
    max_attempts: int = 3
    project: str = DEFAULT_PROJECT
    spider: str = DEFAULT_SPIDER


@dataclass
class PassResult:
    nodes: list[NodeState]
    shards: list[ShardState]
    scheduled: list[tuple[Shard, str, str]]  # (shard, node, job id)

    def count(self, status: str, max_attempts: int) -> int:
        return sum(1 for shard in self.shards if shard.status(max_attempts) == status)


def read_cluster(request: ScheduleRequest) -> tuple[list[NodeState], list[ShardState]]:
    # Every node is read before anything is decided: a node that cannot be read may be running shards,
    # and scheduling them elsewhere would run them twice.
    nodes = [read_node(node, request.project, request.crawl_key, request.shards) for node in request.nodes]
    return nodes, shard_states(request.shards, nodes, database_shard_runs(request.crawl_key))


def schedule_pass(
    request: ScheduleRequest, *, dry_run: bool = False, report: Callable[[str], None] | None = None
) -> PassResult:
    """Read the cluster, then schedule the waiting shards into free slots; each job is reported as soon
    as a node took it, so that a later node's failure cannot hide what was already scheduled."""
    nodes, shards = read_cluster(request)
    waiting = [shard for shard in shards if shard.status(request.max_attempts) == "waiting"]
    scheduled = []
    for shard, node in [] if dry_run else assign(waiting, nodes, request.slots_per_node):
        jobid = job_id(request.crawl_key, shard.shard, new_attempt())
        arguments = {**request.arguments, "shard": shard_text(shard.shard), "crawl": request.crawl_key}
        node.node.schedule(request.project, request.spider, jobid, request.settings, arguments)
        job = ActiveJob(node.node.name, jobid, "pending")
        shard.active.append(job)
        node.active.setdefault(shard.shard, []).append(job)
        node.pending += 1
        scheduled.append((shard.shard, node.node.name, jobid))
        (report or say)(f"scheduled shard {shard_text(shard.shard)} on {node.node.name} (job {jobid})")
    return PassResult(nodes, shards, scheduled)


def say(line: str) -> None:
    """A line of the command's output, at once: `--wait` may run for hours into a log file."""
    print(line, flush=True)


def summary_line(request: ScheduleRequest, result: PassResult) -> str:
    counts = {
        s: result.count(s, request.max_attempts) for s in ("done", "running", "pending", "waiting", "gave up")
    }
    if counts["done"] == request.shards:
        return f"crawl {request.crawl_key}: all {request.shards} shards done"
    parts = ", ".join(f"{number} {status}" for status, number in counts.items() if number)
    return f"crawl {request.crawl_key}: {request.shards} shards: {parts}"


def status_table(request: ScheduleRequest, result: PassResult) -> str:
    lines = []
    for node in result.nodes:
        lines.append(
            f"node {node.node.name}: {node.running} running, {node.pending} pending, "
            f"{node.free(request.slots_per_node)} free of {request.slots_per_node} slots"
        )
    rows = [("shard", "state", "where", "job")]
    for shard in result.shards:
        where = ", ".join(f"{job.node} ({job.state})" for job in shard.active) or "-"
        jobs = ", ".join(job.job_id for job in shard.active) or "-"
        rows.append((shard_text(shard.shard), shard.status(request.max_attempts), where, jobs))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        lines.append(
            "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
        )
    lines.append(summary_line(request, result))
    return "\n".join(lines)


def run_schedule(request: ScheduleRequest, *, wait: bool, poll_seconds: float, timeout: float | None) -> int:
    """Schedule once, or (wait) until every shard is done or given up on: 0, or 1 when a shard was given
    up on or the timeout passed."""
    deadline = None if timeout is None else time.monotonic() + timeout
    last_summary = None
    while True:
        try:
            result = schedule_pass(request)
        except ScrapydError as exc:
            if not wait:
                raise
            # A node restarting is no reason to stop feeding the others; the next pass reads it again.
            logger.warning("%s; trying again in %.0f s", exc, poll_seconds)
        else:
            summary = summary_line(request, result)
            if summary != last_summary or not wait:
                say(summary)
                last_summary = summary
            statuses = [shard.status(request.max_attempts) for shard in result.shards]
            gave_up = [shard_text(s.shard) for s, status in zip(result.shards, statuses, strict=True)
                       if status == "gave up"]  # fmt: skip
            if not wait or set(statuses) <= {"done", "gave up"}:
                if gave_up:
                    say(f"crawl {request.crawl_key}: gave up on shard(s) {', '.join(gave_up)} after "
                        f"{request.max_attempts} runs each (--max-attempts)")  # fmt: skip
                return 1 if gave_up else 0
        if deadline is not None and time.monotonic() >= deadline:
            say(f"crawl {request.crawl_key}: not done after {timeout:.0f} s")
            return 1
        time.sleep(poll_seconds)


def parse_pairs(pairs: Sequence[str] | None, what: str) -> dict[str, str]:
    """["name=value", ...] -> {"name": "value"}; ValueError names a pair without "="."""
    parsed: dict[str, str] = {}
    for pair in pairs or ():
        name, equals, value = pair.partition("=")
        if not equals or not name.strip():
            raise ValueError(f"bad {what} {pair!r}: expected NAME=VALUE")
        parsed[name.strip()] = value
    return parsed


def build_request(args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> ScheduleRequest:
    """The command line, checked; ValueError says what is wrong (before any node is asked anything)."""
    urls = args.scrapyd or env.get(SCRAPYD_URL_ENV, "")
    nodes = tuple(ScrapydNode.parse(url, env) for url in urls.split(",") if url.strip())
    if not nodes:
        raise ValueError(f"say which Scrapyd nodes: --scrapyd URL[,URL...] or {SCRAPYD_URL_ENV}")
    if len({node.url for node in nodes}) != len(nodes):
        raise ValueError("a Scrapyd node is named twice in --scrapyd")
    if args.shards < 1:
        raise ValueError(f"--shards {args.shards}: expected at least 1")
    if args.slots_per_node < 1 or args.max_attempts < 1:
        raise ValueError("--slots-per-node and --max-attempts: expected at least 1")
    arguments = parse_pairs(args.argument, "spider argument")
    settings = parse_pairs(args.setting, "setting")
    own = sorted(set(arguments) & set(OWN_ARGUMENTS))
    if own:
        raise ValueError(f"-a {', '.join(own)}: set by this command (use --shards and --crawl)")
    reserved = sorted(set(arguments) & SCRAPYD_FIELDS)
    if reserved:
        raise ValueError(f"-a {', '.join(reserved)}: Scrapyd keeps these names for itself")
    if any("DATABASE_URL" in name.upper() for name in settings):
        # Scrapyd shows a pending job's settings to anyone who can list jobs, and Scrapy logs them.
        raise ValueError(
            f"the database URL is not a setting: set {DATABASE_URL_ENV} in each scrapyd's environment"
        )
    crawl_key = args.crawl or new_crawl_key()
    if args.spider == DEFAULT_SPIDER:
        # The spider's own check, here: a bad argument fails now, not once per shard on the nodes.
        CrawlArguments.check({**arguments, "shard": f"1/{args.shards}", "crawl": crawl_key})
    return ScheduleRequest(
        nodes=nodes,
        shards=args.shards,
        crawl_key=crawl_key,
        arguments=arguments,
        settings=settings,
        slots_per_node=args.slots_per_node,
        max_attempts=args.max_attempts,
        project=args.project,
        spider=args.spider,
    )


def cmd_schedule(args: argparse.Namespace) -> int:
    if args.status and not args.crawl:
        print("newhomie schedule: --status needs --crawl KEY", file=sys.stderr)
        return 2
    try:
        request = build_request(args)
    except ValueError as exc:
        print(f"newhomie schedule: {exc}", file=sys.stderr)
        return 2
    if not args.crawl:
        print(f"crawl {request.crawl_key} (new): carry on with --crawl {request.crawl_key}", flush=True)
    if DATABASE_URL_ENV not in os.environ:
        print(f"newhomie schedule: {DATABASE_URL_ENV} is not set: a shard counts as done once a job of it "
              "ended on a node (Scrapyd does not say whether it succeeded)", file=sys.stderr)  # fmt: skip
    try:
        if args.status:
            print(status_table(request, schedule_pass(request, dry_run=True)))
            return 0
        return run_schedule(request, wait=args.wait, poll_seconds=args.poll_seconds, timeout=args.timeout)
    except ScrapydError as exc:
        print(f"newhomie schedule: {exc}", file=sys.stderr)
        return 2


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `schedule` command, for `python -m newhomie`'s parser."""
    parser = subparsers.add_parser(
        "schedule",
        help="spread the shards of one full crawl over Scrapyd nodes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scrapyd", metavar="URL[,URL...]",
                        help=f"the Scrapyd nodes (default: ${SCRAPYD_URL_ENV})")  # fmt: skip
    parser.add_argument("--shards", type=int, required=True, metavar="N", help="cut the crawl into N shards")
    parser.add_argument("--crawl", metavar="KEY", help="the crawl to carry on (default: a new one)")
    parser.add_argument("-a", dest="argument", action="append", metavar="NAME=VALUE",
                        help="a spider argument, e.g. -a localities=all (repeatable)")  # fmt: skip
    parser.add_argument("-s", dest="setting", action="append", metavar="NAME=VALUE",
                        help="a Scrapy setting for every job (repeatable)")  # fmt: skip
    parser.add_argument("--slots-per-node", type=int, default=1, metavar="N",
                        help="jobs a node runs at once: its scrapyd max_proc (default 1)")  # fmt: skip
    parser.add_argument("--max-attempts", type=int, default=3, metavar="N",
                        help="give a shard up after N runs that did not finish (default 3)")  # fmt: skip
    parser.add_argument(
        "--status", action="store_true", help="show the shards (done, running where, waiting)"
    )
    parser.add_argument("--wait", action="store_true", help="keep scheduling until every shard is done")
    parser.add_argument("--poll-seconds", type=float, default=30.0, help="between passes with --wait (30)")
    parser.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="with --wait: give up after this long"
    )
    parser.add_argument("--project", default=DEFAULT_PROJECT, help=f"the Scrapyd project ({DEFAULT_PROJECT})")
    parser.add_argument("--spider", default=DEFAULT_SPIDER, help=f"the spider ({DEFAULT_SPIDER})")
    parser.set_defaults(func=cmd_schedule)
