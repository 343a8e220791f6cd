"""The site's URLs and the limits of its searches (docs/site.md#pages-per-locality, #limits).

Every URL the crawl asks for is built here, and every slug read back from a URL is read here.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit

from newhomie.items import SLUG_PATTERN

SITE_URL: Final = "https://www.domain.com.au"
#: Organic results per search page, and the most pages one search shows (docs/site.md#limits).
PAGE_SIZE: Final = 20
MAX_PAGES: Final = 50
#: The most results one search shows, whatever it reports.
SHOWN_AT_MOST: Final = PAGE_SIZE * MAX_PAGES
#: The first path segment of each search.
SEARCH_PATHS: Final = {"sale": "sale", "rent": "rent", "sold": "sold-listings"}

SLUG = re.compile(SLUG_PATTERN)
SEARCH_PATH_RE = re.compile(r"/(sale|rent|sold-listings)/([a-z0-9-]+)(?:/|$)")
PROFILE_PATH_RE = re.compile(r"/suburb-profile/([a-z0-9-]+)")


#: The sold search's order, newest sale first (docs/site.md#query-parameters).
SOLD_ORDER: Final = "solddate-desc"


def search_url(base_url: str, kind: str, slug: str, page: int, price: str | None = None) -> str:
    """`/sale/<slug>/?ssubs=0&page=N`, with `&price=low-high` for a price band. `ssubs=0` keeps the
    surrounding suburbs out: the site includes them by default. The sold search is read newest sale
    first (`sort=solddate-desc`), so that an incremental crawl can stop at the sales it already has."""
    band = f"&price={price}" if price else ""
    sort = f"&sort={SOLD_ORDER}" if kind == "sold" else ""
    return f"{base_url}/{SEARCH_PATHS[kind]}/{slug}/?ssubs=0{band}{sort}&page={page}"


def profile_url(base_url: str, slug: str) -> str:
    """`/suburb-profile/<slug>` (no trailing slash)."""
    return f"{base_url}/suburb-profile/{slug}"


def slug_from_url(url: str | None) -> str | None:
    """The locality slug a search or profile URL names."""
    if not url:
        return None
    path = urlsplit(url).path
    match = SEARCH_PATH_RE.search(path) or PROFILE_PATH_RE.search(path)
    return match.group(match.lastindex or 1) if match else None
