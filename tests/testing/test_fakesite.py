"""The local copy of the site: its pages have the real pages' shape, and it behaves like the site."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from newhomie.localities import Locality
from newhomie.testing.fakesite import (
    KINDS,
    MAX_PAGES,
    PAGE_SIZE,
    QUICK_MIX,
    FakeSite,
    Kind,
    Listing,
    RunningSite,
    extract_next_data,
    made_up_locality_name,
)
from newhomie.testing.fixtures import FakeSiteFactory
from tests.paths import FIXTURES, FULL_SAMPLES, REPO

#: The trimmed fixtures and the real pages, whole.
SAMPLE_SOURCES = [FIXTURES, FULL_SAMPLES]

# ---------------------------------------------------------------------------------------------
# Shapes: key path -> JSON types


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    assert isinstance(value, list), type(value)
    return "array"


def shape(value: Any, path: str = "", out: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    """Every key path under `value` ("a.b[].c") with the JSON types seen there."""
    out = {} if out is None else out
    out.setdefault(path, set()).add(_type_name(value))
    if isinstance(value, dict):
        for key, item in value.items():
            shape(item, f"{path}.{key}" if path else key, out)
    elif isinstance(value, list):
        for item in value:
            shape(item, f"{path}[]", out)
    return out


def shapes(values: list[Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for value in values:
        shape(value, "", out)
    return out


def top_level(value: dict[str, Any]) -> dict[str, set[str]]:
    return {key: {_type_name(item)} for key, item in value.items()}


def assert_same_shape(
    real: dict[str, set[str]],
    mine: dict[str, set[str]],
    *,
    nullable: frozenset[str] = frozenset(),
    always_null: frozenset[str] = frozenset(),
) -> None:
    """Same key paths; at each, the real types and no other (null also where `nullable` says the
    real site gives null there). Every non-null type of the real page shows up in ours, except at
    the `always_null` paths (a sold listing has no inspection)."""
    missing = sorted(set(real) - set(mine))
    extra = sorted(set(mine) - set(real))
    wrong = {
        path: (sorted(real[path]), sorted(mine[path]))
        for path in sorted(set(real) & set(mine))
        if not mine[path] <= real[path] | ({"null"} if path in nullable else set())
        or not (real[path] - {"null"} <= mine[path] or (path in always_null and mine[path] == {"null"}))
    }
    assert not missing, f"paths of the real page missing from ours: {missing}"
    assert not extra, f"paths ours has and the real page has not: {extra}"
    assert not wrong, f"types differ (real, ours): {wrong}"


def load(directory: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((directory / name).read_text())
    return data


def props_of(data: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = data["props"]["pageProps"]["componentProps"]
    return props


# Where the real site gives null beside a value (seen in the samples or described in docs/site.md).
LISTING_NULLABLE = frozenset(
    {
        "listingModel.features.parking",
        "listingModel.auction",
        "listingModel.tags.tagText",
        "listingModel.tags.tagClassName",
        "listingModel.inspection.openTime",
        "listingModel.inspection.closeTime",
        "listingModel.branding.agentPhoto",
        "listingModel.branding.agents[].agentPhoto",
    }
)


@pytest.fixture(scope="module")
def site() -> FakeSite:
    """A site read-only tests share: seven localities, so that one has no sales history."""
    return FakeSite(localities=7, seed=1)


def all_pages(site: FakeSite, kind: Kind, slug: str, **params: str) -> list[dict[str, Any]]:
    first = props_of(extract_next_data(site.page(site.search_path(kind, slug, **params)).body))
    pages = [first]
    for number in range(2, first["totalPages"] + 1):
        pages.append(
            props_of(extract_next_data(site.page(site.search_path(kind, slug, number, **params)).body))
        )
    return pages


def listing_entries(site: FakeSite, kind: Kind) -> list[dict[str, Any]]:
    return [
        entry
        for locality in site.localities()
        for props in all_pages(site, kind, locality.slug)
        for entry in props["listingsMap"].values()
        if entry["listingType"] == "listing"
    ]


# ---------------------------------------------------------------------------------------------
# Shape conformance with the real pages


@pytest.mark.parametrize("source", SAMPLE_SOURCES, ids=lambda d: d.name)
@pytest.mark.parametrize("kind", KINDS)
def test_search_page_has_the_real_shape(site: FakeSite, source: Path, kind: Kind) -> None:
    # No sold sample was captured: the sold search page has the rent page's shape.
    real = load(source, f"{'sale' if kind == 'sale' else 'rent'}.dandenong-vic-3175.page1.2025-02.json")
    ours = extract_next_data(site.page(site.search_path(kind, "dandenong-vic-3175")).body)
    assert top_level(ours) == top_level(real)
    assert top_level(ours["props"]) == top_level(real["props"])
    assert top_level(ours["props"]["pageProps"]) == top_level(real["props"]["pageProps"])
    assert ours["page"] == real["page"] == "/search-listings-spa"
    assert ours["query"] == {"listingType": kind, "location": "dandenong-vic-3175"}
    assert_same_shape(
        top_level(props_of(real)), top_level(props_of(ours)), nullable=frozenset({"UPVSoldListings"})
    )


@pytest.mark.parametrize("source", SAMPLE_SOURCES, ids=lambda d: d.name)
@pytest.mark.parametrize("kind", KINDS)
def test_listing_entries_have_the_real_shape(site: FakeSite, source: Path, kind: Kind) -> None:
    # No sold sample was captured: sold entries are held to the rent page's.
    name = f"{'sale' if kind == 'sale' else 'rent'}.dandenong-vic-3175.page1.2025-02.json"
    real = shapes(list(props_of(load(source, name))["listingsMap"].values()))
    ours = listing_entries(site, kind)
    inspection = frozenset({"listingModel.inspection.openTime", "listingModel.inspection.closeTime"})
    assert_same_shape(
        real,
        shapes(ours),
        nullable=LISTING_NULLABLE,
        always_null=inspection if kind == "sold" else frozenset(),
    )
    # The real variations are all there: land without beds, parking null or absent, hectares.
    features = [entry["listingModel"]["features"] for entry in ours]
    assert any("beds" not in f for f in features) or kind == "rent"
    assert any("parking" not in f for f in features)
    assert any("parking" in f and f["parking"] is None for f in features)
    assert any(f["landUnit"] == "ha" and isinstance(f["landSize"], float) for f in features)


@pytest.mark.parametrize("source", SAMPLE_SOURCES, ids=lambda d: d.name)
def test_recent_sales_beside_sale_results_have_the_real_shape(site: FakeSite, source: Path) -> None:
    real = shapes(props_of(load(source, "sale.dandenong-vic-3175.page1.2025-02.json"))["UPVSoldListings"])
    ours = [
        entry
        for locality in site.localities()
        for entry in props_of(extract_next_data(site.page(site.search_path("sale", locality.slug)).body))[
            "UPVSoldListings"
        ]
        or []
    ]
    assert ours
    assert_same_shape(real, shapes(ours), nullable=LISTING_NULLABLE)
    assert {entry["listingModel"]["tags"]["tagClassName"] for entry in ours} == {"is-sold"}


def test_sale_pages_without_sales_history_have_null_recent_sales(site: FakeSite) -> None:
    empty = [locality for locality in site.localities() if not site.listings(locality.slug, "sold")]
    assert empty, "the default sizes leave one locality without sold listings"
    props = props_of(extract_next_data(site.page(site.search_path("sale", empty[0].slug)).body))
    assert props["UPVSoldListings"] is None


def _apollo(data: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    apollo = data["props"]["pageProps"]["__APOLLO_STATE__"]
    return [value for key, value in apollo.items() if key.startswith(prefix)]


@pytest.mark.parametrize("source", SAMPLE_SOURCES, ids=lambda d: d.name)
def test_suburb_profile_has_the_real_shape(site: FakeSite, source: Path) -> None:
    real = load(source, "suburb-profile.dandenong-vic-3175.2025-02.json")
    ours = [extract_next_data(site.page(site.profile_path(x.slug)).body) for x in site.localities()]
    assert top_level(ours[0]) == top_level(real)
    assert top_level(ours[0]["props"]) == top_level(real["props"])
    assert top_level(ours[0]["props"]["pageProps"]) == top_level(real["props"]["pageProps"])
    assert ours[0]["page"] == real["page"] == "/suburb-profile/[suburbSlug]"
    for prefix in ("Suburb:", "LocationProfile:"):
        assert_same_shape(
            shapes(_apollo(real, prefix)), shapes([entry for data in ours for entry in _apollo(data, prefix)])
        )


def test_suburb_profile_content(site: FakeSite) -> None:
    import base64

    data = extract_next_data(site.page("/suburb-profile/dandenong-vic-3175").body)
    apollo = data["props"]["pageProps"]["__APOLLO_STATE__"]
    key = "Suburb:" + base64.b64encode(b"Suburb:dandenong-vic-3175").decode()
    suburb = apollo[key]
    assert (suburb["name"], suburb["state"], suburb["postcode"]) == ("Dandenong", "VIC", "3175")
    boundary = json.loads(suburb['suburbShape({"geometryPrecision":"high"})']["boundaryGeoJson"])
    ring = boundary["coordinates"][0]
    assert boundary["type"] == "Polygon"
    assert ring[0] == ring[-1]
    assert len(ring) > 10
    assert all(abs(lng - 145.2) < 0.2 and abs(lat + 38.0) < 0.2 for lng, lat in ring)
    # Every reference of the root query resolves.
    root = apollo["ROOT_QUERY"]
    assert root['suburb({"suburbId":"dandenong-vic-3175"})'] == {"__ref": key}
    refs = [
        ref["__ref"]
        for value in root.values()
        if isinstance(value, dict)
        for ref in value.get("searchResults", [])
    ]
    refs += [value["__ref"] for value in root.values() if isinstance(value, dict) and "__ref" in value]
    assert refs
    assert all(ref in apollo for ref in refs)
    profile = _apollo(data, "LocationProfile:")[0]["data"]
    houses = sum(1 for x in site.listings("dandenong-vic-3175", "sale") if x.ptype.code == "House")
    assert profile["housesForSale"] == houses
    categories = profile["propertyCategories"]
    assert {(c["propertyCategory"], c["bedrooms"]) for c in categories} >= {("House", 3), ("Unit", 2)}


# ---------------------------------------------------------------------------------------------
# Localities


def test_localities_are_real_across_all_states_then_made_up() -> None:
    site = FakeSite(localities=95, seed=0, listings_per_locality=(0, 2))
    localities = site.localities()
    assert len({x.slug for x in localities}) == 95
    assert {x.state for x in localities[:10]} == {"ACT", "NSW", "NT", "QLD", "SA", "TAS", "VIC", "WA"}
    assert str(localities[0]) == "Dandenong VIC 3175"
    assert "Broken Hill NSW 2880" in site.locality_strings()[:3]
    assert site.locality_strings()[-1].startswith("Test")
    # The spider reads them back.
    assert [Locality.parse(text) for text in site.locality_strings()] == localities
    assert Locality.parse(made_up_locality_name(5000) + " VIC 3999").name == made_up_locality_name(5000)


def test_default_sizes_vary_and_one_locality_lacks_a_kind(site: FakeSite) -> None:
    counts = [tuple(len(site.listings(x.slug, kind)) for kind in KINDS) for x in site.localities()]
    assert len(set(counts)) == len(counts)
    assert any(0 in c for c in counts)
    assert all(c[0] <= 120 and c[1] <= 80 and c[2] <= 480 for c in counts)  # the seventh has no sales
    assert counts[0][0] > 3 * PAGE_SIZE
    # Sold is the biggest kind, as on the real site (a year of sales); the quick mix keeps it small.
    assert sum(c[2] for c in counts) > sum(c[0] for c in counts)
    quick = FakeSite(localities=7, seed=1, mix=QUICK_MIX)
    assert all(len(quick.listings(x.slug, "sold")) <= 80 for x in quick.localities())


def test_listing_ids_are_unique_and_shaped_like_the_real_ones() -> None:
    site = FakeSite(localities=30, seed=4)
    ids = {
        kind: [t["listing_id"] for x in site.localities() for t in site.ground_truth(x.slug, kind)]
        for kind in KINDS
    }
    every = [i for kind in KINDS for i in ids[kind]]
    assert len(every) == len(set(every)) == len(site.all_listing_ids())
    assert all(str(i).startswith("20197") and len(str(i)) == 10 for i in ids["sale"])
    assert all(str(i).startswith("17") and len(str(i)) == 8 for i in ids["rent"])
    assert all(len(str(i)) == 10 for i in ids["sold"])


def test_add_locality_with_exact_counts(site: FakeSite) -> None:
    big = FakeSite(localities=1, seed=2)
    locality = big.add_locality("Bigvale", "VIC", "3999", sale=3100, rent=5, sold=0)
    assert locality.slug == "bigvale-vic-3999"
    assert [len(big.listings(locality.slug, kind)) for kind in KINDS] == [3100, 5, 0]
    with pytest.raises(ValueError, match="already"):
        big.add_locality("Bigvale", "VIC", "3999")


# ---------------------------------------------------------------------------------------------
# Determinism

URLS = [
    "/sale/dandenong-vic-3175/?ssubs=0&page=1",
    "/sale/dandenong-vic-3175/?ssubs=0&page=2",
    "/rent/broken-hill-nsw-2880/?ssubs=0",
    "/sold-listings/noble-park-north-vic-3174/?ssubs=0&page=2",
    "/sale/dandenong-vic-3175/?ssubs=0&price=500000-900000&sort=price-desc",
    "/suburb-profile/dandenong-vic-3175",
    "/sale/nowhere-vic-3000/",
]


def test_same_seed_same_bytes_different_seed_different_bytes() -> None:
    one, two, other = FakeSite(3, seed=1), FakeSite(3, seed=1), FakeSite(3, seed=2)
    for url in URLS:
        assert one.page(url).body == two.page(url).body, url
    for url in URLS[:-1]:
        assert one.page(url).body != other.page(url).body, url
    assert one.ground_truth_document() == two.ground_truth_document()
    # Adding localities later does not change the earlier ones.
    assert FakeSite(5, seed=1).page(URLS[0]).body == one.page(URLS[0]).body


def test_served_bytes_do_not_depend_on_the_server(fakesite: RunningSite) -> None:
    fresh = FakeSite(localities=3, seed=1, mix=QUICK_MIX)  # the fixture's
    for url in URLS[:-1]:
        assert fakesite.get(url).body == fresh.page(url).body


def test_pages_are_realistically_large(site: FakeSite) -> None:
    fresh = FakeSite(localities=1, seed=9)
    body = fresh.page(fresh.search_path("sale", "dandenong-vic-3175")).body
    assert 50_000 < len(body) < 300_000
    assert body.startswith(b"<!DOCTYPE html>")
    assert b'<script id="__NEXT_DATA__" type="application/json">' in body


# ---------------------------------------------------------------------------------------------
# Pagination, the 50-page cap, filters and sort


def _organic_listing_ids(props: dict[str, Any]) -> list[int]:
    entries = props["listingsMap"]
    return [i for i in props["listingSearchResultIds"] if entries[str(i)]["listingType"] == "listing"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_listing_is_on_exactly_one_organic_page(site: FakeSite, kind: Kind) -> None:
    for locality in site.localities():
        pages = all_pages(site, kind, locality.slug)
        expected = [t["listing_id"] for t in site.ground_truth(locality.slug, kind)]
        assert pages[0]["totalListings"] == len(expected)
        assert pages[0]["totalPages"] == -(-len(expected) // PAGE_SIZE)
        organic = [i for props in pages for i in _organic_listing_ids(props)]
        assert Counter(organic) == Counter(expected)
        for number, props in enumerate(pages, start=1):
            assert props["currentPage"] == number
            left = len(expected) - (number - 1) * PAGE_SIZE
            assert len(_organic_listing_ids(props)) == max(0, min(PAGE_SIZE, left))
            for listing_id in [
                *props["listingSearchResultIds"],
                *props.get("topspotFeaturedPropertyIds", []),
            ]:
                assert str(listing_id) in props["listingsMap"]
            assert (
                props["paginatorTemplateUrl"]
                == f"/{'sold-listings' if kind == 'sold' else kind}/{locality.slug}/?page={{{{page}}}}"
            )


def test_promoted_listings_repeat_across_sale_pages_and_projects_show_once(site: FakeSite) -> None:
    pages = all_pages(site, "sale", "dandenong-vic-3175")
    promoted = [i for props in pages for i in props["topspotFeaturedPropertyIds"]]
    assert all(2 <= len(props["topspotFeaturedPropertyIds"]) <= 3 for props in pages)
    assert max(Counter(promoted).values()) > 1, "some promoted id shows on several pages"
    assert max(len(props["listingsMap"]) for props in pages) > PAGE_SIZE
    sale_ids = {t["listing_id"] for t in site.ground_truth("dandenong-vic-3175", "sale")}
    assert set(promoted) <= sale_ids
    projects = [
        (props["listingSearchResultIds"], entry)
        for props in pages
        for entry in props["listingsMap"].values()
        if entry["listingType"] == "project"
    ]
    truth = site.projects("dandenong-vic-3175")
    assert truth
    assert sorted(entry["id"] for _, entry in projects) == sorted(p["project_id"] for p in truth)
    for ids, entry in projects:
        model = entry["listingModel"]
        assert model["projectName"]
        assert model["displayAddress"]
        assert "price" not in model
        assert "features" not in model
        assert set(model["childListingIds"]) <= sale_ids
        # Shown in the results just before its first child; the children stay ordinary entries.
        position = ids.index(entry["id"])
        assert ids[position + 1] in model["childListingIds"]
    children = {i for p in truth for i in p["child_listing_ids"]}
    assert {
        t["tag"] for t in site.ground_truth("dandenong-vic-3175", "sale") if t["listing_id"] in children
    } == {"New home"}


def test_pages_past_the_last_have_no_results(site: FakeSite) -> None:
    props = props_of(extract_next_data(site.page(site.search_path("rent", "dandenong-vic-3175", 99)).body))
    assert props["currentPage"] == 99
    assert props["totalPages"] == all_pages(site, "rent", "dandenong-vic-3175")[0]["totalPages"]
    assert props["listingSearchResultIds"] == []
    assert props["listingsMap"] == {}


def test_a_search_without_results(site: FakeSite) -> None:
    empty = next(x for x in site.localities() if not site.listings(x.slug, "rent"))
    props = props_of(extract_next_data(site.page(site.search_path("rent", empty.slug)).body))
    assert (props["totalListings"], props["totalPages"], props["listingSearchResultIds"]) == (0, 0, [])


@pytest.fixture(scope="module")
def big_site() -> FakeSite:
    big = FakeSite(localities=0, seed=5)
    big.add_locality("Bigvale", "VIC", "3999", sale=1500, rent=0, sold=0)
    return big


def _ids(site: FakeSite, kind: Kind, slug: str, **params: str) -> list[int]:
    return [i for props in all_pages(site, kind, slug, **params) for i in _organic_listing_ids(props)]


def test_the_site_never_shows_more_than_50_pages(big_site: FakeSite) -> None:
    slug = "bigvale-vic-3999"
    first = props_of(extract_next_data(big_site.page(big_site.search_path("sale", slug)).body))
    assert (first["totalListings"], first["totalPages"]) == (1500, MAX_PAGES)
    assert first["pageViewMetadata"]["searchResponse"]["SearchResults"]["actualTotalResultsExceedsMaximum"]
    last = props_of(extract_next_data(big_site.page(big_site.search_path("sale", slug, 50)).body))
    assert len(_organic_listing_ids(last)) == PAGE_SIZE
    beyond = props_of(extract_next_data(big_site.page(big_site.search_path("sale", slug, 51)).body))
    assert beyond["listingSearchResultIds"] == []
    assert beyond["totalListings"] == 1500
    assert len(set(_ids(big_site, "sale", slug))) == PAGE_SIZE * MAX_PAGES


def test_narrower_searches_cover_a_big_locality_completely(big_site: FakeSite) -> None:
    slug = "bigvale-vic-3999"
    listings = big_site.listings(slug, "sale")
    prices = sorted(x.search_price for x in listings if x.search_price is not None)
    assert len(prices) == len(listings), "like the real site, every listing has a search price"
    cuts = [prices[len(prices) // 3], prices[2 * len(prices) // 3]]
    bands = [f"any-{cuts[0] - 1}", f"{cuts[0]}-{cuts[1] - 1}", f"{cuts[1]}-any"]
    found: list[int] = []
    for band in bands:
        first = props_of(
            extract_next_data(big_site.page(big_site.search_path("sale", slug, price=band)).body)
        )
        assert first["totalListings"] <= PAGE_SIZE * MAX_PAGES
        found += _ids(big_site, "sale", slug, price=band)
    everything = {t["listing_id"] for t in big_site.ground_truth(slug, "sale")}
    assert Counter(found) == Counter(everything), "price bands give every listing exactly once"
    # Listings that show no price are found by their search price too.
    unpriced = {t["listing_id"] for t in big_site.ground_truth(slug, "sale") if not t["price_intended"]}
    assert unpriced
    assert unpriced <= set(found)
    # Property types partition the search as well.
    ptypes = {x.ptype.ptype for x in listings}
    by_type = [i for ptype in ptypes for i in _ids(big_site, "sale", slug, ptype=ptype)]
    assert set(by_type) == everything


def test_price_filter_and_sort(site: FakeSite) -> None:
    slug = "dandenong-vic-3175"
    truth = {t["listing_id"]: t for t in site.ground_truth(slug, "sale")}

    # The filter and sort use the search price: the shown price, or the agent's hidden one.
    search_price = {x.listing_id: x.search_price for x in site.listings(slug, "sale")}

    def low(listing_id: int) -> int | None:
        return search_price[listing_id]

    within = _ids(site, "sale", slug, price="500000-900000")
    assert within
    assert all(500_000 <= (low(i) or -1) <= 900_000 for i in within)
    assert set(within) == {i for i in truth if low(i) is not None and 500_000 <= low(i) <= 900_000}  # type: ignore[operator]
    assert all((low(i) or 0) >= 700_000 for i in _ids(site, "sale", slug, price="700000-any"))
    assert all(low(i) is not None and low(i) <= 600_000 for i in _ids(site, "sale", slug, price="any-600000"))  # type: ignore[operator]
    assert sorted(_ids(site, "sale", slug, price="any-any")) == sorted(truth)

    ascending = _ids(site, "sale", slug, sort="price-asc")
    priced = [low(i) for i in ascending if low(i) is not None]
    assert sorted(ascending) == sorted(truth)
    assert priced == sorted(priced)  # type: ignore[type-var]
    assert len(priced) == len(ascending)
    descending = [low(i) for i in _ids(site, "sale", slug, sort="price-desc") if low(i) is not None]
    assert descending == sorted(descending, reverse=True)  # type: ignore[type-var]
    updated = [truth[i]["date_updated"] for i in _ids(site, "sale", slug, sort="dateupdated-desc")]
    assert updated == sorted(updated, reverse=True)
    # The default order is stable and is the ground truth's order.
    assert _ids(site, "sale", slug) == _ids(site, "sale", slug) == list(truth)

    # Rent prices are weekly dollars.
    weekly = _ids(site, "rent", slug, price="400-600")
    rents = {t["listing_id"]: t for t in site.ground_truth(slug, "rent")}
    assert weekly
    rent_search = {x.listing_id: x.search_price for x in site.listings(slug, "rent")}
    assert all(400 <= (rent_search[i] or 0) <= 600 for i in weekly)
    assert {i for i in weekly if rents[i]["price_intended"]} == {
        i for i, t in rents.items() if t["price_intended"] and 400 <= t["price_intended"]["low"] <= 600
    }


def test_ssubs_changes_no_result_but_the_page_says_which_search_it_was(site: FakeSite) -> None:
    with_neighbours = props_of(extract_next_data(site.page("/sale/dandenong-vic-3175/").body))
    without = props_of(extract_next_data(site.page("/sale/dandenong-vic-3175/?ssubs=0").body))
    assert with_neighbours["listingSearchResultIds"] == without["listingSearchResultIds"]
    locations = [p["pageViewMetadata"]["searchRequest"]["locations"][0] for p in (with_neighbours, without)]
    assert [x["includeSurroundingSuburbs"] for x in locations] == [True, False]


# ---------------------------------------------------------------------------------------------
# Not found, redirects


@pytest.mark.parametrize(
    "path",
    [
        "/sale/nowhere-vic-3000/?ssubs=0&page=1",
        "/rent/nowhere-vic-3000/",
        "/sold-listings/nowhere-vic-3000/",
        "/suburb-profile/nowhere-vic-3000",
        "/some/other/path",
    ],
)
def test_unknown_pages_are_a_next_404(fakesite: RunningSite, path: str) -> None:
    answer = fakesite.get(path)
    assert answer.status == 404
    data = extract_next_data(answer.body)
    assert data["page"] == "/404"
    assert data["props"] == {"pageProps": {}}
    assert data["query"] == {}


def test_paths_without_their_canonical_slash_redirect(fakesite: RunningSite) -> None:
    answer = fakesite.get("/sale/dandenong-vic-3175?ssubs=0&page=2")
    assert answer.status == 301
    assert answer.headers["Location"] == "/sale/dandenong-vic-3175/?ssubs=0&page=2"
    answer = fakesite.get("/suburb-profile/dandenong-vic-3175/")
    assert answer.status == 301
    assert answer.headers["Location"] == "/suburb-profile/dandenong-vic-3175"


def test_assets_are_a_quick_404_without_the_gate(fakesite: RunningSite) -> None:
    for path in ("/favicon.ico", "/_next/static/chunks/main.js", "/images/x.jpg"):
        answer = fakesite.get(path, cookie=False)
        assert answer.status == 404
        assert b"__NEXT_DATA__" not in answer.body


# ---------------------------------------------------------------------------------------------
# The bot-protection gate

_COOKIE_SCRIPT = re.compile(r'document\.cookie = "(_abck=[^;"]+); path=/";\s*location\.reload\(\)')


def test_a_client_without_the_cookie_gets_the_challenge(fakesite: RunningSite) -> None:
    url = fakesite.url("/sale/dandenong-vic-3175/?ssubs=0&page=1")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url, timeout=5)
    error = caught.value
    body = error.read()
    error.close()
    assert error.code == 403
    assert len(body) < 2048
    assert b"__NEXT_DATA__" not in body
    assert "bm_sz=" in (error.headers.get("Set-Cookie") or "")
    assert "_abck" not in (error.headers.get("Set-Cookie") or ""), "only a script sets _abck"
    match = _COOKIE_SCRIPT.search(body.decode())
    assert match, body
    # What the browser does next: reload with the cookie the script set.
    request = urllib.request.Request(url, headers={"Cookie": f"bm_sz=x; {match.group(1)}"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200
        assert extract_next_data(answer.read())["page"] == "/search-listings-spa"
    # A cookie the site did not issue does not pass.
    assert fakesite.get("/rent/dandenong-vic-3175/", cookie=False).status == 403
    forged = urllib.request.Request(url, headers={"Cookie": "_abck=0~0~0~-1~-1~-1"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(forged, timeout=5)
    assert caught.value.code == 403
    caught.value.close()


def test_keep_alive_and_concurrent_clients(fakesite: RunningSite) -> None:
    cookie = fakesite.site.cookie_header()
    paths = [fakesite.site.search_path("sale", "dandenong-vic-3175", n) for n in range(1, 5)]
    statuses: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection(fakesite.host, fakesite.port, timeout=10)
        try:
            for path in paths:
                connection.request("GET", path, headers={"Cookie": cookie})
                answer = connection.getresponse()
                body = answer.read()
                assert int(answer.headers["Content-Length"]) == len(body)
                with lock:
                    statuses.append(answer.status)
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert statuses == [200] * 32


# ---------------------------------------------------------------------------------------------
# What the site served, and the ground truth


def test_request_log_and_served_ids(fakesite: RunningSite) -> None:
    site = fakesite.site
    fakesite.get("/sale/dandenong-vic-3175/?ssubs=0&page=1", cookie=False)
    first = fakesite.get("/sale/dandenong-vic-3175/?ssubs=0&page=1")
    second = fakesite.get("/rent/broken-hill-nsw-2880/?ssubs=0&page=2")
    fakesite.get("/suburb-profile/dandenong-vic-3175")
    log = site.served.snapshot()
    assert [(e.path, e.status, e.cookie) for e in log] == [
        ("/sale/dandenong-vic-3175/", 403, False),
        ("/sale/dandenong-vic-3175/", 200, True),
        ("/rent/broken-hill-nsw-2880/", 200, True),
        ("/suburb-profile/dandenong-vic-3175", 200, True),
    ]
    assert log[1].query == {"ssubs": "0", "page": "1"}
    assert log[1].bytes == len(first.body)
    assert log[1].monotonic <= log[2].monotonic
    assert abs(log[1].time - time.time()) < 60
    assert (log[2].listing_kind, log[2].slug, log[2].page) == ("rent", "broken-hill-nsw-2880", 2)
    expected = set()
    for answer in (first, second):
        props = props_of(extract_next_data(answer.body))
        expected |= {int(k) for k, v in props["listingsMap"].items() if v["listingType"] == "listing"}
    assert site.served_listing_ids() == expected
    assert site.served_listing_ids("rent") == {i for i in expected if i < 100_000_000}

    endpoint = json.loads(fakesite.get("/_fakesite/requests.json", cookie=False).body)
    assert [e["status"] for e in endpoint] == [403, 200, 200, 200]
    assert endpoint[1]["listing_ids"] == list(log[1].listing_ids)


def test_ground_truth_endpoint(fakesite: RunningSite) -> None:
    document = json.loads(fakesite.get("/_fakesite/ground-truth.json", cookie=False).body)
    site = fakesite.site
    assert [x["locality"] for x in document["localities"]] == site.locality_strings()
    assert document["localities"][1]["time_zone"] == "Australia/Broken_Hill"
    for locality in site.localities():
        for kind in KINDS:
            assert document["listings"][locality.slug][kind] == site.ground_truth(locality.slug, kind)
    assert sum(len(v) for x in document["listings"].values() for v in x.values()) == len(
        site.all_listing_ids()
    )


_SOLD_TAG = re.compile(r"^Sold (by private treaty|at auction|prior to auction) (\d{1,2} \w{3} \d{4})$")


def read_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """The fields of one listing entry, read the plain way, with the ground truth's keys."""
    model, address, features = (
        entry["listingModel"],
        entry["listingModel"]["address"],
        entry["listingModel"]["features"],
    )
    branding, tags = model["branding"], model["tags"]
    return {
        "listing_id": entry["id"],
        "url": model["url"],
        "street": address["street"] or None,
        "suburb": address["suburb"],
        "state": address["state"],
        "postcode": address["postcode"],
        "lat": address["lat"],
        "lng": address["lng"],
        "beds": features.get("beds"),
        "baths": features.get("baths"),
        "parking": features.get("parking"),
        "property_type": features["propertyType"],
        "property_type_formatted": features["propertyTypeFormatted"],
        "is_rural": features["isRural"],
        "is_retirement": features["isRetirement"],
        "land_size": features["landSize"],
        "land_unit": features["landUnit"],
        "price_text": model["price"],
        "auction": model["auction"],
        "inspection_open": model["inspection"]["openTime"],
        "inspection_close": model["inspection"]["closeTime"],
        "tag": tags["tagText"],
        "tag_class": tags["tagClassName"],
        "agency": branding["brandName"],
        "agency_id": branding["agencyId"],
        "agents": [agent["agentName"] for agent in branding["agents"]],
        "promo_type": model["promoType"],
    }


_AMOUNT = re.compile(r"(\d{1,3}(?:[, ]\d{3})+|\d+(?:\.\d+)?)\s*([km])?", re.IGNORECASE)


def amounts(text: str) -> list[int]:
    values = []
    for digits, unit in _AMOUNT.findall(text):
        value = float(digits.replace(",", "").replace(" ", ""))
        values.append(round(value * {"": 1, "k": 1_000, "m": 1_000_000}[unit.lower()]))
    return values


@pytest.mark.parametrize("kind", KINDS)
def test_ground_truth_is_what_the_pages_serve(site: FakeSite, kind: Kind) -> None:
    served = {entry["id"]: read_entry(entry) for entry in listing_entries(site, kind)}
    truth = {t["listing_id"]: t for x in site.localities() for t in site.ground_truth(x.slug, kind)}
    assert set(served) == set(truth) == site.all_listing_ids(kind)
    for listing_id, seen in served.items():
        expected = truth[listing_id]
        assert {key: expected[key] for key in seen} == seen
        assert seen["url"].endswith(f"-{listing_id}")
        if expected["land_size"]:
            factor = 10_000 if expected["land_unit"] == "ha" else 1
            assert expected["land_area_m2"] == pytest.approx(expected["land_size"] * factor)
        else:
            assert expected["land_area_m2"] is None
        intended = expected["price_intended"]
        if intended is not None:
            found = amounts(expected["price_text"])
            assert found[0] == intended["low"], expected["price_text"]
            if expected["price_kind"] == "range":
                assert found[-1] == intended["high"] > intended["low"], expected["price_text"]
        if kind == "sold":
            match = _SOLD_TAG.match(expected["tag"])
            assert match
            assert expected["tag_class"] == "is-sold"
            assert datetime.strptime(match.group(2), "%d %b %Y").date() == date.fromisoformat(
                expected["sold_on"]
            )
            assert match.group(1).removeprefix("by ").removeprefix("at ") == expected["sold_method"]
        for key in ("auction", "inspection_open", "inspection_close"):
            if expected[key]:
                assert datetime.fromisoformat(expected[key]).tzinfo is None


def test_the_data_holds_the_real_sites_traps() -> None:
    site = FakeSite(localities=40, seed=3)
    truth = [t for x in site.localities() for kind in KINDS for t in site.ground_truth(x.slug, kind)]
    texts = Counter(t["price_text"] for t in truth)
    for text in ("Contact Agent", "$ 430 PER WEEK", "Price Withheld"):
        assert any(text.split()[0] in t for t in texts), text
    assert any(re.fullmatch(r"\$\d+k - \$\d+k", t) for t in texts)
    assert any(t.startswith("Offers over $") and t.endswith("m") for t in texts)
    assert any(re.fullmatch(r"\$[\d,]+ \u2013 \$[\d,]+", t) for t in texts)
    assert any(" to $" in t for t in texts)
    assert any(re.fullmatch(r"\$\d+ \d{3}", t) for t in texts)
    assert any(t.endswith(" pcm") for t in texts)
    assert any(t.endswith("/week") for t in texts)
    assert any(t.startswith("Speak to Agent on 04") for t in texts)
    assert any(t["street"] is None for t in truth), "some addresses are withheld"
    by_locality_kind: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for t in truth:
        by_locality_kind.setdefault((t["locality"], t["listing_type"]), []).append(t)
    for group in by_locality_kind.values():
        if len(group) < 4:
            continue
        streets = Counter(t["street"] for t in group if t["street"])
        assert any(n >= 2 for n in streets.values()), "one street address listed under two ids"
        units = {t["street"] for t in group if t["street"] and t["street"].startswith(("1/36 ", "2/36 "))}
        assert len(units) >= 2, "two units of one building"
    tags = Counter(t["tag"] for t in truth)
    assert tags["New"]
    assert tags["Under offer"]
    assert any(str(t).startswith("Auction Sat ") for t in tags)
    assert {t["tag_class"] for t in truth} >= {"is-new", "is-under-offer", "is-auction", "is-sold", None}
    assert any(t["parking"] is None for t in truth)
    assert any(t["beds"] is None for t in truth)


# ---------------------------------------------------------------------------------------------
# Faults


def test_fault_hooks(fakesite_factory: FakeSiteFactory) -> None:
    running = fakesite_factory(localities=1, seed=1)
    site = running.site
    path = "/sale/dandenong-vic-3175/"

    site.faults.fail_5xx_every = 2
    assert [running.get(path).status for _ in range(4)] == [200, 503, 200, 503]
    site.faults.reset()

    site.faults.truncate_json_every = 1
    answer = running.get(path)
    assert answer.status == 200
    with pytest.raises(json.JSONDecodeError):
        extract_next_data(answer.body)
    site.faults.reset()

    site.faults.block_every = 1
    answer = running.get(path)
    assert answer.status == 403
    assert b"Access Denied" in answer.body
    assert b"location.reload" not in answer.body
    site.faults.reset()

    site.faults.slow_seconds = 0.3
    started = time.monotonic()
    assert running.get(path).status == 200
    assert time.monotonic() - started >= 0.3
    site.faults.reset()

    site.faults.hang_paths.add(path)
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        running.get(path, timeout=0.3)
    assert running.get("/rent/dandenong-vic-3175/").status == 200, "other pages are still answered"
    site.faults.reset()
    assert running.get(path).status == 200

    faults = [e.fault for e in site.served.snapshot()]
    assert faults.count("5xx") == 2
    assert "truncated" in faults
    assert "block" in faults
    assert "slow" in faults
    # Faulty pages do not count as served listings.
    assert site.served_listing_ids() == {
        i for e in site.served.snapshot() if e.status == 200 and e.fault is None for i in e.listing_ids
    }


def test_stopping_releases_a_hung_request(fakesite_factory: FakeSiteFactory) -> None:
    running = fakesite_factory(localities=1, seed=1)
    running.site.faults.hang_paths.add("/sale/dandenong-vic-3175/?ssubs=0")
    results: list[object] = []

    def request() -> None:
        try:
            results.append(running.get("/sale/dandenong-vic-3175/?ssubs=0", timeout=600))
        except Exception as exc:
            results.append(exc)

    thread = threading.Thread(target=request)
    thread.start()
    deadline = time.monotonic() + 60
    while not running.site.held_requests() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert thread.is_alive(), "the request is held"
    running.stop()
    thread.join(120)  # the request's own timeout is 600 s: only the stop releases it this soon
    assert not thread.is_alive()
    # The connection was dropped without an answer.
    assert len(results) == 1
    assert isinstance(results[0], Exception)
    assert running.site.served.wait_for(1, timeout=60)
    assert [(e.status, e.fault) for e in running.site.served.snapshot()] == [(0, "hang")]


# ---------------------------------------------------------------------------------------------
# Fixtures and the command line


def test_fixture(fakesite: RunningSite) -> None:
    assert fakesite.base_url == f"http://127.0.0.1:{fakesite.port}"
    assert len(fakesite.site.localities()) == 3
    assert fakesite.site.seed == 1


def test_factory(fakesite_factory: FakeSiteFactory) -> None:
    prepared = FakeSite(localities=0, seed=3)
    prepared.add_locality("Bigvale", "VIC", "3999", sale=25)
    one = fakesite_factory(site=prepared)
    two = fakesite_factory(localities=2, seed=7, listings_per_locality=(1, 3))
    assert one.port != two.port
    assert one.get("/sale/bigvale-vic-3999/").status == 200
    assert all(1 <= len(two.site.listings(x.slug, k)) <= 3 for x in two.site.localities() for k in KINDS)


def test_command_line() -> None:
    command = [
        sys.executable, "-m", "newhomie.testing.fakesite", "--port", "0", "--localities", "2", "--seed", "3",
        "--add-locality", "Bigvale VIC 3999:30,0,1",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        match = re.fullmatch(r"fakesite: serving 3 localities at (http://127\.0\.0\.1:\d+)", line)
        assert match, line
        with urllib.request.urlopen(match.group(1) + "/_fakesite/ground-truth.json", timeout=10) as answer:
            document = json.load(answer)
        assert document["seed"] == 3
        assert document["localities"][-1]["counts"] == {"sale": 30, "rent": 0, "sold": 1}
        # Through the gate the way a browser goes, then: the same bytes as this process makes.
        path = "/sale/dandenong-vic-3175/?ssubs=0&page=2"
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(match.group(1) + path, timeout=10)
        cookie = _COOKIE_SCRIPT.search(caught.value.read().decode())
        caught.value.close()
        assert cookie
        request = urllib.request.Request(match.group(1) + path, headers={"Cookie": cookie.group(1)})
        with urllib.request.urlopen(request, timeout=10) as answer:
            served = answer.read()
        here = FakeSite(localities=2, seed=3)
        here.add_locality("Bigvale", "VIC", "3999", sale=30, rent=0, sold=1)
        assert served == here.page(path).body
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# --- Time passing ------------------------------------------------------------------------------------


def test_advance_sells_withdraws_leases_lists_and_reprices_deterministically() -> None:
    site, twin = FakeSite(localities=6, seed=12), FakeSite(localities=6, seed=12)
    before = {
        kind: {x.listing_id: x.price_text for x in _all(site, kind)} for kind in ("sale", "rent", "sold")
    }
    start = site.today
    changes = site.advance(days=7)
    assert twin.advance(days=7) == changes
    assert json.dumps(site.ground_truth_document()) == json.dumps(twin.ground_truth_document())
    assert site.today == start + timedelta(days=7)
    assert min(changes.values()) > 0, changes
    after = {kind: {x.listing_id: x for x in _all(site, kind)} for kind in ("sale", "rent", "sold")}
    # A sale that sold keeps its id, and moves to the sold search with a date in the week and a price.
    sold_now = set(before["sale"]) & set(after["sold"])
    assert len(sold_now) == changes["sold"]
    for listing_id in sold_now:
        listing = after["sold"][listing_id]
        assert listing.sold_on is not None
        assert start < listing.sold_on <= site.today
        assert listing.tag_class == "is-sold"
        assert listing.auction is None
    gone = set(before["sale"]) - set(after["sale"]) - sold_now
    assert len(gone) == changes["withdrawn"]
    assert len(set(before["rent"]) - set(after["rent"])) == changes["leased"]
    new = (set(after["sale"]) - set(before["sale"])) | (set(after["rent"]) - set(before["rent"]))
    assert len(new) == changes["listed"]
    repriced = {
        i
        for i in set(before["sale"]) & set(after["sale"])
        if before["sale"][i] != after["sale"][i].price_text
    }
    assert len(repriced) == changes["repriced"]
    # Old sold records never change.
    assert all(after["sold"][i].price_text == text for i, text in before["sold"].items())
    # The pages follow: a withdrawn listing is on no search page; its id answers nothing.
    slug = site.localities()[0].slug
    served_sale = {x.listing_id for x in site.search("sale", slug)}
    assert served_sale == {x.listing_id for x in site.listings(slug, "sale")}


def test_advance_moves_a_profiles_market_figures_but_not_its_place() -> None:
    site = FakeSite(localities=2, seed=3)
    slug = site.localities()[0].slug
    first = extract_next_data(site.page(site.profile_path(slug)).body.decode())
    site.advance(days=7)
    later = extract_next_data(site.page(site.profile_path(slug)).body.decode())

    def entry(data: dict[str, Any], prefix: str) -> dict[str, Any]:
        state = data["props"]["pageProps"]["__APOLLO_STATE__"]
        return next(value for key, value in state.items() if key.startswith(prefix))

    assert entry(first, "LocationProfile:")["data"] != entry(later, "LocationProfile:")["data"]
    suburb_first, suburb_later = entry(first, "Suburb:"), entry(later, "Suburb:")
    assert suburb_first["schools"] == suburb_later["schools"]
    assert {k: v for k, v in suburb_first.items() if k.startswith("suburbShape")} == {
        k: v for k, v in suburb_later.items() if k.startswith("suburbShape")
    }


def _all(site: FakeSite, kind: Kind) -> list[Listing]:
    return [listing for locality in site.localities() for listing in site.listings(locality.slug, kind)]
