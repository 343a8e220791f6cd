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
- the browser contexts of a locality are closed when the locality ends (`locality_finished`);
- one handler (so one Playwright driver, one browser) per crawler for both `http` and `https`: Scrapy
  makes a handler per scheme in DOWNLOAD_HANDLERS, and each of scrapy-playwright's starts a Playwright
  driver (a node process of ~125 MiB) when the engine starts, used or not;
- no event listener of scrapy-playwright's left to fail on a page that a restart closed: see
  `_make_request_handler` and `_get_response_and_download`.

Why the listeners matter: Playwright (1.65) logs an exception escaping an async event listener as
`[playwright] ERROR: Error occurred in event listener`, and raises the same exception again from the
next Playwright call the crawl makes, whichever page it is for. So a listener that was still asking the
old browser something when a restart closed it paged whoever alerts on ERROR, on every restart, and then
failed an unrelated call (often the fresh browser's launch, which scrapy-playwright retries).

It relies on internals of scrapy-playwright 0.0.48 (`browser`, `context_wrappers`,
`browser_launch_lock`, `_maybe_launch_browser`, `_download_request`, `_make_request_handler`,
`_get_response_and_download`), pinned in requirements.txt.
"""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any, Self

import psutil
from playwright._impl._errors import TargetClosedError  # not exported; scrapy-playwright imports it too
from playwright.async_api import Browser, Page, Route
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Request as PlaywrightRequest
from playwright.async_api import Response as PlaywrightResponse
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.http.headers import Headers
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from newhomie import signals
from newhomie.context import page_context

logger = logging.getLogger(__name__)

BROWSER_PROCESS_NAMES = ("chrome", "chromium", "headless_shell", "chrome-headless-shell")


#: Route handlers that stopped because their page, context or browser was closed under them.
LISTENER_ERRORS_AFTER_CLOSE_STAT = "newhomie/browser/listener_errors_after_close"

RouteHandler = Callable[[Route, PlaywrightRequest], Awaitable[None]]


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


# The handler of each crawler, whichever scheme asks for it (see PlaywrightHandler.from_crawler).
_HANDLERS: weakref.WeakKeyDictionary[Crawler, PlaywrightHandler] = weakref.WeakKeyDictionary()


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
        self._close_called = False
        crawler.signals.connect(self._on_locality_finished, signal=signals.locality_finished)
        crawler.signals.connect(self._on_restart_requested, signal=signals.browser_restart_requested)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """The crawler's one handler: made by the first scheme that asks, given to the others.

        Scrapy builds a handler per scheme of DOWNLOAD_HANDLERS (both `http` and `https` are ours);
        two would mean two Playwright drivers, one of them idle for the whole crawl, and two browsers
        with separate cookies should the crawl ever meet both schemes.
        """
        handler = _HANDLERS.get(crawler)
        if handler is None:
            handler = _HANDLERS[crawler] = cls(crawler)
        assert isinstance(handler, cls)
        return handler

    async def close(self) -> None:
        # Scrapy closes the handler of each scheme, that is this one twice; the browser and the driver
        # are closed by the first call.
        if self._close_called:
            return
        self._close_called = True
        await super().close()

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

    async def _get_response_and_download(
        self, request: Request, page: Page, spider: Spider
    ) -> tuple[PlaywrightResponse | None, None]:
        """Navigates to the page; no file download is ever expected (the site serves HTML pages).

        scrapy-playwright's version also listens to every response of the page during navigation, in
        case the URL turns out to be a file download, and asks the browser for each response's headers.
        When a restart closed the browser while it was asking, the listener failed: the ERROR in the
        module docstring. Without downloads that listener has nothing to do, so it is not attached.
        A navigation that becomes a download fails, and is retried and recorded like any failed page.
        """
        goto_kwargs = dict(request.meta.get("playwright_page_goto_kwargs") or {})
        goto_kwargs.pop("url", None)
        return await page.goto(url=request.url, **goto_kwargs), None

    def _make_request_handler(
        self,
        context_name: str,
        method: str,
        url: str,
        headers: Headers,
        body: bytes | None,
        encoding: str,
        spider: Spider,
        initial_request_done: asyncio.Event,
    ) -> RouteHandler:
        """scrapy-playwright's route handler (run for every request of a page), which stops quietly
        when the page, its context or its browser was closed while it ran.

        It asks the browser for the request's headers before letting the request go on; a restart
        (or a crash, or a page closed after its request failed) can close the target meanwhile. Its
        page is gone and its Scrapy request fails and is retried by the middlewares, so the error is
        counted and logged (DEBUG when the browser was replaced, else WARNING) instead of escaping to
        Playwright. Any other exception escapes as before: Playwright logs it at ERROR.
        """
        handle: RouteHandler = super()._make_request_handler(
            context_name=context_name,
            method=method,
            url=url,
            headers=headers,
            body=body,
            encoding=encoding,
            spider=spider,
            initial_request_done=initial_request_done,
        )
        generation = self.generation

        async def route_handler(route: Route, playwright_request: PlaywrightRequest) -> None:
            try:
                await handle(route, playwright_request)
            except TargetClosedError as exc:
                self._target_closed_under_listener(exc, url, playwright_request.url, generation)
                # The route was left unhandled; Playwright waits for its handling to end, so end it
                # (no call to the browser: the route is only marked as passed on).
                try:
                    await route.fallback()
                except PlaywrightError as fallback_error:  # already handled before the close
                    logger.debug("route of %s already handled: %s", playwright_request.url, fallback_error)

        return route_handler

    def _target_closed_under_listener(
        self, exc: TargetClosedError, url: str, resource_url: str, generation: int
    ) -> None:
        self.stats.inc_value(LISTENER_ERRORS_AFTER_CLOSE_STAT)
        # The browser was replaced (restart, crash) or the crawl is ending: closed by design, and said
        # so already by the restart's own line. Otherwise a page or context closed under the listener.
        replaced = self._closing or generation != self.generation
        logger.log(
            logging.DEBUG if replaced else logging.WARNING,
            "a route handler stopped: %s while it ran (%s: %s): resource %s",
            "its browser was closed" if replaced else "its page or context was closed",
            type(exc).__name__,
            " ".join(str(exc).split())[:200],
            resource_url,
            extra=page_context(url=url),
        )

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
