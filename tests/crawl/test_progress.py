"""A crawl's attempts at its localities: each ends at its last answer, done, failed or not found, reads
its pages into items and next pages, and makes the items of its outcome."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from newhomie.crawl.bands import PriceBand
from newhomie.crawl.increments import FULL, Increments, increments_for
from newhomie.crawl.progress import CrawlProgress, Fetch, LocalityCrawl, Sighting
from newhomie.items import CrawlError, Listing, LocalityOutcome, LocalityVisit, RejectedEntry
from newhomie.localities import Locality
from newhomie.site import EntryError, PageNotFound, PageShapeError, SearchPage
from newhomie.store.knowledge import LocalityKnowledge
from tests.storage import listing

DANDENONG = Locality("Dandenong", "VIC", "3175")
RICHMOND = Locality("Richmond", "VIC", "3121")
NOWHERE = Locality("Nowhere", "NSW", "2999")
URL = "https://www.domain.com.au/sale/dandenong-vic-3175/?ssubs=0&page=1"
SALE = Fetch("sale")


class Counts(Counter[str]):
    """What a crawl's stats collector is given: counts, and values set."""

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self[key] += count

    def set_value(self, key: str, value: Any) -> None:
        self[key] = value


def counted(crawls: CrawlProgress) -> Counts:
    assert isinstance(crawls.counts, Counts)
    return crawls.counts


def progress(finished: list[LocalityCrawl] | None = None) -> CrawlProgress:
    return CrawlProgress("crawl-1", Counts(), on_finished=None if finished is None else finished.append)


def answer(progress: CrawlProgress, crawl: LocalityCrawl, read: Any = None, fetch: Fetch = SALE) -> list[Any]:
    """One of the locality's requests answered; `read` gives what its page held (nothing by default)."""
    return progress.settle(crawl.slug, crawl.attempt, fetch, URL, read or (lambda crawl: []))


def run(progress: CrawlProgress, locality: Locality, *, attempt: int = 1, errors: int = 0) -> LocalityCrawl:
    """A locality crawled from its first request to its last answer."""
    crawl = progress.begin(locality, attempt)
    crawl.first_fetches(["profile", "sale", "rent"])
    crawl.errors = errors
    assert answer(progress, crawl) == []
    assert answer(progress, crawl) == []
    ended = answer(progress, crawl)
    assert [type(item) for item in ended] == [LocalityOutcome]
    return crawl


def search_page(total: int, pages: int, current: int = 1, listings: Iterable[Listing] = ()) -> SearchPage:
    return SearchPage(url=URL, locality_slug=DANDENONG.slug, listing_type="sale", current_page=current,
                      total_pages=pages, total_listings=total, listings=list(listings))  # fmt: skip


# --- When a locality ends ----------------------------------------------------------------------------


def test_a_locality_ends_at_its_last_answer_only() -> None:
    finished: list[LocalityCrawl] = []
    crawls = progress(finished)
    crawl = crawls.begin(DANDENONG)
    assert crawl.first_fetches(["profile", "sale", "rent"]) == [
        Fetch("profile"),
        Fetch("sale"),
        Fetch("rent"),
    ]
    assert crawl.pending == 3
    assert answer(crawls, crawl) == []
    # Pages found on the way add requests: the locality is not done while they are out.
    crawl.fetch("sale", 2)
    assert answer(crawls, crawl) == []
    assert answer(crawls, crawl) == []
    assert crawls.get(DANDENONG.slug) is crawl
    assert crawl.finished_at is None
    assert finished == []
    (outcome,) = answer(crawls, crawl)
    assert finished == [crawl]
    assert crawl.pending == 0
    assert crawl.finished_at is not None
    assert crawl.finished_at >= crawl.started_at
    assert crawls.get(DANDENONG.slug) is None
    assert crawls.latest_status == {DANDENONG.slug: "done"}
    assert outcome == LocalityOutcome(
        crawl_key="crawl-1", slug=DANDENONG.slug, locality=str(DANDENONG), status="done", attempt=1,
        started_at=crawl.started_at, finished_at=crawl.finished_at, pages=0, listings=0, errors=0,
        kinds=["profile", "sale", "rent"], complete_kinds=["sale", "rent"],  # no profile was read
    )  # fmt: skip
    assert counted(crawls)["newhomie/localities/done"] == 1


def test_a_locality_cannot_be_begun_twice_at_once() -> None:
    crawls = progress()
    crawls.begin(DANDENONG)
    with pytest.raises(ValueError, match="already being crawled"):
        crawls.begin(DANDENONG, attempt=2)


def test_localities_in_flight_are_kept_apart() -> None:
    crawls = progress()
    first, second = crawls.begin(DANDENONG), crawls.begin(RICHMOND)
    first.fetch("sale")
    second.fetch("sale")
    second.fetch("rent")
    assert answer(crawls, second) == []
    assert len(answer(crawls, first)) == 1
    assert set(crawls.active) == {RICHMOND.slug}
    assert len(answer(crawls, second)) == 1


def test_an_answer_of_no_attempt_in_flight_is_dropped_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    crawls = progress()
    crawl = crawls.begin(DANDENONG)
    crawl.fetch("sale")
    with caplog.at_level(logging.WARNING, logger="newhomie.crawl.progress"):
        assert crawls.settle(RICHMOND.slug, 1, SALE, URL, lambda crawl: ["never read"]) == []
        assert crawls.settle(DANDENONG.slug, 2, SALE, URL, lambda crawl: ["an old attempt's"]) == []
    assert counted(crawls)["newhomie/pages/untracked"] == 2
    assert f"a page of no locality in flight was dropped: {URL}" in caplog.text
    assert crawl.pending == 1


def test_status_is_done_failed_or_not_found() -> None:
    crawls = progress()
    assert run(crawls, DANDENONG).status == "done"
    assert run(crawls, RICHMOND, errors=2).status == "failed"
    crawl = crawls.begin(NOWHERE)
    crawl.not_found = True
    crawl.errors = 1  # the site's 404 page says more than a page that failed on the way
    assert crawl.status == "not_found"


def test_failed_first_attempts_are_those_to_retry() -> None:
    crawls = progress()
    run(crawls, DANDENONG, errors=1)
    run(crawls, RICHMOND)
    nowhere = crawls.begin(NOWHERE)
    nowhere.fetch("profile")
    answer(crawls, nowhere, lambda crawl: crawl.page_not_found(Fetch("profile"), URL))
    assert crawls.failed_first_attempts() == [DANDENONG]
    # Its second attempt, failed or not, is the last: nothing is retried twice.
    run(crawls, DANDENONG, attempt=2, errors=1)
    assert crawls.failed_first_attempts() == []


def test_outcome_counts_count_each_locality_once_by_its_latest_attempt() -> None:
    crawls = progress()
    run(crawls, DANDENONG, errors=1)
    run(crawls, RICHMOND, errors=1)
    nowhere = crawls.begin(NOWHERE)
    nowhere.fetch("profile")
    answer(crawls, nowhere, lambda crawl: crawl.page_not_found(Fetch("profile"), URL))
    assert crawls.outcome_counts() == {"done": 0, "not_found": 1, "failed": 2}
    run(crawls, DANDENONG, attempt=2)
    assert crawls.outcome_counts() == {"done": 1, "not_found": 1, "failed": 1}
    run(crawls, RICHMOND, attempt=2, errors=3)
    assert crawls.outcome_counts() == {"done": 1, "not_found": 1, "failed": 1}
    assert len(crawls.latest_status) == 3
    assert counted(crawls)["newhomie/localities/failed"] == 1


def test_localities_whose_requests_were_lost_are_abandoned_as_failed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    finished: list[LocalityCrawl] = []
    crawls = progress(finished)
    crawl = crawls.begin(DANDENONG)
    crawl.first_fetches(["profile", "sale", "rent", "sold"])
    answer(crawls, crawl)
    other = crawls.begin(RICHMOND)
    other.fetch("sale")
    with caplog.at_level(logging.ERROR, logger="newhomie.crawl.progress"):
        outcomes = crawls.abandon_all()
    assert [o.slug for o in outcomes] == [DANDENONG.slug, RICHMOND.slug]
    assert all(o.status == "failed" and o.errors == 1 for o in outcomes)
    assert "locality Dandenong VIC 3175: lost track of 3 requests; ending it as failed" in caplog.text
    assert finished == [crawl, other]
    assert crawls.active == {}
    assert counted(crawls)["newhomie/localities/stalled"] == 2
    assert crawls.failed_first_attempts() == [DANDENONG, RICHMOND]


def test_a_second_attempt_may_begin_once_the_first_ended() -> None:
    crawls = progress()
    run(crawls, DANDENONG, errors=1)
    second = crawls.begin(DANDENONG, attempt=2)
    assert second.attempt == 2
    assert second.errors == 0
    assert second.pending == 0


# --- What a page gives ---------------------------------------------------------------------------------


def test_a_first_page_gives_the_visit_and_the_searchs_other_pages() -> None:
    crawls = progress()
    crawl = crawls.begin(DANDENONG)
    crawl.fetch("sale")
    results = answer(
        crawls, crawl, lambda crawl: crawl.read_search(SALE, search_page(95, 5, listings=[listing(1)]))
    )
    visit, *fetches, first = results
    assert isinstance(visit, LocalityVisit)
    assert (visit.slug, visit.status) == (DANDENONG.slug, "active")
    assert fetches == [Fetch("sale", number) for number in (2, 3, 4, 5)]
    assert first == listing(1)
    assert crawl.pending == 4
    assert (crawl.pages, crawl.listings) == (1, 1)
    assert counted(crawls)["newhomie/pages/sale/ok"] == 1
    assert counted(crawls)["newhomie/distinct/listing/sale"] == 1


def test_a_search_too_big_for_the_site_is_split_into_two_bands_and_its_page_left_unread() -> None:
    crawls = progress()
    crawl = crawls.begin(DANDENONG)
    crawl.fetch("sale")
    results = answer(
        crawls, crawl, lambda crawl: crawl.read_search(SALE, search_page(2_400, 120, listings=[listing(1)]))
    )
    assert isinstance(results[0], LocalityVisit)
    assert results[1:] == [
        Fetch("sale", 1, PriceBand(0, 800_000), ("all", 2_400)),
        Fetch("sale", 1, PriceBand(800_001, None), ("all", 2_400)),
    ]
    assert counted(crawls)["newhomie/searches/split/sale"] == 1
    # The first band fits: its other pages are read; the second reports fewer than the split needs.
    low = Fetch("sale", 1, PriceBand(0, 800_000), ("all", 2_400))
    assert answer(crawls, crawl, lambda crawl: crawl.read_search(low, search_page(1_000, 50)))[:2] == [
        Fetch("sale", 2, low.band),
        Fetch("sale", 3, low.band),
    ]
    high = Fetch("sale", 1, PriceBand(800_001, None), ("all", 2_400))
    answer(crawls, crawl, lambda crawl: crawl.read_search(high, search_page(1_350, 68)))
    assert counted(crawls)["newhomie/searches/split/sale"] == 2
    assert crawl.tally("sale").reported_total == 2_400


def test_a_malformed_entry_is_kept_aside_and_promoted_repeats_are_given_once() -> None:
    crawls = progress()
    crawl = crawls.begin(DANDENONG)
    crawl.first_fetches(["sale", "sale"])
    bad = EntryError(99, "price_text", "expected text, found list", {"id": 99, "price": ["x"]})
    page = search_page(40, 2, listings=[listing(1), listing(2)])
    page.errors.append(bad)
    first = answer(crawls, crawl, lambda crawl: crawl.read_search(SALE, page))
    (rejected,) = [item for item in first if isinstance(item, RejectedEntry)]
    assert (rejected.locality, rejected.url, rejected.raw) == (str(DANDENONG), URL, bad.raw)
    assert rejected.reason == "price_text: expected text, found list"
    second = answer(crawls, crawl, lambda crawl: crawl.read_search(Fetch("sale", 2), search_page(
        40, 2, current=2, listings=[listing(1), listing(3)])))  # fmt: skip
    assert [item.listing_id for item in second if isinstance(item, Listing)] == [3]
    assert counted(crawls)["newhomie/entries/malformed"] == 1
    assert crawl.listings == 3


def test_a_page_that_cannot_be_read_is_an_error_of_its_locality_url_and_stage(
    caplog: pytest.LogCaptureFixture,
) -> None:
    crawls = progress()
    crawl = crawls.begin(DANDENONG)
    crawl.fetch("sale")

    def broken(crawl: LocalityCrawl) -> list[Any]:
        raise PageShapeError("props.pageProps.componentProps.listingsMap", "missing", URL)

    with caplog.at_level(logging.ERROR, logger="newhomie.crawl.progress"):
        error, outcome = answer(crawls, crawl, broken)
    assert isinstance(error, CrawlError)
    assert (error.locality, error.url, error.stage, error.error_type) == (
        str(DANDENONG), URL, "sale_search", "PageShapeError"
    )  # fmt: skip
    assert "listingsMap: missing" in error.message
    (line,) = [r for r in caplog.records if r.getMessage().startswith("PageShapeError: ")]
    assert (line.locality, line.stage, line.url) == (str(DANDENONG), "sale_search", URL)  # type: ignore[attr-defined]
    assert outcome.status == "failed"
    assert counted(crawls)["newhomie/pages/sale/error"] == 1
    assert counted(crawls)["newhomie/errors/sale_search/PageShapeError"] == 1


def test_a_bug_of_ours_on_one_page_is_recorded_and_loses_not_the_locality(
    caplog: pytest.LogCaptureFixture,
) -> None:
    crawls = progress()
    crawl = crawls.begin(DANDENONG)
    crawl.first_fetches(["sale", "rent"])
    with caplog.at_level(logging.ERROR, logger="newhomie.crawl.progress"):
        (error,) = answer(crawls, crawl, lambda crawl: [1 / 0])
    assert isinstance(error, CrawlError)
    assert error.error_type == "ZeroDivisionError"
    (line,) = [r for r in caplog.records if r.getMessage() == "reading the page failed"]
    assert (line.locality, line.url) == (str(DANDENONG), URL)  # type: ignore[attr-defined]
    assert "Traceback" in caplog.text
    assert crawl.pending == 1
    assert [type(item) for item in answer(crawls, crawl)] == [LocalityOutcome]


def test_the_404_page_makes_the_locality_not_found_once() -> None:
    crawls = progress()
    crawl = crawls.begin(NOWHERE)
    crawl.first_fetches(["profile", "sale"])

    def not_found(crawl: LocalityCrawl) -> list[Any]:
        raise PageNotFound("the site has no page for locality nowhere-nsw-2999 (route /404)", URL)

    (visit,) = answer(crawls, crawl, not_found, Fetch("profile"))
    assert isinstance(visit, LocalityVisit)
    assert visit.status == "not_found"
    visit_again_and_outcome = answer(crawls, crawl, not_found)
    assert [type(item) for item in visit_again_and_outcome] == [LocalityOutcome]
    assert visit_again_and_outcome[0].status == "not_found"
    assert counted(crawls)["newhomie/pages/profile/not_found"] == 1
    assert counted(crawls)["newhomie/pages/sale/not_found"] == 1


# --- What is new to the run ----------------------------------------------------------------------------


def test_a_listing_is_new_once_per_attempt_and_once_per_run() -> None:
    crawls = progress()
    first = crawls.begin(DANDENONG)
    first.fetch("sale")
    assert first.see_listing("sale", 11) is Sighting.NEW
    assert first.see_listing("sale", 11) is Sighting.AGAIN  # a promoted repeat on a later page
    assert first.see_listing("rent", 11) is Sighting.NEW  # kinds are counted apart
    assert first.see_profile() is Sighting.NEW
    first.errors = 1
    answer(crawls, first)
    assert crawls.failed_first_attempts() == [DANDENONG]

    retry = crawls.begin(DANDENONG, attempt=2)
    assert retry.previous is first
    assert crawls.failed_first_attempts() == []  # its retry has begun
    retry.fetch("sale")
    # Stored again (it may have changed since), but the run counted it already.
    assert retry.see_listing("sale", 11) is Sighting.RETRIED
    assert retry.see_listing("sale", 11) is Sighting.AGAIN
    assert retry.see_listing("sale", 12) is Sighting.NEW
    assert retry.see_profile() is Sighting.RETRIED
    assert (first.listings, retry.listings) == (2, 2)
    answer(crawls, retry)
    assert retry.previous is None  # the failed attempt's ids are let go


def test_what_ended_is_not_kept_unless_it_will_be_retried() -> None:
    crawls = progress()
    done = run(crawls, DANDENONG)
    failed = run(crawls, RICHMOND, errors=1)
    assert crawls.to_retry == {RICHMOND.slug: failed}
    assert done not in crawls.to_retry.values()
    assert crawls.begin(DANDENONG, attempt=2).previous is None


def test_a_site_whose_counts_never_shrink_costs_a_bounded_number_of_pages() -> None:
    """A search that reports 10^15 listings in every price band: split to MAX_BANDS, then read as far as
    the site shows, and the locality is recorded as incomplete, with why."""
    crawls = progress()
    crawl = crawls.begin(DANDENONG)
    queue = crawl.first_fetches(["sale"])
    pages = 0
    while queue:
        fetch = queue.pop(0)
        pages += 1
        page = search_page(10**15, 50, current=fetch.page)
        results = answer(
            crawls, crawl, lambda crawl, fetch=fetch, page=page: crawl.read_search(fetch, page), fetch
        )
        queue += [item for item in results if isinstance(item, Fetch)]
        assert pages < 10_000, "the split does not end"
    (outcome,) = [item for item in results if isinstance(item, LocalityOutcome)]
    assert outcome.status == "done"
    # The search, its two halves, the first half's two halves (the second half showed the counts do
    # not add up), and the 49 further pages of each of the three bands left.
    assert pages == 1 + 2 + 2 + 3 * 49
    truncated, missed = outcome.incomplete[:3], outcome.incomplete[3:]
    assert all("do not narrow with the price" in reason for reason in truncated)
    assert missed == [
        "sale search: its price bands hold 3,000 of the 1,000,000,000,000,000 listings reported"
    ]
    assert counted(crawls)["newhomie/localities/incomplete"] == 1


# --- Incremental crawls ------------------------------------------------------------------------------

SOLD = Fetch("sold")


def sold_page(current: int, ids: Iterable[int], total: int = 190, pages: int = 10) -> SearchPage:
    return SearchPage(url=URL, locality_slug=DANDENONG.slug, listing_type="sold", current_page=current,
                      total_pages=pages, total_listings=total,
                      listings=[listing(i, listing_type="sold") for i in ids])  # fmt: skip


def test_an_incremental_sold_search_reads_page_by_page_and_stops_after_the_first_page_it_holds() -> None:
    crawls = progress()
    crawl = crawls.begin(DANDENONG, increments=Increments(known_sold=frozenset(range(100, 300))))
    assert crawl.first_fetches(["sold"]) == [SOLD]
    # Page 1 holds new sales: only page 2 is asked for, not pages 2 to 10 at once.
    first = answer(crawls, crawl, lambda c: c.read_search(SOLD, sold_page(1, [1, 2, 100])), SOLD)
    assert [r for r in first if isinstance(r, Fetch)] == [Fetch("sold", 2)]
    # Page 2 holds one new sale among known ones: page 3 still.
    second = answer(crawls, crawl, lambda c: c.read_search(Fetch("sold", 2), sold_page(2, [101, 3, 102])))
    assert [r for r in second if isinstance(r, Fetch)] == [Fetch("sold", 3)]
    # Page 3 is all known: the search ends there, and its 7 unread pages are counted as saved.
    third = answer(crawls, crawl, lambda c: c.read_search(Fetch("sold", 3), sold_page(3, [103, 104])))
    assert [type(r) for r in third] == [Listing, Listing, LocalityOutcome]
    (outcome,) = [r for r in third if isinstance(r, LocalityOutcome)]
    assert (outcome.pages, outcome.pages_saved, outcome.pages_by_kind) == (3, 7, {"sold": 3})
    assert outcome.complete_kinds == ["sold"]
    assert counted(crawls)["newhomie/pages_saved/sold"] == 7


def test_an_incremental_sold_search_reads_to_its_last_page_when_every_page_is_new() -> None:
    crawls = progress()
    crawl = crawls.begin(DANDENONG, increments=Increments(known_sold=frozenset()))
    crawl.first_fetches(["sold"])
    asked = []
    for number in (1, 2, 3):
        fetch = Fetch("sold", number)
        page = sold_page(number, [number * 10, number * 10 + 1], total=50, pages=3)
        asked += [
            r
            for r in answer(crawls, crawl, lambda c, f=fetch, p=page: c.read_search(f, p), fetch)
            if isinstance(r, Fetch)
        ]
    assert asked == [Fetch("sold", 2), Fetch("sold", 3)]
    assert crawls.get(DANDENONG.slug) is None
    assert counted(crawls)["newhomie/pages_saved/sold"] == 0


def test_a_full_crawl_asks_for_every_page_of_the_sold_search_at_once() -> None:
    crawls = progress()
    crawl = crawls.begin(DANDENONG)  # FULL: nothing known
    crawl.first_fetches(["sold"])
    first = answer(crawls, crawl, lambda c: c.read_search(SOLD, sold_page(1, [100, 101])), SOLD)
    assert [r for r in first if isinstance(r, Fetch)] == [Fetch("sold", n) for n in range(2, 11)]


def test_sale_and_rent_are_read_whole_even_when_their_listings_are_known() -> None:
    crawls = progress()
    crawl = crawls.begin(DANDENONG, increments=Increments(known_sold=frozenset({1})))
    crawl.first_fetches(["sale"])
    first = answer(crawls, crawl, lambda c: c.read_search(SALE, search_page(95, 5, listings=[listing(1)])))
    assert [r for r in first if isinstance(r, Fetch)] == [Fetch("sale", n) for n in (2, 3, 4, 5)]


def test_a_fresh_profile_is_skipped_and_counted_and_a_failed_kind_is_not_whole() -> None:
    crawls = progress()
    crawl = crawls.begin(DANDENONG, increments=Increments(skip_profile=True))
    assert crawl.first_fetches(["profile", "sale", "rent"]) == [SALE, Fetch("rent")]
    assert counted(crawls)["newhomie/pages_saved/profile"] == 1
    answer(crawls, crawl)
    (error, outcome) = answer(
        crawls,
        crawl,
        lambda c: c.page_failed(Fetch("rent"), URL, PageShapeError("x", "y", URL)),
        Fetch("rent"),
    )
    assert isinstance(error, CrawlError)
    assert isinstance(outcome, LocalityOutcome)
    assert (outcome.status, outcome.pages_saved) == ("failed", 1)
    assert outcome.kinds == ["profile", "sale", "rent"]
    assert outcome.complete_kinds == ["profile", "sale"]  # the profile is fresh; rent lost a page


def test_a_locality_left_nothing_to_fetch_ends_at_once() -> None:
    finished: list[LocalityCrawl] = []
    crawls = progress(finished)
    crawl, first = crawls.start(DANDENONG, 1, Increments(skip_profile=True), ["profile"])
    (outcome,) = first
    assert isinstance(outcome, LocalityOutcome)
    assert (outcome.status, outcome.pages, outcome.pages_saved, outcome.complete_kinds) == (
        "done",
        0,
        1,
        ["profile"],
    )
    assert finished == [crawl]  # its slot is freed: the watchdog is never needed
    assert crawls.get(DANDENONG.slug) is None


def test_increments_follow_what_the_database_holds() -> None:
    now = datetime(2026, 12, 4, tzinfo=UTC)
    week = timedelta(days=7)
    known = LocalityKnowledge(frozenset({5, 6}), sold_whole=True, profile_captured_at=now - timedelta(days=2))
    assert increments_for(known, 1, week, now) == Increments(known_sold=frozenset({5, 6}), skip_profile=True)
    # A retry reads everything: what its failed first attempt stored must not stop it early.
    assert increments_for(known, 2, week, now) is FULL
    # The last crawl that asked for the sold search lost a page of it: read it whole this time.
    broken = LocalityKnowledge(
        frozenset({5, 6}), sold_whole=False, profile_captured_at=now - timedelta(days=8)
    )
    assert increments_for(broken, 1, week, now) == Increments(known_sold=None, skip_profile=False)
    assert increments_for(known, 1, timedelta(0), now).skip_profile is False  # max age 0: always read
    assert increments_for(None, 1, week, now) is FULL
