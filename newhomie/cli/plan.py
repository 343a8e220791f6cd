"""`plan --estimate`: the pages and hours a full and an incremental crawl of a selection will take, and
how many shards (nodes) finish it within a deadline."""

from __future__ import annotations

import argparse
import sys

from scrapy.settings import Settings

from newhomie.cli.localities import add_selection_arguments, selection_of
from newhomie.crawl.estimate import Estimate, LocalityPages, Pace, estimate, profile_share, settings_pace
from newhomie.crawl.plan import catalog_with
from newhomie.localities.selection import select
from newhomie.store.crawls import discovered_localities
from newhomie.store.history import latest_crawls, recent_pace
from newhomie.store.migrations import ready_database

#: A page's time in the browser, for the settings' pace when no run was measured yet (seconds).
PAGE_SECONDS = 2.5


def project_settings(overrides: list[str]) -> Settings:
    settings = Settings()
    settings.setmodule("newhomie.settings", priority="project")
    for text in overrides:
        name, _, value = text.partition("=")
        settings.set(name.strip(), value.strip(), priority="cmdline")
    return settings


def cmd_plan(args: argparse.Namespace) -> int:
    selection = selection_of(args, "plan")
    if selection is None:
        return 2
    if args.deadline_hours <= 0 or args.every_days <= 0:
        print("newhomie plan: --deadline-hours and --every-days must be more than 0", file=sys.stderr)
        return 2
    settings = project_settings(args.set or [])
    target, _ = ready_database()
    chosen = select(catalog_with(discovered_localities(target.url)), selection)
    history = {slug: LocalityPages(*crawl) for slug, crawl in latest_crawls(target.url).items()}
    pages, seconds, runs = recent_pace(target.url)
    if pages and seconds > 0 and not args.from_settings:
        pace = Pace(
            pages / seconds,
            f"measured over the latest {runs} runs ({pages:,} pages in {seconds / 3600:.2f} h)",
        )
    else:
        pace = settings_pace(
            settings.getfloat("DOWNLOAD_DELAY"), PAGE_SECONDS, settings.getbool("AUTOTHROTTLE_ENABLED"),
            settings.getfloat("AUTOTHROTTLE_TARGET_CONCURRENCY"),
        )  # fmt: skip
    max_age_days = settings.getfloat("NEWHOMIE_PROFILE_MAX_AGE_DAYS")
    result = estimate((loc.slug for loc in chosen), history, pace, max_age_days, args.every_days)
    print(f"{target.describe()}:")
    print(describe(result, args.deadline_hours, args.every_days, max_age_days))
    return 0


def describe(result: Estimate, deadline_hours: float, every_days: float, max_age_days: float) -> str:
    lines = [
        f"localities    {result.localities:,} selected: {result.crawled:,} crawled before, "
        f"{result.never_crawled:,} never ({result.pages_per_new_locality:g} pages each, "
        f"{'the median of those crawled' if result.crawled else 'assumed'}), "
        f"{result.not_found:,} unknown to the site (skipped)",
        f"pace          {result.pace.pages_per_second:.3g} pages/s per node, {result.pace.basis}",
        f"{'crawl':<24}{'pages':>12}{'hours, 1 node':>16}{f'nodes for {deadline_hours:g} h':>18}",
    ]
    rows = (
        ("full (-a full=1)", result.full_pages),
        ("incremental, next", result.incremental_pages),
        ("incremental, afterwards", result.steady_pages),
    )
    for kind, pages in rows:
        nodes = result.nodes_for(pages, deadline_hours)
        lines.append(f"{kind:<24}{pages:>12,.0f}{result.hours(pages):>16,.1f}{nodes:>18,}")
    lines.append(
        f"Incremental crawls every {every_days:g} days read a profile on one crawl in "
        f"{round(1 / profile_share(max_age_days, every_days))} (NEWHOMIE_PROFILE_MAX_AGE_DAYS "
        f"{max_age_days:g}); the next one reads whole every locality never crawled."
    )
    lines.append(
        "Nodes run shards side by side (-a shard=K/N), each at the pace above: N nodes are N times the load "
        "on the site."
    )
    return "\n".join(lines)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "plan", help="estimate the pages and hours of a crawl, and the nodes for a deadline"
    )
    p.add_argument("--estimate", action="store_true", required=True, help="estimate (the only action yet)")
    add_selection_arguments(p)
    p.add_argument("--deadline-hours", type=float, default=24.0, help="finish within (default %(default)s)")
    p.add_argument("--every-days", type=float, default=3.5,
                   help="days between crawls: how often profiles are read (default %(default)s)")  # fmt: skip
    p.add_argument("--from-settings", action="store_true",
                   help="the pace from the politeness settings, even when runs were measured")  # fmt: skip
    p.add_argument(
        "-s", "--set", action="append", metavar="NAME=VALUE", help="a setting, as for scrapy crawl"
    )
    p.set_defaults(func=cmd_plan)
