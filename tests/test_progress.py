"""The crawl's bookkeeping: a locality ends at its last answer, and ends done, failed or not found."""

from __future__ import annotations

import pytest

from newhomie.localities import Locality
from newhomie.progress import CrawlProgress, LocalityCrawl, SearchTally, Sighting

DANDENONG = Locality("Dandenong", "VIC", "3175")
RICHMOND = Locality("Richmond", "VIC", "3121")
NOWHERE = Locality("Nowhere", "NSW", "2999")


def run(progress: CrawlProgress, locality: Locality, *, attempt: int = 1, errors: int = 0) -> LocalityCrawl:
    """A locality crawled from its first request to its last answer."""
    crawl = progress.begin(locality, attempt)
    for _ in range(3):
        progress.sent(crawl)
    crawl.errors = errors
    progress.answered(crawl)
    progress.answered(crawl)
    finished = progress.answered(crawl)
    assert finished is crawl
    return crawl


def test_a_locality_ends_at_its_last_answer_only() -> None:
    progress = CrawlProgress()
    crawl = progress.begin(DANDENONG)
    for _ in range(3):
        progress.sent(crawl)
    assert crawl.pending == 3
    assert progress.answered(crawl) is None
    # Pages found on the way add requests: the locality is not done while they are out.
    progress.sent(crawl)
    assert progress.answered(crawl) is None
    assert progress.answered(crawl) is None
    assert progress.get(DANDENONG.slug) is crawl
    assert crawl.finished_at is None
    assert progress.answered(crawl) is crawl
    assert crawl.pending == 0
    assert crawl.finished_at is not None
    assert crawl.finished_at >= crawl.started_at
    assert progress.get(DANDENONG.slug) is None
    assert progress.active == {}
    assert progress.latest_status == {DANDENONG.slug: "done"}


def test_a_locality_cannot_be_begun_twice_at_once() -> None:
    progress = CrawlProgress()
    progress.begin(DANDENONG)
    with pytest.raises(ValueError, match="already being crawled"):
        progress.begin(DANDENONG, attempt=2)


def test_localities_in_flight_are_kept_apart() -> None:
    progress = CrawlProgress()
    first, second = progress.begin(DANDENONG), progress.begin(RICHMOND)
    progress.sent(first)
    progress.sent(second)
    progress.sent(second)
    assert progress.answered(second) is None
    assert progress.answered(first) is first
    assert set(progress.active) == {RICHMOND.slug}
    assert progress.answered(second) is second


def test_status_is_done_failed_or_not_found() -> None:
    progress = CrawlProgress()
    assert run(progress, DANDENONG).status == "done"
    assert run(progress, RICHMOND, errors=2).status == "failed"
    crawl = progress.begin(NOWHERE)
    crawl.not_found = True
    crawl.errors = 1  # the site's 404 page says more than a page that failed on the way
    assert crawl.status == "not_found"


def test_failed_first_attempts_are_those_to_retry() -> None:
    progress = CrawlProgress()
    run(progress, DANDENONG, errors=1)
    run(progress, RICHMOND)
    nowhere = progress.begin(NOWHERE)
    nowhere.not_found = True
    progress.sent(nowhere)
    progress.answered(nowhere)
    assert progress.failed_first_attempts() == [DANDENONG]
    # Its second attempt, failed or not, is the last: nothing is retried twice.
    run(progress, DANDENONG, attempt=2, errors=1)
    assert progress.failed_first_attempts() == []


def test_outcome_counts_count_each_locality_once_by_its_latest_attempt() -> None:
    progress = CrawlProgress()
    run(progress, DANDENONG, errors=1)
    run(progress, RICHMOND, errors=1)
    nowhere = progress.begin(NOWHERE)
    nowhere.not_found = True
    progress.abandon(nowhere, reason_errors=0)
    assert progress.outcome_counts() == {"done": 0, "not_found": 1, "failed": 2}
    run(progress, DANDENONG, attempt=2)
    assert progress.outcome_counts() == {"done": 1, "not_found": 1, "failed": 1}
    run(progress, RICHMOND, attempt=2, errors=3)
    assert progress.outcome_counts() == {"done": 1, "not_found": 1, "failed": 1}
    assert len(progress.latest_status) == 3


def test_a_locality_whose_requests_were_lost_is_abandoned_as_failed() -> None:
    progress = CrawlProgress()
    crawl = progress.begin(DANDENONG)
    for _ in range(4):
        progress.sent(crawl)
    progress.answered(crawl)
    ended = progress.abandon(crawl)
    assert ended is crawl
    assert (crawl.pending, crawl.errors, crawl.status) == (0, 1, "failed")
    assert crawl.finished_at is not None
    assert progress.active == {}
    assert progress.failed_first_attempts() == [DANDENONG]
    other = progress.begin(RICHMOND)
    assert progress.abandon(other, reason_errors=3).errors == 3


def test_a_second_attempt_may_begin_once_the_first_ended() -> None:
    progress = CrawlProgress()
    run(progress, DANDENONG, errors=1)
    second = progress.begin(DANDENONG, attempt=2)
    assert second.attempt == 2
    assert second.errors == 0
    assert second.pending == 0


def test_a_search_tally_is_kept_per_kind() -> None:
    crawl = CrawlProgress().begin(DANDENONG)
    sale = crawl.tally("sale")
    assert crawl.tally("sale") is sale
    assert crawl.tally("rent") is not sale


def test_a_search_tally_says_what_its_bands_missed() -> None:
    tally = SearchTally()
    assert tally.missing == 0
    assert not tally.complete  # its first page is still to be read
    tally.reported_total = 2_400
    tally.open_bands = 2
    assert not tally.complete
    tally.open_bands = 0
    tally.covered = 1_000 + 1_350
    assert tally.complete
    assert tally.missing == 50
    tally.covered = 2_450  # the site grew between the requests: nothing is missing
    assert tally.missing == 0


def test_a_listing_is_new_once_per_attempt_and_once_per_run() -> None:
    progress = CrawlProgress()
    first = progress.begin(DANDENONG)
    progress.sent(first)
    assert first.see_listing("sale", 11) is Sighting.NEW
    assert first.see_listing("sale", 11) is Sighting.AGAIN  # a promoted repeat on a later page
    assert first.see_listing("rent", 11) is Sighting.NEW  # kinds are counted apart
    assert first.see_profile() is Sighting.NEW
    first.errors = 1
    progress.answered(first)
    assert progress.failed_first_attempts() == [DANDENONG]

    retry = progress.begin(DANDENONG, attempt=2)
    assert retry.previous is first
    assert progress.failed_first_attempts() == []  # its retry has begun
    progress.sent(retry)
    # Stored again (it may have changed since), but the run counted it already.
    assert retry.see_listing("sale", 11) is Sighting.RETRIED
    assert retry.see_listing("sale", 11) is Sighting.AGAIN
    assert retry.see_listing("sale", 12) is Sighting.NEW
    assert retry.see_profile() is Sighting.RETRIED
    assert (first.listings, retry.listings) == (2, 2)
    progress.answered(retry)
    assert retry.previous is None  # the failed attempt's ids are let go


def test_what_ended_is_not_kept_unless_it_will_be_retried() -> None:
    progress = CrawlProgress()
    done = run(progress, DANDENONG)
    failed = run(progress, RICHMOND, errors=1)
    assert progress.to_retry == {RICHMOND.slug: failed}
    assert done not in progress.to_retry.values()
    assert progress.begin(DANDENONG, attempt=2).previous is None
