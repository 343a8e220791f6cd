"""One pace for the whole crawl: after a block or a Retry-After, every request waits
(DOWNLOADER_MIDDLEWARES 540)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from email.utils import parsedate_to_datetime
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector

from newhomie import signals
from newhomie.context import log_context, page_context

logger = logging.getLogger(__name__)


class PaceMiddleware:
    """One pace for the whole crawl: after a block or a Retry-After, every request waits.

    The pause after a block doubles with each block in a row (NEWHOMIE_BLOCK_BACKOFF, up to
    NEWHOMIE_BLOCK_BACKOFF_MAX) and a good page ends the run of blocks. A Retry-After (seconds
    or an HTTP date, on 429/503 or on a block page) is honoured up to NEWHOMIE_RETRY_AFTER_MAX.
    The download slot's delay is raised too, so AutoThrottle comes back down gradually.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        assert crawler.stats is not None
        self.crawler = crawler
        self.stats: StatsCollector = crawler.stats
        self.backoff = settings.getfloat("NEWHOMIE_BLOCK_BACKOFF", 30.0)
        self.backoff_max = settings.getfloat("NEWHOMIE_BLOCK_BACKOFF_MAX", 600.0)
        self.retry_after_max = settings.getfloat("NEWHOMIE_RETRY_AFTER_MAX", 900.0)
        self.max_delay = settings.getfloat("AUTOTHROTTLE_MAX_DELAY", 60.0)
        self.blocks_in_a_row = 0
        self.resume_at = 0.0  # time.monotonic() before which no request leaves
        crawler.signals.connect(self.page_blocked, signal=signals.page_blocked)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        # Polled rather than an Event: a later block may extend the pause while this one waits.
        while True:
            wait = self.resume_at - time.monotonic()
            if wait <= 0:
                return
            await asyncio.sleep(min(wait, 5.0))

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status == 200:
            self.blocks_in_a_row = 0
        elif response.status in (429, 503):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if retry_after is not None:
                self.pause(
                    min(retry_after, self.retry_after_max), f"Retry-After on {response.status}", request
                )
        return response

    def page_blocked(self, url: str, retry_after: float | None = None) -> None:
        self.blocks_in_a_row += 1
        if retry_after is not None:
            self.pause(min(retry_after, self.retry_after_max), "Retry-After on a block page", None, url)
        else:
            seconds = min(self.backoff * 2 ** (self.blocks_in_a_row - 1), self.backoff_max)
            self.pause(seconds, f"{self.blocks_in_a_row} blocks in a row", None, url)

    def pause(self, seconds: float, why: str, request: Request | None, url: str | None = None) -> None:
        self.resume_at = max(self.resume_at, time.monotonic() + seconds)
        self.stats.inc_value("newhomie/pace/pauses")
        self.stats.inc_value("newhomie/pace/pause_ms", round(seconds * 1000))
        context = log_context(request) if request is not None else page_context(url=url)
        logger.warning("pausing the crawl for %.1f s (%s)", seconds, why, extra=context)
        engine = self.crawler.engine
        if engine is not None:
            for slot in engine.downloader.slots.values():
                slot.delay = min(max(slot.delay * 2, 1.0), self.max_delay)


def parse_retry_after(value: bytes | str | None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds, or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        logger.warning("unreadable Retry-After header %r", text)
        return None
    return max(0.0, moment.timestamp() - time.time())
