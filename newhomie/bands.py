"""Price bands: how a search too big for the site's 50 pages is split into searches that fit.

The site shows at most 1,000 results per search. A search that reports more is split into two
price bands (the site's `price=low-high` filter, inclusive at both ends, `any` for no upper
bound), and each band that still reports more is split again, until every band fits. The bands
of one split are disjoint and together cover the parent band, so their results, merged and
deduplicated by listing id, are the whole search.
"""

from __future__ import annotations

from dataclasses import dataclass

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
