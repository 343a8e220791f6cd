"""The slice of a locality list one crawl takes: by state, postcodes, shard and limit.

A crawl of the whole country is cut into N shards by a hash of each locality's slug: a locality's
shard depends on its slug alone, so shards never overlap, together they cover the list, and a newer
list (localities added or removed) moves no other locality to another shard, which keeps the history
of "shard 3/90" comparable between runs.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from newhomie.localities.locality import STATES, Locality

#: An inclusive range of postcodes, as numbers: (3000, 3207).
PostcodeRange = tuple[int, int]

POSTCODES_FORM = (
    "4-digit postcodes or ranges separated by commas, e.g. '3000', '3000-3207' or '3000-3207,4000-4999'"
)
SHARD_FORM = "K/N with 1 <= K <= N, e.g. '3/90'"
STATE_FORM = f"one of {', '.join(STATES)} (any case)"
LIMIT_FORM = "a whole number of at least 1, e.g. '50'"

_POSTCODE_RANGE = re.compile(r"^(\d{4})(?:\s*-\s*(\d{4}))?$")
_SHARD = re.compile(r"^(\d+)\s*/\s*(\d+)$")


def parse_state(text: str) -> str:
    """ "vic" -> "VIC"."""
    state = text.strip().upper()
    if state not in STATES:
        raise ValueError(f"unknown state {text!r}: expected {STATE_FORM}")
    return state


def parse_postcodes(text: str) -> tuple[PostcodeRange, ...]:
    """ "3000" -> ((3000, 3000),); "3000-3207,4000-4999" -> ((3000, 3207), (4000, 4999)).

    A list of ranges, because the areas people crawl together (a capital's metro area) are often
    several blocks of postcodes.
    """
    ranges: list[PostcodeRange] = []
    for part in text.split(","):
        match = _POSTCODE_RANGE.match(part.strip())
        if not match:
            raise ValueError(f"bad postcodes {text!r} (at {part.strip()!r}): expected {POSTCODES_FORM}")
        low = int(match[1])
        high = int(match[2]) if match[2] else low
        if low > high:
            raise ValueError(
                f"bad postcodes {text!r}: {part.strip()!r} runs backwards; expected {POSTCODES_FORM}"
            )
        ranges.append((low, high))
    return tuple(ranges)


def parse_shard(text: str) -> tuple[int, int]:
    """ "3/90" -> (3, 90): the third of 90 shards."""
    match = _SHARD.match(text.strip())
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise ValueError(f"bad shard {text!r}: expected {SHARD_FORM}")
    return int(match[1]), int(match[2])


def parse_limit(text: str) -> int:
    """ "50" -> 50."""
    try:
        limit = int(text.strip())
    except ValueError:
        raise ValueError(f"bad limit {text!r}: expected {LIMIT_FORM}") from None
    if limit < 1:
        raise ValueError(f"bad limit {text!r}: expected {LIMIT_FORM}")
    return limit


@dataclass(frozen=True)
class Selection:
    """Which localities of the list to take; None takes all. Applied as state, postcodes, shard, limit."""

    state: str | None = None
    #: Inclusive ranges; a locality is taken when its postcode is in any of them.
    postcodes: tuple[PostcodeRange, ...] | None = None
    #: (k, n): the k-th of n shards, 1 <= k <= n.
    shard: tuple[int, int] | None = None
    #: The first `limit` localities (in the list's order) of what the other filters took.
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.state is not None and self.state not in STATES:
            raise ValueError(f"unknown state {self.state!r}: expected {STATE_FORM}")
        if self.postcodes is not None and (
            not self.postcodes or any(not 0 <= low <= high <= 9999 for low, high in self.postcodes)
        ):
            raise ValueError(f"bad postcodes {self.postcodes!r}: expected {POSTCODES_FORM}")
        if self.shard is not None and not 1 <= self.shard[0] <= self.shard[1]:
            raise ValueError(f"bad shard {self.shard!r}: expected {SHARD_FORM}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"bad limit {self.limit!r}: expected {LIMIT_FORM}")

    @classmethod
    def parse(
        cls,
        *,
        state: str | None = None,
        postcodes: str | None = None,
        shard: str | None = None,
        limit: str | None = None,
    ) -> Selection:
        """A selection from command-line text; ValueError names the bad text and the accepted form."""
        return cls(
            state=parse_state(state) if state is not None else None,
            postcodes=parse_postcodes(postcodes) if postcodes is not None else None,
            shard=parse_shard(shard) if shard is not None else None,
            limit=parse_limit(limit) if limit is not None else None,
        )


def shard_of(locality: Locality, n: int) -> int:
    """The locality's shard (1..n) of n: CRC-32 of its slug, the same in every process and version
    (Python's hash() of a str changes with each process)."""
    if n < 1:
        raise ValueError(f"cannot cut the list into {n} shards: expected at least 1")
    return zlib.crc32(locality.slug.encode("utf-8")) % n + 1


def select(localities: Iterable[Locality], selection: Selection) -> list[Locality]:
    """The localities the selection takes, in the order given."""
    chosen = list(localities)
    if selection.state is not None:
        chosen = [loc for loc in chosen if loc.state == selection.state]
    if selection.postcodes is not None:
        ranges = selection.postcodes
        chosen = [loc for loc in chosen if any(low <= int(loc.postcode) <= high for low, high in ranges)]
    if selection.shard is not None:
        k, n = selection.shard
        chosen = [loc for loc in chosen if shard_of(loc, n) == k]
    if selection.limit is not None:
        chosen = chosen[: selection.limit]
    return chosen
