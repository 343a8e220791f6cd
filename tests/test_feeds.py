"""A feed of `scrapy crawl listings` holds the listings; the crawl's own records only when asked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scrapy.settings import Settings

from newhomie.feeds import FeedItemsAddon
from newhomie.testing.fakesite import RunningSite
from tests.crawling import run_crawl


def feeds_after_the_addon(feeds: dict[str, Any], **settings: object) -> dict[str, Any]:
    given = Settings({"FEEDS": feeds, **settings})
    FeedItemsAddon().update_settings(given)
    return given.getdict("FEEDS")


def test_a_feed_without_item_classes_gets_the_listings() -> None:
    feeds = feeds_after_the_addon({"out.jsonl": {"format": "jsonlines"}})
    assert feeds["out.jsonl"]["item_classes"] == ["newhomie.items.Listing"]


def test_a_feeds_own_item_classes_win_and_all_takes_every_item() -> None:
    own = {"profiles.jsonl": {"format": "jsonlines", "item_classes": ["newhomie.items.SuburbProfile"]}}
    assert feeds_after_the_addon(own)["profiles.jsonl"]["item_classes"] == ["newhomie.items.SuburbProfile"]
    everything = feeds_after_the_addon({"out.jsonl": {"format": "jsonlines"}}, NEWHOMIE_FEED_ITEMS="all")
    assert "item_classes" not in everything["out.jsonl"]
    chosen = feeds_after_the_addon({"out.jsonl": {}}, NEWHOMIE_FEED_ITEMS="Listing, CrawlError")
    assert chosen["out.jsonl"]["item_classes"] == ["newhomie.items.Listing", "newhomie.items.CrawlError"]


@pytest.mark.e2e
def test_scrapy_crawl_with_o_writes_the_listings_alone(
    fakesite: RunningSite, database_url: str, tmp_path: Path
) -> None:
    locality = fakesite.site.locality_strings()[0]
    out = tmp_path / "listings.jsonl"
    result = run_crawl(fakesite.base_url, database_url, locality, "-O", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows
    assert all({"listing_id", "listing_type", "price_text"} <= set(row) for row in rows)
    slug = fakesite.site.localities()[0].slug
    wanted = {
        item["listing_id"]
        for kind in ("sale", "rent", "sold")
        for item in fakesite.site.ground_truth(slug, kind)
    }
    assert {row["listing_id"] for row in rows} == wanted  # each listing of the site, and nothing else
    assert len(rows) == len(wanted)  # each once
