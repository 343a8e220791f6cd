"""`scrapy crawl`, with checks before the crawl and an exit status that says how it went.

Before: the preflight checks of the spider and the item pipelines. A malformed spider argument or
an unreachable database is then one clear line and exit 2 before any browser starts, instead of a
traceback from the middle of the engine's start. A component takes part by having a `preflight`
classmethod that raises `PreflightError`.

After: exit 3 when the run's health verdict (newhomie.watch.summary) was unhealthy, so that cron,
Scrapyd users and alerting notice a run that finished but should not be trusted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from scrapy import Spider
from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings

from newhomie.preflight import PreflightError, run_preflight
from newhomie.watch.logs import install_json_root_handler

logger = logging.getLogger(__name__)

EXIT_PREFLIGHT_FAILED = 2
EXIT_UNHEALTHY = 3


class Command(ScrapyCrawlCommand):
    crawler: Crawler | None = None

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        # JSON log lines from the first one, before any extension exists (NEWHOMIE_JSON_LOGS).
        install_json_root_handler(self.settings)

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        self.crawler = super()._create_crawler(spidercls)
        return self.crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) == 1:
            assert self.crawler_process is not None
            spidercls: Any = self.crawler_process.spider_loader.load(args[0])
            assert self.settings is not None
            settings: BaseSettings = self.settings
            try:
                run_preflight(spidercls, settings, opts.spargs)
            except PreflightError as exc:
                if settings.get("LOG_FILE"):  # the log goes elsewhere: it keeps the line too
                    logger.error("not crawling: %s", exc)
                print(f"scrapy crawl {args[0]}: {exc}", file=sys.stderr)
                self.exitcode = EXIT_PREFLIGHT_FAILED
                return
        super().run(args, opts)
        stats = self.crawler.stats if self.crawler is not None else None
        if self.exitcode == 0 and stats is not None and stats.get_value("newhomie/health/healthy") == 0:
            reasons = "; ".join(stats.get_value("newhomie/health/reasons") or [])
            print(f"scrapy crawl {args[0]}: the run was unhealthy: {reasons}", file=sys.stderr)
            self.exitcode = EXIT_UNHEALTHY
