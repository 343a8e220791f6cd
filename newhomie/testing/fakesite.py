"""The project's local copy of domain.com.au, for tests, demos and benchmarks.

`FakeSite` generates localities with sale, rent and sold listings from a seed (same seed, same
pages, byte for byte) and renders them as the real site does: server-rendered Next.js pages whose
`__NEXT_DATA__` JSON has the same key paths and value types as the real captures in
`tests/fixtures/`. It knows what it served (`site.served`) and what a perfect crawl would store
(`site.ground_truth(slug, kind)`).

`serve(site)` runs it on a `ThreadingHTTPServer` in a background thread; `python -m
newhomie.testing.fakesite --port 8000` runs it as a process.

Behaviour copied from the real site:
- search pages at `/sale/<slug>/`, `/rent/<slug>/`, `/sold-listings/<slug>/` with `page`, `price`,
  `sort`, `ptype`, `bedrooms`, `bathrooms`, `excludeunderoffer`, `excludepricewithheld`; 20 organic
  results a page, never more than 50 pages (`totalListings` stays the true count);
- promoted (`topspotFeaturedPropertyIds`) entries repeated across pages, `project` entries, recent
  sales (`UPVSoldListings`) on sale pages;
- `/suburb-profile/<slug>` with its Apollo cache;
- a Next.js 404 page (status 404, `page` = "/404") for unknown localities and paths;
- an Akamai-like gate: without a `_abck` cookie this site issued, a small 403 page whose script sets
  the cookie and reloads, so only something that runs JavaScript (a real browser) gets through.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import html
import json
import math
import random
import re
import secrets
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from statistics import median
from types import FrameType
from typing import Any, Final, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from newhomie.localities import STATES, Locality

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
DEFAULT_COUNTS: Final[dict[Kind, tuple[int, int]]] = {"sale": (0, 120), "rent": (0, 80), "sold": (0, 80)}

_SEARCH_BUILD_ID: Final = "nhFake-search-7Qe2"
_PROFILE_BUILD_ID: Final = "nhFake-profile-3Kd9"
_IMAGE_HOST: Final = "https://rimh2.domainstatic.com.au"

# ---------------------------------------------------------------------------------------------
# Localities

# (name, state, postcode, lat, lng). Ordered so that the first few cover the interesting cases:
# Broken Hill keeps Adelaide time, Noble Park North shares its postcode with Noble Park, and
# Richmond and Kingston exist in two states each.
REAL_LOCALITIES: Final[tuple[tuple[str, str, str, float, float], ...]] = (
    ("Dandenong", "VIC", "3175", -37.9870, 145.2150),
    ("Broken Hill", "NSW", "2880", -31.9560, 141.4660),
    ("Noble Park North", "VIC", "3174", -37.9550, 145.1900),
    ("Parramatta", "NSW", "2150", -33.8150, 151.0010),
    ("Fortitude Valley", "QLD", "4006", -27.4570, 153.0350),
    ("Braddon", "ACT", "2612", -35.2710, 149.1350),
    ("Adelaide", "SA", "5000", -34.9280, 138.6000),
    ("Perth", "WA", "6000", -31.9530, 115.8570),
    ("Hobart", "TAS", "7000", -42.8820, 147.3270),
    ("Darwin City", "NT", "0800", -12.4630, 130.8420),
    ("Richmond", "VIC", "3121", -37.8230, 144.9980),
    ("Surry Hills", "NSW", "2010", -33.8860, 151.2110),
    ("Richmond", "NSW", "2753", -33.5990, 150.7510),
    ("Kingston", "ACT", "2604", -35.3160, 149.1450),
    ("Kingston", "TAS", "7050", -42.9760, 147.3080),
    ("Noble Park", "VIC", "3174", -37.9680, 145.1760),
    ("Keysborough", "VIC", "3173", -38.0000, 145.1600),
    ("Doveton", "VIC", "3177", -37.9930, 145.2400),
    ("Footscray", "VIC", "3011", -37.8000, 144.9000),
    ("Brunswick", "VIC", "3056", -37.7670, 144.9600),
    ("Geelong", "VIC", "3220", -38.1470, 144.3610),
    ("Ballarat Central", "VIC", "3350", -37.5610, 143.8570),
    ("Bendigo", "VIC", "3550", -36.7580, 144.2800),
    ("Frankston", "VIC", "3199", -38.1440, 145.1260),
    ("Werribee", "VIC", "3030", -37.9000, 144.6600),
    ("Point Cook", "VIC", "3030", -37.9100, 144.7500),
    ("St Kilda", "VIC", "3182", -37.8670, 144.9810),
    ("Box Hill", "VIC", "3128", -37.8190, 145.1220),
    ("Craigieburn", "VIC", "3064", -37.6000, 144.9430),
    ("Mildura", "VIC", "3500", -34.1850, 142.1620),
    ("Bondi Beach", "NSW", "2026", -33.8910, 151.2770),
    ("Newtown", "NSW", "2042", -33.8980, 151.1790),
    ("Chatswood", "NSW", "2067", -33.7970, 151.1810),
    ("Blacktown", "NSW", "2148", -33.7710, 150.9060),
    ("Liverpool", "NSW", "2170", -33.9200, 150.9240),
    ("Penrith", "NSW", "2750", -33.7510, 150.6940),
    ("Newcastle", "NSW", "2300", -32.9270, 151.7760),
    ("Wollongong", "NSW", "2500", -34.4240, 150.8930),
    ("Dubbo", "NSW", "2830", -32.2430, 148.6040),
    ("Wagga Wagga", "NSW", "2650", -35.1080, 147.3700),
    ("Manly", "NSW", "2095", -33.7970, 151.2850),
    ("Albury", "NSW", "2640", -36.0810, 146.9160),
    ("Castle Hill", "NSW", "2154", -33.7310, 151.0040),
    ("Coffs Harbour", "NSW", "2450", -30.2960, 153.1140),
    ("Belconnen", "ACT", "2617", -35.2380, 149.0660),
    ("Gungahlin", "ACT", "2912", -35.1860, 149.1330),
    ("Tuggeranong", "ACT", "2900", -35.4150, 149.0670),
    ("Dickson", "ACT", "2602", -35.2500, 149.1400),
    ("Brisbane City", "QLD", "4000", -27.4680, 153.0280),
    ("Southport", "QLD", "4215", -27.9670, 153.4000),
    ("Surfers Paradise", "QLD", "4217", -28.0020, 153.4300),
    ("Toowoomba City", "QLD", "4350", -27.5630, 151.9540),
    ("Cairns City", "QLD", "4870", -16.9200, 145.7710),
    ("Townsville City", "QLD", "4810", -19.2590, 146.8170),
    ("Mackay", "QLD", "4740", -21.1440, 149.1860),
    ("Ipswich", "QLD", "4305", -27.6140, 152.7590),
    ("Maroochydore", "QLD", "4558", -26.6600, 153.0990),
    ("Logan Central", "QLD", "4114", -27.6400, 153.1090),
    ("Glenelg", "SA", "5045", -34.9800, 138.5150),
    ("Norwood", "SA", "5067", -34.9210, 138.6300),
    ("Mount Gambier", "SA", "5290", -37.8290, 140.7830),
    ("Port Adelaide", "SA", "5015", -34.8460, 138.5030),
    ("Elizabeth", "SA", "5112", -34.7200, 138.6700),
    ("Whyalla", "SA", "5600", -33.0330, 137.5750),
    ("Fremantle", "WA", "6160", -32.0560, 115.7470),
    ("Joondalup", "WA", "6027", -31.7450, 115.7660),
    ("Rockingham", "WA", "6168", -32.2770, 115.7300),
    ("Bunbury", "WA", "6230", -33.3270, 115.6410),
    ("Geraldton", "WA", "6530", -28.7780, 114.6140),
    ("Scarborough", "WA", "6019", -31.8940, 115.7570),
    ("Kalgoorlie", "WA", "6430", -30.7490, 121.4660),
    ("Launceston", "TAS", "7250", -41.4330, 147.1440),
    ("Sandy Bay", "TAS", "7005", -42.9040, 147.3250),
    ("Devonport", "TAS", "7310", -41.1800, 146.3500),
    ("Glenorchy", "TAS", "7010", -42.8330, 147.2760),
    ("Palmerston City", "NT", "0830", -12.4800, 130.9840),
    ("Alice Springs", "NT", "0870", -23.6980, 133.8810),
    ("Katherine", "NT", "0850", -14.4650, 132.2640),
    ("Nightcliff", "NT", "0810", -12.3830, 130.8500),
    ("Stuart Park", "NT", "0820", -12.4460, 130.8430),
)

_CAPITALS: Final[dict[str, tuple[str, float, float]]] = {
    "ACT": ("ACT Region", -35.2810, 149.1300),
    "NSW": ("Sydney Region", -33.8690, 151.2090),
    "NT": ("Darwin Region", -12.4630, 130.8420),
    "QLD": ("Brisbane Region", -27.4700, 153.0250),
    "SA": ("Adelaide Region", -34.9290, 138.6010),
    "TAS": ("Hobart Region", -42.8820, 147.3270),
    "VIC": ("Melbourne Region", -37.8140, 144.9630),
    "WA": ("Perth Region", -31.9520, 115.8610),
}
_MADE_UP_POSTCODES: Final[dict[str, int]] = {
    "ACT": 2990,
    "NSW": 2890,
    "NT": 890,
    "QLD": 4890,
    "SA": 5990,
    "TAS": 7990,
    "VIC": 3990,
    "WA": 6990,
}
_MADE_UP_STEMS: Final = ("vale", "brook", "wood", "field", "hill", "ford", "mere", "dale", "leigh", "bury")
_MADE_UP_SUFFIXES: Final = ("", " North", " South", " East", " West", " Heights", " Park", " Downs", " Creek")


def made_up_locality_name(index: int) -> str:
    """The `index`-th generated name ("Testvale", "Testbrook North", ...); letters only, so that
    `Locality.parse` reads it back (it does not accept digits in a name)."""
    stems, suffixes = len(_MADE_UP_STEMS), len(_MADE_UP_SUFFIXES)
    name = "Test" + _MADE_UP_STEMS[index % stems] + _MADE_UP_SUFFIXES[(index // stems) % suffixes]
    tier = index // (stems * suffixes)
    if tier:
        letters = ""
        while tier:
            tier, rest = divmod(tier - 1, 26)
            letters = chr(ord("a") + rest) + letters
        name += " " + letters.title()
    return name


# ---------------------------------------------------------------------------------------------
# Vocabulary


@dataclass(frozen=True, slots=True)
class PropertyType:
    code: str
    formatted: str
    #: The `ptype=` filter value of the site.
    ptype: str
    #: The suburb profile's category: House, Unit, Land or Rural.
    category: str
    weights: tuple[int, int, int]  # sale, rent, sold
    price_factor: float
    beds: tuple[int, int] | None


PROPERTY_TYPES: Final[tuple[PropertyType, ...]] = (
    PropertyType("House", "House", "house", "House", (40, 34, 45), 1.0, (2, 5)),
    PropertyType("Townhouse", "Townhouse", "town-house", "Unit", (12, 12, 12), 0.82, (2, 4)),
    PropertyType(
        "ApartmentUnitFlat",
        "Apartment / Unit / Flat",
        "apartment-unit-flat",
        "Unit",
        (22, 36, 22),
        0.55,
        (1, 3),
    ),
    PropertyType("Villa", "Villa", "villa", "Unit", (3, 2, 3), 0.7, (2, 3)),
    PropertyType("Studio", "Studio", "studio", "Unit", (1, 3, 1), 0.32, (0, 0)),
    PropertyType("BlockOfUnits", "Block of Units", "block-of-units", "Unit", (1, 0, 1), 2.2, (4, 8)),
    PropertyType("SemiDetached", "Semi-Detached", "semi-detached", "House", (2, 2, 2), 0.9, (2, 4)),
    PropertyType("Duplex", "Duplex", "duplex", "House", (2, 1, 2), 0.95, (3, 4)),
    PropertyType("Terrace", "Terrace", "terrace", "House", (1, 1, 1), 1.05, (2, 4)),
    PropertyType("Penthouse", "Penthouse", "penthouse", "Unit", (1, 1, 0), 2.0, (2, 4)),
    PropertyType(
        "NewApartments", "New Apartments / Off the Plan", "new-apartments", "Unit", (2, 0, 0), 0.6, (1, 3)
    ),
    PropertyType("NewHouseLand", "New House & Land", "new-house-land", "House", (3, 0, 0), 0.9, (3, 4)),
    PropertyType("VacantLand", "Vacant land", "vacant-land", "Land", (5, 0, 3), 0.45, None),
    PropertyType(
        "AcreageSemiRural", "Acreage / Semi-Rural", "acreage-semi-rural", "Rural", (1, 1, 1), 1.4, (3, 5)
    ),
    PropertyType("Rural", "Rural", "rural", "Rural", (1, 0, 1), 1.3, (2, 5)),
)
_PTYPE_BY_CODE: Final = {p.code: p for p in PROPERTY_TYPES}

_STREET_NAMES: Final = (
    "Power", "Potter", "Cheltenham", "Keneally", "Gooding", "Rodwell", "Bassett", "David", "King George",
    "Hammond", "Orgill", "Wilma", "Clow", "Purdy", "Grandview", "Desa", "Glenys", "High", "Station",
    "Church", "Victoria", "Albert", "George", "Queen", "William", "Elizabeth", "Park", "Railway",
    "Bridge", "Hill", "Main", "Wattle", "Banksia", "Acacia", "Grevillea", "Ironbark", "Kurrajong",
    "Waratah", "Boronia", "Myrtle", "Melaleuca", "Ocean", "Beach", "Harbour", "River", "Lake", "Valley",
    "Ridge", "Forest", "Orchard", "Mill", "Quarry", "School", "Lonsdale", "Foster", "Walker", "Scott",
    "Mason", "Langhorne", "Olive", "Benga", "Leonard", "Kyla", "Ann", "Ross", "Edward", "Bryants",
)  # fmt: skip
_STREET_TYPES: Final = (
    "Street", "Street", "Street", "Road", "Road", "Avenue", "Avenue", "Court", "Crescent", "Parade",
    "Drive", "Place", "Grove", "Close", "Lane", "Way", "Terrace", "Boulevard", "Circuit", "Highway",
)  # fmt: skip
_FIRST_NAMES: Final = (
    "Ben", "Raza", "Burak", "Ming", "Jason", "Chee-Ky", "Chang", "Tim", "Daniel", "Haroon", "Sarah", "Olivia",
    "Priya", "Liam", "Noah", "Mia", "Chloe", "Lachlan", "Aisha", "Tom", "Grace", "Wei", "Hannah", "Jack",
    "Zoe", "Ahmed", "Lucy", "Sam", "Ella", "Josh",
)  # fmt: skip
_LAST_NAMES: Final = (
    "Jusufi", "Muhammad", "Gul", "Wang", "Choong", "Dunlop", "Stickley", "Bustin", "Ali", "Nguyen", "Smith",
    "Jones", "Williams", "Brown", "Wilson", "Taylor", "Patel", "Singh", "Kelly", "Murphy", "O'Brien",
    "Papadopoulos", "Rossi", "Tran", "Chen", "Walsh", "Campbell", "Stewart", "Hughes", "Morgan",
)  # fmt: skip
_AGENCY_BRANDS: Final = (
    "Ray White", "Barry Plant", "LJ Hooker", "Harcourts", "McGrath", "First National Real Estate",
    "Belle Property", "Century 21", "Raine & Horne", "Jellis Craig", "Stockdale & Leggo", "Professionals",
    "Elders Real Estate", "PRD", "Hocking Stuart", "Biggin & Scott", "Fletchers", "Nelson Alexander",
)  # fmt: skip
_NO_PRICE_SALE: Final = (
    "Contact Agent", "Contact Agent", "Contact Agent", "Contact Agent", "Expressions of Interest",
    "Auction", "Price on application", "JUST LISTED! | 224SQM!", "Over 55s paradise",
    "2bedroom + 1bedroom (study)",
)  # fmt: skip
_SCHOOL_SECTORS: Final = (
    ("Primary", "Government", "CoEd", "Prep-6"),
    ("Primary", "Catholic", "CoEd", "Prep-6"),
    ("Secondary", "Government", "CoEd", "7-12"),
    ("Secondary", "Catholic", None, "7-12"),
    ("Secondary", "Independent", None, "7-12"),
    ("Combined", "Government", "CoEd", "Prep-12"),
    ("Special", "Independent", None, None),
)
_PROMO_RANK: Final = {"elite": 0, "premiumplus": 1, "standardpp": 2, "standard": 3}


# ---------------------------------------------------------------------------------------------
# The data


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
    """One listing as the generator made it; `_entry()` renders it the way the site serves it."""

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
        return f"/{_path_slug(place)}-{self.listing_id}"

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
        return f"/project/{self.project_id}/{_path_slug(self.name)}-{self.slug}"


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


@dataclass
class Faults:
    """Ways for the site to misbehave, all off by default; change them while the site runs."""

    #: Paths (`/sale/x/`, or with the query: `/sale/x/?ssubs=0&page=2`) never answered while listed.
    hang_paths: set[str] = field(default_factory=set)
    #: Seconds to wait before answering each page.
    slow_seconds: float = 0.0
    #: Every Nth page (passing the cookie gate) is a 503.
    fail_5xx_every: int = 0
    #: Every Nth page that would be a 200 carries a `__NEXT_DATA__` cut in half.
    truncate_json_every: int = 0
    #: Every Nth page (with a valid cookie) gets the 403 block page anyway.
    block_every: int = 0
    #: Every Nth page (with a valid cookie) is a 429 asking to wait `retry_after` seconds.
    rate_limit_every: int = 0
    retry_after: float = 1.0
    #: Each counted fault (block, 5xx, truncate, 429) happens at most this many times; 0: no limit.
    max_each: int = 0

    def reset(self) -> None:
        self.hang_paths.clear()
        self.slow_seconds = 0.0
        self.fail_5xx_every = self.truncate_json_every = self.block_every = self.rate_limit_every = 0
        self.retry_after = 1.0
        self.max_each = 0


@dataclass(frozen=True, slots=True)
class ServedRequest:
    """One request the site answered (or held, for a hang fault: status 0)."""

    monotonic: float
    time: float
    method: str
    path: str
    query: dict[str, str]
    status: int
    #: Whether the request carried a `_abck` cookie this site issued.
    cookie: bool
    bytes: int
    #: search, profile, not-found, redirect, challenge, block, error, static
    page_kind: str
    listing_kind: str | None = None
    slug: str | None = None
    page: int | None = None
    #: Ids of the listing entries (organic and promoted) of a 200 search page.
    listing_ids: tuple[int, ...] = ()
    organic_ids: tuple[int, ...] = ()
    project_ids: tuple[int, ...] = ()
    #: Ids of the recent sales shown beside the results (`UPVSoldListings`).
    upv_ids: tuple[int, ...] = ()
    #: hang, slow, 5xx, truncated, block, 429
    fault: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ServedLog:
    """A thread-safe, append-only log of `ServedRequest`s."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[ServedRequest] = []
        self._added = threading.Condition(self._lock)

    def append(self, entry: ServedRequest) -> None:
        with self._lock:
            self._entries.append(entry)
            self._added.notify_all()

    def snapshot(self) -> list[ServedRequest]:
        with self._lock:
            return list(self._entries)

    def __iter__(self) -> Iterator[ServedRequest]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until at least `count` requests are logged; False on timeout."""
        with self._added:
            return self._added.wait_for(lambda: len(self._entries) >= count, timeout)


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    page_kind: str
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    listing_kind: str | None = None
    slug: str | None = None
    page: int | None = None
    listing_ids: tuple[int, ...] = ()
    organic_ids: tuple[int, ...] = ()
    project_ids: tuple[int, ...] = ()
    upv_ids: tuple[int, ...] = ()
    #: The `__NEXT_DATA__` JSON's position in `body` (start, end), for the truncation fault.
    json_span: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """The search's query parameters that change its results, parsed the way the site reads them."""

    price_min: int | None = None
    price_max: int | None = None
    price_filtered: bool = False
    ptypes: tuple[str, ...] = ()
    beds: tuple[int | None, int | None] | None = None
    baths: tuple[int | None, int | None] | None = None
    exclude_under_offer: bool = False
    exclude_price_withheld: bool = False
    sort: str = "default"

    @classmethod
    def from_query(cls, query: dict[str, str]) -> SearchFilters:
        price = _parse_range(query.get("price", ""))
        beds = _parse_range(query.get("bedrooms", ""))
        baths = _parse_range(query.get("bathrooms", ""))
        ptypes = tuple(sorted({p for p in query.get("ptype", "").lower().split(",") if p}))
        sort = query.get("sort", "").lower()
        return cls(
            price_min=price[0] if price else None,
            price_max=price[1] if price else None,
            # "any-any" filters nothing.
            price_filtered=price is not None and price != (None, None),
            ptypes=ptypes,
            beds=beds if beds and beds != (None, None) else None,
            baths=baths if baths and baths != (None, None) else None,
            exclude_under_offer=query.get("excludeunderoffer") == "1",
            exclude_price_withheld=query.get("excludepricewithheld") == "1",
            sort=sort if sort in ("price-asc", "price-desc", "dateupdated-desc") else "default",
        )

    def matches(self, listing: Listing) -> bool:
        if self.price_filtered:
            price = listing.search_price
            if price is None:
                return False
            if self.price_min is not None and price < self.price_min:
                return False
            if self.price_max is not None and price > self.price_max:
                return False
        if self.ptypes and listing.ptype.ptype not in self.ptypes:
            return False
        if self.beds and not _within(listing.beds, self.beds):
            return False
        if self.baths and not _within(listing.baths, self.baths):
            return False
        if self.exclude_under_offer and listing.tag_class == "is-under-offer":
            return False
        return not (self.exclude_price_withheld and listing.price_text == "Price Withheld")


def _parse_range(text: str) -> tuple[int | None, int | None] | None:
    """ "500000-600000", "any-600000", "3-any" -> (low, high); None when unreadable."""
    parts = text.strip().lower().split("-")
    if len(parts) != 2:
        return None
    bounds: list[int | None] = []
    for part in parts:
        if part in ("any", ""):
            bounds.append(None)
        elif part.isdigit():
            bounds.append(int(part))
        else:
            return None
    return bounds[0], bounds[1]


def _within(value: int | None, bounds: tuple[int | None, int | None]) -> bool:
    if value is None:
        return False
    low, high = bounds
    return (low is None or value >= low) and (high is None or value <= high)


def _path_slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "")).strip("-")


def _money(value: int) -> str:
    return f"${value:,}"


def _millions(value: int) -> str:
    """$1.2m for round millions; the full amount otherwise."""
    if value >= 1_000_000 and value % 10_000 == 0:
        return f"${value / 1_000_000:g}m"
    return _money(value)


def _round_to(value: float, step: int) -> int:
    return max(step, round(value / step) * step)


def _local_iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


# ---------------------------------------------------------------------------------------------
# Generation


class _Ids:
    """Listing ids, unique across the site and shaped like the real ones."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {
            "sale": 2019700000,
            "rent": 17400000,
            "sold": 2019300000,
            "project": 6000,
        }
        self.next_agency = 8000
        self.used: set[int] = set()

    def take(self, kind: str, rng: random.Random) -> int:
        while True:
            self.next[kind] += rng.randint(1, 4)
            value = self.next[kind]
            if value not in self.used:
                self.used.add(value)
                return value

    def agency(self, rng: random.Random) -> int:
        self.next_agency += rng.randint(1, 300)
        return self.next_agency


class _LocalityBuilder:
    """Generates one locality's listings from its own random stream (seed and slug)."""

    def __init__(self, site: FakeSite, data: LocalityData, ids: _Ids) -> None:
        self.site = site
        self.data = data
        self.loc = data.locality
        self.ids = ids
        self.rng = random.Random(f"newhomie-fakesite:{site.seed}:{self.loc.slug}")
        self.today = site.today
        # Typical prices of this locality.
        self.median_sale = math.exp(self.rng.uniform(math.log(380_000), math.log(2_400_000)))
        self.median_rent = 300 + self.median_sale * 0.00028
        self.streets = self._streets()
        self.agencies = self._agencies()
        # Listings whose address is part of a deliberate pair: projects leave them alone.
        self.paired: set[int] = set()

    def _streets(self) -> list[str]:
        names = self.rng.sample(_STREET_NAMES, 14)
        return [f"{name} {self.rng.choice(_STREET_TYPES)}" for name in names]

    def _agencies(self) -> list[Agency]:
        rng = self.rng
        agencies = []
        for brand in rng.sample(_AGENCY_BRANDS, rng.randint(3, 6)):
            count = rng.randint(2, 6)
            agents = tuple(f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}" for _ in range(count))
            photos = tuple(rng.randint(900_000, 1_990_000) if rng.random() > 0.1 else None for _ in agents)
            agencies.append(
                Agency(
                    agency_id=self.ids.agency(rng),
                    name=f"{brand} {self.loc.name}",
                    color="#" + "".join(rng.choice("0123456789ABCDEFabcdef") for _ in range(6)),
                    agents=agents,
                    photos=photos,
                    logo_ext=rng.choice(("jpg", "png", "jpeg")),
                )
            )
        return agencies

    def build(self, counts: dict[Kind, int]) -> None:
        for kind in KINDS:
            listings = [self._listing(kind) for _ in range(counts[kind])]
            self._shared_addresses(listings)
            self.data.listings[kind] = listings
        self.data.projects = self._projects(self.data.listings["sale"])

    # One listing ------------------------------------------------------------------------------

    def _listing(self, kind: Kind) -> Listing:
        rng = self.rng
        index = 0 if kind == "sale" else 1 if kind == "rent" else 2
        ptypes = [p for p in PROPERTY_TYPES if p.weights[index]]
        ptype = rng.choices(ptypes, weights=[p.weights[index] for p in ptypes])[0]
        beds = rng.randint(*ptype.beds) if ptype.beds else None
        is_land = ptype.category == "Land"
        baths = 0 if is_land else max(1, min((beds or 1) - rng.randint(0, 2), 4))
        parking: int | None = None
        parking_absent = False
        roll = rng.random()
        if is_land or roll < 0.1:
            parking_absent = True
        elif roll < 0.18:
            parking = None
        else:
            parking = rng.choice((0, 1, 1, 1, 2, 2, 2, 3, 4, 6))
        land_size, land_unit = self._land(ptype)
        unit, number, street_name = self._address(ptype)
        street = _format_street(unit, number, street_name)
        if rng.random() < 0.03:
            street = ""
        decimals = rng.choice((5, 6, 6))
        lat = round(self.data.lat + rng.uniform(-0.018, 0.018), decimals)
        lng = round(self.data.lng + rng.uniform(-0.022, 0.022), decimals)
        updated = datetime.combine(self.today, datetime.min.time()) - timedelta(
            seconds=rng.randint(0, 75 * 86_400)
        )
        agency = rng.choice(self.agencies)
        agents = tuple(
            sorted(rng.sample(range(len(agency.agents)), rng.randint(1, min(2, len(agency.agents)))))
        )
        listing = Listing(
            listing_id=self.ids.take(kind, rng),
            kind=kind,
            slug=self.loc.slug,
            suburb=self.loc.name.upper(),
            state=self.loc.state,
            postcode=self.loc.postcode,
            street=street,
            unit=unit,
            number=number,
            street_name=street_name,
            lat=lat,
            lng=lng,
            ptype=ptype,
            beds=beds,
            baths=baths,
            parking=parking,
            parking_absent=parking_absent,
            is_rural=ptype.category == "Rural",
            is_retirement=ptype.code in ("Villa", "ApartmentUnitFlat") and rng.random() < 0.04,
            land_size=land_size,
            land_unit=land_unit,
            open_time=None,
            close_time=None,
            auction=None,
            tag_text=None,
            tag_class=None,
            agency=agency,
            agent_indexes=agents,
            promo_type="standard",
            price_text="",
            price_low=None,
            price_high=None,
            price_kind="none",
            updated=updated,
            image_count=rng.randint(2, 6),
            image_size=rng.choice(((1920, 1280), (1600, 1067), (768, 512), (4000, 2000), (2048, 1365))),
            has_video=rng.random() < 0.15,
            appearance=rng.choice(("light", "light", "dark")),
        )
        if kind == "sold":
            self._sold(listing)
        else:
            self._on_market(listing)
        return listing

    def _land(self, ptype: PropertyType) -> tuple[int | float, str]:
        rng = self.rng
        if ptype.category == "Rural" or (ptype.code == "House" and rng.random() < 0.02):
            return round(rng.uniform(0.4, 40.0), rng.choice((1, 2))), "ha"
        if ptype.category == "Land":
            return rng.randint(250, 900), "m²"
        if ptype.category == "House" and rng.random() < 0.8:
            return rng.randint(180, 950), "m²"
        if rng.random() < 0.05:
            return rng.randint(80, 600), "m²"
        return 0, "m²"

    def _address(self, ptype: PropertyType) -> tuple[str, str, str]:
        rng = self.rng
        street_name = rng.choice(self.streets)
        number = str(rng.randint(1, 180))
        if ptype.category == "Land" and rng.random() < 0.4:
            return "", f"Lot {rng.randint(1, 400)}", street_name
        if ptype.category == "Unit" and ptype.code != "BlockOfUnits":
            if rng.random() < 0.25:
                number = f"{number}-{int(number) + 2}"
            return str(rng.randint(1, 40)), number, street_name
        if rng.random() < 0.08:
            number += rng.choice("AB")
        elif rng.random() < 0.02:
            number = f"REAR {number}"
        return "", number, street_name

    def _shared_addresses(self, listings: list[Listing]) -> None:
        """Two units of one building, and one street address listed twice (two listing ids)."""
        candidates = [x for x in listings if x.street]
        if len(candidates) < 4:
            return
        first, second, third, fourth = self.rng.sample(candidates, 4)
        self.paired.update(x.listing_id for x in (first, second, third, fourth))
        building = self.rng.choice(self.streets)
        for unit, listing in (("1", first), ("2", second)):
            listing.unit, listing.number, listing.street_name = unit, "36", building
            listing.street = _format_street(unit, "36", building)
            listing.lat, listing.lng = first.lat, first.lng
        fourth.unit, fourth.number, fourth.street_name = third.unit, third.number, third.street_name
        fourth.street, fourth.lat, fourth.lng = third.street, third.lat, third.lng

    def _on_market(self, listing: Listing) -> None:
        rng = self.rng
        sale = listing.kind == "sale"
        if sale:
            listing.promo_type = rng.choices(
                ("elite", "premiumplus", "standardpp", "standard"), weights=(5, 35, 30, 30)
            )[0]
        else:
            listing.promo_type = rng.choices(("elite", "standard"), weights=(70, 30))[0]
        if rng.random() < 0.55:
            start, minutes = self._inspection()
            listing.open_time = _local_iso(start)
            listing.close_time = _local_iso(start + timedelta(minutes=minutes))
        auction_at: datetime | None = None
        if sale and listing.ptype.category != "Land" and rng.random() < 0.22:
            auction_at = self._auction()
            listing.auction = _local_iso(auction_at)
        if sale:
            self._sale_price(listing, auction_at)
        else:
            self._rent_price(listing)
        self._tag(listing, auction_at)

    def _inspection(self) -> tuple[datetime, int]:
        rng = self.rng
        if rng.random() < 0.65:
            day = self._saturday(rng.randint(0, 1))
        else:
            day = self.today + timedelta(days=rng.randint(0, 10))
        start = datetime.combine(day, datetime.min.time()) + timedelta(
            hours=rng.randint(9, 17), minutes=rng.choice((0, 5, 15, 20, 30, 40, 45))
        )
        return start, rng.choice((10, 15, 15, 20, 30, 45))

    def _saturday(self, weeks_ahead: int) -> date:
        this_saturday = self.today + timedelta(days=(5 - self.today.weekday()) % 7)
        return this_saturday + timedelta(weeks=weeks_ahead)

    def _auction(self) -> datetime:
        rng = self.rng
        # Five Saturdays ahead: with the default "today" they straddle the end of daylight saving
        # (5 April 2026), so local times turn into two different UTC offsets.
        if rng.random() < 0.9:
            day = self._saturday(rng.randint(0, 4))
            minutes = 10 * 60 + 30 * rng.randint(0, 13)
        else:
            day = self.today + timedelta(days=rng.randint(1, 30))
            minutes = rng.choice((18 * 60, 18 * 60 + 30))
        return datetime.combine(day, datetime.min.time()) + timedelta(minutes=minutes)

    def _typical_price(self, listing: Listing) -> float:
        beds = listing.beds if listing.beds is not None else 3
        factor = listing.ptype.price_factor * (1 + 0.12 * (beds - 3))
        return max(120_000.0, self.median_sale * factor * math.exp(self.rng.gauss(0, 0.18)))

    def _sale_price(self, listing: Listing, auction_at: datetime | None) -> None:
        rng = self.rng
        raw = self._typical_price(listing)
        low = _round_to(raw, 10_000 if raw >= 1_000_000 else 5_000)
        listing.hidden_price = low
        this_saturday = self._saturday(0)
        if auction_at is not None and auction_at.date() == this_saturday and rng.random() < 0.3:
            hour = auction_at.strftime("%I").lstrip("0")
            listing.price_text = f"AUCTION THIS SATURDAY @{hour}:{auction_at:%M%p} ONSITE !!"
            return
        form = rng.choices(
            (
                "range", "range_tight", "range_to", "range_endash", "range_k", "over", "from", "single",
                "space", "up_to", "none", "phone", "end_date", "move_in",
            ),
            weights=(30, 6, 6, 5, 4, 3, 4, 9, 2, 2, 14, 2, 2, 1),
        )[0]  # fmt: skip
        if form.startswith("range"):
            high = int(low * 1.1) if rng.random() < 0.5 else low + 5_000 * rng.randint(2, 8)
            if form == "range_k" and (low % 1000 or high % 1000):
                form = "range"
            text = {
                "range": f"{_money(low)} - {_money(high)}",
                "range_tight": f"{_money(low)}-{_money(high)}",
                "range_to": f"{_money(low)} to {_money(high)}",
                "range_endash": f"{_money(low)} \u2013 {_money(high)}",
                "range_k": f"${low // 1000}k - ${high // 1000}k",
            }[form]
            listing.price_text, listing.price_low, listing.price_high, listing.price_kind = (
                text,
                low,
                high,
                "range",
            )
            return
        texts = {
            "over": ("over", f"Offers over {_millions(low)}"),
            "from": ("from", f"From {_money(low)}"),
            "single": ("single", _money(low)),
            "space": ("single", f"${low:,}".replace(",", " ")),
            "up_to": ("up_to", f"Up to {_money(low)}"),
        }
        if form in texts:
            listing.price_kind, listing.price_text = texts[form]
            listing.price_low = listing.price_high = low
            return
        end = self.today + timedelta(days=rng.randint(14, 60))
        listing.price_text = {
            "phone": f"Speak to Agent on 04{rng.randint(0, 99_999_999):08d}",
            "end_date": f"Sale by End Date {end.day}/{end.month}/{end.year} (unless sold prior)",
            "move_in": f"Move in Early {self.today.year + 1} - walk to station",
        }.get(form) or rng.choice(_NO_PRICE_SALE)

    def _rent_price(self, listing: Listing) -> None:
        rng = self.rng
        beds = listing.beds if listing.beds is not None else 2
        factor = {"House": 1.0, "Unit": 0.78, "Rural": 1.1}.get(listing.ptype.category, 0.8)
        raw = self.median_rent * factor * (1 + 0.15 * (beds - 3)) * math.exp(rng.gauss(0, 0.12))
        weekly = _round_to(max(raw, 180.0), 10 if raw >= 1000 else 5)
        listing.hidden_price = weekly
        form = rng.choices(
            ("pw", "caps", "bare", "cents", "cents_pw", "pcm", "Per", "per", "slash", "weekly", "none"),
            weights=(8, 10, 10, 4, 3, 2, 4, 8, 2, 2, 3),
        )[0]
        if form == "none":
            listing.price_text = rng.choice(("Contact Agent", "Price on application", "Deposit Taken"))
            return
        pcm = _round_to(weekly * 52 / 12, 10)
        listing.price_text = {
            "pw": f"${weekly} p/w",
            "caps": f"$ {weekly} PER WEEK",
            "bare": f"${weekly}",
            "cents": f"${weekly:,}.00",
            "cents_pw": f"${weekly:,}.00 pw",
            "pcm": f"${weekly} pw/ ${pcm} pcm",
            "Per": f"${weekly} Per Week",
            "per": f"${weekly} per week",
            "slash": f"{weekly}/week",
            "weekly": f"${weekly}weekly",
        }[form]
        listing.price_low = listing.price_high = weekly
        listing.price_kind = "weekly"

    def _tag(self, listing: Listing, auction_at: datetime | None) -> None:
        rng = self.rng
        if auction_at is not None and 0 <= (auction_at.date() - self.today).days < 7:
            listing.tag_text = f"Auction {auction_at:%a} {auction_at.day} {auction_at:%b}"
            listing.tag_class = "is-auction"
            return
        roll = rng.random()
        recent = (datetime.combine(self.today, datetime.min.time()) - listing.updated).days < 10
        if recent and roll < 0.6:
            listing.tag_text, listing.tag_class = "New", "is-new"
        elif listing.kind == "sale" and roll > 0.93:
            listing.tag_text, listing.tag_class = "Under offer", "is-under-offer"
        elif roll > 0.9:
            listing.tag_text, listing.tag_class = "Updated", "is-updated"

    def _sold(self, listing: Listing) -> None:
        rng = self.rng
        listing.sold_on = self.today - timedelta(days=rng.randint(1, 365))
        listing.updated = datetime.combine(listing.sold_on, datetime.min.time()) + timedelta(hours=18)
        method = rng.choices(("private treaty", "auction", "prior to auction"), weights=(55, 30, 15))[0]
        listing.sold_method = method
        day = f"{listing.sold_on:%d}" if rng.random() < 0.5 else str(listing.sold_on.day)
        when = f"{day} {listing.sold_on:%b %Y}"
        listing.tag_text = {
            "private treaty": f"Sold by private treaty {when}",
            "auction": f"Sold at auction {when}",
            "prior to auction": f"Sold prior to auction {when}",
        }[method]
        listing.tag_class = "is-sold"
        if rng.random() < 0.2:
            listing.price_text = "Price Withheld"
            listing.hidden_price = _round_to(self.median_sale * listing.ptype.price_factor, 1_000)
        else:
            raw = self._typical_price(listing)
            price = _round_to(raw, 1_000 if rng.random() < 0.7 else 500)
            listing.price_text, listing.price_low, listing.price_high = _money(price), price, price
            listing.price_kind = "single"

    def _projects(self, listings: list[Listing]) -> list[Project]:
        rng = self.rng
        if len(listings) < 15:
            return []
        taken: set[int] = set()
        projects = []
        for _ in range(rng.randint(1, 2)):
            pool = [
                x
                for x in listings
                if x.ptype.code in ("ApartmentUnitFlat", "Townhouse", "NewApartments", "NewHouseLand")
                and x.listing_id not in taken
                and x.listing_id not in self.paired
            ]
            if len(pool) < 2:
                break
            children = rng.sample(pool, min(len(pool), rng.randint(2, 4)))
            number = rng.randint(2, 120)
            street_name = rng.choice(self.streets)
            project_id = self.ids.take("project", rng)
            agency = children[0].agency
            lat, lng = children[0].lat, children[0].lng
            for unit, child in enumerate(children, start=1):
                taken.add(child.listing_id)
                child.project_id = project_id
                child.unit, child.number, child.street_name = str(unit), f"{number}-{number + 2}", street_name
                child.street = _format_street(child.unit, child.number, street_name)
                child.lat, child.lng = lat, lng
                child.agency, child.agent_indexes = agency, children[0].agent_indexes
                child.tag_text, child.tag_class = "New home", "is-new-homes"
            projects.append(
                Project(
                    project_id=project_id,
                    slug=self.loc.slug,
                    name=f"The {street_name.split()[0]} {rng.choice(('Residences', 'Collection', 'Villas'))}",
                    display_address=f"{number}-{number + 2} {street_name}, {self.loc.name} {self.loc.state}",
                    child_listing_ids=tuple(sorted(c.listing_id for c in children)),
                    street=f"{number}-{number + 2} {street_name}",
                    suburb=self.loc.name.upper(),
                    state=self.loc.state,
                    postcode=self.loc.postcode,
                    lat=lat,
                    lng=lng,
                    agency=agency,
                )
            )
        return projects


def _format_street(unit: str, number: str, street_name: str) -> str:
    if number.startswith("Lot "):
        return f"{number} {street_name}"
    return f"{unit}/{number} {street_name}" if unit else f"{number} {street_name}"


# ---------------------------------------------------------------------------------------------
# The site


class FakeSite:
    """The site's data, its pages and what it served.

    `localities` real localities (beyond the bundled list of about 80: made-up ones), each with
    sale, rent and sold listings; `listings_per_locality` = (low, high) draws every kind's count from
    that range instead of the site's default sizes (sale 0-120, rent 0-80, sold 0-80, the first
    locality larger, the third without rentals, the seventh without sales history).
    """

    def __init__(
        self,
        localities: int = 5,
        seed: int = 0,
        listings_per_locality: tuple[int, int] | None = None,
        *,
        today: date = DEFAULT_TODAY,
    ) -> None:
        if localities < 0:
            raise ValueError("localities must be >= 0")
        self.seed = seed
        self.today = today
        self.listings_per_locality = listings_per_locality
        self.faults = Faults()
        self.served = ServedLog()
        self._ids = _Ids()
        self._localities: dict[str, LocalityData] = {}
        self._by_id: dict[int, Listing] = {}
        self._secret = secrets.token_bytes(16)
        self._lock = threading.Lock()
        self._fault_counts = {"block": 0, "5xx": 0, "truncate": 0, "429": 0}
        self._faults_fired = {"block": 0, "5xx": 0, "truncate": 0, "429": 0}
        self._pages: OrderedDict[tuple[Any, ...], Response] = OrderedDict()
        self._results: OrderedDict[tuple[Any, ...], tuple[Listing, ...]] = OrderedDict()
        for index in range(localities):
            if index < len(REAL_LOCALITIES):
                name, state, postcode, lat, lng = REAL_LOCALITIES[index]
            else:
                made_up = index - len(REAL_LOCALITIES)
                state = STATES[made_up % len(STATES)]
                postcode = f"{_MADE_UP_POSTCODES[state] + made_up % 9:04d}"
                name = made_up_locality_name(made_up)
                _, lat, lng = _CAPITALS[state]
                lat += ((made_up * 37) % 100 - 50) / 400
                lng += ((made_up * 53) % 100 - 50) / 400
            locality = Locality(name, state, postcode)
            self._add(locality, lat, lng, self._default_counts(locality, index))

    # Building -----------------------------------------------------------------------------------

    def _default_counts(self, locality: Locality, index: int) -> dict[Kind, int]:
        rng = random.Random(f"newhomie-fakesite-counts:{self.seed}:{locality.slug}")
        if self.listings_per_locality is not None:
            low, high = self.listings_per_locality
            return {kind: rng.randint(low, high) for kind in KINDS}
        counts = {kind: rng.randint(*DEFAULT_COUNTS[kind]) for kind in KINDS}
        if index == 0:
            # The first locality always has a few pages of each kind.
            counts = {"sale": rng.randint(61, 120), "rent": rng.randint(30, 80), "sold": rng.randint(30, 80)}
        elif index == 2:
            counts["rent"] = 0
        elif index == 6:
            counts["sold"] = 0
        return counts

    def _add(self, locality: Locality, lat: float, lng: float, counts: dict[Kind, int]) -> Locality:
        if locality.slug in self._localities:
            raise ValueError(f"locality {locality} ({locality.slug}) is already on the site")
        region, cap_lat, cap_lng = _CAPITALS[locality.state]
        if abs(lat - cap_lat) + abs(lng - cap_lng) > 0.9:
            region = f"{locality.name} Region"
        data = LocalityData(
            locality=locality,
            index=len(self._localities),
            lat=lat,
            lng=lng,
            region=region,
            area=f"{locality.name} - Greater Area",
            listings={kind: [] for kind in KINDS},
            projects=[],
        )
        _LocalityBuilder(self, data, self._ids).build(counts)
        for kind in KINDS:
            data.default_order[kind] = sorted(data.listings[kind], key=_default_sort_key)
            for listing in data.listings[kind]:
                self._by_id[listing.listing_id] = listing
        with self._lock:
            self._localities[locality.slug] = data
            self._pages.clear()
            self._results.clear()
        return locality

    def add_locality(
        self,
        name: str,
        state: str,
        postcode: str,
        sale: int = 0,
        rent: int = 0,
        sold: int = 0,
        *,
        lat: float | None = None,
        lng: float | None = None,
    ) -> Locality:
        """Add a locality with exactly these numbers of listings (e.g. one with 3,000 for sale)."""
        locality = Locality(name, state, postcode)
        _, cap_lat, cap_lng = _CAPITALS[state]
        return self._add(
            locality,
            cap_lat + 0.05 if lat is None else lat,
            cap_lng - 0.05 if lng is None else lng,
            {"sale": sale, "rent": rent, "sold": sold},
        )

    # Ground truth -------------------------------------------------------------------------------

    def localities(self) -> list[Locality]:
        return [data.locality for data in self._localities.values()]

    def locality_strings(self) -> list[str]:
        """["Dandenong VIC 3175", ...], the form of the spider's `-a localities=`."""
        return [str(locality) for locality in self.localities()]

    def locality_data(self, slug: str) -> LocalityData:
        try:
            return self._localities[slug]
        except KeyError:
            raise KeyError(
                f"no locality {slug!r} on this site; known: {', '.join(self._localities)}"
            ) from None

    def listings(self, slug: str, kind: Kind) -> list[Listing]:
        """The locality's listings of one kind in the site's default order."""
        return list(self.locality_data(slug).default_order[kind])

    def listing(self, listing_id: int) -> Listing:
        return self._by_id[listing_id]

    def ground_truth(self, slug: str, kind: Kind) -> list[dict[str, Any]]:
        """Per listing, what the site serves for it (see `listing_truth()` for the keys), default order."""
        return [listing_truth(listing) for listing in self.locality_data(slug).default_order[kind]]

    def projects(self, slug: str) -> list[dict[str, Any]]:
        return [
            {
                "project_id": p.project_id,
                "locality": p.slug,
                "name": p.name,
                "display_address": p.display_address,
                "url": p.url,
                "child_listing_ids": list(p.child_listing_ids),
            }
            for p in self.locality_data(slug).projects
        ]

    def all_listing_ids(self, kind: Kind | None = None) -> set[int]:
        return {
            listing.listing_id
            for data in self._localities.values()
            for k in KINDS
            if kind in (None, k)
            for listing in data.listings[k]
        }

    def served_listing_ids(self, kind: Kind | None = None) -> set[int]:
        """Ids of the listing entries (organic and promoted) of every whole search page served with
        status 200. Recent sales beside sale results (`UPVSoldListings`) are not counted: see the log's
        `upv_ids`."""
        return {
            listing_id
            for entry in self.served
            if entry.status == 200 and entry.page_kind == "search" and entry.fault is None
            if kind in (None, entry.listing_kind)
            for listing_id in entry.listing_ids
        }

    def ground_truth_document(self) -> dict[str, Any]:
        """Everything above as one JSON-able document (`/_fakesite/ground-truth.json`)."""
        return {
            "seed": self.seed,
            "today": self.today.isoformat(),
            "localities": [
                {
                    "name": data.locality.name,
                    "state": data.locality.state,
                    "postcode": data.locality.postcode,
                    "slug": slug,
                    "locality": str(data.locality),
                    "time_zone": data.locality.tz.key,
                    "counts": {kind: len(data.listings[kind]) for kind in KINDS},
                }
                for slug, data in self._localities.items()
            ],
            "listings": {
                slug: {kind: self.ground_truth(slug, kind) for kind in KINDS} for slug in self._localities
            },
            "projects": {slug: self.projects(slug) for slug in self._localities},
        }

    # URLs ---------------------------------------------------------------------------------------

    @staticmethod
    def search_path(kind: Kind, slug: str, page: int = 1, /, **params: str | int) -> str:
        """`/sale/<slug>/?ssubs=0&page=N` plus any filters (`price="500000-any"`, `sort=...`)."""
        query: dict[str, str | int] = {"ssubs": 0, **params}
        if page != 1:
            query["page"] = page
        return f"/{SEARCH_SEGMENTS[kind]}/{slug}/?{urlencode(query)}"

    @staticmethod
    def profile_path(slug: str) -> str:
        return f"/suburb-profile/{slug}"

    def search(self, kind: Kind, slug: str, filters: SearchFilters | None = None) -> tuple[Listing, ...]:
        """All results of a search in display order (before the 50-page cap)."""
        filters = filters or SearchFilters()
        key = (kind, slug, filters)
        with self._lock:
            cached = self._results.get(key)
            if cached is not None:
                self._results.move_to_end(key)
                return cached
        ordered = self.locality_data(slug).default_order[kind]
        results = [x for x in ordered if filters.matches(x)]
        position = {x.listing_id: i for i, x in enumerate(ordered)}
        if filters.sort in ("price-asc", "price-desc"):
            sign = 1 if filters.sort == "price-asc" else -1
            # Listings without a price come last either way.
            results.sort(
                key=lambda x: (
                    x.search_price is None,
                    sign * (x.search_price or 0),
                    position[x.listing_id],
                )
            )
        elif filters.sort == "dateupdated-desc":
            results.sort(key=lambda x: (-x.updated.timestamp(), x.listing_id))
        found = tuple(results)
        with self._lock:
            self._results[key] = found
            while len(self._results) > 512:
                self._results.popitem(last=False)
        return found

    # Cookie gate --------------------------------------------------------------------------------

    def issue_cookie(self) -> str:
        """A `_abck` value this site accepts (what the 403 page's script sets)."""
        nonce = secrets.token_hex(16).upper()
        mac = hmac.new(self._secret, nonce.encode(), hashlib.sha256).hexdigest()[:48]
        return f"{nonce}~0~{mac}~-1~-1~-1"

    def cookie_valid(self, value: str | None) -> bool:
        if not value:
            return False
        parts = value.split("~")
        if len(parts) != 6:
            return False
        expected = hmac.new(self._secret, parts[0].encode(), hashlib.sha256).hexdigest()[:48]
        return hmac.compare_digest(expected.encode(), parts[2].encode(errors="replace"))

    def cookie_header(self) -> str:
        """A `Cookie:` header value that passes the gate, for plain HTTP clients in tests."""
        return f"{COOKIE_NAME}={self.issue_cookie()}"

    # Handling a request -------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, cookie_header: str | None, stop: threading.Event | None = None
    ) -> Response | None:
        """Answer one request as the server does: internal endpoints, static 404s, faults, the cookie
        gate, then the page. None: the request was held (hang fault) until `stop` was set."""
        stop = stop or threading.Event()
        started, wall = time.monotonic(), time.time()
        parts = urlsplit(target)
        path = parts.path or "/"
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if path.startswith("/_fakesite/"):
            return self._internal(path)
        has_cookie = self.cookie_valid(_cookie_value(cookie_header, COOKIE_NAME))

        def log(response: Response | None, fault: str | None = None) -> None:
            self.served.append(
                ServedRequest(
                    monotonic=started,
                    time=wall,
                    method=method,
                    path=path,
                    query=query,
                    status=response.status if response else 0,
                    cookie=has_cookie,
                    bytes=len(response.body) if response else 0,
                    page_kind=response.page_kind if response else "hang",
                    listing_kind=response.listing_kind if response else None,
                    slug=response.slug if response else None,
                    page=response.page if response else None,
                    listing_ids=response.listing_ids if response else (),
                    organic_ids=response.organic_ids if response else (),
                    project_ids=response.project_ids if response else (),
                    upv_ids=response.upv_ids if response else (),
                    fault=fault,
                )
            )

        if _is_static(path):
            response = _small_page(404, "static", "Not Found", "Not Found")
            log(response)
            return response
        faults = self.faults
        fault: str | None = None
        if faults.hang_paths and (path in faults.hang_paths or target in faults.hang_paths):
            while path in faults.hang_paths or target in faults.hang_paths:
                if stop.wait(0.05):
                    log(None, "hang")
                    return None
            fault = "hang"
        if faults.slow_seconds > 0:
            stop.wait(faults.slow_seconds)
            fault = fault or "slow"
        if not has_cookie:
            response = self._challenge()
        elif self._fault_due("block", faults.block_every):
            response, fault = _block_page(), "block"
        elif self._fault_due("429", faults.rate_limit_every):
            response, fault = _rate_limited(faults.retry_after), "429"
        elif self._fault_due("5xx", faults.fail_5xx_every):
            response = _small_page(503, "error", "Service Unavailable", "Service Unavailable")
            fault = "5xx"
        else:
            response = self.page(target)
            if (
                response.status == 200
                and response.json_span
                and self._fault_due("truncate", faults.truncate_json_every)
            ):
                response, fault = _truncated(response), "truncated"
        log(response, fault)
        return response

    def _fault_due(self, name: str, every: int) -> bool:
        if every <= 0:
            return False
        with self._lock:
            if self.faults.max_each and self._faults_fired[name] >= self.faults.max_each:
                return False
            self._fault_counts[name] += 1
            due = self._fault_counts[name] % every == 0
            self._faults_fired[name] += due
            return due

    def _challenge(self) -> Response:
        value = self.issue_cookie()
        body = _CHALLENGE_PAGE.format(cookie=f"{COOKIE_NAME}={value}; path=/").encode()
        expires = formatdate(time.time() + 14_400, usegmt=True)
        bm_sz = f"bm_sz={secrets.token_hex(24).upper()}~YAAQ{secrets.token_hex(8)}; Path=/; Expires={expires}"
        headers = (("Set-Cookie", f"{bm_sz}; Max-Age=14400; HttpOnly"), ("Cache-Control", "no-store"))
        return Response(403, body, "challenge", headers=headers)

    def _internal(self, path: str) -> Response:
        if path == "/_fakesite/ground-truth.json":
            document: Any = self.ground_truth_document()
        elif path == "/_fakesite/requests.json":
            document = [entry.as_dict() for entry in self.served]
        else:
            return _small_page(404, "static", "Not Found", "Not Found")
        body = json.dumps(document, ensure_ascii=False).encode()
        return Response(200, body, "internal", content_type="application/json; charset=utf-8")

    # Pages --------------------------------------------------------------------------------------

    def page(self, target: str) -> Response:
        """The page at `target` (path and query) as the site renders it: no gate, no faults, no log."""
        parts = urlsplit(target)
        path = parts.path or "/"
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        segments = path.strip("/").split("/")
        if len(segments) == 2 and segments[1] in self._localities:
            segment, slug = segments
            kind = next((k for k, s in SEARCH_SEGMENTS.items() if s == segment), None)
            if kind is not None:
                if not path.endswith("/"):
                    return _redirect(f"{path}/" + (f"?{parts.query}" if parts.query else ""))
                return self._search_page(kind, slug, query)
            if segment == "suburb-profile":
                if path.endswith("/"):
                    return _redirect(path.rstrip("/"))
                return self._cached(("profile", slug), lambda: self._profile_page(slug))
        return self._cached(("404",), _not_found_page)

    def _cached(self, key: tuple[Any, ...], render: Callable[[], Response]) -> Response:
        with self._lock:
            cached = self._pages.get(key)
            if cached is not None:
                self._pages.move_to_end(key)
                return cached
        response = render()
        with self._lock:
            self._pages[key] = response
            while len(self._pages) > 256:
                self._pages.popitem(last=False)
        return response

    def _search_page(self, kind: Kind, slug: str, query: dict[str, str]) -> Response:
        filters = SearchFilters.from_query(query)
        try:
            page = max(1, int(query.get("page", "1")))
        except ValueError:
            page = 1
        surrounding = query.get("ssubs") != "0"
        key = ("search", kind, slug, filters, page, surrounding)
        return self._cached(
            key, lambda: _SearchRenderer(self, kind, slug, filters, page, surrounding).render()
        )

    def _profile_page(self, slug: str) -> Response:
        return _ProfileRenderer(self, self._localities[slug]).render()

    def neighbours(self, slug: str, limit: int = 7) -> list[Locality]:
        """The site's localities nearest to this one, in the same state."""
        here = self._localities[slug]
        others = [
            d for s, d in self._localities.items() if s != slug and d.locality.state == here.locality.state
        ]
        others.sort(key=lambda d: ((d.lat - here.lat) ** 2 + (d.lng - here.lng) ** 2, d.locality.slug))
        return [d.locality for d in others[:limit]]


def listing_truth(listing: Listing) -> dict[str, Any]:
    """What the site serves for one listing, in plain values. The keys of `ground_truth()`."""
    agents = [listing.agency.agents[i] for i in listing.agent_indexes]
    return {
        "listing_id": listing.listing_id,
        "listing_type": listing.kind,
        "locality": listing.slug,
        "url": listing.url,
        "street": listing.street or None,
        "suburb": listing.suburb,
        "state": listing.state,
        "postcode": listing.postcode,
        "lat": listing.lat,
        "lng": listing.lng,
        "beds": listing.beds,
        "baths": listing.baths,
        "parking": listing.parking,
        "property_type": listing.ptype.code,
        "property_type_formatted": listing.ptype.formatted,
        "is_rural": listing.is_rural,
        "is_retirement": listing.is_retirement,
        "land_size": listing.land_size,
        "land_unit": listing.land_unit,
        "land_area_m2": listing.land_area_m2,
        "price_text": listing.price_text,
        "price_intended": (
            None if listing.price_low is None else {"low": listing.price_low, "high": listing.price_high}
        ),
        "price_kind": listing.price_kind,
        "auction": listing.auction,
        "inspection_open": listing.open_time,
        "inspection_close": listing.close_time,
        "tag": listing.tag_text,
        "tag_class": listing.tag_class,
        "agency": listing.agency.name,
        "agency_id": listing.agency.agency_id,
        "agents": agents,
        "promo_type": listing.promo_type,
        "project_id": listing.project_id,
        "sold_on": listing.sold_on.isoformat() if listing.sold_on else None,
        "sold_method": listing.sold_method,
        "date_updated": _local_iso(listing.updated),
    }


def _default_sort_key(listing: Listing) -> tuple[Any, ...]:
    if listing.kind == "sold":
        assert listing.sold_on is not None
        return (-listing.sold_on.toordinal(), listing.listing_id)
    return (_PROMO_RANK[listing.promo_type], -listing.updated.timestamp(), listing.listing_id)


def _cookie_value(header: str | None, name: str) -> str | None:
    for part in (header or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


_STATIC_PREFIXES: Final = ("/_next/", "/static/", "/images/", "/favicon")
_STATIC_SUFFIXES: Final = (".ico", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".css", ".js", ".map")


def _is_static(path: str) -> bool:
    return path.startswith(_STATIC_PREFIXES) or path.lower().endswith(_STATIC_SUFFIXES)


# ---------------------------------------------------------------------------------------------
# Rendering


def _image_name(listing_id: int, number: int, stamp: str, size: tuple[int, int]) -> str:
    return f"{listing_id}_{number}_1_{stamp}-w{size[0]}-h{size[1]}"


def _image_url(geometry: str, name: str) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha1(f"{geometry}/{name}".encode()).digest()).decode()
    return f"{_IMAGE_HOST}/{digest}/{geometry}/{name}"


def _fit(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    scale = min(box[0] / size[0], box[1] / size[1], 1.0)
    return round(size[0] * scale), round(size[1] * scale)


def _images(listing_id: int, count: int, stamp: str, size: tuple[int, int]) -> tuple[list[str], list[Any]]:
    images, skeleton = [], []
    for number in range(1, count + 1):
        name = _image_name(listing_id, number, stamp, size)
        images.append(_image_url("660x440/filters:format(jpeg):quality(80)", name))
        views = {}
        for view, box in (("original", (1920, 1080)), ("tablet", (1020, 1020)), ("mobile", (600, 800))):
            width, height = _fit(size, box)
            geometry = f"fit-in/{box[0]}x{box[1]}/filters:format(jpeg):quality(80):no_upscale()"
            views[view] = {"url": _image_url(geometry, name), "width": width, "height": height}
        skeleton.append({"images": views, "mediaType": "image"})
    return images, skeleton


def _agency_logo(agency: Agency, geometry: str) -> str:
    source = f"https://images.domain.com.au/img/Agencys/{agency.agency_id}/logo_{agency.agency_id}.{agency.logo_ext}"
    return _image_url(f"{geometry}/filters:format(jpeg):quality(80)", f"{source}?buster=2026-03-01")


def _branding(agency: Agency, agent_indexes: Sequence[int], stamp: str) -> dict[str, Any]:
    agents: list[dict[str, Any]] = []
    for index in agent_indexes:
        photo_id = agency.photos[index]
        photo = (
            None
            if photo_id is None
            else _image_url(
                "90x90/filters:format(jpeg):quality(80)",
                f"https://images.domain.com.au/img/{agency.agency_id}/contact_{photo_id}.jpeg?mod={stamp}",
            )
        )
        agents.append({"agentName": agency.agents[index], "agentPhoto": photo})
    return {
        "agencyId": agency.agency_id,
        "agents": agents,
        "agentNames": ", ".join(a["agentName"] for a in agents),
        "brandLogo": _agency_logo(agency, "170x60"),
        "skeletonBrandLogo": _agency_logo(agency, "200x70"),
        "brandName": agency.name,
        "brandColor": agency.color,
        "agentPhoto": agents[0]["agentPhoto"],
        "agentName": agents[0]["agentName"],
    }


def _entry(listing: Listing, topspot: bool, *, upv: bool = False) -> dict[str, Any]:
    stamp = listing.updated.strftime("%y%m%d_%H%M%S")
    images, skeleton = _images(
        listing.listing_id,
        1 if upv else listing.image_count,
        stamp,
        listing.image_size,
    )
    features: dict[str, Any] = {}
    if listing.beds is not None:
        features["beds"] = listing.beds
    features["baths"] = listing.baths
    if not listing.parking_absent:
        features["parking"] = listing.parking
    features |= {
        "propertyType": listing.ptype.code,
        "propertyTypeFormatted": listing.ptype.formatted,
        "isRural": listing.is_rural,
        "landSize": listing.land_size,
        "landUnit": listing.land_unit,
        "isRetirement": listing.is_retirement,
    }
    model: dict[str, Any] = {
        "promoType": "standard" if upv else listing.promo_type,
        "url": listing.url,
        "images": images,
        "skeletonImages": skeleton,
        "brandingAppearance": listing.appearance,
        "price": listing.price_text,
        "hasVideo": listing.has_video,
        "branding": _branding(listing.agency, listing.agent_indexes, stamp[:6] + "-" + stamp[7:]),
        "address": {
            "street": listing.street,
            "suburb": listing.suburb,
            "state": listing.state,
            "postcode": listing.postcode,
            "lat": listing.lat,
            "lng": listing.lng,
        },
        "features": features,
        "inspection": {"openTime": listing.open_time, "closeTime": listing.close_time},
        "auction": listing.auction,
        "tags": (
            {"tagText": "Sold", "tagClassName": "is-sold"}
            if upv
            else {"tagText": listing.tag_text, "tagClassName": listing.tag_class}
        ),
        "displaySearchPriceRange": None,
        "enableSingleLineAddress": False,
    }
    if topspot:
        model["topspotUrl"] = f"{listing.url}?topspot=1"
    return {"id": listing.listing_id, "listingType": "listing", "listingModel": model}


def _project_entry(project: Project) -> dict[str, Any]:
    stamp = "260201_090000"
    images, skeleton = _images(project.project_id, 3, stamp, (1920, 1080))
    return {
        "id": project.project_id,
        "listingType": "project",
        "listingModel": {
            "promoType": "standardpp",
            "url": project.url,
            "projectName": project.name,
            "displayAddress": project.display_address,
            "images": images,
            "skeletonImages": skeleton,
            "brandingAppearance": "light",
            "branding": _branding(project.agency, (0,), "260201-090000"),
            "childListingIds": list(project.child_listing_ids),
            "address": {
                "street": project.street,
                "suburb": project.suburb,
                "state": project.state,
                "postcode": project.postcode,
                "lat": project.lat,
                "lng": project.lng,
            },
        },
    }


_HTML_JSON_ESCAPES: Final = (
    ("&", "\\u0026"),
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def _plural(word: str, count: int) -> str:
    return word if count == 1 else word + "s"


def _json_for_html(document: Any) -> str:
    """JSON as Next.js embeds it: `<`, `>`, `&` and line separators escaped."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in _HTML_JSON_ESCAPES:
        text = text.replace(raw, escaped)
    return text


def _html_page(
    status: int,
    page_kind: str,
    title: str,
    description: str,
    canonical: str | None,
    body: str,
    next_data: dict[str, Any],
    **meta: Any,
) -> Response:
    head = (
        '<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>'
        f"<title>{html.escape(title)}</title>"
        f'<meta name="description" content="{html.escape(description)}"/>'
        + (f'<link rel="canonical" href="{html.escape(canonical)}"/>' if canonical else "")
        + '<meta name="next-head-count" content="5"/>'
        '<link rel="preload" href="/_next/static/css/app.css" as="style"/></head><body>'
        f'<div id="__next">{body}</div><script id="__NEXT_DATA__" type="application/json">'
    )
    data = _json_for_html(next_data)
    tail = '</script><script src="/_next/static/chunks/main.js" defer=""></script></body></html>'
    start = len(head.encode())
    encoded = (head + data + tail).encode()
    return Response(status, encoded, page_kind, json_span=(start, start + len(data.encode())), **meta)


def _not_found_page() -> Response:
    next_data = {
        "props": {"pageProps": {}},
        "page": "/404",
        "query": {},
        "buildId": _SEARCH_BUILD_ID,
        "nextExport": True,
        "autoExport": True,
        "isFallback": False,
        "scriptLoader": [],
    }
    body = (
        '<div style="font-family:system-ui;height:100vh;text-align:center;display:flex;flex-direction:column;'
        'align-items:center;justify-content:center"><h1 class="next-error-h1">404</h1>'
        "<h2>This page could not be found.</h2></div>"
    )
    return _html_page(404, "not-found", "404: This page could not be found", "", None, body, next_data)


def _small_page(status: int, page_kind: str, title: str, text: str) -> Response:
    body = f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{text}</h1></body></html>"
    return Response(status, body.encode(), page_kind)


def _rate_limited(retry_after: float) -> Response:
    body = "<html><head><title>Too Many Requests</title></head><body>Too Many Requests</body></html>"
    headers = (("Retry-After", f"{retry_after:g}"), ("Cache-Control", "no-store"))
    return Response(429, body.encode(), "rate-limit", headers=headers)


def _redirect(location: str) -> Response:
    body = f'<html><body>Moved: <a href="{html.escape(location)}">{html.escape(location)}</a></body></html>'
    return Response(301, body.encode(), "redirect", headers=(("Location", location),))


_CHALLENGE_PAGE: Final = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Just a moment...</title></head><body>'
    "<noscript>Please enable JavaScript to view this page.</noscript>"
    '<script>(function(){{document.cookie = "{cookie}";location.reload();}})();</script>'
    "</body></html>"
)


def _block_page() -> Response:
    reference = "18." + secrets.token_hex(4) + "." + str(int(time.time())) + "." + secrets.token_hex(4)
    body = (
        "<HTML><HEAD>\n<TITLE>Access Denied</TITLE>\n</HEAD><BODY>\n<H1>Access Denied</H1>\n"
        "You don't have permission to access this page on this server.<P>\n"
        f"Reference&#32;&#35;{reference}\n</BODY>\n</HTML>\n"
    )
    return Response(403, body.encode(), "block", headers=(("Cache-Control", "no-store"),))


def _truncated(response: Response) -> Response:
    assert response.json_span is not None
    start, end = response.json_span
    cut = start + (end - start) // 2
    body = response.body[:cut] + response.body[end:]
    return Response(
        response.status,
        body,
        response.page_kind,
        headers=response.headers,
        listing_kind=response.listing_kind,
        slug=response.slug,
        page=response.page,
    )


def _uuid_like(*parts: object) -> str:
    digest = hashlib.md5(":".join(map(str, parts)).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


_FEATURE_FLAGS: Final = {
    "enableContentSnippet": False,
    "disableAdsFlag": False,
    "shortlistExperimentFlag": True,
    "enableRetirements": True,
    "enableCustomSort": True,
    "enableGraphQLSearch": False,
    "enableUPVExperiment": True,
    "enableSearchDisplayPriceRange": False,
    "topspotGQL": False,
    "enableGraphQLUPVSoldListings": False,
}


class _SearchRenderer:
    """One search page: which listings it shows, its `__NEXT_DATA__` and its HTML."""

    def __init__(
        self, site: FakeSite, kind: Kind, slug: str, filters: SearchFilters, page: int, surrounding: bool
    ) -> None:
        self.site = site
        self.kind = kind
        self.slug = slug
        self.data = site.locality_data(slug)
        self.loc = self.data.locality
        self.filters = filters
        self.page = page
        self.surrounding = surrounding
        self.segment = SEARCH_SEGMENTS[kind]
        self.list_url = f"{SITE_ORIGIN}/{self.segment}/{slug}/"

    def render(self) -> Response:
        results = self.site.search(self.kind, self.slug, self.filters)
        total = len(results)
        total_pages = min(math.ceil(total / PAGE_SIZE), MAX_PAGES)
        organic: Sequence[Listing] = ()
        if self.page <= total_pages:
            organic = results[(self.page - 1) * PAGE_SIZE : self.page * PAGE_SIZE]
        topspot = self._topspot(total_pages)
        projects = self._projects(results, organic)
        ids: list[int] = []
        listings_map: dict[str, Any] = {}
        for listing in organic:
            project = projects.get(listing.listing_id)
            if project is not None:
                ids.append(project.project_id)
                listings_map[str(project.project_id)] = _project_entry(project)
            ids.append(listing.listing_id)
        topspot_ids = [x.listing_id for x in topspot]
        for listing in [*organic, *topspot]:
            if str(listing.listing_id) not in listings_map:
                listings_map[str(listing.listing_id)] = _entry(listing, listing.listing_id in topspot_ids)
        listings_map = dict(sorted(listings_map.items()))
        upv = self._upv()
        props = self._component_props(total, total_pages, ids, listings_map, topspot_ids, upv)
        title = props["pageTitle"]
        next_data = {
            "props": {
                "pageProps": {
                    "layoutProps": self._layout_props(title, total, organic),
                    "componentProps": props,
                },
                "__N_SSP": True,
            },
            "page": "/search-listings-spa",
            "query": {"listingType": self.kind, "location": self.slug},
            "buildId": _SEARCH_BUILD_ID,
            "assetPrefix": "https://s.domainstatic.com.au/fe-server-search-listings/master-6371",
            "runtimeConfig": {"version": "9.138.0", "isDevMode": False, "gtmId": "GTM-FAKE01"},
            "isFallback": False,
            "isExperimentalCompile": False,
            "gssp": True,
            "scriptLoader": [],
        }
        listing_ids = tuple(
            int(key) for key, entry in listings_map.items() if entry["listingType"] == "listing"
        )
        return _html_page(
            200,
            "search",
            title,
            props["pageTitle"],
            self.list_url + (f"?page={self.page}" if self.page > 1 else ""),
            self._body(organic, total, total_pages),
            next_data,
            listing_kind=self.kind,
            slug=self.slug,
            page=self.page,
            listing_ids=listing_ids,
            organic_ids=tuple(x.listing_id for x in organic),
            project_ids=tuple(p.project_id for p in projects.values()),
            upv_ids=tuple(x.listing_id for x in upv),
        )

    def _topspot(self, total_pages: int) -> list[Listing]:
        """2-3 promoted sale listings of the locality per page, chosen per page number."""
        pool = self.data.default_order["sale"]
        if self.kind != "sale" or not pool or self.page > max(total_pages, 1):
            return []
        rng = random.Random(f"newhomie-fakesite-topspot:{self.site.seed}:{self.slug}:{self.page}")
        promoted = [x for x in pool if x.promo_type in ("elite", "premiumplus")] or pool
        return rng.sample(promoted, min(len(promoted), rng.randint(2, 3)))

    def _projects(self, results: Sequence[Listing], organic: Sequence[Listing]) -> dict[int, Project]:
        """Projects shown on this page, by the id of the child they are shown before: a project
        appears once per search, before its first child in the results."""
        if self.kind != "sale" or not organic:
            return {}
        first_child: dict[int, int] = {}
        wanted = {p.project_id for p in self.data.projects}
        for listing in results:
            if listing.project_id in wanted and listing.project_id not in first_child:
                first_child[listing.project_id] = listing.listing_id
        on_page = {x.listing_id for x in organic}
        return {
            first_child[p.project_id]: p
            for p in self.data.projects
            if p.project_id in first_child and first_child[p.project_id] in on_page
        }

    def _upv(self) -> list[Listing]:
        if self.kind != "sale":
            return []
        return self.data.default_order["sold"][:10]

    def _price_volume(self) -> dict[str, Any]:
        points = []
        for category, ptype_slug, label in (
            ("House", "house", "House"),
            ("Unit", "apartment-unit-flat", "Unit"),
        ):
            rows = []
            for beds in range(1, 6):
                prices = [
                    x.search_price
                    for x in self.data.listings[self.kind]
                    if x.ptype.category == category and x.beds == beds and x.search_price is not None
                ]
                if not prices:
                    continue
                rows.append(
                    {
                        "label": f"{beds} {_plural('Bed', beds)}",
                        "medianPrice": int(median(prices)) if len(prices) >= 3 else 0,
                        "volume": len(prices),
                        "url": f"/{self.segment}/{self.slug}/{ptype_slug}/{beds}-{_plural('bedroom', beds)}/",
                    }
                )
            points.append(
                {
                    "priceAndVolumeData": rows,
                    "propertyType": label,
                    "seeAllPropertyTypeUrl": f"/{self.segment}/{self.slug}/{ptype_slug}/",
                }
            )
        return {
            "suburb": self.loc.name,
            "suburbProfileUrl": f"{SITE_ORIGIN}/suburb-profile/{self.slug}",
            "listingType": self.kind.title(),
            "dataPoints": points,
        }

    def _property_counts(self) -> dict[str, int]:
        counts = {"house": 0, "apartment": 0, "town-house": 0, "land": 0, "rural": 0}
        for listing in self.data.listings[self.kind]:
            code = listing.ptype.code
            if code == "Townhouse":
                counts["town-house"] += 1
            elif listing.ptype.category == "Unit":
                counts["apartment"] += 1
            elif listing.ptype.category == "Land":
                counts["land"] += 1
            elif listing.ptype.category == "Rural":
                counts["rural"] += 1
            else:
                counts["house"] += 1
        return counts

    def _component_props(
        self,
        total: int,
        total_pages: int,
        ids: list[int],
        listings_map: dict[str, Any],
        topspot_ids: list[int],
        upv: list[Listing],
    ) -> dict[str, Any]:
        loc, slug, kind, segment = self.loc, self.slug, self.kind, self.segment
        noun = {"sale": "for Sale", "rent": "for Rent", "sold": "Sold"}[kind]
        title = f"{total} Real Estate Properties {noun} in {loc.name}, {loc.state}, {loc.postcode} | Domain"
        neighbours = [{"name": n.name, "urlSlug": n.slug} for n in self.site.neighbours(slug)]
        location = {
            "suburb": loc.name,
            "postCode": loc.postcode,
            "includeSurroundingSuburbs": self.surrounding,
            "state": loc.state,
        }
        return_url = f"%2F{segment}%2F{slug}%2F"
        filters = self.filters
        props: dict[str, Any] = {
            "theme": "domain",
            "isMapView": False,
            "baseUrl": SITE_ORIGIN,
            "signupPath": "/authentications/signup",
            "logoutPath": "/authentications/logoff",
            "loginPath": "/authentications/login",
            "mode": kind,
            "productSegment": kind,
            "noAds": False,
            "lazyLoadImages": True,
            "estimatedDeviceWidth": "1440px",
            "estimatedDeviceHeight": "1024px",
            "mapViewUrl": f"{self.list_url}?displaymap=1",
            "breadcrumbs": [
                {"title": kind.title(), "url": f"/{segment}/"},
                {"title": loc.state, "url": f"/{segment}/{loc.state.lower()}/"},
                {"title": loc.name, "url": f"/{segment}/{slug}/"},
            ],
            "currentPage": self.page,
            "totalPages": total_pages,
            "paginatorTemplateUrl": f"/{segment}/{slug}/?page={{{{page}}}}",
            "listingSearchResultIds": ids,
            "listingsMap": listings_map,
            "topspotFeaturedPropertyIds": topspot_ids,
            "totalListings": total,
            "user": None,
            "loginAndReturnUrl": f"{SITE_ORIGIN}/authentications/login?ReturnUrl={return_url}",
            "signupAndReturnUrl": f"{SITE_ORIGIN}/authentications/signup?ReturnUrl={return_url}",
            "inspectionPlannerUrl": f"{SITE_ORIGIN}/user/inspection-planner",
            "shortlistExperimentFlag": True,
            "enableLazyFluidAds": True,
            "enableMRECAd": False,
            "enableEarlyAccessPromos": True,
            "footerSeoMarkup": (
                f'<div>Domain makes finding your new home easy with <a href="{SITE_ORIGIN}/sale/{slug}/">'
                f'properties for sale in {loc.name}</a> and <a href="{SITE_ORIGIN}/rent/{slug}/">properties '
                f'for rent</a>. Research the market with the <a href="{SITE_ORIGIN}/suburb-profile/{slug}">'
                f"{loc.name} suburb profile</a>.</div>"
            ),
            "seoResultHeaderHtml": f"<strong>{total} Properties</strong> {noun.lower()} in {loc.name}, "
            f"{loc.state}, {loc.postcode}",
            "seoResultSubHeaderHtml": "and surrounding suburbs" if self.surrounding else "",
            "locationPriceVolumeProps": self._price_volume(),
            "creLocationObject": location,
            "initialLocations": [
                {"label": f"{loc.name}, {loc.state}, {loc.postcode}", "value": slug, "category": "Suburb"}
            ],
            "initialSurroundingSuburbs": self.surrounding,
            "suburb": {
                "baseUrl": SITE_ORIGIN,
                "suburb": {"name": loc.name, "slug": slug},
                "sale": {"apartmentsAndUnits": True, "houses": True, "townhouses": True},
                "rent": {"apartmentsAndUnits": True, "houses": True, "townhouses": True},
                "surroundingSuburbs": neighbours,
            },
            "defaultSavedSearchName": str(loc),
            "adsense": {
                "listingMode": kind.title(),
                "location": {
                    "state": loc.state,
                    "name": loc.name,
                    "category": "Suburb",
                    "nameSlug": slug,
                    "isDeleted": False,
                    "status": "",
                    "displayName": f"{loc.name}, {loc.state}, {loc.postcode}",
                    "postCode": loc.postcode,
                    "suburbId": slug,
                    "area": self.data.area,
                    "region": self.data.region,
                    "slug": slug,
                },
            },
            "dataEndPoint": f"/phoenix/api/property-gallery?listingCategory={kind.title()}&suburbIds={slug}",
            "searchFiltersPropertyTypeMode": "Residential",
            "textAdsEnabled": True,
            "enableMobileBannerAppDriver": False,
            "forceMobileBannerAppDriver": False,
            "isAuctionSearch": False,
            "isInspectionSearch": False,
            "listUrl": self.list_url,
            "inspectionUrl": f"{self.list_url}inspection-times/",
            "auctionUrl": f"{self.list_url}auction-times/",
            "enableDateAvailable": True,
            "radiusRange": [10, 15, 25, 50, 100, 200],
            "pageViewMetadata": {
                "searchRequest": {
                    "page": self.page,
                    "pageSize": PAGE_SIZE,
                    "ruralOnly": False,
                    "tags": [],
                    "listingType": kind.title(),
                    "locations": [location],
                },
                "searchResponse": {
                    "TopSpot": {
                        "featuredProperties": [
                            {"adId": i, "promoLevel": "PremiumPlus", "listingType": "Sale", "position": n}
                            for n, i in enumerate(topspot_ids)
                        ]
                    },
                    "SearchResults": {
                        "results": [
                            {"type": "PropertyListing", "listing": {"id": i, "listingType": kind.title()}}
                            for i in ids
                        ],
                        "totalResults": total,
                        "totalPages": total_pages,
                        "page": self.page,
                        "actualTotalResults": total,
                        "actualTotalResultsExceedsMaximum": total > PAGE_SIZE * MAX_PAGES,
                    },
                },
            },
            "featureFlags": _FEATURE_FLAGS,
            "mixpanelToken": "0fa4e0d0c5b1f00dfa4e0d0c5b1f00d1",
            "sessionToken": _uuid_like("session", self.site.seed, slug, kind, self.page),
            "initialRetirementsOnly": False,
            "initialSelectAllPropertyTypes": True,
            "clientType": "Website - Desktop",
            "digitalData": self._digital_data(total, total_pages, ids, topspot_ids),
            "pageTitle": title,
            "raygunTags": ["isSearchResults"],
            "pageCorrelation": _uuid_like("correlation", self.site.seed, slug, kind, self.page),
            "rootGraphQuery": None,
            "UPVSoldListings": [_entry(x, False, upv=True) for x in upv] or None,
            "displayNewToYouListings": False,
            "totalNewToYouListings": 0,
            "initialPrice": {
                "minPrice": str(filters.price_min or 0),
                "maxPrice": str(filters.price_max or 0),
            },
            "initialLandSize": {"minSize": None, "maxSize": None, "sizeUnit": "m2"},
            "initialKeywords": "",
            "initialExcludeUnderOffer": filters.exclude_under_offer,
            "initialFeatures": [],
            "initialBedrooms": [{"value": "0", "selected": True}, {"value": "5", "selected": True}],
            "initialBathrooms": [{"value": "0", "selected": True}, {"value": "5", "selected": True}],
            "initialParking": [{"value": "0", "selected": True}, {"value": "5", "selected": True}],
            "initialProperties": [
                {"name": name, "childProperties": []}
                for name in ("house", "apartment", "town-house", "land", "rural")
            ],
            "bedroomCounts": {},
            "bathroomCounts": {},
            "parkingCounts": {},
            "propertyCounts": self._property_counts(),
        }
        if kind != "sale":
            # The real rent page has none of these keys.
            for key in ("topspotFeaturedPropertyIds", "auctionUrl", "UPVSoldListings"):
                del props[key]
        return props

    def _digital_data(
        self, total: int, total_pages: int, ids: list[int], topspot_ids: list[int]
    ) -> dict[str, Any]:
        loc = self.loc
        page_id = {
            "sale": "search results - buy",
            "rent": "search results - rent",
            "sold": "search results - sold",
        }
        return {
            "page": {
                "pageInfo": {
                    "pageId": page_id[self.kind],
                    "pageName": page_id[self.kind],
                    "search": {
                        "geoType": "Suburb",
                        "postcode": loc.postcode,
                        "resultsPages": total_pages,
                        "resultsRecords": ",".join(map(str, ids)),
                        "resultsTopspot": ",".join(map(str, topspot_ids)),
                        "searchArea": self.data.area,
                        "searchRegion": self.data.region,
                        "searchResultCount": total,
                        "searchSuburb": loc.name,
                        "sortBy": self.filters.sort.title(),
                        "state": loc.state,
                        "suburbId": self.slug,
                        "surroundingSuburbs": "On" if self.surrounding else "Off",
                    },
                    "brand": "domain",
                    "generator": "DO",
                    "sysEnv": "responsive",
                    "isEmbeddedApp": False,
                },
                "category": {"primaryCategory": self.kind.title(), "subCategory1": "Search Results"},
            },
            "version": "1.0",
            "events": [],
            "user": {"membershipType": "visitor", "membershipState": "Not_logged_in"},
        }

    def _layout_props(self, title: str, total: int, organic: Sequence[Listing]) -> dict[str, Any]:
        events = [
            {
                "@context": "http://schema.org",
                "@type": "Event",
                "location": {
                    "@type": "Residence",
                    "geo": {"@type": "GeoCoordinates", "latitude": x.lat, "longitude": x.lng},
                    "name": f"{x.street}, {self.loc.name}",
                },
                "name": "Auction",
                "url": f"{SITE_ORIGIN}{x.url}",
                "startDate": x.auction,
            }
            for x in organic
            if x.auction
        ]
        description = f"Domain has {total} Real Estate Properties in {self.loc.name}, {self.loc.state}."
        return {
            "title": title,
            "description": description,
            "canonical": self.list_url,
            "metatags": [
                {"component": "meta", "property": "og:title", "content": title},
                {"component": "meta", "property": "og:site_name", "content": "Domain"},
                {"component": "meta", "property": "og:url", "content": self.list_url},
            ],
            "disableAds": False,
            "disableTracking": False,
            "disableOptimize": False,
            "isFromEu": False,
            "digitalData": {"version": "1.0", "events": []},
            "serverSideExperiments": {},
            "jsonLdItems": [
                {
                    "@context": "http://schema.org",
                    "@type": "Organization",
                    "name": "Domain",
                    "url": SITE_ORIGIN,
                },
                *events,
            ],
            "raygunTags": ["isSearchResults"],
            "featureFlags": _FEATURE_FLAGS,
            "ppid": hashlib.sha256(f"ppid:{self.site.seed}".encode()).hexdigest(),
        }

    def _body(self, organic: Sequence[Listing], total: int, total_pages: int) -> str:
        cards = "".join(
            f'<li class="css-1qp9106" data-testid="listing-{x.listing_id}"><div class="css-qrqvvg">'
            f'<p data-testid="listing-card-price" class="css-mgq8yx">{html.escape(x.price_text)}</p>'
            f'<a href="{html.escape(x.url)}" class="address is-two-lines css-1y2bib4">'
            f"<h2>{html.escape(x.street or 'Address available on request')}, {html.escape(x.suburb)} "
            f"{x.state} {x.postcode}</h2></a>"
            f'<span data-testid="property-features-text-container">{x.ptype.formatted}</span></div></li>'
            for x in organic
        )
        pages = "".join(
            f'<a href="/{self.segment}/{self.slug}/?page={n}" data-testid="paginator-page-{n}">{n}</a>'
            for n in range(1, total_pages + 1)
        )
        return (
            '<header class="css-1b4t7f"><a href="/">Domain</a></header><main class="css-1ned5tb">'
            f'<h1 class="css-ekkwk0"><strong>{total} Properties</strong> in {html.escape(self.loc.name)}</h1>'
            f'<ul data-testid="results">{cards}</ul><nav data-testid="paginator">{pages}</nav></main>'
            "<footer><p>© Domain Holdings Australia</p></footer>"
        )


class _ProfileRenderer:
    def __init__(self, site: FakeSite, data: LocalityData) -> None:
        self.site = site
        self.data = data
        self.loc = data.locality
        self.rng = random.Random(f"newhomie-fakesite-profile:{site.seed}:{self.loc.slug}")

    def render(self) -> Response:
        loc, slug = self.loc, self.loc.slug
        suburb_id = base64.b64encode(f"Suburb:{slug}".encode()).decode()
        profile_id = (
            f"{self.rng.randint(10_000, 19_999)}-{loc.state}{self.rng.randint(100, 999)}-{loc.postcode}"
        )
        neighbours = self.site.neighbours(slug)
        apollo: dict[str, Any] = {
            f"Suburb:{suburb_id}": self._suburb(suburb_id, neighbours),
            f"LocationProfile:{profile_id}": self._location_profile(profile_id, neighbours),
        }
        root: dict[str, Any] = {
            "__typename": "Query",
            f'suburb({{"suburbId":"{slug}"}})': {"__ref": f"Suburb:{suburb_id}"},
            f'locationProfile({{"urlSlug":"{slug}"}})': {"__ref": f"LocationProfile:{profile_id}"},
        }
        location = json.dumps(
            {
                "area": self.data.area,
                "postcode": loc.postcode,
                "region": self.data.region,
                "state": loc.state,
                "suburb": loc.name,
            },
            separators=(",", ":"),
        )
        for kind in KINDS:
            refs = []
            for listing in self.data.default_order[kind][:10]:
                key = f"SearchListingsResultListing:{listing.listing_id}"
                apollo[key] = self._card(listing)
                refs.append({"__ref": key})
            params = (
                f'{{"searchParams":{{"listingType":"{kind.title()}","locations":[{location}],'
                '"sort":{"direction":"Descending","sortKey":"Default"}}}'
            )
            root[f"searchListingsV2({params})"] = {
                "__typename": "SearchListingsResultsSuccess",
                "searchResults": refs,
            }
        apollo["ROOT_QUERY"] = root
        title = f"{loc}, Suburb Profile & Property Market Trends | Domain"
        canonical = f"{SITE_ORIGIN}/suburb-profile/{slug}"
        page_props = {
            "urlSlug": slug,
            "baseUrl": SITE_ORIGIN,
            "header": {
                "baseUrl": "www.domain.com.au",
                "theme": "domain",
                "initialMode": "suburbs",
                "breadcrumbs": [
                    {"title": "Suburb Profile", "url": "/suburb-profile"},
                    {"title": str(loc), "url": f"/suburb-profile/{slug}"},
                ],
            },
            "details": {"theme": "domain"},
            "layout": {
                "title": title,
                "description": f"View {loc.name} {loc.state} suburb profile & real estate market data.",
                "canonicalLink": canonical,
            },
            "__APOLLO_STATE__": apollo,
        }
        next_data = {
            "props": {"pageProps": page_props, "__N_SSP": True},
            "page": "/suburb-profile/[suburbSlug]",
            "query": {"suburbSlug": slug},
            "buildId": _PROFILE_BUILD_ID,
            "assetPrefix": "https://s.domainstatic.com.au/fe-server-location-profiles/master-881",
            "runtimeConfig": {"BASE_URL": SITE_ORIGIN, "publicGraphQLUrl": f"{SITE_ORIGIN}/graphql"},
            "isFallback": False,
            "gssp": True,
            "customServer": True,
            "scriptLoader": [],
        }
        body = (
            f'<main><h1 data-testid="suburb-name">{html.escape(str(loc))}</h1>'
            f"<p>Population {apollo[f'Suburb:{suburb_id}']['statistics']['population']}</p></main>"
        )
        return _html_page(200, "profile", title, title, canonical, body, next_data, slug=slug)

    def _suburb(self, suburb_id: str, neighbours: list[Locality]) -> dict[str, Any]:
        rng, loc = self.rng, self.loc
        owners = rng.uniform(0.3, 0.8)
        married = rng.uniform(0.35, 0.65)
        return {
            "__typename": "Suburb",
            "id": suburb_id,
            "slug": loc.slug,
            "name": loc.name,
            "region": self.data.region,
            "area": self.data.area,
            "state": loc.state,
            "postcode": loc.postcode,
            "content": None,
            'suburbShape({"geometryPrecision":"high"})': {
                "__typename": "SuburbShape",
                "boundaryGeoJson": self._boundary(),
            },
            "surroundingSuburbs": [
                {
                    "__typename": "Suburb",
                    "name": n.name,
                    "state": n.state,
                    "postcode": n.postcode,
                    "slug": n.slug,
                }
                for n in neighbours
            ],
            "statistics": {
                "__typename": "SuburbStatistics",
                "marriedPercentage": married,
                "ownerOccupierPercentage": owners,
                "population": rng.randint(800, 45_000),
                "renterPercentage": 1 - owners,
                "singlePercentage": 1 - married,
                "mostCommonAgeBracket": rng.choice(("20 to 39", "40 to 59", "60+", "Under 20")),
            },
            "schools": [self._school(n) for n in range(rng.randint(0, 12))],
        }

    def _boundary(self) -> str:
        rng = self.rng
        points = rng.randint(40, 220)
        radius = rng.uniform(0.008, 0.03)
        ring = []
        for n in range(points):
            angle = 2 * math.pi * n / points
            r = radius * (1 + 0.25 * math.sin(3 * angle + rng.random()))
            ring.append(
                [round(self.data.lng + r * math.cos(angle), 7), round(self.data.lat + r * math.sin(angle), 7)]
            )
        ring.append(ring[0])
        return json.dumps({"type": "Polygon", "coordinates": [ring]}, separators=(",", ":"))

    def _school(self, number: int) -> dict[str, Any]:
        rng, loc = self.rng, self.loc
        school_type, sector, gender, years = rng.choice(_SCHOOL_SECTORS)
        name = {
            "Primary": f"{loc.name} {('', 'North ', 'West ', 'South ')[number % 4]}Primary School",
            "Secondary": f"{loc.name} {('Secondary College', 'High School', 'College')[number % 3]}",
            "Combined": f"{loc.name} Community School",
            "Special": f"{loc.name} Specialist School",
        }[school_type]
        if sector == "Catholic":
            name = f"St {rng.choice(('Mary', 'Joseph', 'John', 'Anne', 'Patrick'))}'s {name.split(' ', 1)[1]}"
        acara = str(rng.randint(40_000, 53_999))
        return {
            "__typename": "School",
            "acaraId": acara,
            "schoolType": school_type,
            "name": name,
            "state": loc.state,
            "suburb": loc.name,
            "postcode": loc.postcode,
            "gender": gender,
            "schoolSector": sector,
            "domainSeoUrlSlug": f"{_path_slug(name)}-{loc.state.lower()}-{loc.postcode}-{acara}",
            "profile": (
                None
                if years is None
                else {
                    "__typename": "SchoolProfile",
                    "yearRange": years,
                    "url": f"http://www.{_path_slug(name).replace('-', '')}.edu.au",
                }
            ),
        }

    def _location_profile(self, profile_id: str, neighbours: list[Locality]) -> dict[str, Any]:
        counts: dict[str, int] = {}
        kinds: tuple[tuple[Kind, str], ...] = (("sale", "ForSale"), ("rent", "ForRent"))
        for kind, suffix in kinds:
            for code, name in (
                ("ApartmentUnitFlat", "apartmentsAndUnits"),
                ("BlockOfUnits", "blockOfUnits"),
                ("Duplex", "duplexes"),
                ("House", "houses"),
                ("Penthouse", "penthouses"),
                ("SemiDetached", "semiDetachedHouses"),
                ("Studio", "studios"),
                ("Terrace", "terracedHouses"),
                ("Townhouse", "townhouses"),
                ("Villa", "villas"),
            ):
                if kind == "rent" and code == "BlockOfUnits":
                    continue
                counts[name + suffix] = sum(1 for x in self.data.listings[kind] if x.ptype.code == code)
        categories = [self._category("House", beds) for beds in range(2, 6)]
        categories += [self._category("Unit", beds) for beds in range(1, 4)]
        return {
            "__typename": "LocationProfile",
            "id": profile_id,
            "suburbName": self.loc.name,
            "urlSlug": self.loc.slug,
            "surroundingSuburbs": [
                {"__typename": "SurroundingSuburb", "name": n.name, "urlSlug": n.slug} for n in neighbours
            ],
            "data": {"__typename": "LocationDetails", "propertyCategories": categories, **counts},
        }

    def _category(self, category: str, beds: int) -> dict[str, Any]:
        rng = self.rng
        number_sold = rng.randint(0, 260)
        # Too few sales: the site shows 0 for "no data".
        known = number_sold >= 10
        base = (
            rng.uniform(250_000, 1_800_000) * (1 + 0.15 * (beds - 3)) * (1.0 if category == "House" else 0.6)
        )
        median_price = _round_to(base, 1_000) if known else 0
        growth = []
        price = base / 1.25
        previous = 0.0
        for year in range(self.site.today.year - 6, self.site.today.year):
            price *= 1 + rng.uniform(-0.04, 0.09)
            rounded = _round_to(price, 1_000)
            growth.append(
                {
                    "__typename": "SalesGrowthList",
                    "year": year,
                    "numberSold": rng.randint(5, 200),
                    "medianSoldPrice": rounded,
                    "annualGrowth": 0 if not previous else (rounded - previous) / previous,
                }
            )
            previous = rounded
        return {
            "__typename": "PropertyCategory",
            "bedrooms": beds,
            "propertyCategory": category,
            "medianSoldPrice": median_price,
            "daysOnMarket": rng.randint(20, 120) if known else 0,
            "auctionClearanceRate": rng.choice((0, rng.uniform(0.2, 0.8))) if known else 0,
            "numberSold": number_sold,
            "medianRentPrice": _round_to(median_price * 0.0008, 5) if known and rng.random() < 0.9 else 0,
            "entryLevelPrice": _round_to(median_price * 0.7, 1_000) if known else 0,
            "luxuryLevelPrice": _round_to(median_price * 1.5, 1_000) if known else 0,
            "salesGrowthList": growth,
        }

    def _card(self, listing: Listing) -> dict[str, Any]:
        stamp = listing.updated.strftime("%y%m%d_%H%M%S")
        name = _image_name(listing.listing_id, 1, stamp, listing.image_size)
        street_number = listing.number if not listing.number.startswith("Lot ") else ""
        return {
            "__typename": "SearchListingsResultListing",
            "id": str(listing.listing_id),
            "priceDetails": {"__typename": "PriceDetails", "displayPrice": listing.price_text},
            "displayableAddress": {
                "__typename": "Address",
                "displayAddress": f"{listing.street}, {self.loc.name}" if listing.street else self.loc.name,
                "suburbName": listing.suburb,
                "state": listing.state,
                "postcode": listing.postcode,
                "street": listing.street_name if listing.street else "",
                "unitNumber": listing.unit if listing.street else "",
                "streetNumber": street_number if listing.street else "",
            },
            "propertyType": listing.ptype.code,
            "heroImage": {
                "__typename": "Image",
                'url({"resolution":{"height":428,"width":642}})': _image_url(
                    "642x428/filters:format(png):quality(80):no_upscale()", name
                ),
            },
            "listingSlug": listing.url.lstrip("/"),
            "bedrooms": listing.beds,
            "bathrooms": listing.baths,
            "carspaces": listing.parking,
            "listingId": listing.listing_id,
        }


# ---------------------------------------------------------------------------------------------
# Serving


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], site: FakeSite) -> None:
        self.site = site
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser that was killed or restarted drops its connections: that is the client's doing.
        if isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            return
        super().handle_error(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Drop every open connection (keep-alive ones included), so that no thread outlives `stop()`."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AkamaiGHost"
    sys_version = ""
    # Idle keep-alive connections are closed after this many seconds.
    timeout = 60
    server: _Server

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _answer(self, head: bool) -> None:
        try:
            response = self.server.site.handle(
                self.command, self.path, self.headers.get("Cookie"), stop=self.server.stopping
            )
        except Exception as exc:  # never kill the connection thread; say what broke
            print(f"fakesite: error answering {self.path}: {exc!r}", file=sys.stderr)
            response = _small_page(500, "error", "Internal Server Error", "Internal Server Error")
        if response is None:
            self.close_connection = True
            return
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers:
                self.send_header(name, value)
            self.end_headers()
            if not head:
                self.wfile.write(response.body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the site keeps its own log (`site.served`)


@dataclass
class FetchResult:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class RunningSite:
    """A `FakeSite` being served: `.site`, `.base_url`, `.url(path)`, `.get(path)`, `.stop()`."""

    def __init__(self, site: FakeSite, server: _Server, thread: threading.Thread) -> None:
        self.site = site
        self._server = server
        self._thread = thread
        host, port = server.server_address[:2]
        self.host = str(host)
        self.port = int(port)
        self.base_url = f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def get(self, path: str, *, cookie: bool = True, timeout: float = 10.0) -> FetchResult:
        """GET with urllib (no redirects followed); `cookie=True` sends a `_abck` the gate accepts."""
        request = urllib.request.Request(self.url(path))
        if cookie:
            request.add_header("Cookie", self.site.cookie_header())
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=timeout) as answer:
                return FetchResult(answer.status, dict(answer.headers.items()), answer.read())
        except urllib.error.HTTPError as error:
            with error:
                return FetchResult(error.code, dict(error.headers.items()), error.read())

    def stop(self) -> None:
        if self._server.stopping.is_set():
            return
        self._server.stopping.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningSite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def start(site: FakeSite, host: str = "127.0.0.1", port: int = 0) -> RunningSite:
    """Serve `site` in a background thread; call `.stop()` when done (or use `serve()`)."""
    server = _Server((host, port), site)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fakesite", daemon=True
    )
    thread.start()
    return RunningSite(site, server, thread)


@contextmanager
def serve(site: FakeSite, host: str = "127.0.0.1", port: int = 0) -> Iterator[RunningSite]:
    """Serve `site` on `host:port` (0: a free port) for the duration of the `with` block."""
    running = start(site, host, port)
    try:
        yield running
    finally:
        running.stop()


def extract_next_data(body: bytes | str) -> dict[str, Any]:
    """The `__NEXT_DATA__` JSON of one of this site's pages (a small reader for tests)."""
    text = body.decode() if isinstance(body, bytes) else body
    match = re.search(r'<script id="__NEXT_DATA__" type="application/json">(.*?)</script>', text, re.DOTALL)
    if match is None:
        raise ValueError("no __NEXT_DATA__ in this page")
    data: dict[str, Any] = json.loads(match.group(1))
    return data


# ---------------------------------------------------------------------------------------------
# Command line


def _locality_spec(text: str) -> tuple[Locality, dict[Kind, int]]:
    """ "Big Town VIC 3999:3000,0,0" -> the locality and its sale, rent, sold counts."""
    name, _, numbers = text.partition(":")
    values = [int(v) for v in numbers.split(",")] if numbers else [1200, 0, 0]
    if len(values) != 3:
        raise argparse.ArgumentTypeError(f"{text!r}: expected 'Name STATE 1234[:SALE,RENT,SOLD]'")
    return Locality.parse(name), dict(zip(KINDS, values, strict=True))


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m newhomie.testing.fakesite", description="Serve the local copy of domain.com.au."
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--localities", type=int, default=5, help="number of localities (default 5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--listings", metavar="LOW-HIGH", help="draw every kind's listing count from this range instead"
    )
    parser.add_argument(
        "--add-locality",
        action="append",
        default=[],
        type=_locality_spec,
        metavar="'Name STATE 1234[:SALE,RENT,SOLD]'",
        help="add a locality with exactly these counts (repeatable)",
    )
    args = parser.parse_args(None if argv is None else list(argv))
    per_locality = None
    if args.listings:
        low, _, high = args.listings.partition("-")
        per_locality = (int(low), int(high))
    site = FakeSite(localities=args.localities, seed=args.seed, listings_per_locality=per_locality)
    for locality, counts in args.add_locality:
        site.add_locality(locality.name, locality.state, locality.postcode, **counts)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with serve(site, args.host, args.port) as running:
        print(f"fakesite: serving {len(site.localities())} localities at {running.base_url}", flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
