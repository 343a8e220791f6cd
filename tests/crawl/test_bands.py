"""Price bands: a search too big for the site is split into bands that together are exactly the search."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newhomie.crawl.bands import (
    FIRST_PIVOT,
    MAX_BANDS,
    ROUNDING,
    BandTooNarrow,
    PriceBand,
    SearchTally,
    plan_band,
    split,
)

KINDS = ("sale", "rent", "sold")
TOP = 10**8

BANDS = [
    PriceBand(0, None),
    PriceBand(1, None),
    PriceBand(600, None),
    PriceBand(800_001, None),
    PriceBand(3_200_001, None),
    PriceBand(0, 800_000),
    PriceBand(0, 600),
    PriceBand(500_000, 650_000),
    PriceBand(500_001, 500_009),
    PriceBand(123_457, 987_653),
    PriceBand(451, 599),
    PriceBand(7, 8),
    PriceBand(0, 1),
    PriceBand(99_999_999, 100_000_000),
]


def contains(band: PriceBand, price: int) -> bool:
    return band.low <= price and (band.high is None or price <= band.high)


# --- The band and its query -----------------------------------------------------------------------


@pytest.mark.parametrize("band", [*BANDS, PriceBand(5, 5)], ids=str)
def test_query_and_parse_round_trip(band: PriceBand) -> None:
    assert PriceBand.parse(band.query) == band
    assert str(band) == band.query


def test_the_query_is_the_sites_price_parameter() -> None:
    assert PriceBand(0, None).query == "0-any"
    assert PriceBand(500_000, 650_000).query == "500000-650000"
    assert PriceBand.parse("800001-any") == PriceBand(800_001, None)


@pytest.mark.parametrize(("low", "high"), [(-1, None), (-5, 10), (10, 9)])
def test_a_band_that_is_no_band_is_refused(low: int, high: int | None) -> None:
    with pytest.raises(ValueError, match="not a price band"):
        PriceBand(low, high)


@pytest.mark.parametrize("text", ["", "abc", "10", "any-10", "5-x"])
def test_unreadable_band_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="invalid literal"):
        PriceBand.parse(text)


# --- Splitting ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("band", BANDS, ids=str)
def test_a_split_covers_its_band_exactly(band: PriceBand, kind: str) -> None:
    lower, upper = split(band, kind)
    # Adjacent and disjoint: the lower half ends right before the upper one starts.
    assert lower.low == band.low
    assert lower.high is not None
    assert upper.low == lower.high + 1
    assert upper.high == band.high
    # Neither half is empty, and each is narrower than the band (so splitting ends).
    assert lower.low <= lower.high
    assert upper.high is None or upper.low <= upper.high
    assert lower != band
    assert upper != band


def test_an_unbounded_search_is_first_cut_near_the_middle_of_its_market() -> None:
    assert split(PriceBand(0, None), "sale") == (PriceBand(0, 800_000), PriceBand(800_001, None))
    assert split(PriceBand(0, None), "sold") == (PriceBand(0, 800_000), PriceBand(800_001, None))
    assert split(PriceBand(0, None), "rent") == (PriceBand(0, 600), PriceBand(601, None))
    assert FIRST_PIVOT["sale"] == 800_000


def test_an_unbounded_upper_band_doubles_its_lower_edge_rounded_down() -> None:
    # 2 × 800,001 = 1,600,002, rounded to the $5,000 below.
    assert split(PriceBand(800_001, None), "sale") == (
        PriceBand(800_001, 1_600_000),
        PriceBand(1_600_001, None),
    )
    assert split(PriceBand(601, None), "rent") == (PriceBand(601, 1200), PriceBand(1201, None))


@pytest.mark.parametrize(
    ("band", "kind", "pivot"),
    [
        (PriceBand(500_000, 1_000_000), "sale", 750_000),
        (PriceBand(500_000, 512_345), "sale", 505_000),  # the middle, 506,172, rounded down
        (PriceBand(0, 800_000), "sold", 400_000),
        (PriceBand(451, 599), "rent", 520),  # the middle, 525, rounded to $10
    ],
    ids=str,
)
def test_pivots_are_round_where_the_band_is_wide_enough(band: PriceBand, kind: str, pivot: int) -> None:
    lower, upper = split(band, kind)
    assert lower.high == pivot
    assert pivot % ROUNDING[kind] == 0
    assert upper.low == pivot + 1


def test_a_band_too_narrow_for_a_round_pivot_is_cut_in_the_middle() -> None:
    # No multiple of 5,000 lies inside 500,001-500,009: the exact middle is used.
    assert split(PriceBand(500_001, 500_009), "sale") == (
        PriceBand(500_001, 500_005),
        PriceBand(500_006, 500_009),
    )
    assert split(PriceBand(7, 8), "sale") == (PriceBand(7, 7), PriceBand(8, 8))


def test_an_unknown_kind_splits_by_the_dollar() -> None:
    assert split(PriceBand(0, None), "other") == (PriceBand(0, 1_000), PriceBand(1_001, None))
    assert split(PriceBand(0, 9), "other") == (PriceBand(0, 4), PriceBand(5, 9))


@pytest.mark.parametrize("kind", KINDS)
def test_a_one_price_band_cannot_be_split(kind: str) -> None:
    with pytest.raises(BandTooNarrow, match="single price"):
        split(PriceBand(650_000, 650_000), kind)
    assert issubclass(BandTooNarrow, ValueError)


# --- Properties -----------------------------------------------------------------------------------


@st.composite
def split_trees(draw: st.DrawFn) -> tuple[str, list[PriceBand]]:
    """The leaves of (0, any) split again and again, as the spider splits bands still too big."""
    kind = draw(st.sampled_from(KINDS))
    leaves = [PriceBand(0, None)]
    for _ in range(draw(st.integers(0, 60))):
        splittable = [i for i, band in enumerate(leaves) if band.high is None or band.high > band.low]
        if not splittable:
            break
        index = draw(st.sampled_from(splittable))
        leaves[index : index + 1] = split(leaves[index], kind)
    return kind, leaves


@settings(max_examples=300, deadline=None)
@given(split_trees(), st.lists(st.integers(0, TOP), min_size=1, max_size=50))
def test_repeated_splits_partition_every_price(tree: tuple[str, list[PriceBand]], prices: list[int]) -> None:
    _, leaves = tree
    # The leaves, in order, tile [0, infinity): each starts right after the one before, the last is
    # unbounded. So every price in [0, 10^8] lies in exactly one of them.
    ordered = sorted(leaves, key=lambda band: band.low)
    assert ordered[0].low == 0
    for before, after in itertools.pairwise(ordered):
        assert before.high is not None
        assert after.low == before.high + 1
    assert ordered[-1].high is None
    for price in [*prices, 0, TOP]:
        assert sum(contains(band, price) for band in leaves) == 1, price


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(KINDS), st.integers(0, TOP), st.integers(1, TOP))
def test_splitting_a_bounded_band_always_narrows_it(kind: str, low: int, width: int) -> None:
    band = PriceBand(low, low + width)
    lower, upper = split(band, kind)
    assert lower.high is not None
    assert upper.high is not None
    assert lower.high - lower.low < width
    assert upper.high - upper.low < width


# --- What to do after a search's first page (plan_band) -------------------------------------------


def test_a_search_that_fits_reads_its_other_pages() -> None:
    plan = plan_band(SearchTally(), "sale", None, total=95, total_pages=5)
    assert not plan.split
    assert list(plan.pages) == [2, 3, 4, 5]
    assert plan.tally == SearchTally(reported_total=95)
    assert (plan.truncated, plan.incomplete) == (None, False)


def test_a_search_of_one_page_reads_nothing_more() -> None:
    assert list(plan_band(SearchTally(), "rent", None, total=7, total_pages=1).pages) == []
    assert list(plan_band(SearchTally(), "rent", None, total=0, total_pages=0).pages) == []


def test_a_search_too_big_is_split_and_its_bands_add_up() -> None:
    plan = plan_band(SearchTally(), "sale", None, total=2_400, total_pages=120)
    assert plan.bands == (PriceBand(0, 800_000), PriceBand(800_001, None))
    assert list(plan.pages) == []
    assert plan.tally == SearchTally(reported_total=2_400, open_bands=2, split=True, bands_made=2)
    low = plan_band(plan.tally, "sale", plan.bands[0], total=1_000, total_pages=50)
    assert list(low.pages) == list(range(2, 51))
    assert not low.incomplete  # one band is still to be read
    high = plan_band(low.tally, "sale", plan.bands[1], total=1_400, total_pages=70)
    assert (high.tally.open_bands, high.tally.covered, high.tally.bands_made) == (2, 1_000, 4)
    assert high.bands == (PriceBand(800_001, 1_600_000), PriceBand(1_600_001, None))
    top = plan_band(high.tally, "sale", high.bands[0], total=1_000, total_pages=50)
    last = plan_band(top.tally, "sale", high.bands[1], total=350, total_pages=18)
    assert last.tally.complete
    assert last.tally.covered == 2_350
    assert last.incomplete  # 50 listings that no band held


def test_a_split_whose_bands_hold_everything_is_complete() -> None:
    split_plan = plan_band(SearchTally(), "rent", None, total=1_500, total_pages=75)
    low = plan_band(split_plan.tally, "rent", split_plan.bands[0], total=700, total_pages=35)
    high = plan_band(low.tally, "rent", split_plan.bands[1], total=810, total_pages=41)
    assert high.tally.complete
    assert high.tally.missing == 0  # the site grew between the requests: nothing is missing
    assert not high.incomplete


def test_a_band_of_one_price_that_still_holds_too_many_is_read_as_far_as_the_site_shows() -> None:
    plan = plan_band(
        SearchTally(split=True, open_bands=1), "sale", PriceBand(5, 5), total=1_200, total_pages=60
    )
    assert not plan.split
    assert plan.truncated is not None
    assert "single price" in plan.truncated
    assert list(plan.pages) == list(range(2, 51))


def test_a_search_tally_says_what_its_bands_missed() -> None:
    assert SearchTally().missing == 0
    assert not SearchTally().complete  # its first page is still to be read
    assert not SearchTally(reported_total=2_400, open_bands=2).complete
    done = SearchTally(reported_total=2_400, open_bands=0, covered=2_350)
    assert done.complete
    assert done.missing == 50
    assert SearchTally(reported_total=2_400, covered=2_450).missing == 0


def test_halves_that_add_up_to_more_than_their_band_stop_the_splitting() -> None:
    """A site whose counts do not narrow with the price (a broken total): one split shows it."""
    broken = 10**15
    plan = plan_band(SearchTally(), "sale", None, total=broken, total_pages=50)
    low, high = plan.bands
    first = plan_band(plan.tally, "sale", low, total=broken, total_pages=50, cut_from=("all", broken))
    assert first.split  # alone, a half as big as its band may be right (every price above the pivot)
    second = plan_band(first.tally, "sale", high, total=broken, total_pages=50, cut_from=("all", broken))
    assert not second.split
    assert second.tally.inconsistent
    assert second.truncated is not None
    assert "do not narrow with the price" in second.truncated
    assert list(second.pages) == list(range(2, 51))  # what the site shows is still read


def test_halves_that_add_up_within_the_drift_go_on_splitting() -> None:
    plan = plan_band(SearchTally(), "sale", None, total=5_000, total_pages=50)
    low, high = plan.bands
    first = plan_band(plan.tally, "sale", low, total=2_400, total_pages=50, cut_from=("all", 5_000))
    second = plan_band(first.tally, "sale", high, total=2_650, total_pages=50, cut_from=("all", 5_000))
    assert second.split  # 5,050 of 5,000: listings came meanwhile
    assert not second.tally.inconsistent


def test_the_bands_of_one_search_are_bounded() -> None:
    tally = SearchTally(bands_made=MAX_BANDS)
    plan = plan_band(tally, "sold", PriceBand(0, 800_000), total=1_500, total_pages=50)
    assert not plan.split
    assert plan.truncated is not None
    assert f"{MAX_BANDS} price bands made" in plan.truncated
