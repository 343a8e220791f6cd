"""Log lines about a page name its locality, stage and URL (newhomie.watch.logs), in text and in JSON.

Unit tests feed the filter and formatters the records Scrapy and scrapy-playwright really make (Scrapy's
own retry function and log formatter where they can be called alone); the crawls run the real
`scrapy crawl listings` against the local site with faults switched on, so that Scrapy's and
scrapy-playwright's own warnings and errors appear, and read what reached stderr.
"""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import HtmlResponse
from scrapy.logformatter import LogFormatter
from scrapy.settings import Settings
from scrapy.utils.log import (
    _uninstall_scrapy_root_handler,
    failure_to_exc_info,
    get_scrapy_root_handler,
    install_scrapy_root_handler,
    logformatter_adapter,
)
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from newhomie.context import page_context
from newhomie.testing.fakesite import RunningSite
from newhomie.testing.fixtures import FakeSiteFactory
from newhomie.watch.logs import (
    INSTALLATION,
    ContextTextFormatter,
    JsonLogFormatter,
    LogContext,
    PageContextFilter,
    RecentPages,
    scrub_secrets,
    use_formatter,
)
from tests.crawling import REPO, run_crawl

LOCALITY = "Dandenong VIC 3175"
SALE_URL = "https://www.domain.com.au/sale/dandenong-vic-3175/?ssubs=0&page=2"
SCRAPY_LOG_FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"  # Scrapy's LOG_FORMAT
STAGE_OF_PATH = {"/sale/": "sale_search", "/rent/": "rent_search", "/sold-listings/": "sold_search"}


def page_request(url: str = SALE_URL, stage: str = "sale_search") -> Request:
    """A request as the spider makes it (newhomie.spiders.listings.ListingsSpider.request)."""
    return Request(
        url,
        meta={
            "locality": LOCALITY,
            "slug": "dandenong-vic-3175",
            "stage": stage,
            "kind": stage.split("_")[0],
        },
    )


class Printed:
    """A handler set up like Scrapy's root handler, with the page-context filter, printing to a string."""

    def __init__(self, json_logs: bool = False, pages: RecentPages | None = None) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(logging.Formatter(SCRAPY_LOG_FORMAT))
        self.pages = pages if pages is not None else RecentPages()
        self.handler.addFilter(PageContextFilter(self.pages))
        use_formatter(self.handler, json_logs, "listings")

    def handle(self, record: logging.LogRecord) -> str:
        self.handler.handle(record)
        return self.text

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    @contextmanager
    def logging_from(self, name: str) -> Iterator[None]:
        """Records of logger `name` (and its children) go through this handler for a while."""
        log = logging.getLogger(name)
        level = log.level
        log.addHandler(self.handler)
        log.setLevel(logging.DEBUG)
        try:
            yield
        finally:
            log.removeHandler(self.handler)
            log.setLevel(level)


def record(
    msg: str, *args: Any, level: int = logging.WARNING, name: str = "test", **extra: Any
) -> logging.LogRecord:
    made = logging.LogRecord(name, level, __file__, 1, msg, args or None, None)
    made.__dict__.update(extra)
    return made


def suffix(url: str | None = SALE_URL, stage: str = "sale_search") -> str:
    """The context printed after a line about a page; no URL when the line names it already."""
    return f" [locality={LOCALITY} stage={stage}" + (f" url={url}]" if url else "]")


# --- The filter and the text formatter ------------------------------------------------------------


def test_scrapys_retry_lines_name_the_requests_locality_stage_and_url() -> None:
    printed = Printed()
    crawler = get_crawler(Spider, {"RETRY_TIMES": 1})
    spider = Spider.from_crawler(crawler, name="listings")
    with printed.logging_from("scrapy.downloadermiddlewares.retry"):
        retry = get_retry_request(page_request(), spider=spider, reason="503 Service Unavailable")
        assert retry is not None
        assert get_retry_request(retry, spider=spider, reason="503 Service Unavailable") is None
    retrying, gave_up = printed.text.splitlines()
    assert retrying.endswith(
        f"DEBUG: Retrying <GET {SALE_URL}> (failed 1 times): 503 Service Unavailable{suffix(None)}"
    )
    assert gave_up.endswith(
        f"ERROR: Gave up retrying <GET {SALE_URL}> (failed 2 times): 503 Service Unavailable{suffix(None)}"
    )


def test_a_download_error_with_its_traceback_gets_the_context_before_the_traceback() -> None:
    """Scrapy's "Error downloading" line, made by its own log formatter, logged as its scraper does."""
    request = page_request()
    try:
        raise ConnectionRefusedError("connection refused")
    except ConnectionRefusedError:
        failure = Failure()
    spider = Spider("listings")
    logkws = LogFormatter().download_error(failure, request, spider, errmsg="connection refused")
    printed = Printed()
    with printed.logging_from("scrapy.core.scraper"):
        logging.getLogger("scrapy.core.scraper").log(
            *logformatter_adapter(logkws), extra={"spider": spider}, exc_info=failure_to_exc_info(failure)
        )
    first, *rest = printed.text.splitlines()
    assert first.endswith(f"ERROR: Error downloading <GET {SALE_URL}>: connection refused{suffix(None)}")
    assert rest[0] == "Traceback (most recent call last):"
    assert rest[-1] == "ConnectionRefusedError: connection refused"


def test_a_response_or_failure_in_the_records_args_or_extra_is_followed_to_its_request() -> None:
    request = page_request()
    response = HtmlResponse(SALE_URL, status=503, body=b"", request=request)
    line = Printed().handle(
        record("Ignoring response %(response)r: HTTP status code is not handled", {"response": response})
    )
    assert line.endswith(
        f"Ignoring response <503 {SALE_URL}>: HTTP status code is not handled{suffix(None)}\n"
    )
    failure = Failure(TimeoutError("took too long"))
    failure.request = request  # type: ignore[attr-defined]  # as Scrapy sets it on download errors
    line = Printed().handle(record("page failed", failure=failure))
    assert line.endswith(f"page failed{suffix()}\n")


def test_scrapy_playwrights_lines_are_covered_by_the_request_in_args_or_by_the_url_in_extra() -> None:
    request = page_request()
    pages = RecentPages()
    pages.remember(request)
    # "Closing page due to failed request: %s ...", request, extra={"scrapy_request_url": ...}
    closing = record(
        "Closing page due to failed request: %s exc_type=%s exc_msg=%s",
        request, TimeoutError, "Page.goto: Timeout 2000ms exceeded.",
        scrapy_request_url=SALE_URL, context_name="dandenong-vic-3175#1",
    )  # fmt: skip
    assert Printed(pages=pages).handle(closing).endswith(f"Timeout 2000ms exceeded.{suffix(None)}\n")
    # Only the URL: looked up among the pages sent to the downloader.
    created = record("[Context=%s] New page created", "dandenong-vic-3175#1", scrapy_request_url=SALE_URL)
    assert Printed(pages=pages).handle(created).endswith(f"New page created{suffix()}\n")
    # A URL the crawl never sent: the URL is kept on the record, and the line is left as it was.
    elsewhere = "https://example.com/other"
    unknown = record("Navigating to %s failed", elsewhere, scrapy_request_url=elsewhere)
    assert Printed(pages=pages).handle(unknown).endswith(f"Navigating to {elsewhere} failed\n")
    assert unknown.url == elsewhere  # type: ignore[attr-defined]
    assert unknown.locality is None  # type: ignore[attr-defined]


def test_a_line_that_knows_only_the_url_of_a_page_in_flight_gets_its_context() -> None:
    pages = RecentPages()
    pages.remember(page_request())
    # Given as data (our pace middleware knows only the URL of a blocked page), or said in the text.
    pause = record(
        "pausing the crawl for %.1f s (%s)", 30.0, "1 blocks in a row", **page_context(url=SALE_URL)
    )
    assert Printed(pages=pages).handle(pause).endswith(f"(1 blocks in a row){suffix()}\n")
    restart = record("restarting the browser: %s", f"hang on {SALE_URL}: TimeoutError")
    assert Printed(pages=pages).handle(restart).endswith(f": TimeoutError{suffix(None)}\n")


def test_a_failure_with_no_word_of_its_page_is_traced_to_the_request_in_its_traceback() -> None:
    """Playwright's "Error occurred in event listener" names no page; its traceback's frames hold it."""

    def handle_response(request: Request) -> None:
        raise RuntimeError("Target page, context or browser has been closed")

    try:
        handle_response(page_request())
    except RuntimeError:
        exc_info = sys.exc_info()
    listener = record("Error occurred in event listener", level=logging.ERROR, name="playwright")
    listener.exc_info = exc_info
    first = Printed().handle(listener).splitlines()[0]
    assert first.endswith(f"ERROR: Error occurred in event listener{suffix()}")


def test_our_own_lines_give_their_context_as_data_and_it_is_printed_once() -> None:
    context = page_context(LOCALITY, "sale_search", SALE_URL)
    own = record("PageShapeError: %s", "no __NEXT_DATA__", level=logging.ERROR, **context)
    assert Printed().handle(own).endswith(f"ERROR: PageShapeError: no __NEXT_DATA__{suffix()}\n")
    entry = json.loads(Printed(json_logs=True).handle(own))
    assert entry["message"] == "PageShapeError: no __NEXT_DATA__"
    assert (entry["locality"], entry["stage"], entry["url"]) == (LOCALITY, "sale_search", SALE_URL)
    # What the text says itself is not said again: a line that names its locality and URL.
    named = record("locality not found on the site: %s (%s)", LOCALITY, SALE_URL, **context)
    assert Printed().handle(named).endswith(f"({SALE_URL}) [stage=sale_search]\n")
    ended = record("locality %s: done, attempt 1", LOCALITY, **page_context(LOCALITY))
    assert Printed().handle(ended).endswith(f"locality {LOCALITY}: done, attempt 1\n")
    # The stage is always said: "profile" in a URL is not the stage.
    profile = "https://www.domain.com.au/suburb-profile/dandenong-vic-3175"
    closing = record("closing %s", profile, **page_context(LOCALITY, "profile", profile))
    assert Printed().handle(closing).endswith(f"closing {profile} [locality={LOCALITY} stage=profile]\n")
    # A request in the args as well as the context given: the given context wins, said once.
    both = record("blocked page (status 403) %s", page_request(), **page_context(LOCALITY, "profile"))
    printed = Printed().handle(both)
    assert printed.count("locality=") == 1
    assert "stage=profile" in printed


def test_a_record_about_no_page_is_printed_exactly_as_scrapy_prints_it_and_left_unchanged() -> None:
    plain = logging.StreamHandler(io.StringIO())
    plain.setFormatter(logging.Formatter(SCRAPY_LOG_FORMAT))
    args = {"pages": 12, "items": 340}
    made = record("Crawled %(pages)d pages, scraped %(items)d items", args, level=logging.INFO, name="scrapy")
    made.created = 0.0  # one time for both prints
    printed = Printed().handle(made)
    plain.handle(made)
    assert printed == plain.stream.getvalue()
    assert made.msg == "Crawled %(pages)d pages, scraped %(items)d items"
    assert made.args == args
    assert not hasattr(made, "locality")


def test_the_record_given_to_other_handlers_keeps_its_message_as_logged() -> None:
    made = record("Retrying %(request)s", {"request": page_request()})
    Printed().handle(made)
    assert made.getMessage() == f"Retrying <GET {SALE_URL}>"
    assert made.locality == LOCALITY  # type: ignore[attr-defined]  # the attributes stay, for them


def test_database_passwords_are_masked_in_both_formats_messages_and_tracebacks() -> None:
    secret_url = "postgresql://crawler:s3cr3t@db.internal:5432/newhomie"
    try:
        raise ConnectionError(f"could not connect to {secret_url}")
    except ConnectionError:
        exc_info = sys.exc_info()
    for json_logs in (False, True):
        made = record("connecting to %s, then postgres://u:p@ss@h/db", secret_url)
        made.exc_info = exc_info
        text = Printed(json_logs=json_logs).handle(made)
        assert "s3cr3t" not in text
        assert "p@ss" not in text
        assert text.count("postgresql://crawler:***@db.internal:5432/newhomie") == 2  # message, traceback
        assert "postgres://u:***@h/db" in text
    # Without a password: nothing to mask. Any other URL's password is masked too (a Pushgateway's).
    for untouched in ("postgresql://crawler@db/newhomie", "mailto:someone@example.com"):
        assert scrub_secrets(untouched) == untouched
    assert scrub_secrets("pushing to http://u:pw@host/") == "pushing to http://u:***@host/"


def test_recent_pages_stay_bounded_and_keep_only_pages_of_a_locality() -> None:
    pages = RecentPages(size=3)
    for number in range(1, 6):
        pages.remember(page_request(f"https://www.domain.com.au/sale/x/?page={number}"))
    pages.remember(Request("https://www.domain.com.au/robots.txt"))  # no locality: not kept
    assert len(pages) == 3
    assert pages.get("https://www.domain.com.au/sale/x/?page=1") is None
    assert pages.get("https://www.domain.com.au/sale/x/?page=5") is not None
    assert pages.get("https://www.domain.com.au/robots.txt") is None


# --- JSON -------------------------------------------------------------------------------------------


def test_json_lines_parse_and_carry_time_level_logger_message_context_spider_and_traceback() -> None:
    printed = Printed(json_logs=True)
    spider = Spider("listings")
    request = page_request()
    try:
        raise ValueError("bad\npage")
    except ValueError:
        exc_info = sys.exc_info()
    gave_up = record(
        "Gave up retrying %(request)s (failed %(retry_times)d times): %(reason)s",
        {"request": request, "retry_times": 3, "reason": "503 Service Unavailable"},
        level=logging.ERROR, name="scrapy.downloadermiddlewares.retry", spider=spider,
    )  # fmt: skip
    gave_up.exc_info = exc_info
    printed.handle(gave_up)
    printed.handle(
        record("Dumping Scrapy stats:\n%s", "{'a': 1,\n 'b': 2}", level=logging.INFO, name="scrapy")
    )
    lines = printed.text.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert datetime.fromisoformat(first["time"]).utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert first["level"] == "ERROR"
    assert first["logger"] == "scrapy.downloadermiddlewares.retry"
    assert first["message"] == f"Gave up retrying <GET {SALE_URL}> (failed 3 times): 503 Service Unavailable"
    assert (first["locality"], first["url"], first["stage"]) == (LOCALITY, SALE_URL, "sale_search")
    assert first["spider"] == "listings"
    assert first["exc_info"].startswith("Traceback (most recent call last):")
    assert first["exc_info"].endswith("ValueError: bad\npage")
    assert second["message"] == "Dumping Scrapy stats:\n{'a': 1,\n 'b': 2}"
    assert second["spider"] == "listings"  # the crawl's spider, for lines that do not say theirs
    assert not {"locality", "url", "stage", "exc_info"} & set(second)


# --- Installation on Scrapy's root handler ----------------------------------------------------------


class ListingsLike(Spider):
    name = "listings"


@pytest.fixture
def scrapy_root_handler() -> Iterator[None]:
    """Scrapy's root handler, as `scrapy crawl` installs it; removed afterwards (it is process-wide)."""
    install_scrapy_root_handler(Settings({"LOG_LEVEL": "CRITICAL"}))
    try:
        yield
    finally:
        _uninstall_scrapy_root_handler()


@pytest.mark.usefixtures("scrapy_root_handler")
def test_two_crawlers_in_one_process_share_one_filter_which_leaves_with_the_last() -> None:
    first = Crawler(ListingsLike, {"LOG_LEVEL": "CRITICAL"})  # replaces Scrapy's root handler, as it does
    first_context = LogContext.from_crawler(first)
    first.signals.send_catch_log(signals.spider_opened)
    first_handler = get_scrapy_root_handler()
    assert first_handler is not None
    assert first_handler.filters.count(INSTALLATION.filter) == 1
    second = Crawler(ListingsLike, {"LOG_LEVEL": "CRITICAL"})  # a new root handler again
    second_context = LogContext.from_crawler(second)
    second.signals.send_catch_log(signals.spider_opened)
    second.signals.send_catch_log(signals.spider_opened)  # twice: still installed once
    handler = get_scrapy_root_handler()
    assert handler is not None
    assert handler is not first_handler
    assert [f for f in handler.filters if isinstance(f, PageContextFilter)] == [INSTALLATION.filter]
    formatter = handler.formatter
    assert isinstance(formatter, ContextTextFormatter)
    assert not isinstance(formatter.inner, ContextTextFormatter)  # Scrapy's formatter, wrapped once
    second.signals.send_catch_log(signals.request_reached_downloader, request=page_request())
    assert INSTALLATION.pages.get(SALE_URL) is not None

    first.signals.send_catch_log(signals.engine_stopped)
    assert INSTALLATION.filter in handler.filters  # the second crawl still runs
    second.signals.send_catch_log(signals.engine_stopped)
    assert INSTALLATION.filter not in handler.filters
    assert INSTALLATION.filter not in first_handler.filters
    assert len(INSTALLATION.pages) == 0
    assert INSTALLATION.users == 0
    assert not first_context.installed
    assert not second_context.installed


@pytest.mark.usefixtures("scrapy_root_handler")
def test_json_logs_setting_puts_the_json_formatter_on_the_root_handler() -> None:
    crawler = Crawler(ListingsLike, {"LOG_LEVEL": "CRITICAL", "NEWHOMIE_JSON_LOGS": True})
    context = LogContext.from_crawler(crawler)  # kept: signals hold their receivers weakly
    crawler.signals.send_catch_log(signals.spider_opened)
    try:
        handler = get_scrapy_root_handler()
        assert handler is not None
        assert isinstance(handler.formatter, JsonLogFormatter)
        assert handler.formatter.spider == "listings"
        assert context.installed
    finally:
        crawler.signals.send_catch_log(signals.engine_stopped)


def test_json_from_scrapys_first_line_when_installed_before_scrapy_configures_logging() -> None:
    """What a command does before its CrawlerProcess exists: the whole run, start-up lines too, is JSON."""
    script = textwrap.dedent(
        """
        import logging
        from scrapy import Spider
        from scrapy.crawler import CrawlerProcess
        from scrapy.settings import Settings
        from newhomie.watch.logs import install_json_root_handler

        class Quiet(Spider):
            name = "quiet"
            async def start(self):
                logging.getLogger("quiet").warning("a line of the spider:\\nover two lines")
                return
                yield

        settings = Settings({
            "NEWHOMIE_JSON_LOGS": True, "LOG_LEVEL": "DEBUG", "TELNETCONSOLE_ENABLED": False,
            "EXTENSIONS": {"newhomie.watch.logs.LogContext": 50},
        })
        install_json_root_handler(settings)
        process = CrawlerProcess(settings)
        process.crawl(Quiet)
        process.start()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    entries = [json.loads(line) for line in result.stderr.splitlines()]  # every line, or this raises
    messages = [entry["message"] for entry in entries]
    assert any(message.startswith("Scrapy ") and "started" in message for message in messages)
    assert any(message.startswith("Overridden settings:") for message in messages)
    assert "a line of the spider:\nover two lines" in messages
    assert any(message.startswith("Spider closed") for message in messages)


# --- Real crawls of the local site ------------------------------------------------------------------

# Faults that make Scrapy and scrapy-playwright speak: 503s given up at once (RETRY_TIMES=0), block
# pages retried in a fresh context, a profile page that never answers (navigation timeout, browser
# restart, given up: NEWHOMIE_BROWSER_RETRIES=0). The locality fails and is tried again, so the health
# limits are lifted: only the log is judged here.
FAULTY_CRAWL_SETTINGS = {
    "LOG_LEVEL": "DEBUG",
    "RETRY_TIMES": "0",
    "NEWHOMIE_BROWSER_RETRIES": "0",
    "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": "2000",
    "NEWHOMIE_NEXT_DATA_TIMEOUT": "3",
    "NEWHOMIE_BLOCK_SETTLE_SECONDS": "1",
    "NEWHOMIE_BLOCK_BACKOFF": "0.2",
    "NEWHOMIE_HEALTH_MAX_ERROR_RATE": "1",
    "NEWHOMIE_HEALTH_MAX_BLOCK_RATE": "1",
    "NEWHOMIE_HEALTH_MAX_FAILED_LOCALITIES": "1",
}
LOG_RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[(?P<logger>[^\]]+)\] (?P<level>[A-Z]+): ")


def faulty_site(fakesite_factory: FakeSiteFactory) -> RunningSite:
    running = fakesite_factory(localities=1, listings_per_locality=(25, 60))
    faults = running.site.faults
    faults.fail_5xx_every = 3
    faults.block_every = 4
    faults.max_each = 2
    faults.hang_paths.add(f"/suburb-profile/{running.site.localities()[0].slug}")
    return running


def stage_of(url: str) -> str:
    if "/suburb-profile/" in url:
        return "profile"
    return next(stage for path, stage in STAGE_OF_PATH.items() if path in url)


def text_records(stderr: str) -> list[tuple[str, str, str]]:
    """(logger, level, text with continuation lines) of each record Scrapy's text format printed."""
    records: list[tuple[str, str, str]] = []
    for line in stderr.splitlines():
        start = LOG_RECORD_START.match(line)
        if start:
            records.append((start["logger"], start["level"], line))
        elif records:
            logger, level, text = records[-1]
            records[-1] = (logger, level, f"{text}\n{line}")
    return records


@pytest.mark.e2e
def test_a_crawl_with_failures_names_the_locality_and_stage_on_every_warning_about_a_page(
    fakesite_factory: FakeSiteFactory, database_url: str
) -> None:
    running = faulty_site(fakesite_factory)
    site, base = running.site, running.base_url
    result = run_crawl(base, database_url, LOCALITY, settings=FAULTY_CRAWL_SETTINGS)
    assert result.returncode == 0, result.stderr[-3000:]
    # (A hung request is recorded by the site when it ends, after the test: the log shows it below.)
    assert {"5xx", "block"} <= {r.fault for r in site.served.snapshot()}

    records = text_records(result.stderr)
    context = re.compile(rf"\[locality={LOCALITY} stage=(\w+)(?: url=\S+)?\]")
    page_url = re.compile(rf"{re.escape(base)}[^\s>\]]+")
    about_pages = [
        (logger, text) for logger, level, text in records if level in ("WARNING", "ERROR") and base in text
    ]
    assert len(about_pages) >= 8
    for logger, text in about_pages:
        found = context.search(text)
        assert found, f"no locality and stage in a {logger} line about a page:\n{text}"
        url = page_url.search(text)
        assert url is not None, text
        assert found[1] == stage_of(url[0]), text
    for _, _, text in records:
        assert text.count("locality=") <= 1, f"context said twice:\n{text}"

    def lines_of(logger: str, start: str) -> list[str]:
        return [
            text for name, _, text in records if name == logger and text.split(": ", 1)[1].startswith(start)
        ]

    # Scrapy's own lines, which said nothing of the locality before, and scrapy-playwright's.
    gave_up = lines_of("scrapy.downloadermiddlewares.retry", "Gave up retrying <GET ")
    assert any(text.endswith("503 Service Unavailable" + suffix(None, stage_of(url))) for text in gave_up
               for url in re.findall(r"<GET (\S+)>", text))  # fmt: skip
    # Blocks and browser failures are retried by our middlewares, with counts of their own.
    given_up = lines_of("newhomie.browser.retries", "gave up after ")
    assert any(f"(browser hang) [locality={LOCALITY} stage=" in text for text in given_up)
    retrying = lines_of("newhomie.browser.retries", "retrying (blocked, try ")
    assert any(f"locality={LOCALITY} stage=" in text for text in retrying)
    assert any("[locality=" in text for text in lines_of("scrapy.core.engine", "Crawled (503) <GET "))
    profile_url = f"{base}/suburb-profile/dandenong-vic-3175"
    closing = lines_of("scrapy-playwright", "Closing page due to failed request:")
    assert closing
    assert all(profile_url in text and suffix(None, "profile") + "\nTraceback" in text for text in closing)
    # Our own lines that know only the URL.
    pauses = lines_of("newhomie.browser.pace", "pausing")
    assert any(text.endswith(suffix(url, stage_of(url))) for text in pauses
               for url in re.findall(r" url=(\S+)\]", text)[:1])  # fmt: skip
    assert any(
        text.endswith(suffix(None, "profile")) for text in lines_of("newhomie.browser.handler", "restarting")
    )


@pytest.mark.e2e
def test_a_crawl_with_json_logs_prints_one_json_object_per_line_with_the_context_of_each_page(
    fakesite_factory: FakeSiteFactory, database_url: str
) -> None:
    running = faulty_site(fakesite_factory)
    base = running.base_url
    result = run_crawl(
        base, database_url, LOCALITY, settings={**FAULTY_CRAWL_SETTINGS, "NEWHOMIE_JSON_LOGS": "True"}
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stderr.splitlines()
    # JSON from Scrapy's first start-up line (the crawl command installs the formatter), to the
    # end; only the command's own last word on an unhealthy run is plain text (not the case here).
    entries = [json.loads(line) for line in lines]  # every line, or this raises
    assert len(entries) > 50
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= set(entry)
        assert datetime.fromisoformat(entry["time"]).utcoffset().total_seconds() == 0  # type: ignore[union-attr]
        assert entry["level"] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

    def is_about_a_page(entry: dict[str, Any]) -> bool:
        message = entry["message"]
        return (entry["level"] in ("WARNING", "ERROR") and base in message) or message.startswith(
            ("Crawled (", "Retrying <GET", "Gave up retrying <GET")
        )

    about_pages = [entry for entry in entries if is_about_a_page(entry)]
    assert len(about_pages) >= 20
    for entry in about_pages:
        assert entry.get("locality") == LOCALITY, entry
        assert entry["url"].startswith(base), entry
        assert entry["stage"] == stage_of(entry["url"]), entry
        assert entry["spider"] == "listings", entry
    closing = [e for e in about_pages if e["message"].startswith("Closing page due to failed request")]
    assert closing
    assert all(e["exc_info"].startswith("Traceback (most recent call last):") for e in closing)
    assert any(e["message"].startswith("Gave up retrying") for e in about_pages)
