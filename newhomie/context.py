"""What a page request is about, in one vocabulary: the request meta every request of the crawl carries
(`newhomie.crawl.requests` writes it), and the same facts as a log record's `extra`, so that every line
about a page carries its locality, stage and URL as data (`newhomie.watch.logs` prints them, or puts
them in JSON), not in its text:

    logger.warning("blocked page (status %s)", status, extra=log_context(request))
"""

from __future__ import annotations

from typing import Any

from scrapy import Request

#: Request meta keys: the locality's name ("Dandenong VIC 3175") and what the crawl was doing
#: ("profile", "sale_search", ...), which error records and log lines name.
LOCALITY = "locality"
STAGE = "stage"
#: The log record attributes `log_context` sets.
CONTEXT_FIELDS = ("locality", "stage", "url")


def page_context(locality: object = None, stage: str | None = None, url: str | None = None) -> dict[str, Any]:
    """A log record's `extra` naming a page (or only a locality): what is known of it."""
    return {
        "locality": None if locality is None else str(locality),
        "stage": stage,
        "url": url,
    }


def log_context(request: Request) -> dict[str, Any]:
    """The `extra` of a log line about a request: its locality, stage and URL."""
    meta = request.meta
    return page_context(meta.get(LOCALITY), meta.get(STAGE), request.url)
