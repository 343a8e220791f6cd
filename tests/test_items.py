"""Tests of the item models: what they accept, what they reject, what they normalise."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from newhomie.items import (
    PRICE_MAX,
    CrawlError,
    Listing,
    LocalityVisit,
    MarketRow,
    Project,
    RejectedEntry,
    SalesGrowth,
    School,
    SuburbProfile,
)
from newhomie.localities import STATES

MELBOURNE = ZoneInfo("Australia/Melbourne")


def _listing_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "listing_id": 2019717175,
        "listing_type": "sale",
        "url": "https://www.domain.com.au/16-rodwell-street-dandenong-vic-3175-2019717175",
        "locality_slug": "dandenong-vic-3175",
        "street": "16 Rodwell Street",
        "suburb": "Dandenong",
        "state": "VIC",
        "postcode": "3175",
        "lat": -37.991478,
        "lng": 145.20213,
        "beds": 4,
        "baths": 2,
        "parking": 4,
        "property_type": "House",
        "land_area_m2": None,
        "is_rural": False,
        "is_retirement": False,
        "price_text": "AUCTION THIS SATURDAY @3:00PM ONSITE !!",
        "auction_at": datetime(2025, 2, 1, 15, 0, tzinfo=MELBOURNE),
        "inspection_start": datetime(2025, 2, 1, 14, 30, tzinfo=MELBOURNE),
        "inspection_end": datetime(2025, 2, 1, 15, 0, tzinfo=MELBOURNE),
        "tag": "Auction Sat 1 Feb",
        "agency": "Ray White Dandenong",
        "agency_id": 8878,
        "promo_type": "premiumplus",
    }
    fields.update(changes)
    return fields


def _listing(**changes: Any) -> Listing:
    return Listing(**_listing_fields(**changes))


def _rejected_field(**changes: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        _listing(**changes)
    return str(caught.value.errors()[0]["loc"][0])


def test_listing_defaults_leave_prices_to_the_pipeline() -> None:
    listing = _listing()
    assert (listing.price_low, listing.price_high, listing.sold_price) == (None, None, None)
    assert (listing.sold_on, listing.sold_method, listing.tag_class, listing.agent_names) == (
        None,
        None,
        None,
        [],
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"listing_id": 0}, "listing_id"),
        ({"listing_type": "lease"}, "listing_type"),
        ({"url": "/16-rodwell-street-dandenong-vic-3175-2019717175"}, "url"),
        ({"locality_slug": "Dandenong VIC 3175"}, "locality_slug"),
        ({"suburb": "  "}, "suburb"),
        ({"state": "VICTORIA"}, "state"),
        ({"postcode": "317"}, "postcode"),
        ({"lat": 37.99}, "lat"),
        ({"lng": 45.2}, "lng"),
        ({"beds": -1}, "beds"),
        ({"baths": 51}, "baths"),
        ({"parking": True}, "parking"),
        ({"beds": "three"}, "beds"),
        ({"land_area_m2": -5}, "land_area_m2"),
        ({"agency_id": -3}, "agency_id"),
        ({"sold_method": "Private Treaty"}, "sold_method"),
        ({"unknown_field": 1}, "unknown_field"),
    ],
)
def test_listing_rejects_what_cannot_be_true(changes: dict[str, Any], field: str) -> None:
    assert _rejected_field(**changes) == field


@pytest.mark.parametrize("field", ["auction_at", "inspection_start", "inspection_end"])
def test_lesson_local_auction_time_keeps_zone(field: str) -> None:
    # A naive time is exactly the bug of the earlier crawler: local time stored as if it were UTC.
    assert _rejected_field(**{field: datetime(2025, 2, 1, 15, 0)}) == field
    listing = _listing()
    with pytest.raises(ValidationError):
        setattr(listing, field, datetime(2025, 2, 1, 15, 0))
    setattr(listing, field, datetime(2025, 2, 1, 4, 0, tzinfo=UTC))
    assert getattr(listing, field) == datetime(2025, 2, 1, 15, 0, tzinfo=MELBOURNE)


@pytest.mark.parametrize("state", STATES)
def test_every_state_is_known(state: str) -> None:
    assert _listing(state=state).state == state


def test_site_markers_of_no_data_become_none() -> None:
    listing = _listing(lat=0, lng=0.0, land_area_m2=0, street="", price_text="  ", tag="", agency=" ")
    assert (listing.lat, listing.lng, listing.land_area_m2) == (None, None, None)
    assert (listing.street, listing.price_text, listing.tag, listing.agency) == (None, None, None, None)


def test_price_text_is_stripped_not_rewritten() -> None:
    assert _listing(price_text="  $ 430 PER WEEK ").price_text == "$ 430 PER WEEK"


def test_lesson_glued_range_digits_cannot_be_stored() -> None:
    # "$640,000 - $680,000" read as 640000680000 overflowed an integer column.
    listing = _listing()
    with pytest.raises(ValidationError, match="price_low"):
        listing.price_low = 640_000_680_000
    with pytest.raises(ValidationError, match="sold_price"):
        listing.sold_price = PRICE_MAX + 1
    listing.price_low, listing.price_high = 640_000, 680_000
    assert (listing.price_low, listing.price_high) == (640_000, 680_000)


def test_sold_listing() -> None:
    listing = _listing(listing_type="sold", sold_on=date(2025, 12, 4), sold_method="private_treaty")
    listing.sold_price = 740_000
    assert (listing.sold_on, listing.sold_method, listing.sold_price) == (
        date(2025, 12, 4),
        "private_treaty",
        740_000,
    )


@given(lat=st.floats(-45, -9), lng=st.floats(112, 155))
def test_any_australian_coordinate_is_accepted(lat: float, lng: float) -> None:
    listing = _listing(lat=lat, lng=lng)
    assert (listing.lat, listing.lng) == ((lat or None), (lng or None))


@given(
    lat=st.floats(allow_nan=True, allow_infinity=True).filter(
        lambda value: not -45 <= value <= -9 and value != 0
    )
)
def test_a_latitude_outside_australia_is_rejected(lat: float) -> None:
    assert _rejected_field(lat=lat) == "lat"


def test_project() -> None:
    project = Project(
        project_id=6547,
        locality_slug="dandenong-vic-3175",
        name="Margaux",
        display_address="",
        url=None,
        child_listing_ids=[2018546703, "2018762688"],
    )
    assert project.display_address is None
    assert project.child_listing_ids == [2018546703, 2018762688]
    with pytest.raises(ValidationError, match="child_listing_ids"):
        project.child_listing_ids = [0]


def _market_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "property_category": "House",
        "bedrooms": 2,
        "median_sold_price": 509000,
        "median_rent_weekly": 480,
        "days_on_market": 108,
        "number_sold": 50,
        "entry_level_price": 320000,
        "luxury_level_price": 705000,
        "auction_clearance_rate": 0,
        "sales_growth": [
            {"year": 2019, "number_sold": 37, "median_sold_price": 430000, "annual_growth": None}
        ],
    }
    fields.update(changes)
    return fields


def test_market_zero_means_no_data() -> None:
    row = MarketRow(**_market_fields(median_sold_price=0, days_on_market=0, luxury_level_price=0))
    assert (row.median_sold_price, row.days_on_market, row.luxury_level_price) == (None, None, None)
    assert row.auction_clearance_rate is None
    assert row.sales_growth[0] == SalesGrowth(
        year=2019, number_sold=37, median_sold_price=430000, annual_growth=None
    )


def test_market_rejects_impossible_figures() -> None:
    with pytest.raises(ValidationError, match="auction_clearance_rate"):
        MarketRow(**_market_fields(auction_clearance_rate=1.5))
    with pytest.raises(ValidationError, match="median_sold_price"):
        MarketRow(**_market_fields(median_sold_price=-1))


def test_growth_keeps_a_real_zero() -> None:
    # The pages parser decides whether the site's 0 is "no data"; the model keeps what it is given.
    growth = SalesGrowth(year=2020, number_sold=136, median_sold_price=575000, annual_growth=0.0)
    assert growth.annual_growth == 0.0


def test_school() -> None:
    school = School(
        acara_id="44271",
        name="Dandenong Primary School",
        school_type="Primary",
        sector="Government",
        gender=None,
        year_range="Prep-6",
        url=None,
    )
    assert school.acara_id == "44271"
    with pytest.raises(ValidationError, match="acara_id"):
        school.acara_id = "A-1"


def _profile_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "slug": "dandenong-vic-3175",
        "name": "Dandenong",
        "state": "VIC",
        "postcode": "3175",
        "region": "Melbourne Region",
        "area": "Dandenong - Greater Area",
        "population": 29911,
        "owner_occupier_share": 0.42,
        "renter_share": 0.58,
        "married_share": 0.51,
        "single_share": 0.49,
        "most_common_age_bracket": "20 to 39",
        "market": [],
        "schools": [],
        "boundary": '{"type":"Polygon","coordinates":[[[145.19,-37.99],[145.2,-37.98],[145.19,-37.98]]]}',
        "surrounding_slugs": ["noble-park-vic-3174"],
    }
    fields.update(changes)
    return fields


def test_profile_parses_the_boundary_string() -> None:
    profile = SuburbProfile(**_profile_fields())
    assert profile.boundary is not None
    assert profile.boundary["type"] == "Polygon"
    assert SuburbProfile(**_profile_fields(boundary=None)).boundary is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"boundary": '{"coordinates": []}'}, "boundary"),
        ({"boundary": "not json"}, "boundary"),
        ({"renter_share": 58.0}, "renter_share"),
        ({"state": "Vic"}, "state"),
        ({"surrounding_slugs": ["Noble Park"]}, "surrounding_slugs"),
    ],
)
def test_profile_rejects_what_cannot_be_true(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SuburbProfile(**_profile_fields(**changes))
    assert caught.value.errors()[0]["loc"][0] == field


def test_profile_population_zero_is_no_data() -> None:
    assert SuburbProfile(**_profile_fields(population=0)).population is None


def test_lesson_unknown_locality_is_recorded_as_not_found() -> None:
    visit = LocalityVisit(
        slug="nowhere-vic-3999",
        name="Nowhere",
        state="VIC",
        postcode="3999",
        status="not_found",
        crawled_at=datetime(2025, 2, 1, 4, 0, tzinfo=UTC),
    )
    assert visit.model_dump()["status"] == "not_found"
    with pytest.raises(ValidationError, match="status"):
        visit.status = "gone"  # type: ignore[assignment]
    with pytest.raises(ValidationError, match="crawled_at"):
        visit.crawled_at = datetime(2025, 2, 1, 4, 0)


def test_lesson_errors_name_the_locality_and_url() -> None:
    error = CrawlError(
        locality="Dandenong VIC 3175",
        url="https://www.domain.com.au/sale/dandenong-vic-3175/?ssubs=0&page=3",
        stage="sale_search",
        error_type="PageShapeError",
        message="unexpected page shape at props.pageProps.componentProps: missing",
        occurred_at=datetime(2025, 2, 1, 4, 0, tzinfo=UTC),
    )
    assert set(error.model_dump()) == {"locality", "url", "stage", "error_type", "message", "occurred_at"}
    with pytest.raises(ValidationError, match="message"):
        error.message = " "


def test_rejected_entry_keeps_the_raw_entry() -> None:
    raw = {"id": 2019717175, "listingType": "listing", "listingModel": {"features": {"beds": "three"}}}
    rejected = RejectedEntry(kind="listing", locality=None, url=None, raw=raw, reason="beds: not a number")
    assert rejected.raw == raw
