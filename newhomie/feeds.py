"""What a feed of `scrapy crawl listings` holds: listings, by default.

`scrapy crawl listings -O listings.jsonl` (or FEEDS) writes the crawl's listings (for sale, for rent and
sold) and nothing else: the crawl's own records (locality visits and outcomes, crawl errors, rejected
entries) and the suburb profiles go to the database, and to a feed only when asked. `FeedItemsAddon`, a
Scrapy add-on, gives every feed that names no `item_classes` (nor an `item_filter`) of its own the item
classes of NEWHOMIE_FEED_ITEMS:

- `listings` (the default): `Listing`;
- `all`: every item;
- a comma list of item names: `Listing,SuburbProfile`.

A feed's own `item_classes` always win: `-s 'FEEDS={"profiles.jsonl": {"format": "jsonlines",
"item_classes": ["newhomie.items.SuburbProfile"]}}'`.
"""

from __future__ import annotations

from typing import Any

from scrapy.settings import BaseSettings

from newhomie import items

ITEM_NAMES = ("Listing", "SuburbProfile", "LocalityVisit", "LocalityOutcome", "CrawlError", "RejectedEntry")
FEED_ITEMS_FORM = f"listings, all, or a comma list of {', '.join(ITEM_NAMES)}"


def item_classes(text: str) -> list[str] | None:
    """The item classes NEWHOMIE_FEED_ITEMS names (None: every item); ValueError for anything else."""
    choice = text.strip()
    if choice.lower() == "all":
        return None
    if choice.lower() in ("", "listings"):
        return [f"{items.__name__}.Listing"]
    names = [name.strip() for name in choice.split(",") if name.strip()]
    unknown = [name for name in names if name not in ITEM_NAMES]
    if unknown or not names:
        raise ValueError(f"unknown items {unknown}")
    return [f"{items.__name__}.{name}" for name in names]


class FeedItemsAddon:
    def update_settings(self, settings: BaseSettings) -> None:
        classes = item_classes(str(settings.get("NEWHOMIE_FEED_ITEMS", "listings")))
        feeds: dict[str, Any] = {uri: dict(options) for uri, options in settings.getdict("FEEDS").items()}
        if classes is None or not feeds:
            return
        for options in feeds.values():
            if not options.get("item_classes") and not options.get("item_filter"):
                options["item_classes"] = list(classes)
        # At the priority FEEDS has (the command line's, for -o/-O): an add-on's own would not override it.
        settings.set("FEEDS", feeds, priority=settings.getpriority("FEEDS") or "addon")
