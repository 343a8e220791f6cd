"""Every log line about a page names its locality, stage and URL; JSON lines for log shippers on demand.

Our own lines give their context as data: `extra=newhomie.context.log_context(request)` (or
`page_context(locality, stage, url)`) sets `record.locality`, `record.stage` and `record.url`.
Scrapy's and scrapy-playwright's lines do not ("Retrying <GET url> (failed 1 times): ...", "Gave up
retrying ...", "Error downloading ...", "Spider error processing ...", "Crawled (200) ...", "Closing
page due to failed request: ..."), but each record carries what it is about: Scrapy puts the request
or response in the record's args, scrapy-playwright the request's URL in `extra`. So:

- `PageContextFilter`, on the root log handler, keeps the context a record was given, and otherwise
  finds the request and sets `record.locality`, `record.stage` and `record.url` from its meta (the
  spider puts "locality" and "stage" in every request's meta); a record that only has a URL (in its
  `extra`, or in its text) is looked up in `RecentPages`, the pages last sent to the downloader. It
  runs only for records that the handler will print, and does a few dict look-ups for those that are
  not about a page.
- `ContextTextFormatter` (the default) prints Scrapy's usual line followed by ` [locality=...
  stage=... url=...]`, leaving out what the message says itself (a line that starts "locality
  Dandenong VIC 3175: ..." does not name it twice); `JsonLogFormatter` (NEWHOMIE_JSON_LOGS) prints one
  JSON object per line, with those as keys.
- Both mask every database password in what they print (`newhomie.store.redact`: URLs, key/value
  strings, and the passwords of the database in use wherever they appear): our code redacts database
  URLs before logging them; this is the last guard.

`LogContext`, a Scrapy extension, installs them on Scrapy's root handler (`scrapy.utils.log`). Scrapy
has one root handler per process, replaced by each new Crawler, so the filter is one per process too:
installing it again is a no-op, and it leaves when the last crawler using it stops. The formatter stays:
a log stream never switches format half-way through a process.

Scrapy prints its start-up lines (versions, overridden settings) before any extension exists; for JSON
from the very first line, a command calls `install_json_root_handler(settings)` before Scrapy
configures logging.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from collections import OrderedDict
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, NamedTuple, Self

from playwright.async_api import Frame, Page
from playwright.async_api import Request as PlaywrightRequest
from playwright.async_api import Response as PlaywrightResponse
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.utils.log import TopLevelFormatter, get_scrapy_root_handler
from twisted.python.failure import Failure

from newhomie.context import LOCALITY, STAGE
from newhomie.store.redact import has_remembered_secrets, redact

_URL_IN_TEXT = re.compile(r"https?://[^\s<>()\"']+")
_MAX_TRACEBACK_FRAMES = 30
# Playwright objects whose `url` is a plain attribute read (the page's, or one of its requests').
_PLAYWRIGHT_WITH_URL = (PlaywrightRequest, PlaywrightResponse, Page, Frame)


def scrub_secrets(text: str) -> str:
    """The text with every database password in it masked (newhomie.store.redact), as a last guard."""
    if "@" not in text and "password" not in text.lower() and not has_remembered_secrets():
        return text  # most lines: nothing that can hold a password
    return redact(text)


class PageContext(NamedTuple):
    locality: str | None
    stage: str | None
    url: str


def context_of_request(request: Request) -> PageContext:
    meta = request.meta
    return PageContext(meta.get(LOCALITY), meta.get(STAGE), request.url)


def context_suffix(record: logging.LogRecord, message: str = "") -> str:
    """` [locality=... stage=... url=...]` for a record about a page of a known locality or stage, less
    what `message` says itself; "" when it says it all, or the record is about no page."""
    locality = getattr(record, "locality", None)
    stage = getattr(record, "stage", None)
    if locality is None and stage is None:
        return ""
    # A stage ("profile", "sale_search") is a word of ours, not the message's: always said when known.
    url = getattr(record, "url", None)
    said = [
        *([f"locality={locality}"] if locality and locality not in message else []),
        *([f"stage={stage}"] if stage else []),
        *([f"url={url}"] if url and url not in message else []),
    ]
    return f" [{' '.join(said)}]" if said else ""


class RecentPages:
    """URL → context of the pages last sent to the downloader, for records that carry only a URL.

    Bounded: the oldest entries go first, so it stays small over a crawl of 16,000 localities. Entries
    are not dropped when their page is answered, because lines about a page also come after its
    response (a pause on its Retry-After, its callback failing); and an old entry is never wrong, since
    a page's URL names its locality and kind. Written from the reactor thread only; read from any
    thread (a dict read is atomic).
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._pages: OrderedDict[str, PageContext] = OrderedDict()

    def remember(self, request: Request) -> None:
        context = context_of_request(request)
        if context.locality is None and context.stage is None:
            return
        self._pages[context.url] = context
        self._pages.move_to_end(context.url)
        while len(self._pages) > self.size:
            self._pages.popitem(last=False)

    def get(self, url: str) -> PageContext | None:
        return self._pages.get(url)

    def clear(self) -> None:
        self._pages.clear()

    def __len__(self) -> int:
        return len(self._pages)


def _request_of(thing: object) -> Request | None:
    """The request a log argument is about: a request, a response's or a download failure's."""
    if isinstance(thing, Request):
        return thing
    if isinstance(thing, Response | Failure):
        request = getattr(thing, "request", None)  # a response's may be None; Scrapy sets a failure's
        return request if isinstance(request, Request) else None
    return None


class PageContextFilter(logging.Filter):
    """Sets `locality`, `stage` and `url` on a record about a page; never drops a record."""

    def __init__(self, pages: RecentPages) -> None:
        super().__init__()
        self.pages = pages

    def filter(self, record: logging.LogRecord) -> bool:
        given = record.__dict__
        if given.get("locality") is not None or given.get("stage") is not None:
            return True  # done already (another handler), or given by the caller
        try:
            context = self.context_of(record)
        except Exception:
            # An exception out of a filter would break the logging call of whoever logged. Reported
            # the way logging reports its own failures (Handler.handleError): on stderr, with the record.
            sys.stderr.write(
                f"--- newhomie.watch.logs: no page context for {record.name} record {record.msg!r}\n"
            )
            traceback.print_exc(file=sys.stderr)
            return True
        if context is not None:
            record.locality, record.stage, record.url = context
        return True

    def context_of(self, record: logging.LogRecord) -> PageContext | None:
        request = self._request_in(record)
        if request is not None:
            return context_of_request(request)
        extra = record.__dict__
        # Our records that know only the page's URL, and scrapy-playwright's.
        url = extra.get("url") or extra.get("scrapy_request_url")
        if isinstance(url, str):
            return self.pages.get(url) or PageContext(None, None, url)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return None  # a malformed call: the handler reports it (Handler.handleError) when it formats
        if "://" in message:
            for match in _URL_IN_TEXT.finditer(message):
                context = self.pages.get(match.group().rstrip(".,:;"))
                if context is not None:
                    return context
        if record.exc_info and record.exc_info[2] is not None:
            return self._context_in_traceback(record.exc_info[2])
        return None

    def _context_in_traceback(self, tb: TracebackType) -> PageContext | None:
        """A failure logged with no word of its page (Playwright's "Error occurred in event listener"):
        the page is often a local variable of a frame of the traceback, a Scrapy request or a Playwright
        object with the page's URL. Only for records with a traceback and no other context: rare."""
        frames = 0
        current: TracebackType | None = tb
        while current is not None and frames < _MAX_TRACEBACK_FRAMES:
            for value in current.tb_frame.f_locals.values():
                if isinstance(value, Request):
                    return context_of_request(value)
                if isinstance(value, _PLAYWRIGHT_WITH_URL) and (context := self.pages.get(value.url)):
                    return context
            current = current.tb_next
            frames += 1
        return None

    @staticmethod
    def _request_in(record: logging.LogRecord) -> Request | None:
        args = record.args
        if isinstance(args, dict):  # Scrapy: "Retrying %(request)s ...", {"request": request, ...}
            for key in ("request", "response", "failure"):
                if key in args and (request := _request_of(args[key])) is not None:
                    return request
        elif args:  # scrapy-playwright: "Closing page due to failed request: %s", request
            for arg in args:
                if type(arg) is not str and (request := _request_of(arg)) is not None:
                    return request
        extra = record.__dict__
        for key in ("request", "response", "failure"):
            if key in extra and (request := _request_of(extra[key])) is not None:
                return request
        return None


class ContextTextFormatter(logging.Formatter):
    """Scrapy's own line (its LOG_FORMAT, colours and all), with the page's context and secrets masked.

    The context goes right after the message, before a traceback. The record is given back unchanged,
    so that other handlers print the message as it was logged.
    """

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "locality", None) is not None or getattr(record, "stage", None) is not None:
            message = record.getMessage()
            suffix = context_suffix(record, message)
            if suffix:
                msg, args = record.msg, record.args
                record.msg, record.args = message + suffix, None
                try:
                    return scrub_secrets(self.inner.format(record))
                finally:
                    record.msg, record.args = msg, args
        return scrub_secrets(self.inner.format(record))


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, the page's locality, url
    and stage when known, the spider, and the traceback (`exc_info`) when there is one."""

    def __init__(self, spider: str | None = None) -> None:
        super().__init__()
        #: The spider named on lines that do not say theirs (Scrapy's do, in `extra`; ours do not).
        self.spider = spider

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, tz=UTC)
        entry: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub_secrets(record.getMessage()),
        }
        for key in ("locality", "url", "stage"):
            value = getattr(record, key, None)
            if value:
                entry[key] = value
        spider = getattr(record.__dict__.get("spider"), "name", None) or self.spider
        if spider:
            entry["spider"] = spider
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = scrub_secrets(record.exc_text)
        if record.stack_info:
            entry["stack_info"] = scrub_secrets(self.formatStack(record.stack_info))
        return json.dumps(entry, default=str)


def use_formatter(handler: logging.Handler, json_logs: bool, spider: str | None = None) -> None:
    """Puts the text or JSON formatter on the handler; JSON stays JSON, Scrapy's formatter is wrapped once."""
    current = handler.formatter
    if isinstance(current, JsonLogFormatter):
        current.spider = spider
    elif json_logs:
        handler.setFormatter(JsonLogFormatter(spider))
    elif not isinstance(current, ContextTextFormatter):
        handler.setFormatter(ContextTextFormatter(current or logging.Formatter()))


class _Installation:
    """The one filter of the process and where it is installed, shared by the crawlers that use it."""

    def __init__(self) -> None:
        self.pages = RecentPages()
        self.filter = PageContextFilter(self.pages)
        self.handlers: list[logging.Handler] = []
        self.spiders: list[str] = []  # one entry per crawler using it

    def attach(self, handler: logging.Handler, json_logs: bool, spider: str) -> None:
        handler.addFilter(self.filter)  # a no-op when it is there already
        if handler not in self.handlers:
            self.handlers.append(handler)
        self.spiders.append(spider)
        use_formatter(handler, json_logs, self._spider())

    def detach(self, spider: str) -> None:
        self.spiders.remove(spider)
        if self.spiders:
            for handler in self.handlers:
                if isinstance(handler.formatter, JsonLogFormatter):
                    handler.formatter.spider = self._spider()
            return
        for handler in self.handlers:
            handler.removeFilter(self.filter)
        self.handlers.clear()
        self.pages.clear()

    def _spider(self) -> str | None:
        """The spider to name on lines that do not say theirs: only when all crawlers run the same one."""
        return self.spiders[0] if len(set(self.spiders)) == 1 else None

    @property
    def users(self) -> int:
        return len(self.spiders)


INSTALLATION = _Installation()
_json_root_handler: logging.Handler | None = None


def root_handler() -> logging.Handler | None:
    """The handler that prints the crawl's log: Scrapy's, or ours from install_json_root_handler()."""
    return get_scrapy_root_handler() or _json_root_handler


def install_json_root_handler(settings: BaseSettings) -> logging.Handler | None:
    """With NEWHOMIE_JSON_LOGS on, JSON from Scrapy's very first line, before any extension exists.

    To be called by a command's `process_options`, before its CrawlerProcess is made: Scrapy's root
    handler is switched off (LOG_INSTALL_ROOT_HANDLER) and one like it (LOG_FILE, LOG_FILE_APPEND,
    LOG_ENCODING, LOG_ENABLED, LOG_LEVEL, LOG_SHORT_NAMES) printing JSON is installed instead.
    """
    global _json_root_handler  # one root handler per process, as Scrapy's own
    if not settings.getbool("NEWHOMIE_JSON_LOGS"):
        return None
    if _json_root_handler is not None:
        logging.root.removeHandler(_json_root_handler)
        _json_root_handler.close()
        _json_root_handler = None
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    handler: logging.Handler
    if filename := settings.get("LOG_FILE"):
        mode = "a" if settings.getbool("LOG_FILE_APPEND") else "w"
        handler = logging.FileHandler(filename, mode=mode, encoding=settings.get("LOG_ENCODING"))
    elif settings.getbool("LOG_ENABLED"):
        handler = logging.StreamHandler()
    else:
        handler = logging.NullHandler()
    handler.setLevel(settings.get("LOG_LEVEL"))
    if settings.getbool("LOG_SHORT_NAMES"):
        handler.addFilter(TopLevelFormatter(["scrapy"]))
    handler.setFormatter(JsonLogFormatter())
    logging.root.setLevel(logging.NOTSET)  # as Scrapy does: the handler's level decides
    logging.root.addHandler(handler)
    _json_root_handler = handler
    return handler


class LogContext:
    """Scrapy extension: the page-context filter and the text or JSON formatter on the root log handler.

    Installed when the spider opens: Scrapy replaces its root handler after the extensions are made
    (Crawler.crawl), so one installed in `from_crawler` would be thrown away at once. Settings:
    NEWHOMIE_JSON_LOGS (bool, default False). Off (NotConfigured) when there is no root handler, e.g.
    LOG_INSTALL_ROOT_HANDLER off in a script with logging of its own.
    """

    def __init__(self, json_logs: bool, spider: str) -> None:
        self.json_logs = json_logs
        self.spider = spider
        self.installed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if root_handler() is None:
            raise NotConfigured("no root log handler to add page context to")
        extension = cls(crawler.settings.getbool("NEWHOMIE_JSON_LOGS"), crawler.spidercls.name)
        crawler.signals.connect(extension.install, signals.spider_opened)
        crawler.signals.connect(extension.request_reached_downloader, signals.request_reached_downloader)
        crawler.signals.connect(extension.uninstall, signals.engine_stopped)
        return extension

    def install(self) -> None:
        handler = root_handler()
        if handler is not None and not self.installed:
            INSTALLATION.attach(handler, self.json_logs, self.spider)
            self.installed = True

    def uninstall(self) -> None:
        if self.installed:
            INSTALLATION.detach(self.spider)
            self.installed = False

    def request_reached_downloader(self, request: Request) -> None:
        INSTALLATION.pages.remember(request)
