"""The item pipelines, in ITEM_PIPELINES order: price normalisation, then the database writer
(`newhomie.store.pipeline.PostgresPipeline`)."""

from __future__ import annotations

import logging
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from newhomie.context import page_context
from newhomie.items import Listing
from newhomie.site.prices import exact_sold_price, is_no_price_phrase, normalise_price
from newhomie.store.pipeline import PostgresPipeline

__all__ = ["PostgresPipeline", "PriceNormalisationPipeline"]

logger = logging.getLogger(__name__)


class PriceNormalisationPipeline:
    """Reads the agent's price text into whole dollars (rent: a week); sold listings get sold_price.

    A text that gives no price and is not a known no-price phrase is logged with its locality,
    listing id and text, and counted: that log is where the next parser test cases come from.
    """

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Listing) or not item.price_text:
            return item
        price = normalise_price(item.listing_type, item.price_text)
        if price is None:
            if is_no_price_phrase(item.price_text):
                self.stats.inc_value("newhomie/price/no_price_phrase")
            else:
                self.stats.inc_value("newhomie/price/unparsed")
                logger.warning(
                    "price text gave no price: listing_id=%s text=%r", item.listing_id, item.price_text,
                    extra=page_context(f"{item.suburb} {item.state} {item.postcode}", url=item.url),
                )  # fmt: skip
            return item
        self.stats.inc_value("newhomie/price/parsed")
        item.price_low, item.price_high = price.low, price.high
        if item.listing_type == "sold" and (sold_price := exact_sold_price(price)) is not None:
            item.sold_price = sold_price
        return item
