"""Suburb profile pages, rendered with the real page's Apollo cache shape."""

from __future__ import annotations

import base64
import html
import json
import math
import random
from typing import TYPE_CHECKING, Any

from newhomie.localities import Locality
from newhomie.testing.fakesite.model import (
    KINDS,
    PROFILE_BUILD_ID,
    SITE_ORIGIN,
    Kind,
    Listing,
    LocalityData,
    path_slug,
    round_to,
)
from newhomie.testing.fakesite.pages import Response, html_page, image_name, image_url
from newhomie.testing.fakesite.vocabulary import SCHOOL_SECTORS

if TYPE_CHECKING:  # the site makes these; they only need its type
    from newhomie.testing.fakesite.site import FakeSite


class ProfileRenderer:
    def __init__(self, site: FakeSite, data: LocalityData) -> None:
        self.site = site
        self.data = data
        self.loc = data.locality
        self.rng = random.Random(f"newhomie-fakesite-profile:{site.seed}:{self.loc.slug}")
        # The market figures move as the site's time does (`FakeSite.advance`); the rest of the
        # profile (boundary, schools, people) stays. Before any advance, one stream draws them all.
        self.market_rng = (
            random.Random(f"newhomie-fakesite-market:{site.seed}:{self.loc.slug}:{site.epoch}")
            if site.epoch
            else self.rng
        )

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
            "buildId": PROFILE_BUILD_ID,
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
        return html_page(200, "profile", title, title, canonical, body, next_data, slug=slug)

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
        school_type, sector, gender, years = rng.choice(SCHOOL_SECTORS)
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
            "domainSeoUrlSlug": f"{path_slug(name)}-{loc.state.lower()}-{loc.postcode}-{acara}",
            "profile": (
                None
                if years is None
                else {
                    "__typename": "SchoolProfile",
                    "yearRange": years,
                    "url": f"http://www.{path_slug(name).replace('-', '')}.edu.au",
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
        rng = self.market_rng
        number_sold = rng.randint(0, 260)
        # Too few sales: the site shows 0 for "no data".
        known = number_sold >= 10
        base = (
            rng.uniform(250_000, 1_800_000) * (1 + 0.15 * (beds - 3)) * (1.0 if category == "House" else 0.6)
        )
        median_price = round_to(base, 1_000) if known else 0
        growth = []
        price = base / 1.25
        previous = 0.0
        for year in range(self.site.today.year - 6, self.site.today.year):
            price *= 1 + rng.uniform(-0.04, 0.09)
            rounded = round_to(price, 1_000)
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
            "medianRentPrice": round_to(median_price * 0.0008, 5) if known and rng.random() < 0.9 else 0,
            "entryLevelPrice": round_to(median_price * 0.7, 1_000) if known else 0,
            "luxuryLevelPrice": round_to(median_price * 1.5, 1_000) if known else 0,
            "salesGrowthList": growth,
        }

    def _card(self, listing: Listing) -> dict[str, Any]:
        stamp = listing.updated.strftime("%y%m%d_%H%M%S")
        name = image_name(listing.listing_id, 1, stamp, listing.image_size)
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
                'url({"resolution":{"height":428,"width":642}})': image_url(
                    "642x428/filters:format(png):quality(80):no_upscale()", name
                ),
            },
            "listingSlug": listing.url.lstrip("/"),
            "bedrooms": listing.beds,
            "bathrooms": listing.baths,
            "carspaces": listing.parking,
            "listingId": listing.listing_id,
        }
