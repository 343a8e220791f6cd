"""Australian localities: parsing "Dandenong VIC 3175", slugs and time zones.

A locality is what the site calls a suburb: (name, state, postcode). Its slug is the path segment
the site uses (`dandenong-vic-3175`). Listing times on the site are local wall-clock times with no
zone, so every locality knows the zone its times are written in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from zoneinfo import ZoneInfo

STATES = ("ACT", "NSW", "NT", "QLD", "SA", "TAS", "VIC", "WA")

_STATE_ZONES = {
    "ACT": "Australia/Sydney",
    "NSW": "Australia/Sydney",
    "NT": "Australia/Darwin",
    "QLD": "Australia/Brisbane",
    "SA": "Australia/Adelaide",
    "TAS": "Australia/Hobart",
    "VIC": "Australia/Melbourne",
    "WA": "Australia/Perth",
}
# Broken Hill and its surrounds (NSW 2880) keep South Australian time.
_POSTCODE_ZONES = {"2880": "Australia/Broken_Hill"}

LOCALITY_FORM = '"<Suburb name> <STATE> <4-digit postcode>", for example "Dandenong VIC 3175"'

_LOCALITY_RE = re.compile(
    r"^\s*(?P<name>[A-Za-z][A-Za-z'’.\- ]*?)\s*,?\s+(?P<state>[A-Za-z]{2,3})\s*,?\s+(?P<postcode>\d{4})\s*$"
)
_SLUG_UNSAFE = re.compile(r"[^a-z0-9]+")
#: Bad entries of a list named one by one at most; the rest are counted.
ERRORS_SHOWN = 5


class LocalityError(ValueError):
    """A locality string that is not of the accepted form."""


@cache
def time_zone(state: str, postcode: str | None = None) -> ZoneInfo:
    """The zone in which the site writes local times for a locality."""
    if postcode and postcode in _POSTCODE_ZONES:
        return ZoneInfo(_POSTCODE_ZONES[postcode])
    try:
        return ZoneInfo(_STATE_ZONES[state.upper()])
    except KeyError:
        raise LocalityError(f"unknown state {state!r}; known states: {', '.join(STATES)}") from None


def slugify(name: str, state: str, postcode: str) -> str:
    """The site's slug: lower case, runs of anything but letters and digits become one '-'."""
    text = f"{name} {state} {postcode}".lower().replace("’", "").replace("'", "")
    return _SLUG_UNSAFE.sub("-", text).strip("-")


@dataclass(frozen=True, slots=True)
class Locality:
    name: str
    state: str
    postcode: str
    #: Where the locality is (its postcode area's centre), when known: the explorer's map, and how far
    #: apart two localities are. Not part of its identity (the slug is): equality and hashing ignore it.
    latitude: float | None = field(default=None, compare=False)
    longitude: float | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise LocalityError(f"unknown state {self.state!r} in {self}; known: {', '.join(STATES)}")
        if not (len(self.postcode) == 4 and self.postcode.isdigit()):
            raise LocalityError(f"postcode {self.postcode!r} of {self.name!r} is not 4 digits")
        if not self.name.strip():
            raise LocalityError("empty locality name")

    @property
    def slug(self) -> str:
        return slugify(self.name, self.state, self.postcode)

    @property
    def tz(self) -> ZoneInfo:
        return time_zone(self.state, self.postcode)

    def __str__(self) -> str:
        return f"{self.name} {self.state} {self.postcode}"

    @classmethod
    def parse(cls, text: str) -> Locality:
        """Read "Dandenong VIC 3175" (commas allowed, any case)."""
        match = _LOCALITY_RE.match(text)
        if not match:
            raise LocalityError(f"cannot read locality {text!r}: expected {LOCALITY_FORM}")
        name = " ".join(match["name"].split())
        return cls(name=name.title(), state=match["state"].upper(), postcode=match["postcode"])


def parse_locality_list(text: str) -> list[Locality]:
    """Read a ';'-separated list of localities; every bad entry is named in one error."""
    entries = [part.strip() for part in text.split(";")]
    localities: list[Locality] = []
    errors: list[str] = []
    for entry in entries:
        if not entry:
            continue
        try:
            localities.append(Locality.parse(entry))
        except LocalityError as exc:
            errors.append(str(exc))
    if errors:
        shown = "; ".join(errors[:ERRORS_SHOWN])
        more = (
            f"; and {len(errors) - ERRORS_SHOWN} more of the {len(entries)} given"
            if len(errors) > ERRORS_SHOWN
            else ""
        )
        raise LocalityError(shown + more)
    if not localities:
        raise LocalityError(f"no locality given: expected {LOCALITY_FORM}, separated by ';'")
    # Keep the order given, once each.
    return list(dict.fromkeys(localities))
