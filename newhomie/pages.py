"""Pure parsing of the site's pages into items.

Every page of the site is server-rendered Next.js: its data sits in the `__NEXT_DATA__` JSON (see
DOMAIN.md). This module finds that JSON, reads search pages (sale, rent, sold) and suburb profiles
into `newhomie.items` models, and names what went wrong when a page is not what it should be:

- `BlockedPage`: bot protection answered instead of the site (no `__NEXT_DATA__` at all);
- `PageNotFound`: the site does not know the locality (its route is `/404`);
- `PageShapeError`: the JSON is there but not in the expected shape (the message names the path);
- `EntryError` (not an exception): one malformed entry of an otherwise good search page.

No Scrapy, no database, no I/O: a page's text and URL in, items out.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from newhomie.items import (
    BASE_URL,
    SLUG_PATTERN,
    Listing,
    ListingType,
    Project,
    SuburbProfile,
)
from newhomie.localities import STATES, time_zone

__all__ = [
    "MAX_PAGES",
    "PAGE_SIZE",
    "BlockedPage",
    "EntryError",
    "PageError",
    "PageNotFound",
    "PageShapeError",
    "SearchPage",
    "extract_next_data",
    "is_blocked_body",
    "parse_search_page",
    "parse_suburb_profile",
]

#: Organic results per search page, and the most pages one search shows (DOMAIN.md).
PAGE_SIZE: Final = 20
MAX_PAGES: Final = 50
#: A real page is 0.3-1 MB; a bot-protection answer is a few KB.
BLOCK_BODY_LIMIT: Final = 10_000

SEARCH_PROPS: Final = "props.pageProps.componentProps"
APOLLO_STATE: Final = "props.pageProps.__APOLLO_STATE__"
NOT_FOUND_ROUTE: Final = "/404"
ERROR_ROUTE: Final = "/_error"

_NEXT_DATA: Final = "__NEXT_DATA__"
_SCRIPT_TAG = re.compile(r"<script\b[^>]*?\bid\s*=\s*([\"']?)__NEXT_DATA__\1(?:[\s/][^>]*)?>", re.IGNORECASE)
_SCRIPT_CLOSE = re.compile(r"</script", re.IGNORECASE)
_BARE_JSON = re.compile(r"\ufeff?\s*\{")
_SLUG = re.compile(SLUG_PATTERN)
_SEARCH_PATH = re.compile(r"/(sale|rent|sold-listings)/([a-z0-9-]+)(?:/|$)")
_PROFILE_PATH = re.compile(r"/suburb-profile/([a-z0-9-]+)")
_AKAMAI_REFERENCE = re.compile(r"Reference\s*#\s*([0-9a-f]+(?:\.[0-9a-f]+)+)", re.IGNORECASE)
_BLOCK_MARKERS: Final = (
    ("access denied", "Akamai 'Access Denied' page"),
    ("pardon our interruption", "bot challenge 'Pardon Our Interruption'"),
    ("bm-verify", "Akamai bot-manager challenge"),
    ("sec-if-cpt", "Akamai bot-manager challenge"),
    ("_sec/cp_challenge", "Akamai bot-manager challenge"),
    ("errors.edgesuite.net", "Akamai edge error page"),
    ("request unsuccessful", "Incapsula-style block page"),
    ("captcha", "captcha page"),
    ("too many requests", "rate-limit page"),
)

_LISTING_TYPES: Final[dict[str, ListingType]] = {
    "sale": "sale",
    "buy": "sale",
    "rent": "rent",
    "lease": "rent",
    "sold": "sold",
    "sold-listings": "sold",
}
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


# ---------------------------------------------------------------------------------------------
# Errors


class PageError(Exception):
    """A page that cannot be read. Its message always names the URL (DOMAIN.md lesson)."""

    def __init__(self, detail: str, url: str | None = None) -> None:
        self.detail = detail
        self.url = url
        super().__init__(f"{detail} (url: {url or 'unknown'})")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.detail, self.url))


class PageNotFound(PageError):
    """The site does not know this locality: it answered with its `/404` route."""


class BlockedPage(PageError):
    """Bot protection answered instead of the site: the body has no `__NEXT_DATA__`."""


class PageShapeError(PageError):
    """The page's JSON is there but not in the expected shape; `path` names where it broke."""

    def __init__(self, path: str, problem: str, url: str | None = None) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"unexpected page shape at {path}: {problem}", url)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.problem, self.url))


@dataclass(frozen=True, slots=True)
class EntryError:
    """One malformed entry of a search page; the rest of the page is kept.

    `field` is the item field (or the JSON key) that failed, `raw` the entry as the site sent it,
    `section` the part of the page it came from (`listingsMap` or `UPVSoldListings`).
    """

    listing_id: int | str | None
    field: str
    message: str
    raw: dict[str, Any]
    section: str = "listingsMap"

    def __str__(self) -> str:
        return f"{self.section} entry {self.listing_id}: {self.field}: {self.message}"


class _EntryProblem(Exception):
    """Raised while reading one entry; becomes an EntryError."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# ---------------------------------------------------------------------------------------------
# The embedded JSON


def extract_next_data(text: str, url: str | None = None) -> dict[str, Any]:
    """The `__NEXT_DATA__` JSON of a page: `text` is the whole HTML page or the bare JSON.

    Raises BlockedPage when the body holds no such JSON, PageShapeError when it is not valid JSON.
    """
    if _BARE_JSON.match(text):
        return _load_json(text.lstrip("\ufeff"), url)
    body = _next_data_script(text, url)
    if body is None:
        raise BlockedPage(_block_reason(text), url)
    return _load_json(body, url)


def is_blocked_body(text: str) -> bool:
    """True when a response body is not a page of the site (a bot-protection answer, an empty body).

    Every real page carries `__NEXT_DATA__`; block pages (Akamai "Access Denied" with a
    "Reference #", challenge pages, rate-limit pages) never do.
    """
    return _NEXT_DATA not in text and not _BARE_JSON.match(text)


def _next_data_script(text: str, url: str | None) -> str | None:
    """The text inside `<script id="__NEXT_DATA__" ...>`, found without building a DOM."""
    pos = text.find(_NEXT_DATA)
    while pos != -1:
        tag_start = text.rfind("<", 0, pos)
        tag_end = text.find(">", pos)
        if tag_start != -1 and tag_end != -1 and _SCRIPT_TAG.fullmatch(text, tag_start, tag_end + 1):
            close = text.find("</script", tag_end)
            if close == -1:
                match = _SCRIPT_CLOSE.search(text, tag_end)
                if match is None:
                    raise PageShapeError(
                        _NEXT_DATA, "the script element is not closed (truncated page?)", url
                    )
                close = match.start()
            return text[tag_end + 1 : close]
        pos = text.find(_NEXT_DATA, pos + len(_NEXT_DATA))
    return None


def _load_json(text: str, url: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PageShapeError(_NEXT_DATA, f"not valid JSON ({exc})", url) from None
    if not isinstance(data, dict):
        raise PageShapeError(_NEXT_DATA, f"expected an object, found {type(data).__name__}", url)
    return data


def _block_reason(text: str) -> str:
    size = len(text)
    if not text.strip():
        return "empty body instead of a page (blocked?)"
    # Akamai writes its page with character references: "Reference&#32;&#35;18&#46;6f2d...".
    head = html.unescape(text[: BLOCK_BODY_LIMIT * 10])
    lowered = head.lower()
    for marker, what in _BLOCK_MARKERS:
        if marker in lowered:
            reference = _AKAMAI_REFERENCE.search(head)
            suffix = f", Reference #{reference.group(1)}" if reference else ""
            return f"blocked: {what}{suffix} ({size} characters, no {_NEXT_DATA})"
    if size < BLOCK_BODY_LIMIT:
        return f"blocked: a body of {size} characters with no {_NEXT_DATA}"
    return f"blocked or not a page of the site: {size} characters with no {_NEXT_DATA}"


def _raise_for_route(data: dict[str, Any], url: str | None, slug: str | None) -> None:
    route = data.get("page")
    if route == NOT_FOUND_ROUTE:
        raise PageNotFound(f"the site has no page for locality {slug or '(unknown)'} (route /404)", url)
    if route == ERROR_ROUTE:
        raise PageError("the site answered with its error page (route /_error)", url)


def _at(
    node: Any, path: str, url: str | None, kind: type | tuple[type, ...] = dict, *, root: str = ""
) -> Any:
    """The value at a dotted JSON path; PageShapeError naming the full path when absent or mistyped.

    `root` is the path of `node` itself, so errors name the path from the top of the JSON.
    """
    walked = [root] if root else []
    for part in path.split("."):
        walked.append(part)
        if not isinstance(node, dict) or part not in node:
            raise PageShapeError(".".join(walked), "missing", url)
        node = node[part]
    if not isinstance(node, kind) or (isinstance(node, bool) and kind is not bool):
        raise PageShapeError(
            ".".join(walked), f"expected {_kind_name(kind)}, found {type(node).__name__}", url
        )
    return node


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _count_at(props: dict[str, Any], key: str, url: str | None, default: int | None = None) -> int:
    path = f"{SEARCH_PROPS}.{key}"
    if default is not None and props.get(key) is None:
        return default
    value = _at(props, key, url, (int, str), root=SEARCH_PROPS)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, int) and value >= 0:
        return value
    raise PageShapeError(path, f"expected a count, found {value!r}", url)


# ---------------------------------------------------------------------------------------------
# Search pages


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


@dataclass(frozen=True, slots=True)
class _Context:
    listing_type: ListingType
    locality_slug: str
    base_url: str


def parse_search_page(text: str, url: str | None = None) -> SearchPage:
    """Read a sale, rent or sold search page (HTML or bare `__NEXT_DATA__` JSON)."""
    data = extract_next_data(text, url)
    query = _query(data)
    location = query.get("location")
    _raise_for_route(data, url, location if isinstance(location, str) else _slug_from_url(url))
    props = _at(data, SEARCH_PROPS, url)
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
    context = _Context(listing_type, slug, _base_url(props, url))
    _read_listings_map(page, _listings_map(props, url, empty), context)
    _read_nearby_sold(page, props, url, _Context("sold", slug, context.base_url))
    return page


def _query(data: dict[str, Any]) -> dict[str, Any]:
    query = data.get("query")
    return query if isinstance(query, dict) else {}


def _listing_type(query: dict[str, Any], url: str | None) -> ListingType:
    word = query.get("listingType")
    if isinstance(word, str) and word.lower() in _LISTING_TYPES:
        return _LISTING_TYPES[word.lower()]
    match = _SEARCH_PATH.search(urlsplit(url).path) if url else None
    if match:
        return _LISTING_TYPES[match.group(1)]
    raise PageShapeError("query.listingType", f"missing or unknown ({word!r}) and the URL names none", url)


def _search_slug(query: dict[str, Any], url: str | None) -> str:
    location = query.get("location")
    if isinstance(location, str) and _SLUG.fullmatch(location.strip().lower()):
        return location.strip().lower()
    slug = _slug_from_url(url)
    if slug:
        return slug
    raise PageShapeError("query.location", f"missing or not a locality slug ({location!r})", url)


def _slug_from_url(url: str | None) -> str | None:
    if not url:
        return None
    path = urlsplit(url).path
    match = _SEARCH_PATH.search(path) or _PROFILE_PATH.search(path)
    return match.group(match.lastindex or 1) if match else None


def _base_url(props: dict[str, Any], url: str | None) -> str:
    """Where the page came from (the local copy of the site in tests), else what the page says."""
    if url and url.startswith(("https://", "http://")):
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"
    base = props.get("baseUrl")
    return (
        base.rstrip("/") if isinstance(base, str) and base.startswith(("https://", "http://")) else BASE_URL
    )


def _id_list(props: dict[str, Any], key: str, url: str | None) -> list[int]:
    values = props.get(key)
    if values is None:
        return []
    if not isinstance(values, list):
        raise PageShapeError(f"{SEARCH_PROPS}.{key}", f"expected a list, found {type(values).__name__}", url)
    ids: list[int] = []
    for value in values:
        listing_id = _as_id(value)
        if listing_id is None:
            raise PageShapeError(f"{SEARCH_PROPS}.{key}", f"{value!r} is not a listing id", url)
        ids.append(listing_id)
    return ids


def _as_id(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and value.strip().isdigit() and int(value) > 0:
        return int(value)
    return None


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
    listings_map: dict[str, Any] = _at(props, "listingsMap", url, root=SEARCH_PROPS)
    return listings_map


def _read_listings_map(page: SearchPage, listings_map: dict[str, Any], context: _Context) -> None:
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


def _read_nearby_sold(page: SearchPage, props: dict[str, Any], url: str | None, context: _Context) -> None:
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
    key: str, entry: Any, context: _Context, errors: list[EntryError], section: str
) -> Listing | Project | None:
    """One entry as an item, or None with its EntryError appended."""
    raw = entry if isinstance(entry, dict) else {"value": entry}
    listing_id = _entry_id(key, raw)
    try:
        if not isinstance(entry, dict):
            raise _EntryProblem("entry", f"expected an object, found {type(entry).__name__}")
        kind = entry.get("listingType", "listing")
        if kind == "listing":
            return _listing(listing_id, entry, context)
        if kind == "project":
            return _project(listing_id, entry, context)
        raise _EntryProblem("listingType", f"unknown entry type {kind!r}")
    except _EntryProblem as problem:
        errors.append(EntryError(listing_id, problem.field, problem.message, raw, section))
    except ValidationError as exc:
        name, message = _validation_problem(exc)
        errors.append(EntryError(listing_id, name, message, raw, section))
    return None


def _entry_id(key: str, entry: dict[str, Any]) -> int | str:
    """The entry's id (its map key when it has none); a bad value is kept, to fail and be reported."""
    value = entry.get("id")
    if value is None:
        value = key
    as_id = _as_id(value)
    if as_id is not None:
        return as_id
    return value if isinstance(value, str | int) and not isinstance(value, bool) else repr(value)


def _validation_problem(exc: ValidationError) -> tuple[str, str]:
    details = exc.errors(include_url=False)
    first_loc = details[0]["loc"] if details else ()
    name = str(first_loc[0]) if first_loc else "entry"
    parts = []
    for detail in details:
        where = ".".join(str(part) for part in detail["loc"]) or "entry"
        parts.append(f"{where}: {detail['msg']} (got {_short(detail.get('input'))})")
    return name, "; ".join(parts)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------------
# One listing


def _listing(listing_id: int | str, entry: dict[str, Any], context: _Context) -> Listing:
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
        raise _EntryProblem(key, f"{key} is missing")
    if not isinstance(value, dict):
        raise _EntryProblem(key, f"{key}: expected an object, found {type(value).__name__}")
    return value


def _state_postcode(address: dict[str, Any]) -> tuple[str, str]:
    state = address.get("state")
    if not isinstance(state, str) or state.strip().upper() not in STATES:
        raise _EntryProblem("state", f"unknown state {state!r}; known states: {', '.join(STATES)}")
    postcode = address.get("postcode")
    if isinstance(postcode, int) and not isinstance(postcode, bool):
        postcode = f"{postcode:04d}"
    if not isinstance(postcode, str) or not re.fullmatch(r"\d{4}", postcode.strip()):
        raise _EntryProblem("postcode", f"postcode {postcode!r} is not 4 digits")
    return state.strip().upper(), postcode.strip()


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _EntryProblem(name, f"expected text, found {type(value).__name__}")
    return str(value).strip() or None


def _street(value: Any) -> str | None:
    street = _text(value, "street")
    if street is None or _WITHHELD_STREET.match(street):
        return None
    return street


def _suburb(value: Any) -> str:
    suburb = _text(value, "suburb")
    if suburb is None:
        raise _EntryProblem("suburb", "suburb is missing")
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
            raise _EntryProblem(name, f"{name} is missing")
        return None
    return urljoin(base_url + "/", path)


def _land_m2(size: Any, unit: Any) -> float | None:
    """Land area in square metres; 0 means unknown. Hectares and acres are converted."""
    if size is None or size == "" or size == 0:
        return None
    if isinstance(size, bool):
        raise _EntryProblem("land_area_m2", f"land size {size!r} is not a number")
    try:
        number = float(size.replace(",", "")) if isinstance(size, str) else float(size)
    except (TypeError, ValueError):
        raise _EntryProblem("land_area_m2", f"land size {size!r} is not a number") from None
    # The site's unit is m² unless it says otherwise.
    key = "m²" if unit is None else str(unit).lower().replace(" ", "").replace(".", "")
    if key not in _LAND_UNITS:
        raise _EntryProblem("land_area_m2", f"unknown land unit {unit!r}")
    return round(number * _LAND_UNITS[key], 2) or None


def _local_time(value: Any, zone: ZoneInfo, name: str) -> datetime | None:
    """The site's local wall-clock time, in the listing's zone. Missing is None, never 1970."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or ":" not in value:
        raise _EntryProblem(name, f"{value!r} is not a date and time")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _EntryProblem(name, f"{value!r} is not an ISO date and time") from None
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


# ---------------------------------------------------------------------------------------------
# One project


def _project(project_id: int | str, entry: dict[str, Any], context: _Context) -> Project:
    model = _object(entry, "listingModel")

    def pick(*names: str) -> Any:
        for source in (model, entry):
            for name in names:
                if source.get(name) is not None:
                    return source[name]
        return None

    children = pick("childListingIds") or []
    if not isinstance(children, list):
        raise _EntryProblem("child_listing_ids", f"expected a list, found {type(children).__name__}")
    return Project(
        project_id=project_id,
        locality_slug=context.locality_slug,
        name=_text(pick("projectName", "name"), "name"),
        display_address=_text(pick("displayAddress"), "display_address"),
        url=_absolute(pick("url", "projectUrl"), context.base_url, "url"),
        child_listing_ids=children,
    )


# ---------------------------------------------------------------------------------------------
# Suburb profiles


def parse_suburb_profile(text: str, url: str | None = None) -> SuburbProfile:
    """Read a suburb profile page from its Apollo cache (`props.pageProps.__APOLLO_STATE__`)."""
    data = extract_next_data(text, url)
    wanted = _profile_slug(data, url)
    _raise_for_route(data, url, wanted)
    apollo: dict[str, Any] = _at(data, APOLLO_STATE, url)
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
            url=url,
        )
    except ValidationError as exc:
        name, message = _validation_problem(exc)
        raise PageShapeError(f"{APOLLO_STATE} ({exc.title}.{name})", message, url) from None


def _profile_slug(data: dict[str, Any], url: str | None) -> str | None:
    candidates = [
        _query(data).get("suburbSlug"),
        _page_props(data).get("urlSlug"),
        _slug_from_url(url),
    ]
    for candidate in candidates:
        if isinstance(candidate, str) and _SLUG.fullmatch(candidate):
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


def _slugs(items: Iterable[dict[str, Any]], key: str) -> list[str]:
    return [item[key] for item in items if isinstance(item.get(key), str)]
