"""`scrapy crawl`, which first runs the preflight checks of the spider and the item pipelines.

A malformed spider argument or an unreachable database is then one clear line and a non-zero
exit before any browser starts, instead of a traceback from the middle of the engine's start.
A component takes part by having a `preflight` classmethod that raises `PreflightError`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.settings import BaseSettings

from newhomie.preflight import PreflightError, run_preflight

logger = logging.getLogger(__name__)

EXIT_PREFLIGHT_FAILED = 2


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) == 1:
            assert self.crawler_process is not None
            spidercls: Any = self.crawler_process.spider_loader.load(args[0])
            assert self.settings is not None
            settings: BaseSettings = self.settings
            try:
                run_preflight(spidercls, settings, opts.spargs)
            except PreflightError as exc:
                logger.error("not crawling: %s", exc)
                print(f"scrapy crawl {args[0]}: {exc}", file=sys.stderr)
                self.exitcode = EXIT_PREFLIGHT_FAILED
                return
        super().run(args, opts)
