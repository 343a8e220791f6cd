"""Retries of a page counted apart from Scrapy's own."""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.statscollectors import StatsCollector

from newhomie.context import log_context

logger = logging.getLogger(__name__)


def retry_apart(
    request: Request, counter: str, limit: int, reason: str, stats: StatsCollector
) -> Request | None:
    """The request again, counted in its own meta `counter` (not Scrapy's `retry_times`): blocks and
    browser failures must not use up the retries a server error is given, nor the other way round."""
    tries = request.meta.get(counter, 0) + 1
    if tries > limit:
        stats.inc_value(f"retry/max_reached/{counter}")
        logger.warning("gave up after %d tries (%s)", tries - 1, reason, extra=log_context(request))
        return None
    retry = request.copy()
    retry.meta[counter] = tries
    retry.dont_filter = True
    stats.inc_value("retry/count")
    stats.inc_value(f"retry/reason_count/{reason}")
    logger.debug("retrying (%s, try %d of %d)", reason, tries, limit, extra=log_context(request))
    return retry
