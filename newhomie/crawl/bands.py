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


def plan_band(
    tally: SearchTally, kind: str, band: PriceBand | None, total: int, total_pages: int
) -> SearchPlan:
    """After a search's (band None) or a band's first page, which reported `total` listings on
    `total_pages` pages: split it into two price bands if the site cannot show them all, else read
    its other pages."""
    if band is None:
        tally = replace(tally, reported_total=total)
    else:
        tally = replace(tally, open_bands=tally.open_bands - 1)
    truncated = None
    if total > SHOWN_AT_MOST:
        try:
            halves = split(band or PriceBand(0, None), kind)
        except BandTooNarrow as exc:
            truncated = str(exc)
        else:
            tally = replace(tally, split=True, open_bands=tally.open_bands + 2)
            return SearchPlan(tally, bands=halves)
    if band is not None or tally.split:
        tally = replace(tally, covered=tally.covered + min(total, SHOWN_AT_MOST))
    pages = range(2, min(total_pages, MAX_PAGES) + 1)
    incomplete = tally.split and tally.complete and tally.missing > 0
    return SearchPlan(tally, pages=pages, truncated=truncated, incomplete=incomplete)
