"""How a page in the browser is known to be ready: it shows its `__NEXT_DATA__`, or it is plainly a
block page (docs/site.md#bot-protection)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

logger = logging.getLogger(__name__)


class NextDataWait:
    """A page method: wait until the page holds its __NEXT_DATA__ script, or is plainly a block page.

    The bot-protection challenge answers the first navigation with a small 403 page whose script
    sets a cookie and reloads; the real page follows. A block page just stays: once a document
    has been complete for `settle_seconds` without the data, waiting longer would only waste the
    crawl's time. The result tells the downloader middleware the status of the page finally shown
    and whether its data arrived.
    """

    def __init__(self, timeout_seconds: float, settle_seconds: float = 5.0) -> None:
        self.timeout = timeout_seconds
        self.settle_ms = settle_seconds * 1000

    async def __call__(self, page: Page) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        state = None
        while time.monotonic() < deadline:
            try:
                state = await page.evaluate(_PAGE_STATE_JS, self.settle_ms)
            except PlaywrightError as exc:  # the challenge's reload replaced the document mid-call
                if page.is_closed():
                    raise  # the browser went away (a restart): fail now, not at the timeout
                logger.debug("page state of %s not read yet: %s", page.url, exc)
                state = None
            if state in ("data", "settled"):
                break
            await asyncio.sleep(0.1)
        if state != "data":
            # Not an error to raise here: the middleware judges the page, and counts and logs it
            # as a block with its locality and URL.
            logger.debug("no __NEXT_DATA__ on %s (%s)", page.url, state or "timed out")
        # The status of the document now shown: after the challenge's reload it is not the one
        # page.goto() returned, and the reload may have happened before goto() returned at all.
        try:
            final_status = await page.evaluate(_DOCUMENT_STATUS_JS)
        except PlaywrightError as exc:
            logger.debug("status of %s not read: %s", page.url, exc)
            final_status = None
        return {"found": state == "data", "final_status": final_status or None}


# "data" when the page's JSON is there; "settled" when a complete document has shown none for a while.
_PAGE_STATE_JS = """(settleMs) => document.querySelector('script#__NEXT_DATA__') ? 'data'
    : (document.readyState === 'complete' && performance.now() > settleMs) ? 'settled' : 'waiting'"""


_DOCUMENT_STATUS_JS = "() => performance.getEntriesByType('navigation')[0]?.responseStatus ?? null"
