"""A spider middleware for tests: loses one request the way a bug of ours would.

The spider counts every request it sends for a locality and ends the locality at its last answer. A
request that never comes back (dropped by a middleware, an extension or a bug in the bookkeeping)
leaves the locality in flight forever, and the crawl would wait for it. The spider's watchdog
(NEWHOMIE_STALL_SECONDS) exists for that case; this middleware makes it happen on purpose:

    -s SPIDER_MIDDLEWARES='{"newhomie.testing.lost_requests.LoseOneRequest": 100}'
    -s NEWHOMIE_TEST_LOSE_URL=/rent/

drops the first request whose URL contains that text, silently, and only that one.
"""

from __future__ import annotations

import logging
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

logger = logging.getLogger(__name__)


class LoseOneRequest(BaseSpiderMiddleware):
    def __init__(self, crawler: Crawler, url_part: str) -> None:
        super().__init__(crawler)
        self.url_part = url_part
        self.lost: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        url_part = crawler.settings.get("NEWHOMIE_TEST_LOSE_URL")
        if not url_part:
            raise NotConfigured("NEWHOMIE_TEST_LOSE_URL is not set")
        return cls(crawler, url_part)

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        if self.lost is None and self.url_part in request.url:
            self.lost = request.url
            logger.warning("test fault: losing the request for %s", request.url)
            return None
        return request
