"""The project's local copy of domain.com.au, for tests, demos and benchmarks.

`FakeSite` generates localities with sale, rent and sold listings from a seed (same seed, same
pages, byte for byte) and renders them as the real site does: server-rendered Next.js pages whose
`__NEXT_DATA__` JSON has the same key paths and value types as the real captures in
`tests/fixtures/`. It knows what it served (`site.served`) and what a perfect crawl would store
(`site.ground_truth(slug, kind)`).

`serve(site)` runs it on a `ThreadingHTTPServer` in a background thread; `python -m
newhomie.testing.fakesite --port 8000` runs it as a process.

The package: `site` (the site: routes, the cookie gate, faults, ground truth) draws its localities from
`generation` (listings, projects and figures from the seed, with the words of `vocabulary` and the
places of `places`, into the data of `model`), answers with the pages of `search` and `profile` (made
of the parts in `pages`), records what it served (`faults`), and is served over HTTP by `server`.

Behaviour copied from the real site:
- search pages at `/sale/<slug>/`, `/rent/<slug>/`, `/sold-listings/<slug>/` with `page`, `price`,
  `sort`, `ptype`, `bedrooms`, `bathrooms`, `excludeunderoffer`, `excludepricewithheld`; 20 organic
  results a page, never more than 50 pages (`totalListings` stays the true count);
- promoted (`topspotFeaturedPropertyIds`) entries repeated across pages, `project` entries, recent
  sales (`UPVSoldListings`) on sale pages;
- `/suburb-profile/<slug>` with its Apollo cache;
- a Next.js 404 page (status 404, `page` = "/404") for unknown localities and paths;
- an Akamai-like gate: without a `_abck` cookie this site issued, a small 403 page whose script sets
  the cookie and reloads, so only something that runs JavaScript (a real browser) gets through.
"""

from newhomie.testing.fakesite.faults import Faults, ServedLog, ServedRequest
from newhomie.testing.fakesite.model import (
    DEFAULT_MIX,
    KINDS,
    MAX_PAGES,
    PAGE_SIZE,
    QUICK_MIX,
    Kind,
    Listing,
    LocalityData,
    Mix,
)
from newhomie.testing.fakesite.places import made_up_locality_name
from newhomie.testing.fakesite.server import FetchResult, RunningSite, extract_next_data, serve, start
from newhomie.testing.fakesite.site import FakeSite, listing_truth

__all__ = [
    "DEFAULT_MIX",
    "KINDS",
    "MAX_PAGES",
    "PAGE_SIZE",
    "QUICK_MIX",
    "FakeSite",
    "Faults",
    "FetchResult",
    "Kind",
    "Listing",
    "LocalityData",
    "Mix",
    "RunningSite",
    "ServedLog",
    "ServedRequest",
    "extract_next_data",
    "listing_truth",
    "made_up_locality_name",
    "serve",
    "start",
]
