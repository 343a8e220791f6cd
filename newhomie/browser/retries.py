"""Retries of a page counted apart from Scrapy's own, and the context every line about a page names."""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


def request_context(request: Request) -> str:
    """`locality=... stage=... url=...`, for every log line about a page."""
    meta = request.meta
    return f"locality={meta.get('locality', '-')!s} stage={meta.get('stage', '-')} url={request.url}"


def retry_apart(
    request: Request, counter: str, limit: int, reason: str, stats: StatsCollector
) -> Request | None:
    """The request again, counted in its own meta `counter` (not Scrapy's `retry_times`): blocks and
    browser failures must not use up the retries a server error is given, nor the other way round."""
    tries = request.meta.get(counter, 0) + 1
    if tries > limit:
        stats.inc_value(f"retry/max_reached/{counter}")
        logger.warning("gave up after %d tries (%s): %s", tries - 1, reason, request_context(request))
        return None
    retry = request.copy()
    retry.meta[counter] = tries
    retry.dont_filter = True
    stats.inc_value("retry/count")
    stats.inc_value(f"retry/reason_count/{reason}")
    logger.debug("retrying (%s, try %d of %d): %s", reason, tries, limit, request_context(request))
    return retry
