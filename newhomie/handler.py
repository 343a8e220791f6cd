"""scrapy-playwright's download handler, made to heal: a browser that hangs or dies is replaced.

People who crawled this site in production saw browsers hang (navigation timeouts,
`Target.createTarget timed out`); what worked was restarting the whole browser, not retrying
inside a stuck one. This handler adds to scrapy-playwright's:

- an overall time limit per page (DOWNLOAD_TIMEOUT): Playwright's navigation timeout does not
  cover a renderer stuck after navigation;
- `restart_browser()`: the browser is dropped at once (the next page launches a fresh one), then
  closed, and killed if it does not close; pages still open in it fail and are retried;
- a browser that disconnects (crashed, killed) is forgotten only if it is still the current one:
  scrapy-playwright's own callback would also drop a fresh browser launched meanwhile;
- the browser contexts of a locality are closed when the locality ends (`locality_finished`).

It relies on internals of scrapy-playwright 0.0.48 (`browser`, `context_wrappers`,
`browser_launch_lock`, `_maybe_launch_browser`, `_download_request`), pinned in requirements.txt.
"""

from __future__ import annotations

import asyncio
import logging
import os
from contextlib import suppress
from typing import Any

import psutil
from playwright.async_api import Browser
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from newhomie import signals

logger = logging.getLogger(__name__)

BROWSER_PROCESS_NAMES = ("chrome", "chromium", "headless_shell", "chrome-headless-shell")


class PageTimeout(TimeoutError):
    """A page took longer than DOWNLOAD_TIMEOUT altogether: the browser is taken to be stuck."""


def browser_processes() -> set[int]:
    """PIDs of the top-level browser processes this crawler started (children of Playwright's driver)."""
    pids: set[int] = set()
    with suppress(psutil.Error):
        for child in psutil.Process(os.getpid()).children(recursive=True):
            with suppress(psutil.Error):
                name = child.name()
                parent = child.parent()
                if (
                    any(n in name for n in BROWSER_PROCESS_NAMES)
                    and parent
                    and not any(n in parent.name() for n in BROWSER_PROCESS_NAMES)
                ):
                    pids.add(child.pid)
    return pids


class PlaywrightHandler(ScrapyPlaywrightDownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.crawler = crawler
        self.page_timeout = crawler.settings.getfloat("DOWNLOAD_TIMEOUT", 90.0)
        self.close_timeout = crawler.settings.getfloat("NEWHOMIE_BROWSER_CLOSE_TIMEOUT", 10.0)
        #: Bumped at each restart: a failure seen on an older browser does not restart the new one.
        self.generation = 0
        self._pids: dict[int, set[int]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        crawler.signals.connect(self._on_locality_finished, signal=signals.locality_finished)
        crawler.signals.connect(self._on_restart_requested, signal=signals.browser_restart_requested)

    async def _maybe_launch_browser(self) -> None:
        async with self.browser_launch_lock:
            if hasattr(self, "browser"):
                return
            before = browser_processes()
            browser: Browser = await self.browser_provider.launch_browser()
            self.browser = browser
            self._pids[id(browser)] = browser_processes() - before
            self.stats.inc_value("playwright/browser_count")
            logger.info(
                "browser started (generation %d, pids %s)", self.generation, sorted(self._pids[id(browser)])
            )

            async def gone(_: Any = None, browser: Browser = browser) -> None:
                await self._browser_gone(browser)

            browser.on("disconnected", gone)

    async def _browser_gone(self, browser: Browser) -> None:
        """The browser disconnected: crashed, killed, or closed by a restart."""
        self._pids.pop(id(browser), None)
        if self._closing or getattr(self, "browser", None) is not browser:
            return  # the crawl's end, or an old browser already replaced
        logger.warning("the browser disconnected (crashed or killed); the next page starts a fresh one")
        self.stats.inc_value("newhomie/browser/disconnected")
        self._forget(browser)

    def _forget(self, browser: Browser) -> None:
        if getattr(self, "browser", None) is browser:
            del self.browser
            self.generation += 1
        # The contexts belonged to that browser; closing them is the browser's close.
        self.context_wrappers.clear()

    async def restart_browser(self, reason: str, generation: int | None = None) -> bool:
        """Replaces the current browser (unless the failure was seen on an older one)."""
        async with self.browser_launch_lock:
            browser: Browser | None = getattr(self, "browser", None)
            if browser is None or (generation is not None and generation != self.generation):
                return False
            self._forget(browser)
        pids = self._pids.pop(id(browser), set())
        self.stats.inc_value("newhomie/browser/restarts")
        logger.warning("restarting the browser: %s", reason)
        try:
            await asyncio.wait_for(browser.close(), timeout=self.close_timeout)
        except Exception as exc:  # a stuck browser may not close: kill it
            logger.warning(
                "the browser did not close (%s: %s); killing pids %s", type(exc).__name__, exc, sorted(pids)
            )
            for pid in pids:
                with suppress(psutil.Error):
                    psutil.Process(pid).kill()
        self.crawler.signals.send_catch_log(signals.browser_restarted, reason=reason)
        return True

    async def _download_request(self, request: Request, spider: Spider | None = None) -> Response:
        request.meta["browser_generation"] = self.generation
        try:
            return await asyncio.wait_for(
                super()._download_request(request, spider), timeout=self.page_timeout
            )
        except TimeoutError as exc:
            if isinstance(exc, PageTimeout) or type(exc) is not TimeoutError:
                raise
            # The page task was cancelled mid-way and its page may stay open: only a restart frees it.
            raise PageTimeout(f"no page within {self.page_timeout:.0f} s") from exc

    async def _close(self) -> None:
        self._closing = True
        await super()._close()

    def _on_restart_requested(self, reason: str, generation: int | None = None) -> None:
        self._spawn(self.restart_browser(reason, generation))

    def _on_locality_finished(self, context: str | None = None, **_: Any) -> None:
        if context:
            self._spawn(self.close_contexts(context))

    async def close_contexts(self, prefix: str) -> None:
        """Closes every context whose name starts with `prefix` (a locality's, and its block retries')."""
        names = [name for name in self.context_wrappers if name == prefix or name.startswith(prefix + ".")]
        for name in names:
            wrapper = self.context_wrappers.get(name)
            if wrapper is None:
                continue
            try:
                await wrapper.context.close()
                self.stats.inc_value("newhomie/browser/contexts_closed")
            except Exception as exc:  # its browser may be gone; the context is gone with it
                logger.debug("closing context %s: %s", name, exc)
            self.context_wrappers.pop(name, None)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(task: asyncio.Task[Any]) -> None:
            self._tasks.discard(task)
            if not task.cancelled() and task.exception() is not None:
                logger.error("browser housekeeping failed: %r", task.exception())

        task.add_done_callback(done)
