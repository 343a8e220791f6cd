"""What the crawl needs to know of Scrapy's engine, in one place.

The stall watchdog (`newhomie.crawl.admission`) asks whether the engine has anything left to do while
the spider's `start()` waits: no download in flight, nothing in the scraper, nothing scheduled.
`ExecutionEngine.spider_is_idle()` cannot say it, because it also waits for `start()` itself. Checked
against Scrapy 2.19 (the pinned version), whose `engine.scheduler` is public (new in 2.19) and whose
`downloader.active` and `scraper.slot` are the attributes `spider_is_idle()` reads.
"""

from __future__ import annotations

from scrapy.crawler import Crawler

CHECKED_WITH_SCRAPY = "2.19"


class EngineState:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    def idle_but_for_start(self) -> bool:
        """True when the engine waits on nothing but the spider's start(): any request a locality still
        counts as in flight was lost."""
        engine = self.crawler.engine
        if engine is None or engine.downloader.active:
            return False
        slot = engine.scraper.slot
        if slot is None or not slot.is_idle():
            return False
        scheduler = engine.scheduler
        return scheduler is None or not scheduler.has_pending_requests()
