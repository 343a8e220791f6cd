"""`python -m newhomie report`: the page about one crawl run, built from a real database and looked at
in a real (headless) Chromium: what it shows must be what was stored, and text from the database
must stay text."""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2.extensions
import pytest
from playwright.sync_api import Browser, Dialog, Page, sync_playwright

from newhomie.browser.chromium import resolve_chromium
from newhomie.cli.report import add_commands as add_report_command
from newhomie.site.prices import is_no_price_phrase, normalise_price
from newhomie.store.connection import transaction
from newhomie.store.target import DATABASE_URL_ENV
from newhomie.watch.report.data import ReportData
from newhomie.watch.report.figures import priceless_texts, resolve_figures
from newhomie.watch.report.page import health_reasons, render_report
from newhomie.watch.report.svg import EMPTY_CELL, bar_chart_svg, heatmap_svg, histogram, shade
from newhomie.watch.report.text import format_duration
from tests.paths import REPO as ROOT

RUN_START = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)
RUN_SECONDS = 6000  # 100 minutes
BUCKETS = 20
STAGES = ("sale_search", "rent_search", "profile")  # most errors first
SCRIPT_TEXT = "<script>alert(1)</script>"
IMG_MESSAGE = "bad page <img src=x onerror=alert(2)> & more"
STATS = {
    "newhomie/pages/sale/ok": 31,
    "newhomie/pages/sale/error": 2,
    "newhomie/pages/rent/ok": 20,
    "newhomie/pages/untracked": 1,
    "newhomie/blocked": 5,
}
SUMMARY: dict[str, Any] = {
    "localities": {"done": 12, "not_found": 1, "failed": 2},
    "listings": {"sale": 340, "rent": 120, "sold": 400},
    "suburb_profiles": 12,
    "pages": {"sale": {"ok": 30, "error": 1}, "rent": {"ok": 20}, "sold": {"ok": 25}, "profile": {"ok": 12}},
    "pages_total": 88,
    "errors": {"sale_search": 2, "profile": 1},
    "errors_total": 3,
    "blocked": 0,
    "unparsed_prices": 4,
    "browser_restarts": 0,
    "duration_seconds": 6000.0,
}


# --- Building a run in the database -------------------------------------------------------------


def locality_name(n: int) -> str:
    return f"Suburb{n} VIC 3{n:03d}"


def locality_slug(n: int) -> str:
    return f"suburb{n}-vic-3{n:03d}"


@dataclass
class Expected:
    """What was stored, as the page should show it."""

    run_id: int
    statuses: dict[str, int]
    #: stage -> bucket -> errors
    by_stage_bucket: dict[str, dict[int, int]]
    #: locality (None: no locality) -> errors
    by_locality: dict[str | None, int]
    errors: int
    slowest: tuple[str, str]  # locality, formatted duration
    durations: int
    listings_seen: dict[str, int]
    #: price text -> listings, of the texts the page should list
    priceless: dict[str, int]
    not_found: list[str]
    failed: list[str]
    excluded_texts: list[str] = field(default_factory=list)


def insert_run(cur: psycopg2.extensions.cursor, *, summary: Any, started: datetime, seconds: float,
               status: str = "finished", health: str | None = None, reasons: Any = None) -> int:  # fmt: skip
    cur.execute(
        "INSERT INTO crawl_run (spider, arguments, started_at, finished_at, status, stats, crawl_key,"
        " shard, summary, health, health_reasons)"
        " VALUES ('listings', %s, %s, %s, %s, %s, 'weekly-2025-03-01', '1/1', %s, %s, %s) RETURNING id",
        (
            json.dumps(
                {"localities": ";".join(locality_name(n) for n in range(40)), "kinds": "sale,rent,sold"}
            ),
            started,
            started + timedelta(seconds=seconds),
            status,
            json.dumps(STATS),
            None if summary is None else json.dumps(summary),
            health,
            None if reasons is None else json.dumps(reasons),
        ),
    )
    return int(cur.fetchone()[0])


def insert_listing(cur: psycopg2.extensions.cursor, listing_id: int, n: int, listing_type: str,
                   text: str | None, seen: datetime) -> None:  # fmt: skip
    price = normalise_price(listing_type, text)
    cur.execute(
        "INSERT INTO listing (listing_id, listing_type, locality_slug, url, suburb, state, postcode,"
        " time_zone, price_text, price_low, price_high, first_seen_at, last_seen_at)"
        " VALUES (%s, %s, %s, %s, %s, 'VIC', %s, 'Australia/Melbourne', %s, %s, %s, %s, %s)",
        (
            listing_id, listing_type, locality_slug(n), f"https://www.domain.com.au/x-{listing_id}",
            f"Suburb{n}", f"3{n:03d}", text, price and price.low, price and price.high, seen, seen,
        ),
    )  # fmt: skip


def build_run(conn: psycopg2.extensions.connection, *, summary: Any) -> Expected:
    """A run of 15 localities (12 done, 1 not found, 2 failed), errors over three stages, 100 minutes
    and 27 localities (and none), and listings with price texts that gave no price; plus a locality of another
    run whose texts must not show."""
    with transaction(conn) as cur:
        run_id = insert_run(cur, summary=summary, started=RUN_START, seconds=RUN_SECONDS, health="unhealthy",
                            reasons=["2 localities failed (at most 0)", "errors: 5.1% of pages"])  # fmt: skip
        for n in range(16):
            cur.execute(
                "INSERT INTO locality (slug, name, state, postcode) VALUES (%s, %s, 'VIC', %s)",
                (locality_slug(n), f"Suburb{n}", f"3{n:03d}"),
            )
        statuses = {n: "done" for n in range(12)} | {12: "failed", 13: "not_found", 14: "failed"}
        for n, status in statuses.items():
            started = RUN_START + timedelta(minutes=5 * n)
            cur.execute(
                "INSERT INTO locality_crawl (crawl_key, locality_slug, run_id, locality, status, attempts,"
                " started_at, finished_at, pages, listings, errors)"
                " VALUES ('weekly-2025-03-01', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (locality_slug(n), run_id, locality_name(n), status, 2 if status == "failed" else 1, started,
                 started + timedelta(seconds=30 * (n + 1)), n, 10 * n, 1 if status == "failed" else 0),
            )  # fmt: skip

        # Errors: stage k of every third, 27 localities (Suburb3 most of all), two with no locality.
        errors: list[tuple[str | None, str, datetime]] = []
        for k in range(120):
            stage = STAGES[0] if k % 2 == 0 else STAGES[1] if k % 3 else STAGES[2]
            errors.append((locality_name(k % 25), stage, RUN_START + timedelta(seconds=k * 50)))
        errors += [
            (locality_name(3), "sale_search", RUN_START + timedelta(seconds=10 + k)) for k in range(15)
        ]
        errors += [
            (locality_name(30 + k), "rent_search", RUN_START + timedelta(seconds=3000)) for k in range(2)
        ]
        # The last one, at the run's end, is its stage's latest message: the one the page shows.
        errors += [(None, "profile", RUN_START + timedelta(seconds=RUN_SECONDS)) for _ in range(2)]
        for index, (locality, stage, at) in enumerate(errors):
            message = IMG_MESSAGE if index == len(errors) - 1 else f"timeout after {index} s"
            cur.execute(
                "INSERT INTO crawl_error (run_id, locality, url, stage, error_type, message, occurred_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    run_id,
                    locality,
                    f"https://www.domain.com.au/page/{index}",
                    stage,
                    "TimeoutError",
                    message,
                    at,
                ),
            )
        cur.execute(
            "INSERT INTO rejected_item (run_id, kind, locality, url, raw, reason)"
            " VALUES (%s, 'upsert_listings', %s, 'https://x', '{}', 'violates check constraint <b>')",
            (run_id, locality_name(1)),
        )

        seen = RUN_START + timedelta(minutes=10)
        texts = {
            "Offers in the high $800s": [("sale", 0)] * 4 + [("sale", 1)] * 2,
            "Contact Agent": [("sale", 2)] * 7,  # more than any, and a known no-price phrase
            SCRIPT_TEXT: [("sale", 5)] * 3,
            "$POA": [("sale", 6), ("rent", 7)],
            "Price guide 850": [("sold", 8)],
            "Contact agent 0412 345 678": [("rent", 9)],
            "Up to $500,000": [("sale", 10)],  # one side of a price: a price
            "$850,000": [("sale", 11)] * 2,
        }
        listing_id = 1000
        seen_by_type: dict[str, int] = {}
        for text, places in texts.items():
            for listing_type, n in places:
                listing_id += 1
                insert_listing(cur, listing_id, n, listing_type, text, seen)
                seen_by_type[listing_type] = seen_by_type.get(listing_type, 0) + 1
        for _ in range(4):  # a locality of no locality_crawl row of this run
            listing_id += 1
            insert_listing(cur, listing_id, 15, "sale", "$ TBA", seen)

    by_stage_bucket: dict[str, dict[int, int]] = {}
    by_locality: dict[str | None, int] = {}
    for locality, stage, at in errors:
        bucket = min(BUCKETS - 1, int(BUCKETS * (at - RUN_START).total_seconds() / RUN_SECONDS))
        by_stage_bucket.setdefault(stage, {})
        by_stage_bucket[stage][bucket] = by_stage_bucket[stage].get(bucket, 0) + 1
        by_locality[locality] = by_locality.get(locality, 0) + 1
    priceless = {"Offers in the high $800s": 6, SCRIPT_TEXT: 3, "$POA": 2, "Price guide 850": 1}
    # The test's premise, in the parser's own words.
    assert all(not is_no_price_phrase(text) for text in priceless)
    assert is_no_price_phrase("Contact Agent")
    assert is_no_price_phrase("Contact agent 0412 345 678")
    return Expected(
        run_id=run_id,
        statuses={"done": 12, "not_found": 1, "failed": 2},
        by_stage_bucket=by_stage_bucket,
        by_locality=by_locality,
        errors=len(errors),
        slowest=(locality_name(14), format_duration(450)),
        durations=15,
        listings_seen=seen_by_type,
        priceless=priceless,
        not_found=[locality_name(13)],
        failed=[locality_name(12), locality_name(14)],
        excluded_texts=["Contact Agent", "Contact agent 0412 345 678", "Up to $500,000", "$850,000", "$ TBA"],
    )


# --- Running the command and looking at the page ------------------------------------------------


def report_args(*argv: str) -> argparse.Namespace:
    """The command's arguments as `python -m newhomie` parses them, through add_report_command."""
    parser = argparse.ArgumentParser(prog="python -m newhomie")
    add_report_command(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["report", *argv])


def run_report(monkeypatch: pytest.MonkeyPatch, database_url: str, *argv: str) -> int:
    monkeypatch.setenv(DATABASE_URL_ENV, database_url)
    args = report_args(*argv)
    return int(args.func(args))


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(resolve_chromium(None)), headless=True)
        yield browser
        browser.close()


@dataclass
class Opened:
    page: Page
    problems: list[str]  # console errors, page errors, dialogs (a script that ran)
    requests: list[str]


@contextmanager
def opened(browser: Browser, path: Path) -> Iterator[Opened]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    seen = Opened(page, [], [])
    page.on(
        "console",
        lambda m: seen.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda exc: seen.problems.append(f"page error: {exc}"))

    def on_dialog(dialog: Dialog) -> None:  # an alert() from the data: a script ran
        seen.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("request", lambda r: seen.requests.append(r.url))
    try:
        page.goto(path.as_uri(), wait_until="load")
        yield seen
    finally:
        context.close()


def cell_counts(page: Page, selector: str) -> list[int]:
    return [int(n) for n in page.eval_on_selector_all(selector, "cells => cells.map(c => c.dataset.count)")]


def row_labels(page: Page, svg: str) -> list[str]:
    """The row labels a heat map shows (their text, without the <title> tooltip inside them)."""
    script = "labels => labels.map(t => t.lastChild.textContent)"
    return list(page.eval_on_selector_all(f"{svg} text.row-label", script))


def assert_renders_alone(seen: Opened, path: Path, screenshot: Path) -> None:
    """No console errors, no script ran, nothing fetched but the file itself, and it paints."""
    assert seen.problems == []
    assert seen.requests == [path.as_uri()]
    assert seen.page.locator("script").count() == 0
    seen.page.screenshot(path=str(screenshot), full_page=True)
    png = screenshot.read_bytes()
    width, height = struct.unpack(">II", png[16:24])  # the PNG's IHDR
    assert width >= 1000
    assert height >= 900
    assert len(png) > 20_000


@pytest.mark.parametrize("with_summary", [True, False], ids=["summary", "no-summary"])
def test_report_shows_the_stored_run_and_keeps_hostile_text_as_text(
    conn: psycopg2.extensions.connection,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    chromium: Browser,
    with_summary: bool,
) -> None:
    expected = build_run(conn, summary=SUMMARY if with_summary else None)
    out = tmp_path / "tmp" / "report.html"

    assert run_report(monkeypatch, database_url, "--run", str(expected.run_id), "--out", str(out)) == 0

    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith(f"report: wrote {out} (")
    listings = sum(SUMMARY["listings"].values()) if with_summary else sum(expected.listings_seen.values())
    errors = SUMMARY["errors_total"] if with_summary else expected.errors
    assert printed[1] == (
        f"run {expected.run_id} (listings, finished, 1 h 40 min, unhealthy): "
        f"localities 12 done, 1 not found, 2 failed; {listings:,} listings; {errors} errors"
    )
    text = out.read_text(encoding="utf-8")
    assert SCRIPT_TEXT not in text
    assert "<img" not in text

    with opened(chromium, out) as seen:
        page = seen.page
        assert_renders_alone(seen, out, tmp_path / "report.png")

        # The header
        assert page.locator("h1").inner_text() == f"Crawl run {expected.run_id}"
        header = page.locator("header#run").inner_text()
        assert "weekly-2025-03-01" in header
        assert "2025-03-01 00:00:00 UTC" in header
        assert "2025-03-01 01:40:00 UTC" in header
        assert "2 localities failed (at most 0)" in header
        assert page.locator("header .health.unhealthy").inner_text() == "unhealthy"

        # Localities and listings: the summary's figures, else the tables'
        for status, count in expected.statuses.items():
            bar = page.locator(f"#localities .bar[data-label='{status}'] .value")
            assert bar.text_content() == str(count)
        listing_counts = SUMMARY["listings"] if with_summary else expected.listings_seen
        for listing_type, count in listing_counts.items():
            assert (
                page.locator(f"#listings .bar[data-label='{listing_type}'] .value").text_content()
                == f"{count:,}"
            )
        sale_pages = page.locator("#pages .bar[data-label='sale'] .value").text_content()
        assert sale_pages == ("31" if with_summary else "33")  # the summary's, else the stats' 31 + 2

        # The errors heat map over time: every stage × 20 buckets, counts as stored
        recorded = page.locator("#errors .errors-recorded").inner_text()
        summary_note = " (the summary counts 3)" if with_summary else ""
        assert recorded == f"{expected.errors} errors recorded in 3 stages{summary_note}."
        time_cells = cell_counts(page, "svg.heatmap-time rect.cell")
        assert len(time_cells) == len(STAGES) * BUCKETS
        assert sum(time_cells) == expected.errors
        stored = [
            expected.by_stage_bucket[stage].get(bucket, 0) for stage in STAGES for bucket in range(BUCKETS)
        ]
        assert time_cells == stored
        assert row_labels(page, "svg.heatmap-time") == list(STAGES)
        first = page.locator("svg.heatmap-time rect.cell").first
        assert (
            first.locator("title").text_content()
            == f"sale_search · 00:00:00–00:05:00 UTC: {stored[0]} errors"
        )
        assert first.get_attribute("fill") != EMPTY_CELL

        # … and against the 20 localities with the most errors (27 have some)
        locality_cells = cell_counts(page, "svg.heatmap-locality rect.cell")
        assert len(locality_cells) == 20 * len(STAGES)
        top = sorted(expected.by_locality.values(), reverse=True)[:20]
        assert sum(locality_cells) == sum(top)
        assert max(expected.by_locality, key=lambda k: expected.by_locality[k]) == locality_name(3)
        assert row_labels(page, "svg.heatmap-locality")[0] == locality_name(3)
        error_table = page.locator("table.error-kinds").inner_text()
        assert IMG_MESSAGE in error_table
        assert page.locator("img").count() == 0

        # Durations: a histogram of every locality, the slowest first in the table
        assert sum(cell_counts(page, "svg.histogram rect.bin")) == expected.durations
        slowest = page.locator("table.slowest tbody tr").first.locator("td").all_inner_texts()
        assert slowest[0] == expected.slowest[0]
        assert slowest[2] == expected.slowest[1]
        assert page.locator("table.slowest tbody tr").count() == 15

        # Price texts that gave no price: counted, no-price phrases and other runs' localities left out
        priceless = page.locator("table.priceless tbody tr")
        shown = {row.locator("td").nth(1).inner_text(): int(row.locator("td").first.inner_text())
                 for row in priceless.all()}  # fmt: skip
        assert shown == expected.priceless
        assert priceless.first.locator("td").nth(1).inner_text() == "Offers in the high $800s"
        assert page.locator("table.priceless").get_by_text(SCRIPT_TEXT, exact=True).count() == 1
        prices_section = page.locator("#prices").inner_text()
        for excluded in expected.excluded_texts:
            assert excluded not in shown
        assert "12 listings with 4 distinct texts" in prices_section

        # The localities that did not finish, by name
        assert page.locator("table.localities-not_found td").first.inner_text() == expected.not_found[0]
        failed = page.locator("table.localities-failed tbody tr td:first-child").all_inner_texts()
        assert failed == expected.failed

        assert "violates check constraint <b>" in page.locator("#rejected").inner_text()


@pytest.mark.parametrize("summary", [{}, None], ids=["empty-summary", "no-summary"])
def test_a_run_that_failed_at_once_still_renders(
    conn: psycopg2.extensions.connection,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    chromium: Browser,
    summary: Any,
) -> None:
    with transaction(conn) as cur:
        run_id = insert_run(cur, summary=summary, started=RUN_START, seconds=0, status="failed")
    out = tmp_path / "report.html"

    assert run_report(monkeypatch, database_url, "--run", str(run_id), "--out", str(out)) == 0

    with opened(chromium, out) as seen:
        page = seen.page
        assert_renders_alone(seen, out, tmp_path / "report.png")
        assert page.locator("h1").inner_text() == f"Crawl run {run_id}"
        assert page.locator("header .health.unknown").inner_text() == "not assessed"
        for status in ("done", "not_found", "failed"):
            assert page.locator(f"#localities .bar[data-label='{status}'] .value").text_content() == "0"
        assert page.locator("svg.heatmap").count() == 0
        assert "no errors recorded for this run" in page.locator("#errors").inner_text()
        assert "no localities recorded" in page.locator("#durations").inner_text()
        # Scrapy's stats still tell how many pages were answered.
        assert page.locator("#pages .bar[data-label='sale'] .value").text_content() == "33"
        assert page.locator("#pages .segment[data-series='error']").get_attribute("data-count") == "2"
        assert page.locator("table.localities-failed").count() == 0


def test_unknown_run_is_a_clear_message_and_exit_2(
    conn: psycopg2.extensions.connection,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    out = tmp_path / "report.html"
    assert run_report(monkeypatch, database_url, "--out", str(out)) == 2
    assert "no crawl runs yet" in capsys.readouterr().err

    with transaction(conn) as cur:
        run_id = insert_run(cur, summary=None, started=RUN_START, seconds=60)
    assert run_report(monkeypatch, database_url, "--run", str(run_id + 1), "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert f"no crawl run with id {run_id + 1}" in err
    assert f"the latest is {run_id}" in err
    assert not out.exists()


def test_without_run_the_latest_run_is_reported(
    conn: psycopg2.extensions.connection,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    with transaction(conn) as cur:
        later = insert_run(cur, summary=None, started=RUN_START + timedelta(days=1), seconds=60)
        insert_run(cur, summary=SUMMARY, started=RUN_START, seconds=60)  # a higher id, started earlier
    out = tmp_path / "report.html"
    assert run_report(monkeypatch, database_url, "--out", str(out)) == 0
    assert f"<h1>Crawl run {later}</h1>" in out.read_text(encoding="utf-8")
    assert capsys.readouterr().out.splitlines()[1].startswith(f"run {later} (listings, finished, 1 min 00 s")


def test_report_through_python_m_newhomie(
    conn: psycopg2.extensions.connection, database_url: str, tmp_path: Path
) -> None:
    """The real command line. Needs `newhomie.cli` to register the report command."""
    expected = build_run(conn, summary=SUMMARY)
    env = {**os.environ, DATABASE_URL_ENV: database_url, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "newhomie", "report", "--run", str(expected.run_id)]
    completed = subprocess.run(
        [*command, "--out", "tmp/report.html"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("report: wrote tmp/report.html (")
    assert f"run {expected.run_id} (listings, finished" in completed.stdout
    assert "<h1>Crawl run" in (tmp_path / "tmp" / "report.html").read_text(encoding="utf-8")
    missing = subprocess.run(
        [sys.executable, "-m", "newhomie", "report", "--run", "999999", "--out", "tmp/other.html"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert missing.returncode == 2
    assert "no crawl run with id 999999" in missing.stderr


# --- The pure parts, without a database ---------------------------------------------------------


def test_heatmap_draws_every_cell_and_escapes_its_labels() -> None:
    svg = heatmap_svg(
        ["<b>row</b>", "plain"],
        ["a", "b", "c"],
        {(0, 1): 4, (1, 2): 1},
        label="x",
        css_class="heatmap-test",
    )
    assert svg.count('<rect class="cell"') == 6
    assert "<b>" not in svg
    assert "&lt;b&gt;row&lt;/b&gt; · b: 4 errors" in svg
    assert 'data-count="4"' in svg
    assert svg.count(f'fill="{EMPTY_CELL}"') >= 4


def test_shading_grows_with_the_count_and_leaves_empty_cells_pale() -> None:
    assert shade(0, 10) == EMPTY_CELL
    assert shade(3, 0) == EMPTY_CELL
    darker = [sum(int(shade(n, 100)[i : i + 2], 16) for i in (1, 3, 5)) for n in (1, 10, 50, 100)]
    assert darker == sorted(darker, reverse=True)
    assert shade(500, 100) == shade(100, 100)


def test_histogram_bins_every_value_with_round_edges() -> None:
    values = [0.0, 5.0, 29.9, 30.0, 450.0, 451.0]
    bins = histogram(values, bins=20)
    assert sum(n for _, _, n in bins) == len(values)
    assert len(bins) <= 20
    assert bins[0][0] == 0
    step = bins[0][1] - bins[0][0]
    assert step == 25  # 451 / 20 = 22.55, rounded up to 25
    assert bins[-1][2] == 2  # 450 and 451
    assert histogram([]) == []
    assert histogram([0.0, 0.0]) == [(0.0, 1.0, 2)]


def test_priceless_texts_leave_out_no_price_phrases_and_keep_the_most_frequent() -> None:
    rows = [("Contact Agent", 50, ["sale"]), ("$POA", 3, ["sale"]), ("Offers in the high $800s", 7, ["sale"])]
    rows += [(f"${n} ???", 1, ["rent"]) for n in range(60)]
    shown, listings, texts = priceless_texts(rows, limit=50)
    assert shown[0] == ("Offers in the high $800s", 7, ["sale"])
    assert shown[1][0] == "$POA"
    assert len(shown) == 50
    assert (listings, texts) == (70, 62)


def test_figures_fall_back_from_the_summary_to_the_tables_and_the_stats() -> None:
    data = ReportData(
        run={"id": 1, "summary": {"localities": {"done": "many"}, "pages_total": True},
             "stats": {"newhomie/pages/sale": 9, "newhomie/pages/untracked": 5,
                       "newhomie/items/listing/rent": 4, "newhomie/blocked": 2}},
        locality_statuses={"done": 3, "failed": 1},
        errors_by_stage_bucket=[("sale_search", 0, 2), ("profile", 3, 1), ("sale_search", 5, 1)],
    )  # fmt: skip
    figures = resolve_figures(data)
    assert figures.localities == {"done": 3, "not_found": 0, "failed": 1}  # text is no count
    assert figures.listings == {"sale": 0, "rent": 4, "sold": 0}
    assert figures.pages == {"sale": {"ok": 9, "error": 3}, "profile": {"error": 1}}
    assert figures.errors_by_stage == {"sale_search": 3, "profile": 1}
    totals = {name: (value, source) for name, value, source in figures.totals}
    assert totals["pages"][0] == "13"  # True is no count either
    assert totals["blocked pages"] == ("2", "Scrapy's stats")
    assert totals["browser restarts"] == ("—", "not recorded")
    assert totals["duration"] == ("—", "not recorded")
    assert totals["crawl kind"] == ("—", "not recorded")  # a run from before crawls were incremental
    assert totals["pages saved by increments"] == ("—", "not recorded")


def test_figures_say_the_runs_kind_and_the_pages_its_increments_saved() -> None:
    run = {"id": 1, "crawl_kind": "incremental", "pages_saved": 1_238, "summary": {}, "stats": {}}
    totals = {name: (value, source) for name, value, source in resolve_figures(ReportData(run=run)).totals}
    assert totals["crawl kind"] == ("incremental", "crawl_run")
    assert totals["pages saved by increments"] == ("1,238", "crawl_run")
    # A run whose end was not recorded on crawl_run still has its summary.
    summary = {"crawl_kind": "full", "pages_saved": {"sold": 3, "profile": 2}}
    run = {"id": 2, "summary": summary, "stats": {}}
    totals = {name: (value, source) for name, value, source in resolve_figures(ReportData(run=run)).totals}
    assert totals["crawl kind"] == ("full", "the run's summary")
    assert totals["pages saved by increments"] == ("5", "the run's summary")


def test_figures_of_a_run_whose_summary_stayed_in_its_stats() -> None:
    summary = {
        "localities": {"done": 5},
        "listings": {"sale": 7},
        "browser_restarts": 1,
        "duration_seconds": None,
    }
    stats = {"newhomie/summary": summary, "newhomie/pages/sale/ok": 4, "newhomie/pages/sale/not_found": 1,
             "newhomie/pages/profile/error": 2, "newhomie/browser/restarts": 3}  # fmt: skip
    data = ReportData(run={"id": 1, "summary": None, "stats": stats}, locality_statuses={"done": 9})
    figures = resolve_figures(data)
    assert (figures.localities, figures.localities_source) == ({"done": 5, "not_found": 0, "failed": 0},
                                                               "the run's summary")  # fmt: skip
    assert figures.listings == {"sale": 7, "rent": 0, "sold": 0}
    assert figures.pages == {"sale": {"ok": 4, "not_found": 1}, "profile": {"error": 2}}
    assert figures.pages_source == "Scrapy's stats"
    totals = {name: (value, source) for name, value, source in figures.totals}
    assert totals["browser restarts"] == ("1", "the run's summary")
    assert totals["pages"] == ("7", "Scrapy's stats")


def test_health_reasons_in_any_json_shape() -> None:
    assert health_reasons(None) == []
    assert health_reasons("too many errors") == ["too many errors"]
    assert health_reasons(["a", {"b": 1}]) == ["a", '{"b": 1}']
    assert health_reasons({"errors": "5% > 2%"}) == ["errors: 5% > 2%"]


def test_a_page_from_plain_data_escapes_everything_and_fetches_nothing() -> None:
    hostile = "</title><script>alert(1)</script>"
    data = ReportData(
        run={"id": 7, "spider": hostile, "arguments": {hostile: hostile * 50}, "crawl_key": hostile,
             "shard": None, "started_at": RUN_START, "finished_at": None, "status": hostile, "summary": None,
             "stats": None, "health": hostile, "health_reasons": [hostile]},
        span_start=RUN_START,
        span_end=RUN_START + timedelta(minutes=1),
        errors_by_stage_bucket=[(hostile, 3, 2)],
        errors_by_locality_stage=[(hostile, hostile, 2)],
        error_kinds=[{"stage": hostile, "error_type": hostile, "errors": 2, "latest_message": hostile,
                      "latest_url": "javascript:alert(1)", "latest_locality": hostile}],
        priceless_texts=[(hostile + " $", 2, [hostile])],
        unfinished=[{"locality": hostile, "status": "failed", "attempts": 1, "errors": 0,
                     "finished_at": None}],
        rejected=[(hostile, 1, hostile)],
    )  # fmt: skip
    page = render_report(data, generated_at=RUN_START)
    assert "<script" not in page
    assert hostile not in page
    assert "href=" not in page
    assert " src=" not in page
    assert 'http-equiv="Content-Security-Policy" content="default-src \'none\'' in page
    assert page.count('<rect class="cell"') == 20 + 1


def test_bar_chart_writes_each_value() -> None:
    svg = bar_chart_svg([("done", 1200), ("failed", 0)], label="localities")
    assert '<text class="value"' in svg
    assert ">1,200</text>" in svg
    assert ">0</text>" in svg
    assert 'data-label="failed"' in svg
