"""Tests of `newhomie.site` against the real captured pages and shapes the site also produces.

The real pages are the trimmed fixtures in `tests/fixtures/` and the whole captures in
`tests/fixtures/full/`. Other shapes (a 404, a block page, a malformed entry, a sold page) are built by
editing copies of the fixtures.
"""

from __future__ import annotations

import copy
import json
import pickle
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newhomie.site import (
    BlockedPage,
    EntryError,
    PageError,
    PageNotFound,
    PageShapeError,
    SearchPage,
    extract_next_data,
    is_blocked_body,
    parse_search_page,
    parse_suburb_profile,
)
from tests.paths import FIXTURES
from tests.paths import FULL_SAMPLES as SAMPLES

SALE = "sale.dandenong-vic-3175.page1.2025-02.json"
RENT = "rent.dandenong-vic-3175.page1.2025-02.json"
PROFILE = "suburb-profile.dandenong-vic-3175.2025-02.json"
SALE_URL = "https://www.domain.com.au/sale/dandenong-vic-3175/?ssubs=0&page=1"
RENT_URL = "https://www.domain.com.au/rent/dandenong-vic-3175/?ssubs=0&page=1"
SOLD_URL = "https://www.domain.com.au/sold-listings/dandenong-vic-3175/?ssubs=0&page=1"
PROFILE_URL = "https://www.domain.com.au/suburb-profile/dandenong-vic-3175"
MELBOURNE = ZoneInfo("Australia/Melbourne")

SOURCES = [pytest.param(FIXTURES, id="fixture"), pytest.param(SAMPLES, id="sample")]


@cache
def _text(folder: Path, name: str) -> str:
    return (folder / name).read_text(encoding="utf-8")


def _data(name: str) -> dict[str, Any]:
    """A fresh, editable copy of a trimmed fixture's JSON."""
    return copy.deepcopy(_json(name))


@cache
def _json(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(_text(FIXTURES, name))
    return loaded


def _props(data: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = data["props"]["pageProps"]["componentProps"]
    return props


def _model(data: dict[str, Any], listing_id: int) -> dict[str, Any]:
    model: dict[str, Any] = _props(data)["listingsMap"][str(listing_id)]["listingModel"]
    return model


def _parse(data: dict[str, Any], url: str | None = SALE_URL) -> SearchPage:
    return parse_search_page(json.dumps(data), url)


def _by_id(page: SearchPage, listing_id: int) -> Any:
    (listing,) = [listing for listing in page.listings if listing.listing_id == listing_id]
    return listing


def _html(json_text: str, script_tag: str = '<script id="__NEXT_DATA__" type="application/json">') -> str:
    """A page shaped like the site's: head, rendered markup, other scripts, then the data."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/><title>Domain</title>'
        '<script src="/_next/static/chunks/main.js" defer=""></script>'
        "<script>window.dataLayer=[];/* __NEXT_DATA__ is read by Next.js */</script></head>"
        '<body><div id="__next"><ul data-testid="results">'
        + '<li class="css-1qp9106"><a href="/x">card</a></li>' * 50
        + "</ul></div>"
        + script_tag
        + json_text
        + '</script><script nomodule="" src="/_next/static/chunks/polyfills.js"></script></body></html>'
    )


# ---------------------------------------------------------------------------------------------
# The real pages


@pytest.mark.parametrize("folder", SOURCES)
@pytest.mark.parametrize(
    ("name", "url", "listing_type", "counts", "entries"),
    [(SALE, SALE_URL, "sale", (1, 24, 474), 22), (RENT, RENT_URL, "rent", (1, 14, 273), 20)],
)
def test_real_search_pages_lose_no_entry(
    folder: Path, name: str, url: str, listing_type: str, counts: tuple[int, int, int], entries: int
) -> None:
    text = _text(folder, name)
    listings_map = _props(json.loads(text))["listingsMap"]
    page = parse_search_page(text, url)
    assert page.errors == []
    assert (page.current_page, page.total_pages, page.total_listings) == counts
    assert page.listing_type == listing_type
    assert page.locality_slug == "dandenong-vic-3175"
    ids = [listing.listing_id for listing in page.listings]
    assert len(ids) == len(set(ids)) == entries
    assert set(ids) == {entry["id"] for entry in listings_map.values() if entry["listingType"] == "listing"}
    assert ids[:20] == page.organic_ids
    assert page.projects == []
    assert page.has_next_page
    assert not page.truncated
    for listing in page.listings:
        assert listing.listing_type == listing_type
        assert listing.url.startswith("https://www.domain.com.au/")
        assert listing.url.endswith(str(listing.listing_id))
        assert (listing.suburb, listing.state, listing.postcode) == ("Dandenong", "VIC", "3175")
        assert listing.price_low is listing.price_high is None  # the price pipeline fills them


@pytest.mark.parametrize("folder", SOURCES)
def test_real_sale_listing_fields(folder: Path) -> None:
    page = parse_search_page(_text(folder, SALE), SALE_URL)
    rodwell = _by_id(page, 2019717175)
    assert rodwell.url == "https://www.domain.com.au/16-rodwell-street-dandenong-vic-3175-2019717175"
    assert rodwell.street == "16 Rodwell Street"
    assert (rodwell.beds, rodwell.baths, rodwell.parking) == (4, 2, 4)
    assert rodwell.property_type == "House"
    assert rodwell.tag == "Auction Sat 1 Feb"
    assert rodwell.tag_class == "is-auction"
    assert rodwell.agency == "Ray White Dandenong"
    assert rodwell.agency_id == 8878
    assert rodwell.agent_names == ["Ben Jusufi", "Raza Muhammad"]
    assert rodwell.price_text == "AUCTION THIS SATURDAY @3:00PM ONSITE !!"
    assert rodwell.promo_type == "premiumplus"
    assert rodwell.inspection_start == datetime(2025, 2, 1, 14, 30, tzinfo=MELBOURNE)
    assert rodwell.inspection_end == datetime(2025, 2, 1, 15, 0, tzinfo=MELBOURNE)
    assert rodwell.land_area_m2 is None  # the site's 0
    assert (rodwell.sold_on, rodwell.sold_method) == (None, None)

    assert _by_id(page, 2019553636).parking is None
    assert _by_id(page, 2019314383).land_area_m2 == 537
    gooding = _by_id(page, 2019592676)
    assert (gooding.lat, gooding.lng) == (-37.975513, 145.2246)
    assert gooding.street == "10A Gooding Court"
    assert _by_id(page, 2019700219).price_text == "$480,000-$520,000"


@pytest.mark.parametrize("folder", SOURCES)
def test_lesson_local_auction_time_keeps_zone(folder: Path) -> None:
    rodwell = _by_id(parse_search_page(_text(folder, SALE), SALE_URL), 2019717175)
    assert rodwell.auction_at == datetime(2025, 2, 1, 15, 0, tzinfo=MELBOURNE)
    assert rodwell.auction_at.astimezone(UTC) == datetime(2025, 2, 1, 4, 0, tzinfo=UTC)
    assert rodwell.auction_at.utcoffset() == timedelta(hours=11)  # daylight saving in February


@pytest.mark.parametrize("folder", SOURCES)
def test_lesson_missing_time_is_none_not_1970(folder: Path) -> None:
    glenys = _by_id(parse_search_page(_text(folder, SALE), SALE_URL), 2019314383)
    assert glenys.auction_at is glenys.inspection_start is glenys.inspection_end is None


def test_lesson_default_dates_of_the_back_end_are_none() -> None:
    data = _data(SALE)
    _model(data, 2019717175)["auction"] = "0001-01-01T00:00:00"
    _model(data, 2019717175)["inspection"] = {"openTime": "1970-01-01T00:00:00", "closeTime": ""}
    rodwell = _by_id(_parse(data), 2019717175)
    assert rodwell.auction_at is rodwell.inspection_start is rodwell.inspection_end is None


def test_missing_inspection_end_is_not_invented() -> None:
    data = _data(SALE)
    _model(data, 2019717175)["inspection"] = {"openTime": "2025-02-01T14:30:00"}
    rodwell = _by_id(_parse(data), 2019717175)
    assert rodwell.inspection_start == datetime(2025, 2, 1, 14, 30, tzinfo=MELBOURNE)
    assert rodwell.inspection_end is None


@pytest.mark.parametrize("folder", SOURCES)
def test_lesson_promoted_listing_repeats_kept_once(folder: Path) -> None:
    page = parse_search_page(_text(folder, SALE), SALE_URL)
    ids = [listing.listing_id for listing in page.listings]
    assert page.topspot_ids == [2019677800, 2018546703, 2019665514]
    assert ids.count(2019665514) == 1  # organic and promoted
    assert ids[:20] == page.organic_ids
    assert sorted(ids[20:]) == [2018546703, 2019677800]  # promoted only: after the organic ones


@pytest.mark.parametrize("folder", SOURCES)
def test_nearby_sales_are_not_results_of_the_search(folder: Path) -> None:
    page = parse_search_page(_text(folder, SALE), SALE_URL)
    assert len(page.nearby_sold) == 10
    assert not {sold.listing_id for sold in page.nearby_sold} & {item.listing_id for item in page.listings}
    first = page.nearby_sold[0]
    assert (first.listing_id, first.listing_type, first.price_text) == (2019550528, "sold", "$740,000")
    assert (first.tag, first.sold_method, first.sold_on) == ("Sold", "unknown", None)
    assert first.locality_slug == "dandenong-vic-3175"


@pytest.mark.parametrize("folder", SOURCES)
def test_real_rent_listing_fields(folder: Path) -> None:
    page = parse_search_page(_text(folder, RENT), RENT_URL)
    olive = _by_id(page, 17403231)
    assert olive.price_text == "$ 430 PER WEEK"
    assert olive.agency == "Hall & Partners First National Dandenong"
    assert olive.street == "4/28 Olive Street"
    assert _by_id(page, 17409876).parking is None
    assert _by_id(page, 17413240).inspection_start == datetime(2025, 1, 31, 11, 0, tzinfo=MELBOURNE)
    assert page.nearby_sold == []


@pytest.mark.parametrize("folder", SOURCES)
def test_lesson_units_of_one_building_stay_separate(folder: Path) -> None:
    # Two flats of 30-32 Close Avenue share their coordinates on the real rent page.
    page = parse_search_page(_text(folder, RENT), RENT_URL)
    close_avenue = [item for item in page.listings if (item.lat, item.lng) == (-37.981995, 145.20773)]
    assert {item.listing_id for item in close_avenue} == {17405594, 17405605}
    # And two listings with the very same street stay two listings.
    data = _data(SALE)
    _model(data, 2019686412)["address"]["street"] = "5/69-71 Potter Street"
    page = _parse(data)
    same_street = [item.listing_id for item in page.listings if item.street == "5/69-71 Potter Street"]
    assert sorted(same_street) == [2019686412, 2019700219]
    assert len(page.listings) == 22


@pytest.mark.parametrize("folder", SOURCES)
def test_lesson_surrounding_suburbs_flag_is_reported(folder: Path) -> None:
    # These captures were taken without ssubs=0: the site says it searched the neighbours too.
    assert parse_search_page(_text(folder, SALE), SALE_URL).surrounding_included is True


def test_whole_html_page_parses_like_the_bare_json() -> None:
    text = _text(FIXTURES, SALE)
    assert parse_search_page(_html(text), SALE_URL) == parse_search_page(text, SALE_URL)


@pytest.mark.parametrize(
    "tag",
    [
        '<script type="application/json" id="__NEXT_DATA__">',
        "<script id='__NEXT_DATA__' type='application/json' nonce='abc'>",
        '<SCRIPT ID="__NEXT_DATA__" TYPE="application/json" crossorigin="anonymous">',
        "<script id=__NEXT_DATA__ type=application/json>",
    ],
)
def test_next_data_found_whatever_the_attributes(tag: str) -> None:
    text = _text(FIXTURES, RENT)
    assert extract_next_data(_html(text, tag)) == json.loads(text)


@settings(max_examples=50, deadline=None)
@given(
    payload=st.dictionaries(
        st.text(max_size=8),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=10,
        ),
        max_size=5,
    )
)
def test_next_data_round_trips_any_json(payload: dict[str, Any]) -> None:
    # Next.js escapes "<" inside the script, so no "</script" can end it early.
    body = json.dumps(payload).replace("<", "\\u003c")
    assert extract_next_data(_html(body)) == payload
    assert extract_next_data(body) == payload
    assert extract_next_data("\ufeff\n " + body) == payload


def test_truncated_page_is_a_shape_error() -> None:
    page = _html(_text(FIXTURES, RENT))
    with pytest.raises(PageShapeError, match="__NEXT_DATA__") as caught:
        parse_search_page(page[: len(page) // 2], RENT_URL)
    assert caught.value.url == RENT_URL


# ---------------------------------------------------------------------------------------------
# Pages that are not search results


def test_lesson_unknown_locality_is_not_found() -> None:
    url = "https://www.domain.com.au/sale/nowhere-vic-3999/?ssubs=0&page=1"
    data = {"page": "/404", "query": {}, "props": {"pageProps": {}}, "buildId": "x"}
    with pytest.raises(PageNotFound) as caught:
        parse_search_page(_html(json.dumps(data)), url)
    assert caught.value.url == url
    assert url in str(caught.value)
    assert "nowhere-vic-3999" in str(caught.value)
    with pytest.raises(PageNotFound):
        parse_suburb_profile(json.dumps(data), "https://www.domain.com.au/suburb-profile/nowhere-vic-3999")


AKAMAI_DENIED = (
    "<HTML><HEAD>\n<TITLE>Access Denied</TITLE>\n</HEAD><BODY>\n<H1>Access Denied</H1>\n"
    "You don't have permission to access \"http&#58;&#47;&#47;www&#46;domain&#46;com&#46;au&#47;sale&#47;"
    'dandenong&#45;vic&#45;3175&#47;" on this server.<P>\n'
    "Reference&#32;&#35;18&#46;6f2d1402&#46;1738300000&#46;1a2b3c4d\n"
    "<P>https&#58;&#47;&#47;errors&#46;edgesuite&#46;net&#47;18&#46;6f2d1402</P>\n</BODY>\n</HTML>\n"
)


@pytest.mark.parametrize(
    "body",
    [
        AKAMAI_DENIED,
        "<html><body>Access Denied. Reference #18.6f2d1402.1738300000.1a2b3c4d</body></html>",
        '<html><head><script src="/_sec/cp_challenge/ak-challenge-4-3.js"></script></head></html>',
        "<html><body><h1>429 Too Many Requests</h1></body></html>",
        "",
        "<html><body>" + "<div>nothing here</div>" * 2000 + "</body></html>",
    ],
    ids=["akamai-entities", "akamai-plain", "challenge", "rate-limit", "empty", "big-without-data"],
)
def test_bot_protection_page_is_blocked(body: str) -> None:
    assert is_blocked_body(body)
    with pytest.raises(BlockedPage) as caught:
        parse_search_page(body, SALE_URL)
    assert caught.value.url == SALE_URL
    assert SALE_URL in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [AKAMAI_DENIED, "<html><body>Access Denied. Reference #18.6f2d1402.1738300000.1a2b3c4d</body></html>"],
    ids=["entities", "plain"],
)
def test_block_message_names_the_akamai_reference(body: str) -> None:
    with pytest.raises(BlockedPage, match=r"Access Denied.*Reference #18\.6f2d1402\.1738300000\.1a2b3c4d"):
        extract_next_data(body)


def test_real_pages_are_not_blocked() -> None:
    for name in (SALE, RENT, PROFILE):
        assert not is_blocked_body(_html(_text(FIXTURES, name)))
        assert not is_blocked_body(_text(FIXTURES, name))


@pytest.mark.parametrize(
    ("remove", "path"),
    [
        ("componentProps", "props.pageProps.componentProps"),
        ("totalPages", "props.pageProps.componentProps.totalPages"),
        ("listingsMap", "props.pageProps.componentProps.listingsMap"),
    ],
)
def test_unexpected_shape_names_the_path(remove: str, path: str) -> None:
    data = _data(SALE)
    if remove == "componentProps":
        del data["props"]["pageProps"]["componentProps"]
    else:
        del _props(data)[remove]
    with pytest.raises(PageShapeError) as caught:
        _parse(data)
    assert caught.value.path == path
    assert path in str(caught.value)
    assert SALE_URL in str(caught.value)


def test_wrong_type_of_count_is_a_shape_error() -> None:
    data = _data(SALE)
    _props(data)["totalPages"] = "many"
    with pytest.raises(PageShapeError, match=r"componentProps\.totalPages"):
        _parse(data)


def test_profile_given_to_the_search_parser_is_a_shape_error() -> None:
    with pytest.raises(PageShapeError, match="componentProps"):
        parse_search_page(_text(FIXTURES, PROFILE), SALE_URL)


def test_lesson_errors_name_the_url() -> None:
    error = PageShapeError("props.pageProps.componentProps", "missing", SALE_URL)
    assert SALE_URL in str(error)
    assert "props.pageProps.componentProps" in str(error)
    assert isinstance(error, PageError)
    # Exceptions cross process boundaries intact (Scrapy workers, logging queues).
    for original in (error, BlockedPage("blocked", SALE_URL), PageNotFound("not found", SALE_URL)):
        copied = pickle.loads(pickle.dumps(original))
        assert (type(copied), str(copied), copied.url) == (type(original), str(original), original.url)


def test_site_error_route_is_a_page_error() -> None:
    data = {"page": "/_error", "query": {}, "props": {"pageProps": {"statusCode": 500}}}
    with pytest.raises(PageError, match="error page"):
        parse_search_page(json.dumps(data), SALE_URL)


# ---------------------------------------------------------------------------------------------
# One malformed entry


def _assert_one_error(page: SearchPage, listing_id: int, field: str) -> EntryError:
    (error,) = page.errors
    assert (error.listing_id, error.field) == (listing_id, field)
    assert error.raw["id"] == listing_id
    assert listing_id not in {listing.listing_id for listing in page.listings}
    assert len(page.listings) == 21
    assert str(listing_id) in str(error)
    return error


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        pytest.param(lambda model: model["features"].update(beds="three"), "beds", id="beds-three"),
        pytest.param(lambda model: model.update(address=None), "address", id="address-null"),
        pytest.param(lambda model: model["address"].update(lat=-60.5), "lat", id="lat-antarctic"),
        pytest.param(lambda model: model["address"].update(lng=-145.2), "lng", id="lng-sign-lost"),
        pytest.param(lambda model: model["address"].update(state="Victoria"), "state", id="state-name"),
        pytest.param(lambda model: model["address"].update(postcode="31750"), "postcode", id="postcode-5"),
        pytest.param(lambda model: model["address"].update(suburb=""), "suburb", id="suburb-empty"),
        pytest.param(lambda model: model["features"].update(parking=120), "parking", id="parking-120"),
        pytest.param(lambda model: model["features"].update(landSize="big"), "land_area_m2", id="land-text"),
        pytest.param(
            lambda model: model["features"].update(landSize=3, landUnit="furlongs"),
            "land_area_m2",
            id="land-unit",
        ),
        pytest.param(lambda model: model.update(auction="next Saturday"), "auction_at", id="auction-text"),
        pytest.param(lambda model: model.update(url=None), "url", id="url-null"),
        pytest.param(lambda model: model.update(features="4 bed"), "features", id="features-text"),
    ],
)
def test_one_malformed_entry_becomes_one_error(edit: Any, field: str) -> None:
    data = _data(SALE)
    edit(_model(data, 2019717175))
    error = _assert_one_error(_parse(data), 2019717175, field)
    assert error.section == "listingsMap"
    assert error.message


def test_entry_that_is_not_an_object_becomes_an_error() -> None:
    data = _data(SALE)
    _props(data)["listingsMap"]["2019717175"] = "gone"
    (error,) = _parse(data).errors
    assert (error.listing_id, error.field) == (2019717175, "entry")


def test_entry_with_a_bad_id_becomes_an_error() -> None:
    data = _data(SALE)
    _props(data)["listingsMap"]["2019717175"]["id"] = "abc"
    page = _parse(data)
    (error,) = page.errors
    assert (error.listing_id, error.field) == ("abc", "listing_id")
    assert len(page.listings) == 21


def test_unknown_entry_type_becomes_an_error() -> None:
    data = _data(SALE)
    _props(data)["listingsMap"]["2019717175"]["listingType"] = "advert"
    _assert_one_error(_parse(data), 2019717175, "listingType")


def test_organic_id_without_entry_is_reported() -> None:
    data = _data(SALE)
    del _props(data)["listingsMap"]["2019717175"]
    page = _parse(data)
    (error,) = page.errors
    assert (error.listing_id, error.field) == (2019717175, "listingsMap")
    assert len(page.listings) == 21


def test_malformed_nearby_sale_is_reported_apart() -> None:
    data = _data(SALE)
    _props(data)["UPVSoldListings"][0]["listingModel"]["address"]["postcode"] = None
    page = _parse(data)
    (error,) = page.errors
    assert (error.listing_id, error.field, error.section) == (2019550528, "postcode", "UPVSoldListings")
    assert len(page.listings) == 22
    assert len(page.nearby_sold) == 9


# ---------------------------------------------------------------------------------------------
# Shapes the site produces beyond the captures


SOLD_TAGS = {
    2019717175: ("Sold by private treaty 04 Dec 2025", date(2025, 12, 4), "private_treaty"),
    2019553636: ("Sold at auction 6 Sep 2026", date(2026, 9, 6), "auction"),
    2019314383: ("Sold prior to auction 13 Jan 2025", date(2025, 1, 13), "prior_to_auction"),
    2019592676: ("Sold 12 Mar 2025", date(2025, 3, 12), "unknown"),
    2019700219: ("Sold", None, "unknown"),
    2019686412: (
        "Sold by expression of interest 1 September 2025",
        date(2025, 9, 1),
        "expression_of_interest",
    ),
    2019742612: ("Sold by tender 30 Jun 2025", date(2025, 6, 30), "tender"),
    2019739832: ("Sold after auction 6 Sept 2025", date(2025, 9, 6), "after_auction"),
    2019734561: ("Sold by set date 2 Oct 2025", date(2025, 10, 2), "set_date"),
}


def _sold_page(query_type: str | None, url: str | None) -> SearchPage:
    data = _data(SALE)
    if query_type is None:
        del data["query"]["listingType"]
    else:
        data["query"]["listingType"] = query_type
    for listing_id, (text, _, _) in SOLD_TAGS.items():
        _model(data, listing_id)["tags"] = {"tagText": text, "tagClassName": "is-sold"}
    return _parse(data, url)


@pytest.mark.parametrize(("query_type", "url"), [("sold", SOLD_URL), ("sold", None), (None, SOLD_URL)])
def test_sold_page_gives_sale_date_and_method(query_type: str | None, url: str | None) -> None:
    page = _sold_page(query_type, url)
    assert page.listing_type == "sold"
    assert page.errors == []
    for listing_id, (_, sold_on, method) in SOLD_TAGS.items():
        listing = _by_id(page, listing_id)
        assert (listing.listing_type, listing.sold_on, listing.sold_method) == ("sold", sold_on, method)
        assert listing.sold_price is None  # the price pipeline fills it
    assert _by_id(page, 2019760323).sold_method == "unknown"  # a sold listing with another tag


def test_listing_type_and_locality_come_from_the_url_when_the_query_lacks_them() -> None:
    data = _data(RENT)
    data["query"] = {}
    page = _parse(data, "https://www.domain.com.au/rent/dandenong-vic-3175/?ssubs=0&page=1")
    assert (page.listing_type, page.locality_slug) == ("rent", "dandenong-vic-3175")
    with pytest.raises(PageShapeError, match=r"query\.listingType"):
        _parse(data, None)


def test_query_wins_over_the_url() -> None:
    page = _parse(_data(RENT), "https://www.domain.com.au/sale/noble-park-vic-3174/")
    assert (page.listing_type, page.locality_slug) == ("rent", "dandenong-vic-3175")


@pytest.mark.parametrize(
    ("size", "unit", "area"),
    [
        (2.5, "ha", 25_000),
        ("1.2", "hectares", 12_000),
        (10, "acres", 40_468.56),
        (537, "m²", 537),
        (650, None, 650),
        (0, "ha", None),
    ],
)
def test_land_units_are_converted_to_square_metres(size: Any, unit: str | None, area: float | None) -> None:
    data = _data(SALE)
    _model(data, 2019314383)["features"].update(landSize=size, landUnit=unit)
    assert _by_id(_parse(data), 2019314383).land_area_m2 == area


def test_broken_hill_keeps_adelaide_time() -> None:
    data = _data(SALE)
    model = _model(data, 2019717175)
    model["address"].update(suburb="BROKEN HILL", state="NSW", postcode="2880", lat=-31.95, lng=141.45)
    listing = _by_id(_parse(data), 2019717175)
    adelaide = datetime(2025, 2, 1, 15, 0, tzinfo=ZoneInfo("Australia/Adelaide"))
    assert listing.auction_at.utcoffset() == adelaide.utcoffset() == timedelta(hours=10, minutes=30)
    assert listing.auction_at == adelaide
    assert listing.auction_at.astimezone(UTC) == datetime(2025, 2, 1, 4, 30, tzinfo=UTC)
    assert listing.suburb == "Broken Hill"


@pytest.mark.parametrize(
    ("state", "postcode", "zone"),
    [
        ("NSW", "2000", "Australia/Sydney"),
        ("QLD", "4000", "Australia/Brisbane"),
        ("WA", "6000", "Australia/Perth"),
    ],
)
def test_times_take_the_zone_of_the_listing_state(state: str, postcode: str, zone: str) -> None:
    data = _data(SALE)
    _model(data, 2019717175)["address"].update(state=state, postcode=postcode)
    listing = _by_id(_parse(data), 2019717175)
    assert listing.auction_at == datetime(2025, 2, 1, 15, 0, tzinfo=ZoneInfo(zone))


@pytest.mark.parametrize(
    "street", ["", "   ", None, "Address available on request", "ADDRESS AVAILABLE UPON REQUEST"]
)
def test_withheld_street_is_none(street: str | None) -> None:
    data = _data(SALE)
    _model(data, 2019717175)["address"]["street"] = street
    page = _parse(data)
    assert page.errors == []
    assert _by_id(page, 2019717175).street is None


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("NOBLE PARK NORTH", "Noble Park North"),
        ("MCKINNON", "McKinnon"),
        ("O'CONNOR", "O'Connor"),
        ("St Kilda East", "St Kilda East"),
    ],
)
def test_upper_case_suburb_is_title_cased(raw: str, name: str) -> None:
    data = _data(SALE)
    _model(data, 2019717175)["address"]["suburb"] = raw
    assert _by_id(_parse(data), 2019717175).suburb == name


def test_zero_coordinates_are_none() -> None:
    data = _data(SALE)
    _model(data, 2019717175)["address"].update(lat=0, lng=0)
    listing = _by_id(_parse(data), 2019717175)
    assert (listing.lat, listing.lng) == (None, None)


def test_project_entry_and_its_children() -> None:
    data = _data(SALE)
    _props(data)["listingsMap"]["6547"] = {
        "id": 6547,
        "listingType": "project",
        "listingModel": {
            "projectName": "Margaux",
            "displayAddress": "36-38 Power Street, Dandenong",
            "url": "/project/6547/margaux-dandenong-vic/",
            "childListingIds": [2018546703, 2018762688],
        },
    }
    page = _parse(data)
    assert page.errors == []
    (project,) = page.projects
    assert (project.project_id, project.name, project.child_listing_ids) == (
        6547,
        "Margaux",
        [2018546703, 2018762688],
    )
    assert project.url == "https://www.domain.com.au/project/6547/margaux-dandenong-vic/"
    assert project.locality_slug == "dandenong-vic-3175"
    assert {2018546703, 2018762688} <= {listing.listing_id for listing in page.listings}


def test_page_without_results() -> None:
    data = _data(RENT)
    props = _props(data)
    for key in ("listingsMap", "listingSearchResultIds", "currentPage", "totalPages"):
        del props[key]
    props["totalListings"] = 0
    page = _parse(data, RENT_URL)
    assert (page.listings, page.errors, page.total_pages, page.has_next_page) == ([], [], 0, False)


def test_big_search_is_flagged_for_splitting() -> None:
    data = _data(SALE)
    _props(data).update(totalListings=1_234, totalPages=62)
    page = _parse(data)
    assert page.truncated
    _props(data).update(currentPage=50)
    assert not _parse(data).has_next_page


# ---------------------------------------------------------------------------------------------
# Suburb profile


@pytest.mark.parametrize("folder", SOURCES)
def test_real_suburb_profile(folder: Path) -> None:
    profile = parse_suburb_profile(_html(_text(folder, PROFILE)), PROFILE_URL)
    assert (profile.slug, profile.name, profile.state, profile.postcode) == (
        "dandenong-vic-3175",
        "Dandenong",
        "VIC",
        "3175",
    )
    assert (profile.region, profile.area) == ("Melbourne Region", "Dandenong - Greater Area")
    assert profile.url == PROFILE_URL  # where it was read from, for errors and rejected rows
    assert profile.population == 29911
    assert profile.owner_occupier_share == pytest.approx(0.4193036)
    assert profile.renter_share == pytest.approx(0.5806964)
    assert profile.married_share == pytest.approx(0.5095739)
    assert profile.single_share == pytest.approx(0.4904261)
    assert profile.most_common_age_bracket == "20 to 39"
    assert profile.surrounding_slugs[:2] == ["noble-park-vic-3174", "noble-park-north-vic-3174"]
    assert len(profile.surrounding_slugs) == 7
    # Their names, and the state and postcode their slugs end in: enough to add one no list has.
    assert [n.slug for n in profile.neighbours] == profile.surrounding_slugs
    assert profile.neighbours[1].model_dump() == {
        "slug": "noble-park-north-vic-3174",
        "name": "Noble Park North",
        "state": "VIC",
        "postcode": "3174",
    }


@pytest.mark.parametrize("folder", SOURCES)
def test_real_suburb_profile_market(folder: Path) -> None:
    profile = parse_suburb_profile(_text(folder, PROFILE), PROFILE_URL)
    rows = {(row.property_category, row.bedrooms): row for row in profile.market}
    assert len(rows) == 7
    two_bed = rows["House", 2]
    assert two_bed.median_sold_price == 509000
    assert two_bed.median_rent_weekly == 480
    assert two_bed.auction_clearance_rate is None  # the site's 0
    assert (two_bed.days_on_market, two_bed.number_sold) == (108, 50)
    assert (two_bed.entry_level_price, two_bed.luxury_level_price) == (320000, 705000)
    assert rows["House", 3].auction_clearance_rate == pytest.approx(0.4042553)
    five_bed = rows["House", 5]
    assert five_bed.median_sold_price is five_bed.median_rent_weekly is five_bed.days_on_market is None
    assert five_bed.number_sold == 9
    years = [(growth.year, growth.median_sold_price) for growth in two_bed.sales_growth]
    assert years[0] == (2019, 430000)
    assert years[-1] == (2024, 509000)
    assert two_bed.sales_growth[0].annual_growth is None  # no year before the first
    assert two_bed.sales_growth[1].annual_growth == pytest.approx(-0.0116279)


@pytest.mark.parametrize("folder", SOURCES)
def test_real_growth_of_zero_is_kept_when_the_median_did_not_move(folder: Path) -> None:
    profile = parse_suburb_profile(_text(folder, PROFILE), PROFILE_URL)
    three_bed = next(row for row in profile.market if (row.property_category, row.bedrooms) == ("House", 3))
    flat = three_bed.sales_growth[1]  # 2020: 575,000 as in 2019
    assert (flat.year, flat.median_sold_price, flat.annual_growth) == (2020, 575000, 0.0)
    five_bed = next(row for row in profile.market if (row.property_category, row.bedrooms) == ("House", 5))
    assert [growth.annual_growth is None for growth in five_bed.sales_growth] == [
        True,
        True,
        True,  # 2021 has a median, 2020 has none
        False,
        True,
        True,
    ]


@pytest.mark.parametrize("folder", SOURCES)
def test_real_suburb_profile_schools_and_boundary(folder: Path) -> None:
    profile = parse_suburb_profile(_text(folder, PROFILE), PROFILE_URL)
    assert len(profile.schools) == 15
    assert all(school.acara_id.isdigit() for school in profile.schools)
    first = profile.schools[0]
    assert (first.acara_id, first.name, first.school_type, first.sector) == (
        "44271",
        "Dandenong Primary School",
        "Primary",
        "Government",
    )
    assert (first.gender, first.year_range, first.url) == (
        "CoEd",
        "Prep-6",
        "http://www.dandenongps.vic.edu.au",
    )
    assert profile.boundary is not None
    assert profile.boundary["type"] == "Polygon"
    ring = profile.boundary["coordinates"][0]
    assert len(ring) > 3
    assert all(112 < lng < 155 and -45 < lat < -9 for lng, lat in ring)


def test_profile_without_apollo_state_is_a_shape_error() -> None:
    data = _data(PROFILE)
    del data["props"]["pageProps"]["__APOLLO_STATE__"]
    with pytest.raises(PageShapeError) as caught:
        parse_suburb_profile(json.dumps(data), PROFILE_URL)
    assert caught.value.path == "props.pageProps.__APOLLO_STATE__"
    assert PROFILE_URL in str(caught.value)


def test_profile_without_suburb_entry_is_a_shape_error() -> None:
    data = _data(PROFILE)
    apollo = data["props"]["pageProps"]["__APOLLO_STATE__"]
    for key in [key for key in apollo if key.startswith("Suburb:")]:
        del apollo[key]
    with pytest.raises(PageShapeError, match="Suburb"):
        parse_suburb_profile(json.dumps(data), PROFILE_URL)


def test_profile_with_broken_boundary_is_a_shape_error() -> None:
    data = _data(PROFILE)
    suburb = next(
        v for k, v in data["props"]["pageProps"]["__APOLLO_STATE__"].items() if k.startswith("Suburb:")
    )
    suburb['suburbShape({"geometryPrecision":"high"})']["boundaryGeoJson"] = '{"type": "Poly'
    with pytest.raises(PageShapeError, match="boundaryGeoJson"):
        parse_suburb_profile(json.dumps(data), PROFILE_URL)


def test_profile_with_a_bad_school_names_the_model_and_field() -> None:
    data = _data(PROFILE)
    suburb = next(
        v for k, v in data["props"]["pageProps"]["__APOLLO_STATE__"].items() if k.startswith("Suburb:")
    )
    suburb["schools"][3]["acaraId"] = None
    with pytest.raises(PageShapeError, match=r"SuburbProfile\.schools.*schools\.3\.acara_id") as caught:
        parse_suburb_profile(json.dumps(data), PROFILE_URL)
    assert PROFILE_URL in str(caught.value)


def test_profile_without_market_or_shape_keeps_the_rest() -> None:
    data = _data(PROFILE)
    apollo = data["props"]["pageProps"]["__APOLLO_STATE__"]
    for key in [key for key in apollo if key.startswith("LocationProfile:")]:
        del apollo[key]
    del apollo["ROOT_QUERY"]
    suburb = next(v for k, v in apollo.items() if k.startswith("Suburb:"))
    del suburb['suburbShape({"geometryPrecision":"high"})']
    profile = parse_suburb_profile(json.dumps(data), PROFILE_URL)
    assert (profile.market, profile.boundary, profile.population) == ([], None, 29911)


def test_profile_follows_apollo_references() -> None:
    data = _data(PROFILE)
    apollo = data["props"]["pageProps"]["__APOLLO_STATE__"]
    suburb = next(v for k, v in apollo.items() if k.startswith("Suburb:"))
    apollo["SuburbStatistics:1"] = suburb["statistics"]
    suburb["statistics"] = {"__ref": "SuburbStatistics:1"}
    assert parse_suburb_profile(json.dumps(data), PROFILE_URL).population == 29911
