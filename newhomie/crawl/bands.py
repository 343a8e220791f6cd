"""Price bands: how a search too big for the site's 50 pages is split into searches that fit.

The site shows at most 1,000 results per search. A search that reports more is split into two
price bands (the site's `price=low-high` filter, inclusive at both ends, `any` for no upper
bound), and each band that still reports more is split again, until every band fits. The bands
of one split are disjoint and together cover the parent band, so their results, merged and
deduplicated by listing id, are the whole search (docs/site.md#limits).

`plan_band` is what happens after the first page of a search or of one of its bands: split it, or
read its other pages. It is pure: the search's tally in, the plan (with the tally after it) out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from newhomie.site.urls import MAX_PAGES, SHOWN_AT_MOST

#: Where the first split of an unbounded band falls: near the middle of each kind's market, so
#: that the two halves are of similar size (sale and sold in dollars, rent in dollars a week).
FIRST_PIVOT = {"sale": 800_000, "sold": 800_000, "rent": 600}
#: The most price bands one search is split into. 64 bands of 1,000 hold 64,000 listings, more than
#: any suburb has; a search still too big after that is a site whose counts do not shrink as its bands
#: narrow (a broken total, or listings without a price), and splitting it further would only cost pages.
MAX_BANDS = 64
#: Bands are cut at multiples of this many dollars while they are wide enough, so the URLs read
#: like a person's search ("price=500000-650000").
ROUNDING = {"sale": 5_000, "sold": 5_000, "rent": 10}


class BandTooNarrow(ValueError):
    """A one-price band that still holds more listings than the site shows: it cannot be split."""


@dataclass(frozen=True, slots=True)
class PriceBand:
    low: int
    high: int | None  # None: no upper bound

    def __post_init__(self) -> None:
        if self.low < 0 or (self.high is not None and self.high < self.low):
            raise ValueError(f"not a price band: {self.low}-{self.high}")

    @property
    def query(self) -> str:
        """The site's `price` parameter for this band."""
        return f"{self.low}-{'any' if self.high is None else self.high}"

    def __str__(self) -> str:
        return self.query

    @classmethod
    def parse(cls, text: str) -> PriceBand:
        low, _, high = text.partition("-")
        return cls(int(low), None if high == "any" else int(high))


def split(band: PriceBand, kind: str) -> tuple[PriceBand, PriceBand]:
    """Two disjoint bands covering `band`: [low, pivot] and [pivot + 1, high]."""
    step = ROUNDING.get(kind, 1)
    if band.high is None:
        # Unbounded: double the lower edge (prices spread roughly geometrically).
        pivot = max(FIRST_PIVOT.get(kind, 1_000), band.low * 2)
    else:
        if band.high == band.low:
            raise BandTooNarrow(f"band {band} holds a single price and cannot be split")
        pivot = (band.low + band.high) // 2
    # A round pivot where the band is wide enough for one to fall strictly inside it.
    rounded = pivot - pivot % step
    if band.low <= rounded and (band.high is None or rounded < band.high):
        pivot = rounded
    return PriceBand(band.low, pivot), PriceBand(pivot + 1, band.high)


@dataclass(frozen=True, slots=True)
class SearchTally:
    """One search (a locality and a kind), which may be split into price bands."""

    #: Price bands made by splitting so far (bounded by MAX_BANDS).
    bands_made: int = 0
    #: The total of the first band read of each split, by the band (or "all") it was cut from.
    first_halves: tuple[tuple[str, int], ...] = ()
    #: Two halves reported more than the band they were cut from: the site's counts cannot be trusted
    #: to narrow, so nothing more of this search is split.
    inconsistent: bool = False
    #: What the unsplit search reported; None until its first page was read.
    reported_total: int | None = None
    #: Bands whose first page is still to be read.
    open_bands: int = 0
    #: The sum of the totals of the bands that fit (leaves of the split).
    covered: int = 0
    split: bool = False

    @property
    def complete(self) -> bool:
        return self.open_bands == 0 and self.reported_total is not None

    @property
    def missing(self) -> int:
        """Listings the bands did not account for (they may have changed between requests)."""
        return max(0, (self.reported_total or 0) - self.covered)


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """What to do after the first page of a search (band None) or of one of its price bands."""

    tally: SearchTally
    #: The two bands this one is split into; empty when it is read as it is.
    bands: tuple[PriceBand, ...] = ()
    #: The other pages of this search or band to read (2, 3, ...), when it is not split.
    pages: range = range(0)
    #: Why a search that shows fewer listings than it reports cannot be split further.
    truncated: str | None = None
    #: The bands of a split search are all read and hold fewer listings than the search reported.
    incomplete: bool = False

    @property
    def split(self) -> bool:
        return bool(self.bands)


#: Two halves may hold a little more than the band they were cut from (listings come while a crawl reads).
DRIFT = 0.1
DRIFT_LISTINGS = 20


def plan_band(
    tally: SearchTally,
    kind: str,
    band: PriceBand | None,
    total: int,
    total_pages: int,
    cut_from: tuple[str, int] | None = None,
) -> SearchPlan:
    """After a search's (band None) or a band's first page, which reported `total` listings on
    `total_pages` pages: split it into two price bands if the site cannot show them all, else read
    its other pages. `cut_from` is (the band it was cut from, or "all", and that band's total)."""
    if band is None:
        tally = replace(tally, reported_total=total)
    else:
        tally = replace(tally, open_bands=tally.open_bands - 1)
    if cut_from is not None:
        tally = _halves_add_up(tally, cut_from, total)
    truncated = None
    if total > SHOWN_AT_MOST and tally.inconsistent:
        truncated = (
            "its price bands report more listings together than the search they were cut from: the "
            "site's counts do not narrow with the price, so no more bands are made"
        )
    elif total > SHOWN_AT_MOST and tally.bands_made + 2 > MAX_BANDS:
        truncated = (
            f"{tally.bands_made} price bands made and one still reports {total:,}: the site's counts "
            "do not shrink as the bands narrow, so no more are made"
        )
    elif total > SHOWN_AT_MOST:
        try:
            halves = split(band or PriceBand(0, None), kind)
        except BandTooNarrow as exc:
            truncated = str(exc)
        else:
            tally = replace(
                tally, split=True, open_bands=tally.open_bands + 2, bands_made=tally.bands_made + 2
            )
            return SearchPlan(tally, bands=halves)
    if band is not None or tally.split:
        tally = replace(tally, covered=tally.covered + min(total, SHOWN_AT_MOST))
    pages = range(2, min(total_pages, MAX_PAGES) + 1)
    incomplete = tally.split and tally.complete and tally.missing > 0
    return SearchPlan(tally, pages=pages, truncated=truncated, incomplete=incomplete)


def _halves_add_up(tally: SearchTally, cut_from: tuple[str, int], total: int) -> SearchTally:
    """Notes a half's total; the second half of a split tells whether the two add up to their band."""
    parent, parent_total = cut_from
    allowed = parent_total * (1 + DRIFT) + DRIFT_LISTINGS
    sibling = dict(tally.first_halves).get(parent)
    if sibling is None:
        tally = replace(tally, first_halves=(*tally.first_halves, (parent, total)))
        return replace(tally, inconsistent=True) if total > allowed else tally
    return replace(tally, inconsistent=True) if sibling + total > allowed else tally
