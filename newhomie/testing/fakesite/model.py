"""The local site's data: agencies, listings, projects, a locality's listings, and the constants of
the site it copies (kinds, page size, the origin its pages name)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final, Literal

from newhomie.localities import Locality
from newhomie.testing.fakesite.vocabulary import PropertyType

Kind = Literal["sale", "rent", "sold"]
KINDS: Final[tuple[Kind, ...]] = ("sale", "rent", "sold")
#: The first path segment of each search.
SEARCH_SEGMENTS: Final[dict[Kind, str]] = {"sale": "sale", "rent": "rent", "sold": "sold-listings"}
PAGE_SIZE: Final = 20
MAX_PAGES: Final = 50
#: Absolute URLs inside the pages name the real site, so that a page's bytes do not depend on the port.
SITE_ORIGIN: Final = "https://www.domain.com.au"
COOKIE_NAME: Final = "_abck"
#: The site's "today": listings' dates (inspections, auctions, sales) are placed around it.
DEFAULT_TODAY: Final = date(2026, 3, 12)


@dataclass(frozen=True)
class Mix:
    """How many listings of each kind a locality gets: drawn from `counts`, and for the first locality,
    which always has a few pages of each kind, from `first`."""

    counts: dict[Kind, tuple[int, int]]
    first: dict[Kind, tuple[int, int]]


#: The site's default: sold is the biggest, as on the real site, whose sold search holds a year of
#: sales, several times the listings on the market at once (a home sells in weeks).
DEFAULT_MIX: Final = Mix(
    counts={"sale": (0, 120), "rent": (0, 80), "sold": (40, 480)},
    first={"sale": (61, 120), "rent": (30, 80), "sold": (200, 480)},
)
#: The test fixtures' mix: a sixth of the sold pages, for tests about something other than volume.
QUICK_MIX: Final = Mix(
    counts={"sale": (0, 120), "rent": (0, 80), "sold": (0, 80)},
    first={"sale": (61, 120), "rent": (30, 80), "sold": (30, 80)},
)

SEARCH_BUILD_ID: Final = "nhFake-search-7Qe2"
PROFILE_BUILD_ID: Final = "nhFake-profile-3Kd9"
IMAGE_HOST: Final = "https://rimh2.domainstatic.com.au"


@dataclass(frozen=True, slots=True)
class Agency:
    agency_id: int
    name: str
    color: str
    agents: tuple[str, ...]
    #: Per agent: the number in the photo URL, or None for an agent without a photo.
    photos: tuple[int | None, ...]
    logo_ext: str


@dataclass(slots=True)
class Listing:
    """One listing as the generator made it; `listing_entry()` renders it the way the site serves it."""

    listing_id: int
    kind: Kind
    slug: str
    suburb: str  # upper case, as served
    state: str
    postcode: str
    street: str  # "" = address withheld
    unit: str
    number: str
    street_name: str
    lat: float
    lng: float
    ptype: PropertyType
    beds: int | None  # None: the key is absent (land)
    baths: int
    parking: int | None
    parking_absent: bool
    is_rural: bool
    is_retirement: bool
    land_size: int | float
    land_unit: str
    open_time: str | None
    close_time: str | None
    auction: str | None
    tag_text: str | None
    tag_class: str | None
    agency: Agency
    agent_indexes: tuple[int, ...]
    promo_type: str
    price_text: str
    price_low: int | None
    price_high: int | None
    price_kind: str
    updated: datetime
    sold_on: date | None = None
    sold_method: str | None = None
    image_count: int = 1
    image_size: tuple[int, int] = (1920, 1280)
    has_video: bool = False
    appearance: str = "light"
    project_id: int | None = None
    #: What the site's price filter and sort use when the agent shows no price: like the real
    #: site, an agent gives a search price even for "Contact Agent", so price bands cover them.
    hidden_price: int | None = None

    @property
    def url(self) -> str:
        place = f"{self.street} {self.suburb} {self.state} {self.postcode}" if self.street else self.slug
        return f"/{path_slug(place)}-{self.listing_id}"

    @property
    def search_price(self) -> int | None:
        """The number the site's price filter and price sort use."""
        return self.price_low if self.price_low is not None else self.hidden_price

    @property
    def land_area_m2(self) -> float | None:
        if not self.land_size:
            return None
        if self.land_unit == "ha":
            return round(self.land_size * 10_000, 2)
        return float(self.land_size)


@dataclass(slots=True)
class Project:
    project_id: int
    slug: str
    name: str
    display_address: str
    child_listing_ids: tuple[int, ...]
    street: str
    suburb: str
    state: str
    postcode: str
    lat: float
    lng: float
    agency: Agency

    @property
    def url(self) -> str:
        return f"/project/{self.project_id}/{path_slug(self.name)}-{self.slug}"


@dataclass(slots=True)
class LocalityData:
    locality: Locality
    index: int
    lat: float
    lng: float
    region: str
    area: str
    listings: dict[Kind, list[Listing]]
    projects: list[Project]
    #: Each kind's listings in the site's default order ("Featured"): promotion, then newest.
    default_order: dict[Kind, list[Listing]] = field(default_factory=dict)


def path_slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "")).strip("-")


def money(value: int) -> str:
    return f"${value:,}"


def in_millions(value: int) -> str:
    """$1.2m for round millions; the full amount otherwise."""
    if value >= 1_000_000 and value % 10_000 == 0:
        return f"${value / 1_000_000:g}m"
    return money(value)


def round_to(value: float, step: int) -> int:
    return max(step, round(value / step) * step)


def local_iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")
