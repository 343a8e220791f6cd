"""What incremental crawls save: pages and time of a full and an incremental crawl, a week apart.

    python benchmarks/bench_incremental.py [--localities 20] [--seed 5] [--days 7]

The local site (`FakeSite`, its default mix of listings, served in this process) is crawled in full into
two scratch databases. Then `--days` pass on the site (`FakeSite.advance`) and in both databases (every
time a crawl recorded moves back as far), and one database is crawled incrementally, the other in full
(`-a full=1`). It prints, for each of the two, pages by kind and in all, pages saved, wall seconds,
and whether the two databases hold the same listings, sold records, price episodes and current views.
Politeness is off (tests/crawling.py's settings): the ratio of pages is what carries over to the real
site, where pages at a polite pace are what a crawl's time is made of.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scratch import scratch_database  # noqa: E402 (benchmarks/scratch.py)

from newhomie.testing.fakesite import FakeSite, serve  # noqa: E402
from tests.crawl.test_incremental_e2e import latest_run, stored  # noqa: E402
from tests.crawling import age_database, run_crawl  # noqa: E402


def crawl(base_url: str, database_url: str, localities: str, *extra: str) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    done = run_crawl(base_url, database_url, localities, *extra, timeout=3600)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"crawl failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return latest_run(database_url), seconds


def pages_by_kind(run: dict[str, Any]) -> dict[str, int]:
    return {kind: sum(outcomes.values()) for kind, outcomes in sorted(run["summary"]["pages"].items())}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--localities", type=int, default=20)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()

    site = FakeSite(localities=args.localities, seed=args.seed)
    localities = ";".join(site.locality_strings())
    with (
        tempfile.TemporaryDirectory(prefix="newhomie-bench-incremental-") as scratch,
        serve(site) as running,
        scratch_database(Path(scratch) / "a") as ours,
        scratch_database(Path(scratch) / "b") as theirs,
    ):
        for database in (ours, theirs):
            first, seconds = crawl(running.base_url, database.url, localities)
        print(f"first crawl: {first['summary']['pages_total']} pages in {seconds:.0f} s "
              f"({args.localities} localities, seed {args.seed}, {ours.where})")  # fmt: skip
        changes = site.advance(days=args.days)
        print(f"{args.days} days later: " + ", ".join(f"{n} {what}" for what, n in changes.items()))
        for database in (ours, theirs):
            age_database(database.url, args.days)
        incremental, incremental_seconds = crawl(running.base_url, ours.url, localities)
        full, full_seconds = crawl(running.base_url, theirs.url, localities, "-a", "full=1")
        same = stored(ours.url) == stored(theirs.url)

    rows = (("incremental", incremental, incremental_seconds), ("full", full, full_seconds))
    kinds = sorted({kind for _, run, _ in rows for kind in pages_by_kind(run)})
    print(
        f"{'crawl':<12}" + "".join(f"{kind:>9}" for kind in kinds) + f"{'pages':>9}{'saved':>9}{'seconds':>9}"
    )
    for name, run, seconds in rows:
        by_kind = pages_by_kind(run)
        print(f"{name:<12}" + "".join(f"{by_kind.get(kind, 0):>9}" for kind in kinds)
              + f"{run['summary']['pages_total']:>9}{run['pages_saved']:>9}{seconds:>9.0f}")  # fmt: skip
    ratio = incremental["summary"]["pages_total"] / max(1, full["summary"]["pages_total"])
    print(
        f"incremental / full: {ratio:.2f} of the pages, {incremental_seconds / full_seconds:.2f} of the time"
    )
    print(f"databases equal (listings, sold records, price episodes, current views): {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
