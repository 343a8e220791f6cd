"""Which Chromium to launch, what it may load, and how a page is known to be ready.

Playwright's own Chromium is used where it was downloaded; where it could not be (no network to
its download host), the system Chromium (Debian's `chromium` package) serves just as well.
"""

from __future__ import annotations

import logging
import os
import shutil
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


def playwright_chromium() -> Path | None:
    """Playwright's downloaded Chromium (or its headless shell), if there is one."""
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    patterns = ("chromium_headless_shell-*/chrome-*/headless_shell", "chromium-*/chrome-*/chrome")
    for pattern in patterns:
        for candidate in sorted(root.glob(pattern), reverse=True):
            if os.access(candidate, os.X_OK):
                return candidate
    return None


def system_chromium() -> Path | None:
    for name in SYSTEM_CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def resolve_chromium(explicit: str | None) -> Path | None:
    """The binary to launch: an explicit path, else None for Playwright's own, else the system one.

    Raises FileNotFoundError with what to do when there is none at all.
    """
    if explicit:
        path = Path(explicit)
        if not os.access(path, os.X_OK):
            raise FileNotFoundError(f"NEWHOMIE_CHROMIUM={explicit} is not an executable file")
        return path
    if playwright_chromium() is not None:
        return None  # Playwright finds its own build
    found = system_chromium()
    if found is None:
        raise FileNotFoundError(
            "no Chromium found: run `make setup` (it installs one), `playwright install chromium`, "
            "or set NEWHOMIE_CHROMIUM=/path/to/chromium"
        )
    return found


class BrowserAddon:
    """Points PLAYWRIGHT_LAUNCH_OPTIONS at the Chromium this machine has."""

    def update_settings(self, settings: BaseSettings) -> None:
        executable = resolve_chromium(settings.get("NEWHOMIE_CHROMIUM"))
        options = dict(settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS"))
        if executable is not None and not options.get("executable_path"):
            options["executable_path"] = str(executable)
        settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", options, priority="addon")


def should_abort_request(request: PlaywrightRequest) -> bool:
    return request.resource_type in ABORTED_RESOURCE_TYPES


class NextDataWait:
    """A page method: wait until the page holds its __NEXT_DATA__ script.

    The bot-protection challenge answers the first navigation with a small 403 page whose script
    sets a cookie and reloads; the real page follows. The result tells the downloader middleware
    the status of the page finally shown and whether its data arrived.
    """

    def __init__(self, timeout_seconds: float) -> None:
        self.timeout_ms = timeout_seconds * 1000

    async def __call__(self, page: Page) -> dict[str, Any]:
        statuses: list[int] = []

        def on_response(response: Any) -> None:
            if response.request.is_navigation_request() and response.frame == page.main_frame:
                statuses.append(response.status)

        page.on("response", on_response)
        try:
            await page.wait_for_selector("script#__NEXT_DATA__", state="attached", timeout=self.timeout_ms)
            found = True
        except PlaywrightError as exc:
            # Not an error of ours to raise: the page is judged by the middleware, which counts
            # and logs it as a block with its URL.
            logger.debug("no __NEXT_DATA__ on %s: %s", page.url, exc)
            found = False
        finally:
            page.remove_listener("response", on_response)
        return {"found": found, "final_status": statuses[-1] if statuses else None}
