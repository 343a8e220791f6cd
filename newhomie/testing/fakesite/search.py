"""The search's query as the site reads it (price, type, bedroom filters, sorts), and its pages rendered
with the real pages' `__NEXT_DATA__` shape."""

from __future__ import annotations

import hashlib
import html
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median
from typing import TYPE_CHECKING, Any, Final

from newhomie.testing.fakesite.model import (
    MAX_PAGES,
    PAGE_SIZE,
    SEARCH_BUILD_ID,
    SEARCH_SEGMENTS,
    SITE_ORIGIN,
    Kind,
    Listing,
    Project,
)
from newhomie.testing.fakesite.pages import Response, html_page, listing_entry, plural, project_entry

if TYPE_CHECKING:  # the site makes these; they only need its type
    from newhomie.testing.fakesite.site import FakeSite


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
            sort=sort
            if sort in ("price-asc", "price-desc", "dateupdated-desc", "solddate-desc")
            else "default",
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


class SearchRenderer:
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
                listings_map[str(project.project_id)] = project_entry(project)
            ids.append(listing.listing_id)
        topspot_ids = [x.listing_id for x in topspot]
        for listing in [*organic, *topspot]:
            if str(listing.listing_id) not in listings_map:
                listings_map[str(listing.listing_id)] = listing_entry(
                    listing, listing.listing_id in topspot_ids
                )
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
            "buildId": SEARCH_BUILD_ID,
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
        return html_page(
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
                        "label": f"{beds} {plural('Bed', beds)}",
                        "medianPrice": int(median(prices)) if len(prices) >= 3 else 0,
                        "volume": len(prices),
                        "url": f"/{self.segment}/{self.slug}/{ptype_slug}/{beds}-{plural('bedroom', beds)}/",
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
            "UPVSoldListings": [listing_entry(x, False, upv=True) for x in upv] or None,
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
