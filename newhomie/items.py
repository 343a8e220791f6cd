"""The crawler's items: pydantic models of what the site's pages hold.

These models are the boundary between the site's JSON and everything downstream (price
normalisation, the database). They reject what cannot be true (a state that does not exist, a
latitude outside Australia, a naive datetime) and turn the site's "no data" markers (0 for a
missing coordinate, land size or market figure; "" for a withheld street) into None, so no other
module has to know about them. Assignments are validated too: a pipeline cannot store a bad price.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveInt,
    StringConstraints,
)

from newhomie.localities import STATES

ListingType = Literal["sale", "rent", "sold"]

#: Values `Listing.sold_method` takes for the site's sold tags; an unforeseen tag such as
#: "Sold by set date" becomes its snake_case phrase ("set_date"), hence a pattern, not a Literal.
SOLD_METHODS = (
    "auction",
    "prior_to_auction",
    "after_auction",
    "private_treaty",
    "expression_of_interest",
    "tender",
    "unknown",
)
#: No Australian home has sold for a billion dollars; a bigger number is a parsing bug such as the
#: digits of a range glued together, which would overflow an integer column
#: (docs/site.md#lessons-of-the-earlier-crawler).
PRICE_MAX = 1_000_000_000
#: The largest cattle stations are about 2.4 million hectares.
LAND_MAX_M2 = 1e11
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _zero_to_none(value: Any) -> Any:
    """The site writes 0 where it has no figure (coordinates, land size, market data)."""
    if value == 0 and not isinstance(value, bool):
        return None
    return value


def _reject_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a count must be a number, not a boolean")
    return value


def _known_state(value: str) -> str:
    if value not in STATES:
        raise ValueError(f"unknown state {value!r}; known states: {', '.join(STATES)}")
    return value


def _absolute_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError(f"URL {value!r} is not absolute")
    return value


def _geojson(value: Any) -> Any:
    """Accept the site's GeoJSON string as well as an already parsed dict."""
    if isinstance(value, str):
        value = json.loads(value)
    if value is not None and not (isinstance(value, dict) and isinstance(value.get("type"), str)):
        raise ValueError("boundary is not a GeoJSON object with a 'type'")
    return value


#: The longest text a page may give a field: the longest real ones (an agency's name, a price the
#: agent wrote as a sentence) are under 200 characters; a longer one is a broken page, kept aside.
TEXT_MAX = 2_000
URL_MAX = 2_048
#: Ids are PostgreSQL bigints.
ID_MAX = 2**63 - 1

Text = Annotated[
    Annotated[str, StringConstraints(max_length=TEXT_MAX)] | None, BeforeValidator(_blank_to_none)
]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_MAX)]
Id = Annotated[int, BeforeValidator(_reject_bool), Field(gt=0, le=ID_MAX)]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
State = Annotated[str, AfterValidator(_known_state)]
Postcode = Annotated[str, StringConstraints(pattern=r"^\d{4}$")]
Url = Annotated[str, StringConstraints(max_length=URL_MAX), AfterValidator(_absolute_url)]
Count = Annotated[int, BeforeValidator(_reject_bool), Field(ge=0, le=50)]
Price = Annotated[int, BeforeValidator(_reject_bool), Field(ge=0, le=PRICE_MAX)]
_Lat = Annotated[float, Field(ge=-45, le=-9, allow_inf_nan=False)]
_Lng = Annotated[float, Field(ge=112, le=155, allow_inf_nan=False)]
_Area = Annotated[float, Field(gt=0, le=LAND_MAX_M2, allow_inf_nan=False)]
_Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
# The site writes 0 where it has no figure: a coordinate, a land size, a market figure.
Latitude = Annotated[_Lat | None, BeforeValidator(_zero_to_none)]
Longitude = Annotated[_Lng | None, BeforeValidator(_zero_to_none)]
LandArea = Annotated[_Area | None, BeforeValidator(_zero_to_none)]
Figure = Annotated[PositiveInt | None, BeforeValidator(_reject_bool), BeforeValidator(_zero_to_none)]
Share = Annotated[_Share | None, BeforeValidator(_zero_to_none)]


class BaseItem(BaseModel):
    """Every item: no unknown fields, and assignments are validated like construction."""

    model_config = ConfigDict(validate_assignment=True, extra="forbid")


class Listing(BaseItem):
    """One listing of a search page, keyed by the site's id (never by its address)."""

    listing_id: Id
    listing_type: ListingType
    url: Url
    locality_slug: Slug
    street: Text
    suburb: NonEmpty
    state: State
    postcode: Postcode
    lat: Latitude
    lng: Longitude
    beds: Count | None
    baths: Count | None
    parking: Count | None
    property_type: Text
    land_area_m2: LandArea
    is_rural: bool
    is_retirement: bool
    price_text: Text
    price_low: Price | None = None
    price_high: Price | None = None
    auction_at: AwareDatetime | None
    inspection_start: AwareDatetime | None
    inspection_end: AwareDatetime | None
    tag: Text
    tag_class: Text = None
    agency: Text
    agency_id: Id | None
    agent_names: list[NonEmpty] = Field(default_factory=list)
    promo_type: Text
    sold_on: date | None = None
    sold_method: Annotated[str, StringConstraints(pattern=r"^[a-z]+(?:_[a-z]+)*$")] | None = None
    sold_price: Price | None = None


class Project(BaseItem):
    """A new development; its units are listed as ordinary listings."""

    project_id: Id
    locality_slug: Slug
    name: Text
    display_address: Text
    url: Url | None
    child_listing_ids: list[Id]


class School(BaseItem):
    acara_id: Annotated[str, StringConstraints(pattern=r"^\d+$")]
    name: NonEmpty
    school_type: Text
    sector: Text
    gender: Text
    year_range: Text
    url: Text


class SalesGrowth(BaseItem):
    """One year of a market row. `annual_growth` is a fraction (0.05 is 5 %); a real 0 is kept."""

    year: Annotated[int, Field(ge=1900, le=2200)]
    number_sold: Figure
    median_sold_price: Figure
    annual_growth: Annotated[float, Field(allow_inf_nan=False)] | None


class MarketRow(BaseItem):
    """Market figures of one (property category, bedrooms) pair; None where the site has no data."""

    property_category: str
    bedrooms: Count
    median_sold_price: Figure
    median_rent_weekly: Figure
    days_on_market: Figure
    number_sold: Figure
    entry_level_price: Figure
    luxury_level_price: Figure
    auction_clearance_rate: Share
    sales_growth: list[SalesGrowth]


class Neighbour(BaseItem):
    """A suburb a profile names as surrounding it; state and postcode are read from its slug's tail."""

    slug: Slug
    name: NonEmpty
    state: State
    postcode: Postcode


class SuburbProfile(BaseItem):
    slug: Slug
    name: NonEmpty
    state: State
    postcode: Postcode
    region: Text
    area: Text
    population: Figure
    owner_occupier_share: Share
    renter_share: Share
    married_share: Share
    single_share: Share
    most_common_age_bracket: Text
    market: list[MarketRow]
    schools: list[School]
    boundary: Annotated[dict[str, Any] | None, BeforeValidator(_geojson)]
    surrounding_slugs: list[Slug]
    #: The surrounding suburbs with their names (for discovering localities no list has).
    neighbours: list[Neighbour] = []
    #: The page it was read from.
    url: Url | None = None


# ---------------------------------------------------------------------------------------------
# The crawl's own records. The spider and the pipelines use these (see sql/migrations: the
# locality, crawl_error and rejected_item tables); they hold no data of the site.


class LocalityVisit(BaseItem):
    """A locality reached by a crawl: `active`, or `not_found` when the site answered its /404."""

    slug: Slug
    name: NonEmpty
    state: State
    postcode: Postcode
    status: Literal["active", "not_found"]
    crawled_at: AwareDatetime


class LocalityOutcome(BaseItem):
    """How one attempt at a locality ended, within a crawl (see `locality_crawl`)."""

    crawl_key: NonEmpty
    slug: Slug
    locality: NonEmpty
    status: Literal["done", "not_found", "failed"]
    attempt: int = Field(ge=1)
    started_at: AwareDatetime
    finished_at: AwareDatetime
    pages: int = Field(ge=0)
    listings: int = Field(ge=0)
    errors: int = Field(ge=0)
    #: Searches that could not be read whole, each said with its reason (docs/site.md#limits).
    incomplete: list[NonEmpty] = Field(default_factory=list)
    #: Pages an incremental crawl did not fetch: a sold search's unread pages, a fresh profile.
    pages_saved: int = Field(default=0, ge=0)
    #: Pages read, and pages left unread, by kind (profile, sale, rent, sold).
    pages_by_kind: dict[str, int] = Field(default_factory=dict)
    pages_saved_by_kind: dict[str, int] = Field(default_factory=dict)
    #: The kinds asked for, and those read whole (every page needed, none failed, none truncated).
    kinds: list[str] = Field(default_factory=list)
    complete_kinds: list[str] = Field(default_factory=list)


class CrawlError(BaseItem):
    """A page that could not be read or fetched, with the locality and URL it concerns."""

    locality: str | None
    url: str | None
    stage: NonEmpty
    error_type: NonEmpty
    message: NonEmpty
    occurred_at: AwareDatetime


class RejectedEntry(BaseItem):
    """Something the site sent that could not be stored as it came (kept, never dropped)."""

    kind: NonEmpty
    locality: str | None
    url: str | None
    raw: dict[str, Any] | list[Any]
    reason: NonEmpty
