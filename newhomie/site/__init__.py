"""Pure knowledge of the site, domain.com.au (docs/site.md): its URLs, its pages' JSON, its price texts.

- `urls`: every URL the crawl asks for, and the limits of a search;
- `next_data`: finding a page's `__NEXT_DATA__` JSON, telling a block page from a page;
- `search`: search pages (sale, rent, sold) into listings; `listing`: one entry of them;
- `profile`: suburb profiles into `SuburbProfile`;
- `errors`: `PageNotFound`, `BlockedPage`, `PageShapeError` (naming the JSON path) and `EntryError`;
- `prices`: the agents' free-text prices as numbers.

No Scrapy, no database, no I/O: a page's text and URL in, items of `newhomie.items` out. A change of the
site's JSON touches this package and its fixtures only.
"""

from newhomie.site.errors import BlockedPage, EntryError, PageError, PageNotFound, PageShapeError
from newhomie.site.next_data import extract_next_data, is_blocked_body
from newhomie.site.profile import parse_suburb_profile
from newhomie.site.search import SearchPage, parse_search_page
from newhomie.site.urls import MAX_PAGES, PAGE_SIZE

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
