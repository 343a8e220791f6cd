"""PriceNormalisationPipeline: prices filled in, and every unreadable text logged with its context."""

from __future__ import annotations

import logging

import pytest
from scrapy.utils.test import get_crawler

from newhomie.items import Listing
from newhomie.pipelines import PriceNormalisationPipeline
from newhomie.site import parse_search_page
from tests.paths import FIXTURES


@pytest.fixture
def pipeline() -> PriceNormalisationPipeline:
    crawler = get_crawler()
    crawler.stats.open_spider()
    return PriceNormalisationPipeline.from_crawler(crawler)


def sample_listings(kind: str) -> dict[int, Listing]:
    text = (FIXTURES / f"{kind}.dandenong-vic-3175.page1.2025-02.json").read_text()
    page = parse_search_page(text, url=f"https://www.domain.com.au/{kind}/dandenong-vic-3175/?ssubs=0&page=1")
    return {listing.listing_id: listing for listing in [*page.listings, *page.nearby_sold]}


def test_sale_range_rent_weekly_and_sold_price(pipeline: PriceNormalisationPipeline) -> None:
    sale = sample_listings("sale")
    rent = sample_listings("rent")
    ranged = pipeline.process_item(sale[2018762688])  # "$640,000 - $680,000"
    assert (ranged.price_low, ranged.price_high) == (640_000, 680_000)
    weekly = pipeline.process_item(rent[16108292])  # "$495 p/w"
    assert (weekly.price_low, weekly.price_high) == (495, 495)
    sold = pipeline.process_item(sale[2019550528])  # a nearby sale, "$740,000"
    assert (sold.listing_type, sold.sold_price) == ("sold", 740_000)
    auction = pipeline.process_item(sale[2019717175])  # "AUCTION THIS SATURDAY @3:00PM ONSITE !!"
    assert (auction.price_low, auction.price_high) == (None, None)
    stats = pipeline.stats
    assert stats.get_value("newhomie/price/parsed") == 3
    assert stats.get_value("newhomie/price/no_price_phrase") == 1
    assert stats.get_value("newhomie/price/unparsed") is None


def test_unreadable_price_is_logged_with_locality_listing_and_text(
    pipeline: PriceNormalisationPipeline, caplog: pytest.LogCaptureFixture
) -> None:
    listing = sample_listings("sale")[2019314383]
    listing.price_text = "Bring all offers $$$ soon"
    with caplog.at_level(logging.WARNING, logger="newhomie.pipelines"):
        out = pipeline.process_item(listing)
    assert (out.price_low, out.price_high) == (None, None)
    assert pipeline.stats.get_value("newhomie/price/unparsed") == 1
    [record] = caplog.records
    assert "2019314383" in record.getMessage()
    assert "Bring all offers $$$ soon" in record.getMessage()
    # The locality and the listing's URL, as data for the log's formatters.
    assert record.locality == "Dandenong VIC 3175"  # type: ignore[attr-defined]
    assert record.url == "https://www.domain.com.au/4-glenys-court-dandenong-vic-3175-2019314383"  # type: ignore[attr-defined]


def test_items_other_than_listings_pass_untouched(pipeline: PriceNormalisationPipeline) -> None:
    item = {"not": "a listing"}
    assert pipeline.process_item(item) is item
