"""`demo`: serve the local copy of the site, crawl it with the real spider and browser into a database of
the demo's own, and show what landed."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from newhomie import sql
from newhomie.cli.database import run_sql
from newhomie.store.embedded import HOME_ENV, embedded_url
from newhomie.store.target import DATABASE_URL_ENV

LOCAL_SITE_SETTINGS = (
    "DOWNLOAD_DELAY=0.1",
    "AUTOTHROTTLE_START_DELAY=0.1",
    "CONCURRENT_REQUESTS_PER_DOMAIN=4",
    "CONCURRENT_REQUESTS=4",
    "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT=4",
)


def cmd_demo(args: argparse.Namespace) -> int:
    """Serve the local site in this process and crawl it with the real spider and browser."""
    from newhomie.testing.fakesite import FakeSite, serve

    home = Path(args.home).resolve()
    env = {k: v for k, v in os.environ.items() if k != DATABASE_URL_ENV}
    env[HOME_ENV] = str(home)  # the demo's own embedded database, never the user's real one
    os.environ[HOME_ENV] = str(home)
    os.environ.pop(DATABASE_URL_ENV, None)
    site = FakeSite(localities=args.localities, seed=args.seed)
    with serve(site) as running:
        env["DOMAIN_BASE_URL"] = running.base_url
        localities = ";".join(site.locality_strings())
        print(f"demo: local site at {running.base_url} with {args.localities} localities; crawling…")
        command = [sys.executable, "-m", "scrapy", "crawl", "listings", "-a", f"localities={localities}",
                   "-s", "LOG_LEVEL=" + args.log_level]  # fmt: skip
        # The local site is ours and on loopback: the real site's politeness would only make the demo slow.
        for setting in LOCAL_SITE_SETTINGS:
            command += ["-s", setting]
        completed = subprocess.run(command, env=env, check=False)
    if completed.returncode != 0:
        print(f"demo: the crawl failed with exit status {completed.returncode}", file=sys.stderr)
        return completed.returncode
    url = embedded_url()
    print("\nWhat landed in the database, per locality:")
    print(run_sql(url, sql.query("demo_localities")))
    print("\nA few listings:")
    print(run_sql(url, sql.query("demo_listings")))
    print(
        f'\nExplore it yourself: NEWHOMIE_HOME={home} python -m newhomie sql "select count(*) from listing"'
    )
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("demo", help="crawl the local copy of the site (offline)")
    p.add_argument("--localities", type=int, default=3)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--home", default=".newhomie/demo", help="where the demo's own database lives")
    p.add_argument("--log-level", default="WARNING")
    p.set_defaults(func=cmd_demo)
