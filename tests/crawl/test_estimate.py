"""The estimate of a crawl's cost (`plan --estimate`): pages per locality from its last crawl, hours at a
pace, nodes for a deadline; and the command over a real database."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from newhomie.crawl.estimate import ASSUMED_PAGES, LocalityPages, Pace, estimate, profile_share, settings_pace
from tests.paths import REPO

PACE = Pace(0.5, "test")


def test_a_locality_costs_its_last_crawls_pages_read_and_saved() -> None:
    full_crawl = LocalityPages("done", 16, {"profile": 1, "sale": 3, "rent": 2, "sold": 10}, {})
    incremental = LocalityPages("done", 6, {"sale": 3, "rent": 2, "sold": 1}, {"sold": 9, "profile": 1})
    for last in (full_crawl, incremental):
        assert last.full == 16
        # Sale and rent whole, two sold pages, the profile on one crawl in two.
        assert last.incremental(0.5) == 3 + 2 + 2 + 0.5


def test_a_crawl_recorded_before_pages_were_counted_by_kind_counts_all_its_pages() -> None:
    old = LocalityPages("done", 12, {}, {})
    assert (old.full, old.incremental(1.0)) == (12, 12)


@pytest.mark.parametrize(
    ("max_age", "every", "share"), [(7, 7, 1.0), (7, 3.5, 0.5), (7, 2, 0.25), (0, 1, 1.0), (7, 10, 1.0)]
)
def test_profiles_are_read_on_one_crawl_in_as_many_as_fit_their_max_age(
    max_age: float, every: float, share: float
) -> None:
    assert profile_share(max_age, every) == share


def test_never_crawled_localities_cost_the_median_and_unknown_ones_nothing() -> None:
    history = {
        "a": LocalityPages("done", 10, {"sale": 2, "sold": 8}, {}),
        "b": LocalityPages("done", 20, {"sale": 4, "sold": 16}, {}),
        "c": LocalityPages("done", 30, {"sale": 6, "sold": 24}, {}),
        "gone": LocalityPages("not_found", 1, {"sale": 1}, {}),
    }
    result = estimate(["a", "b", "c", "gone", "new1", "new2"], history, PACE, 7, 7)
    assert (result.localities, result.crawled, result.never_crawled, result.not_found) == (6, 3, 2, 1)
    assert result.pages_per_new_locality == 20
    assert result.full_pages == 60 + 2 * 20
    # Next incremental crawl: the two new ones whole; afterwards, the median incremental cost each.
    assert result.incremental_pages == (4 + 6 + 8) + 2 * 20
    assert result.steady_pages == (4 + 6 + 8) + 2 * 6
    assert result.hours(3600) == pytest.approx(2.0)
    assert result.nodes_for(3600, 1.5) == 2
    assert result.nodes_for(100, 24) == 1


def test_with_nothing_crawled_a_locality_is_assumed_to_cost_a_few_pages() -> None:
    result = estimate(["x", "y"], {}, PACE, 7, 3.5)
    assert result.full_pages == 2 * sum(ASSUMED_PAGES.values())
    assert result.steady_pages < result.full_pages


def test_the_settings_pace_is_one_page_per_delay_or_slower_under_autothrottle() -> None:
    assert settings_pace(2.0, 1.0, True, 1.0).pages_per_second == pytest.approx(0.5)
    assert settings_pace(2.0, 5.0, True, 1.0).pages_per_second == pytest.approx(0.2)
    assert settings_pace(2.0, 5.0, False, 1.0).pages_per_second == pytest.approx(0.5)


def test_the_command_estimates_from_the_database_it_is_given(database_url: str) -> None:
    env = {**os.environ, "NEWHOMIE_DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "newhomie", "plan", "--estimate", "--state", "ACT", "--deadline-hours", "1",
         "-s", "DOWNLOAD_DELAY=4"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "153 selected: 0 crawled before, 153 never (10 pages each, assumed)" in done.stdout
    assert "one page per 4 s" in done.stdout
    # 1,530 pages at 0.25 pages a second: 1.7 hours, so 2 nodes for a 1-hour deadline.
    assert "full (-a full=1)               1,530             1.7                 2" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "newhomie", "plan", "--estimate", "--shard", "9/3"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "bad shard '9/3'" in bad.stderr
