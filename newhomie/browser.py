"""Which Chromium to launch, what it may load, and how a page is known to be ready.

Playwright's own Chromium is used where it was downloaded; where it could not be (no network to
its download host), the system Chromium (Debian's `chromium` package) serves just as well.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from playwright.async_api import Request as PlaywrightRequest
from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

SYSTEM_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Nothing the crawler reads is in these; skipping them saves most of a page's bytes.
ABORTED_RESOURCE_TYPES = frozenset({"image", "font", "media"})


# Where `playwright install chromium` puts its builds, newest layouts first.
PLAYWRIGHT_BUILD_PATTERNS = (
    "chromium_headless_shell-*/chrome-headless-shell-linux64/chrome-headless-shell",
    "chromium_headless_shell-*/chrome-linux/headless_shell",
    "chromium-*/chrome-linux64/chrome",
    "chromium-*/chrome-linux/chrome",
)


def _revision(path: Path, root: Path) -> int:
    digits = path.relative_to(root).parts[0].rsplit("-", 1)[-1]
    return int(digits) if digits.isdigit() else 0


def playwright_chromium() -> Path | None:
    """The newest Chromium that `playwright install` downloaded, if any.

    Its path is passed explicitly, so a build of another revision than this Playwright's own
    still serves (Playwright alone would refuse it as missing).
    """
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    candidates = [
        path
        for pattern in PLAYWRIGHT_BUILD_PATTERNS
        for path in root.glob(pattern)
        if os.access(path, os.X_OK)
    ]
    return max(candidates, key=lambda path: _revision(path, root), default=None)


def system_chromium() -> Path | None:
    for name in SYSTEM_CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def resolve_chromium(explicit: str | None) -> Path:
    """The binary to launch: an explicit path, else Playwright's own build, else the system one.

    Raises FileNotFoundError with what to do when there is none at all.
    """
    if explicit:
        path = Path(explicit)
        if not os.access(path, os.X_OK):
            raise FileNotFoundError(f"NEWHOMIE_CHROMIUM={explicit} is not an executable file")
        return path
    found = playwright_chromium() or system_chromium()
    if found is None:
        raise FileNotFoundError(
            "no Chromium found: run `make setup` (it installs one), `playwright install chromium`, "
            "or set NEWHOMIE_CHROMIUM=/path/to/chromium"
        )
    return found


class BrowserAddon:
    """Points PLAYWRIGHT_LAUNCH_OPTIONS at the Chromium this machine has."""

    def update_settings(self, settings: BaseSettings) -> None:
        options = dict(settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS"))
        if options.get("executable_path"):
            return
        options["executable_path"] = str(resolve_chromium(settings.get("NEWHOMIE_CHROMIUM")))
        # Kept at the priority it was given (the project's), which an add-on's own would not override.
        priority = settings.getpriority("PLAYWRIGHT_LAUNCH_OPTIONS") or "addon"
        settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", options, priority=priority)


def should_abort_request(request: PlaywrightRequest) -> bool:
    return request.resource_type in ABORTED_RESOURCE_TYPES


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
