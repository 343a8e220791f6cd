"""One entry of a search page as an item: a listing card, or a project (docs/site.md#search-pages).

The site's markers of "no data" are read here: 0 coordinates and land sizes, "Address available on
request", default dates; local times get the listing's own zone (docs/site.md#time-zones).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from newhomie.items import Listing, ListingType, Project
from newhomie.localities import STATES, time_zone
from newhomie.site.errors import short

_LAND_UNITS: Final = {
    "m²": 1.0,
    "m2": 1.0,
    "sqm": 1.0,
    "squaremetres": 1.0,
    "squaremeters": 1.0,
    "ha": 10_000.0,
    "hectare": 10_000.0,
    "hectares": 10_000.0,
    "ac": 4046.8564224,
    "acre": 4046.8564224,
    "acres": 4046.8564224,
}


_WITHHELD_STREET = re.compile(r"^address\s+(?:available\s+)?(?:on|upon)\s+request$", re.IGNORECASE)


_SOLD_TAG = re.compile(r"^sold\b(?P<how>.*?)(?P<day>\b\d{1,2}\s+[a-z]+\.?\s+\d{4})?\s*$", re.IGNORECASE)


_SOLD_HOW_PREFIX = re.compile(r"^(?:at|by|via|on|-)\s+")


_SOLD_METHODS: Final = {
    "": "unknown",
    "auction": "auction",
    "prior to auction": "prior_to_auction",
    "before auction": "prior_to_auction",
    "prior auction": "prior_to_auction",
    "after auction": "after_auction",
    "private treaty": "private_treaty",
    "private sale": "private_treaty",
    "expression of interest": "expression_of_interest",
    "expressions of interest": "expression_of_interest",
    "eoi": "expression_of_interest",
    "tender": "tender",
}


_DATE_FORMATS: Final = ("%d %b %Y", "%d %B %Y")


_SEPTEMBER = re.compile(r"\bSept\b", re.IGNORECASE)


_MC_NAME = re.compile(r"\bMc([a-z])")


_NOT_SNAKE = re.compile(r"[^a-z]+")


class EntryProblem(Exception):
    """Raised while reading one entry; becomes an EntryError."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class EntryContext:
    listing_type: ListingType
    locality_slug: str
    base_url: str


def as_id(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    # A bigint has at most 19 digits: longer digits are no id (and too long for int() to read).
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 19 and int(value) > 0:
        return int(value)
    return None


def read_listing(listing_id: int | str, entry: dict[str, Any], context: EntryContext) -> Listing:
    model = _object(entry, "listingModel", required=True)
    address = _object(model, "address", required=True)
    features = _object(model, "features")
    tags = _object(model, "tags")
    inspection = _object(model, "inspection")
    branding = _object(model, "branding")
    state, postcode = _state_postcode(address)
    zone = time_zone(state, postcode)
    tag = _text(tags.get("tagText"), "tag")
    sold_on, sold_method = _sold(tag, context.listing_type)
    return Listing(
        listing_id=listing_id,
        listing_type=context.listing_type,
        url=_absolute(model.get("url"), context.base_url, "url", required=True),
        locality_slug=context.locality_slug,
        street=_street(address.get("street")),
        suburb=_suburb(address.get("suburb")),
        state=state,
        postcode=postcode,
        lat=address.get("lat"),
        lng=address.get("lng"),
        beds=features.get("beds"),
        baths=features.get("baths"),
        parking=features.get("parking"),
        property_type=features.get("propertyType"),
        land_area_m2=_land_m2(features.get("landSize"), features.get("landUnit")),
        is_rural=_flag(features.get("isRural")),
        is_retirement=_flag(features.get("isRetirement")),
        price_text=_text(model.get("price"), "price_text"),
        auction_at=_local_time(model.get("auction"), zone, "auction_at"),
        inspection_start=_local_time(inspection.get("openTime"), zone, "inspection_start"),
        inspection_end=_local_time(inspection.get("closeTime"), zone, "inspection_end"),
        tag=tag,
        tag_class=tags.get("tagClassName"),
        agency=branding.get("brandName"),
        agency_id=branding.get("agencyId"),
        agent_names=_agent_names(branding),
        promo_type=model.get("promoType"),
        sold_on=sold_on,
        sold_method=sold_method,
    )


def _object(parent: dict[str, Any], key: str, *, required: bool = False) -> dict[str, Any]:
    value = parent.get(key)
    if value is None and not required:
        return {}
    if value is None:
        raise EntryProblem(key, f"{key} is missing")
    if not isinstance(value, dict):
        raise EntryProblem(key, f"{key}: expected an object, found {type(value).__name__}")
    return value


def _state_postcode(address: dict[str, Any]) -> tuple[str, str]:
    state = address.get("state")
    if not isinstance(state, str) or state.strip().upper() not in STATES:
        raise EntryProblem("state", f"unknown state {short(state)}; known states: {', '.join(STATES)}")
    postcode = address.get("postcode")
    if isinstance(postcode, int) and not isinstance(postcode, bool):
        postcode = f"{postcode:04d}"
    if not isinstance(postcode, str) or not re.fullmatch(r"\d{4}", postcode.strip()):
        raise EntryProblem("postcode", f"postcode {short(postcode)} is not 4 digits")
    return state.strip().upper(), postcode.strip()


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise EntryProblem(name, f"expected text, found {type(value).__name__}")
    return str(value).strip() or None


def _street(value: Any) -> str | None:
    street = _text(value, "street")
    if street is None or _WITHHELD_STREET.match(street):
        return None
    return street


def _suburb(value: Any) -> str:
    suburb = _text(value, "suburb")
    if suburb is None:
        raise EntryProblem("suburb", "suburb is missing")
    return _title_case(suburb) if suburb.isupper() else suburb


def _title_case(name: str) -> str:
    """DANDENONG -> Dandenong, NOBLE PARK NORTH -> Noble Park North, MCKINNON -> McKinnon."""
    return _MC_NAME.sub(lambda match: "Mc" + match.group(1).upper(), name.title())


def _flag(value: Any) -> Any:
    return False if value is None else value


def _absolute(value: Any, base_url: str, name: str, *, required: bool = False) -> str | None:
    path = _text(value, name)
    if path is None:
        if required:
            raise EntryProblem(name, f"{name} is missing")
        return None
    return urljoin(base_url + "/", path)


def _land_m2(size: Any, unit: Any) -> float | None:
    """Land area in square metres; 0 means unknown. Hectares and acres are converted."""
    if size is None or size == "" or size == 0:
        return None
    if isinstance(size, bool):
        raise EntryProblem("land_area_m2", f"land size {short(size)} is not a number")
    try:
        number = float(size.replace(",", "")) if isinstance(size, str) else float(size)
    except (TypeError, ValueError):
        raise EntryProblem("land_area_m2", f"land size {short(size)} is not a number") from None
    # The site's unit is m² unless it says otherwise.
    key = "m²" if unit is None else str(unit).lower().replace(" ", "").replace(".", "")
    if key not in _LAND_UNITS:
        raise EntryProblem("land_area_m2", f"unknown land unit {short(unit)}")
    return round(number * _LAND_UNITS[key], 2) or None


def _local_time(value: Any, zone: ZoneInfo, name: str) -> datetime | None:
    """The site's local wall-clock time, in the listing's zone. Missing is None, never 1970."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or ":" not in value:
        raise EntryProblem(name, f"{short(value)} is not a date and time")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise EntryProblem(name, f"{short(value)} is not an ISO date and time") from None
    # The back end writes default dates (0001-01-01, 1970-01-01) for "no time".
    if moment.year <= 1970:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def _agent_names(branding: dict[str, Any]) -> list[str]:
    agents = branding.get("agents")
    if isinstance(agents, list):
        names = [agent.get("agentName") for agent in agents if isinstance(agent, dict)]
        return [name.strip() for name in names if isinstance(name, str) and name.strip()]
    joined = branding.get("agentNames")
    if isinstance(joined, str):
        return [name.strip() for name in joined.split(",") if name.strip()]
    return []


def _sold(tag: str | None, listing_type: ListingType) -> tuple[date | None, str | None]:
    """Sale date and method from a tag such as "Sold by private treaty 04 Dec 2025"."""
    match = _SOLD_TAG.match(tag) if tag else None
    if match is None:
        return (None, "unknown") if listing_type == "sold" else (None, None)
    how = " ".join(match.group("how").lower().split())
    how = _SOLD_HOW_PREFIX.sub("", how)
    method = _SOLD_METHODS.get(how) or _NOT_SNAKE.sub("_", how).strip("_") or "unknown"
    return _sold_date(match.group("day")), method


def _sold_date(text: str | None) -> date | None:
    if not text:
        return None
    cleaned = " ".join(text.replace(".", "").split())
    cleaned = _SEPTEMBER.sub("Sep", cleaned)
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, form).date()
        except ValueError:
            continue
    return None


def read_project(project_id: int | str, entry: dict[str, Any], context: EntryContext) -> Project:
    model = _object(entry, "listingModel")

    def pick(*names: str) -> Any:
        for source in (model, entry):
            for name in names:
                if source.get(name) is not None:
                    return source[name]
        return None

    children = pick("childListingIds") or []
    if not isinstance(children, list):
        raise EntryProblem("child_listing_ids", f"expected a list, found {type(children).__name__}")
    return Project(
        project_id=project_id,
        locality_slug=context.locality_slug,
        name=_text(pick("projectName", "name"), "name"),
        display_address=_text(pick("displayAddress"), "display_address"),
        url=_absolute(pick("url", "projectUrl"), context.base_url, "url"),
        child_listing_ids=children,
    )
