"""Search pages (sale, rent, sold) of one locality (docs/site.md#search-pages)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from pydantic import ValidationError

from newhomie.items import Listing, ListingType, Project
from newhomie.site.errors import EntryError, PageShapeError, short, validation_problem
from newhomie.site.listing import EntryContext, EntryProblem, as_id, read_listing, read_project
from newhomie.site.next_data import at_path, extract_next_data, query_of, raise_for_route
from newhomie.site.urls import MAX_PAGES, PAGE_SIZE, SEARCH_PATH_RE, SITE_URL, SLUG, slug_from_url

SEARCH_PROPS: Final = "props.pageProps.componentProps"

_LISTING_TYPES: Final[dict[str, ListingType]] = {
    "sale": "sale",
    "buy": "sale",
    "rent": "rent",
    "lease": "rent",
    "sold": "sold",
    "sold-listings": "sold",
}


def _count_at(props: dict[str, Any], key: str, url: str | None, default: int | None = None) -> int:
    path = f"{SEARCH_PROPS}.{key}"
    if default is not None and props.get(key) is None:
        return default
    value = at_path(props, key, url, (int, str), root=SEARCH_PROPS)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, int) and value >= 0:
        return value
    raise PageShapeError(path, f"expected a count, found {short(value)}", url)


@dataclass(slots=True)
class SearchPage:
    """One search results page (sale, rent or sold) of one locality."""

    url: str | None
    locality_slug: str
    listing_type: ListingType
    current_page: int
    total_pages: int
    total_listings: int
    #: One per listing id: the organic results in display order, then the promoted ones.
    listings: list[Listing] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    #: Recent nearby sales shown on sale pages (`UPVSoldListings`); not results of this search.
    nearby_sold: list[Listing] = field(default_factory=list)
    errors: list[EntryError] = field(default_factory=list)
    #: `listingSearchResultIds` and `topspotFeaturedPropertyIds` as the page gave them.
    organic_ids: list[int] = field(default_factory=list)
    topspot_ids: list[int] = field(default_factory=list)
    #: Whether the site says it searched the surrounding suburbs too (the `ssubs=0` check).
    surrounding_included: bool | None = None

    @property
    def has_next_page(self) -> bool:
        return self.current_page < min(self.total_pages, MAX_PAGES)

    @property
    def truncated(self) -> bool:
        """The site shows at most MAX_PAGES pages: a bigger search must be split to be complete."""
        return self.total_listings > PAGE_SIZE * MAX_PAGES


def parse_search_page(text: str, url: str | None = None) -> SearchPage:
    """Read a sale, rent or sold search page (HTML or bare `__NEXT_DATA__` JSON)."""
    data = extract_next_data(text, url)
    query = query_of(data)
    location = query.get("location")
    raise_for_route(data, url, location if isinstance(location, str) else slug_from_url(url))
    props = at_path(data, SEARCH_PROPS, url)
    listing_type = _listing_type(query, url)
    slug = _search_slug(query, url)
    total_listings = _count_at(props, "totalListings", url)
    # A search with no result may leave out the paging fields; any other page must have them.
    empty = total_listings == 0
    page = SearchPage(
        url=url,
        locality_slug=slug,
        listing_type=listing_type,
        current_page=_count_at(props, "currentPage", url, 1 if empty else None),
        total_pages=_count_at(props, "totalPages", url, 0 if empty else None),
        total_listings=total_listings,
        organic_ids=_id_list(props, "listingSearchResultIds", url),
        topspot_ids=_id_list(props, "topspotFeaturedPropertyIds", url),
        surrounding_included=_surrounding_included(props),
    )
    context = EntryContext(listing_type, slug, _base_url(props, url))
    _read_listings_map(page, _listings_map(props, url, empty), context)
    _read_nearby_sold(page, props, url, EntryContext("sold", slug, context.base_url))
    return page


def _listing_type(query: dict[str, Any], url: str | None) -> ListingType:
    word = query.get("listingType")
    if isinstance(word, str) and word.lower() in _LISTING_TYPES:
        return _LISTING_TYPES[word.lower()]
    match = SEARCH_PATH_RE.search(urlsplit(url).path) if url else None
    if match:
        return _LISTING_TYPES[match.group(1)]
    raise PageShapeError(
        "query.listingType", f"missing or unknown ({short(word)}) and the URL names none", url
    )


def _search_slug(query: dict[str, Any], url: str | None) -> str:
    location = query.get("location")
    if isinstance(location, str) and SLUG.fullmatch(location.strip().lower()):
        return location.strip().lower()
    slug = slug_from_url(url)
    if slug:
        return slug
    raise PageShapeError("query.location", f"missing or not a locality slug ({short(location)})", url)


def _base_url(props: dict[str, Any], url: str | None) -> str:
    """Where the page came from (the local copy of the site in tests), else what the page says."""
    if url and url.startswith(("https://", "http://")):
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"
    base = props.get("baseUrl")
    return (
        base.rstrip("/") if isinstance(base, str) and base.startswith(("https://", "http://")) else SITE_URL
    )


def _id_list(props: dict[str, Any], key: str, url: str | None) -> list[int]:
    values = props.get(key)
    if values is None:
        return []
    if not isinstance(values, list):
        raise PageShapeError(f"{SEARCH_PROPS}.{key}", f"expected a list, found {type(values).__name__}", url)
    ids: list[int] = []
    for value in values:
        listing_id = as_id(value)
        if listing_id is None:
            raise PageShapeError(f"{SEARCH_PROPS}.{key}", f"{short(value)} is not a listing id", url)
        ids.append(listing_id)
    return ids


def _surrounding_included(props: dict[str, Any]) -> bool | None:
    metadata = props.get("pageViewMetadata")
    request = metadata.get("searchRequest") if isinstance(metadata, dict) else None
    locations = request.get("locations") if isinstance(request, dict) else None
    if isinstance(locations, list) and locations and isinstance(locations[0], dict):
        flag = locations[0].get("includeSurroundingSuburbs")
        return flag if isinstance(flag, bool) else None
    return None


def _listings_map(props: dict[str, Any], url: str | None, empty: bool) -> dict[str, Any]:
    if empty and props.get("listingsMap") is None:
        return {}
    listings_map: dict[str, Any] = at_path(props, "listingsMap", url, root=SEARCH_PROPS)
    return listings_map


def _read_listings_map(page: SearchPage, listings_map: dict[str, Any], context: EntryContext) -> None:
    expected = list(dict.fromkeys(page.organic_ids + page.topspot_ids))
    for listing_id in expected:
        if str(listing_id) not in listings_map:
            message = "listed in the page's result ids but has no listingsMap entry"
            page.errors.append(EntryError(listing_id, "listingsMap", message, {}))
    order = [str(i) for i in page.organic_ids if str(i) in listings_map]
    keys = dict.fromkeys([*order, *listings_map])
    seen_listings: set[int] = set()
    seen_projects: set[int] = set()
    for key in keys:
        entry = listings_map[key]
        item = _read_entry(key, entry, context, page.errors, "listingsMap")
        if isinstance(item, Listing) and item.listing_id not in seen_listings:
            seen_listings.add(item.listing_id)
            page.listings.append(item)
        elif isinstance(item, Project) and item.project_id not in seen_projects:
            seen_projects.add(item.project_id)
            page.projects.append(item)


def _read_nearby_sold(
    page: SearchPage, props: dict[str, Any], url: str | None, context: EntryContext
) -> None:
    entries = props.get("UPVSoldListings")
    if entries is None:
        return
    if not isinstance(entries, list):
        raise PageShapeError(
            f"{SEARCH_PROPS}.UPVSoldListings", f"expected a list, found {type(entries).__name__}", url
        )
    seen: set[int] = set()
    for index, entry in enumerate(entries):
        key = str(entry.get("id", index)) if isinstance(entry, dict) else str(index)
        item = _read_entry(key, entry, context, page.errors, "UPVSoldListings")
        if isinstance(item, Listing) and item.listing_id not in seen:
            seen.add(item.listing_id)
            page.nearby_sold.append(item)


def _read_entry(
    key: str, entry: Any, context: EntryContext, errors: list[EntryError], section: str
) -> Listing | Project | None:
    """One entry as an item, or None with its EntryError appended."""
    raw = entry if isinstance(entry, dict) else {"value": entry}
    listing_id = _entry_id(key, raw)
    try:
        if not isinstance(entry, dict):
            raise EntryProblem("entry", f"expected an object, found {type(entry).__name__}")
        kind = entry.get("listingType", "listing")
        if kind == "listing":
            return read_listing(listing_id, entry, context)
        if kind == "project":
            return read_project(listing_id, entry, context)
        raise EntryProblem("listingType", f"unknown entry type {short(kind)}")
    except EntryProblem as problem:
        errors.append(EntryError(listing_id, problem.field, problem.message, raw, section))
    except ValidationError as exc:
        name, message = validation_problem(exc)
        errors.append(EntryError(listing_id, name, message, raw, section))
    return None


def _entry_id(key: str, entry: dict[str, Any]) -> int | str:
    """The entry's id (its map key when it has none); a bad value is kept, to fail and be reported."""
    value = entry.get("id")
    if value is None:
        value = key
    listing_id = as_id(value)
    if listing_id is not None:
        return listing_id
    return value if isinstance(value, str | int) and not isinstance(value, bool) else repr(value)
