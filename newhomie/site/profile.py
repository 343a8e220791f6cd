"""Suburb profiles, read from their Apollo cache (docs/site.md#suburb-profile)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any, Final

from pydantic import ValidationError

from newhomie.items import SuburbProfile
from newhomie.site.errors import PageShapeError, validation_problem
from newhomie.site.next_data import at_path, extract_next_data, query_of, raise_for_route
from newhomie.site.urls import SLUG, slug_from_url

APOLLO_STATE: Final = "props.pageProps.__APOLLO_STATE__"


def parse_suburb_profile(text: str, url: str | None = None) -> SuburbProfile:
    """Read a suburb profile page from its Apollo cache (`props.pageProps.__APOLLO_STATE__`)."""
    data = extract_next_data(text, url)
    wanted = _profile_slug(data, url)
    raise_for_route(data, url, wanted)
    apollo: dict[str, Any] = at_path(data, APOLLO_STATE, url)
    suburb_key, suburb = _apollo_entry(apollo, "Suburb:", "slug", "suburb(", wanted)
    if suburb is None:
        raise PageShapeError(f"{APOLLO_STATE}.Suburb:*", "no Suburb entry", url)
    _, location = _apollo_entry(apollo, "LocationProfile:", "urlSlug", "locationProfile(", wanted)
    stats = _deref(apollo, suburb.get("statistics")) or {}
    try:
        return SuburbProfile(
            slug=suburb.get("slug") or wanted,
            name=suburb.get("name"),
            state=suburb.get("state"),
            postcode=suburb.get("postcode"),
            region=suburb.get("region"),
            area=suburb.get("area"),
            population=stats.get("population"),
            owner_occupier_share=stats.get("ownerOccupierPercentage"),
            renter_share=stats.get("renterPercentage"),
            married_share=stats.get("marriedPercentage"),
            single_share=stats.get("singlePercentage"),
            most_common_age_bracket=stats.get("mostCommonAgeBracket"),
            market=_market_rows(apollo, location),
            schools=[_school(apollo, school) for school in _deref_list(apollo, suburb.get("schools"))],
            boundary=_boundary(apollo, suburb, f"{APOLLO_STATE}.{suburb_key}", url),
            surrounding_slugs=_surrounding_slugs(apollo, suburb, location),
            neighbours=_neighbours(apollo, suburb, location),
            url=url,
        )
    except ValidationError as exc:
        name, message = validation_problem(exc)
        raise PageShapeError(f"{APOLLO_STATE} ({exc.title}.{name})", message, url) from None


def _profile_slug(data: dict[str, Any], url: str | None) -> str | None:
    candidates = [
        query_of(data).get("suburbSlug"),
        _page_props(data).get("urlSlug"),
        slug_from_url(url),
    ]
    for candidate in candidates:
        if isinstance(candidate, str) and SLUG.fullmatch(candidate):
            return candidate
    return None


def _page_props(data: dict[str, Any]) -> dict[str, Any]:
    props = data.get("props")
    page_props = props.get("pageProps") if isinstance(props, dict) else None
    return page_props if isinstance(page_props, dict) else {}


def _apollo_entry(
    apollo: dict[str, Any], prefix: str, slug_field: str, root_field: str, wanted: str | None
) -> tuple[str, dict[str, Any] | None]:
    """The cache entry of one type: the one for the wanted slug, else the root query's, else the first."""
    found = [
        (key, value) for key, value in apollo.items() if key.startswith(prefix) and isinstance(value, dict)
    ]
    for key, value in found:
        if wanted and value.get(slug_field) == wanted:
            return key, value
    root = apollo.get("ROOT_QUERY")
    if isinstance(root, dict):
        for name, ref in root.items():
            if name.startswith(root_field) and isinstance(ref, dict) and ref.get("__ref") in apollo:
                key = ref["__ref"]
                if key.startswith(prefix) and isinstance(apollo[key], dict):
                    return key, apollo[key]
    return found[0] if found else (f"{prefix}*", None)


def _deref(apollo: dict[str, Any], value: Any) -> Any:
    """Follow an Apollo `{"__ref": key}` link; other values are returned as they are."""
    if isinstance(value, dict) and set(value) == {"__ref"}:
        return apollo.get(value["__ref"])
    return value


def _deref_list(apollo: dict[str, Any], values: Any) -> Iterator[dict[str, Any]]:
    for value in values if isinstance(values, list) else []:
        item = _deref(apollo, value)
        if isinstance(item, dict):
            yield item


# Schools and market rows are handed to SuburbProfile as dicts, so that a validation error names
# its place in the profile ("schools.3.acara_id").


def _school(apollo: dict[str, Any], school: dict[str, Any]) -> dict[str, Any]:
    profile = _deref(apollo, school.get("profile")) or {}
    acara_id = school.get("acaraId")
    return {
        "acara_id": str(acara_id) if isinstance(acara_id, int) else acara_id,
        "name": school.get("name"),
        "school_type": school.get("schoolType"),
        "sector": school.get("schoolSector"),
        "gender": school.get("gender"),
        "year_range": profile.get("yearRange"),
        "url": profile.get("url"),
    }


def _market_rows(apollo: dict[str, Any], location: dict[str, Any] | None) -> list[dict[str, Any]]:
    details = _deref(apollo, (location or {}).get("data")) or {}
    return [_market_row(apollo, row) for row in _deref_list(apollo, details.get("propertyCategories"))]


def _market_row(apollo: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    return {
        "property_category": row.get("propertyCategory"),
        "bedrooms": row.get("bedrooms"),
        "median_sold_price": row.get("medianSoldPrice"),
        "median_rent_weekly": row.get("medianRentPrice"),
        "days_on_market": row.get("daysOnMarket"),
        "number_sold": row.get("numberSold"),
        "entry_level_price": row.get("entryLevelPrice"),
        "luxury_level_price": row.get("luxuryLevelPrice"),
        "auction_clearance_rate": row.get("auctionClearanceRate"),
        "sales_growth": _sales_growth(apollo, row),
    }


def _sales_growth(apollo: dict[str, Any], row: dict[str, Any]) -> list[dict[str, Any]]:
    """Yearly rows. The site writes growth 0 both for "no data" (the first year, a year or its
    predecessor without a median) and for a real 0 (the same median two years running)."""
    years: list[dict[str, Any]] = []
    previous_median: Any = None
    for growth in _deref_list(apollo, row.get("salesGrowthList")):
        median = growth.get("medianSoldPrice")
        annual = growth.get("annualGrowth")
        if annual == 0 and not (median and previous_median):
            annual = None
        years.append(
            {
                "year": growth.get("year"),
                "number_sold": growth.get("numberSold"),
                "median_sold_price": median,
                "annual_growth": annual,
            }
        )
        previous_median = median
    return years


def _boundary(apollo: dict[str, Any], suburb: dict[str, Any], path: str, url: str | None) -> Any:
    keys = [key for key in suburb if key.startswith("suburbShape")]
    # Prefer the high-precision shape when the cache holds several.
    keys.sort(key=lambda key: '"high"' not in key)
    if not keys:
        return None
    shape = _deref(apollo, suburb[keys[0]]) or {}
    geojson = shape.get("boundaryGeoJson") if isinstance(shape, dict) else None
    if isinstance(geojson, str):
        try:
            return json.loads(geojson)
        except ValueError as exc:
            raise PageShapeError(
                f"{path}.{keys[0]}.boundaryGeoJson", f"not valid JSON ({exc})", url
            ) from None
    return geojson


def _surrounding_slugs(
    apollo: dict[str, Any], suburb: dict[str, Any], location: dict[str, Any] | None
) -> list[str]:
    slugs = _slugs(_deref_list(apollo, suburb.get("surroundingSuburbs")), "slug")
    if not slugs and location:
        slugs = _slugs(_deref_list(apollo, location.get("surroundingSuburbs")), "urlSlug")
    return list(dict.fromkeys(slugs))


_SLUG_TAIL: Final = re.compile(r"-(act|nsw|nt|qld|sa|tas|vic|wa)-(\d{4})$")


def _neighbours(
    apollo: dict[str, Any], suburb: dict[str, Any], location: dict[str, Any] | None
) -> list[dict[str, str]]:
    """The surrounding suburbs as {slug, name, state, postcode}: a `Suburb` entry names all four; a
    `SurroundingSuburb` only the name and slug, whose tail (`-vic-3174`) gives the state and postcode.
    An entry without a readable name or slug is left out (the slugs above still list what they can)."""
    found: dict[str, dict[str, str]] = {}
    for items, slug_key in (
        (_deref_list(apollo, suburb.get("surroundingSuburbs")), "slug"),
        (_deref_list(apollo, (location or {}).get("surroundingSuburbs")), "urlSlug"),
    ):
        for item in items:
            slug, name = item.get(slug_key), item.get("name")
            if not isinstance(slug, str) or not isinstance(name, str) or not name.strip() or slug in found:
                continue
            tail = _SLUG_TAIL.search(slug)
            if tail is None:
                continue
            found[slug] = {"slug": slug, "name": " ".join(name.split()), "state": tail[1].upper(),
                           "postcode": tail[2]}  # fmt: skip
    return list(found.values())


def _slugs(items: Iterable[dict[str, Any]], key: str) -> list[str]:
    return [item[key] for item in items if isinstance(item.get(key), str)]
