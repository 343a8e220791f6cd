"""The local site: its localities, the answer to each request (the cookie gate, faults, routes),
its ground truth and its request log."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, timedelta
from email.utils import formatdate
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit

from newhomie.localities import STATES, Locality
from newhomie.testing.fakesite.faults import Faults, ServedLog, ServedRequest
from newhomie.testing.fakesite.generation import IdCounter, LocalityBuilder
from newhomie.testing.fakesite.model import (
    COOKIE_NAME,
    DEFAULT_MIX,
    DEFAULT_TODAY,
    KINDS,
    SEARCH_SEGMENTS,
    Kind,
    Listing,
    LocalityData,
    Mix,
    local_iso,
)
from newhomie.testing.fakesite.pages import (
    CHALLENGE_PAGE,
    Response,
    block_page,
    not_found_page,
    rate_limited,
    redirect_page,
    small_page,
    truncated_page,
)
from newhomie.testing.fakesite.places import (
    CAPITALS,
    MADE_UP_POSTCODES,
    REAL_LOCALITIES,
    made_up_locality_name,
)
from newhomie.testing.fakesite.profile import ProfileRenderer
from newhomie.testing.fakesite.search import SearchFilters, SearchRenderer
from newhomie.testing.fakesite.vocabulary import PROMO_RANK


class FakeSite:
    """The site's data, its pages and what it served.

    `localities` real localities (beyond the bundled list of about 80: made-up ones), each with
    sale, rent and sold listings drawn from `mix` (by default sale 0-120, rent 0-80, sold 40-480: a
    year of sales; the first locality larger, the third without rentals, the seventh without sales
    history); `listings_per_locality` = (low, high) draws every kind's count from that range instead.
    """

    def __init__(
        self,
        localities: int = 5,
        seed: int = 0,
        listings_per_locality: tuple[int, int] | None = None,
        *,
        today: date = DEFAULT_TODAY,
        mix: Mix = DEFAULT_MIX,
    ) -> None:
        if localities < 0:
            raise ValueError("localities must be >= 0")
        self.seed = seed
        self.today = today
        #: How many times `advance` moved the site's time on.
        self.epoch = 0
        self.listings_per_locality = listings_per_locality
        self.mix = mix
        self.faults = Faults()
        self.served = ServedLog()
        self._ids = IdCounter()
        self._localities: dict[str, LocalityData] = {}
        self._by_id: dict[int, Listing] = {}
        self._secret = secrets.token_bytes(16)
        self._lock = threading.Lock()
        self._held = 0
        self._fault_counts = {"block": 0, "5xx": 0, "truncate": 0, "429": 0}
        self._faults_fired = {"block": 0, "5xx": 0, "truncate": 0, "429": 0}
        self._pages: OrderedDict[tuple[Any, ...], Response] = OrderedDict()
        self._results: OrderedDict[tuple[Any, ...], tuple[Listing, ...]] = OrderedDict()
        for index in range(localities):
            if index < len(REAL_LOCALITIES):
                name, state, postcode, lat, lng = REAL_LOCALITIES[index]
            else:
                made_up = index - len(REAL_LOCALITIES)
                state = STATES[made_up % len(STATES)]
                postcode = f"{MADE_UP_POSTCODES[state] + made_up % 9:04d}"
                name = made_up_locality_name(made_up)
                _, lat, lng = CAPITALS[state]
                lat += ((made_up * 37) % 100 - 50) / 400
                lng += ((made_up * 53) % 100 - 50) / 400
            locality = Locality(name, state, postcode)
            self._add(locality, lat, lng, self._default_counts(locality, index))

    # Building -----------------------------------------------------------------------------------

    def _default_counts(self, locality: Locality, index: int) -> dict[Kind, int]:
        rng = random.Random(f"newhomie-fakesite-counts:{self.seed}:{locality.slug}")
        if self.listings_per_locality is not None:
            low, high = self.listings_per_locality
            return {kind: rng.randint(low, high) for kind in KINDS}
        counts = {kind: rng.randint(*self.mix.counts[kind]) for kind in KINDS}
        if index == 0:
            # The first locality always has a few pages of each kind.
            counts = {kind: rng.randint(*self.mix.first[kind]) for kind in KINDS}
        elif index == 2:
            counts["rent"] = 0
        elif index == 6:
            counts["sold"] = 0
        return counts

    def _add(self, locality: Locality, lat: float, lng: float, counts: dict[Kind, int]) -> Locality:
        if locality.slug in self._localities:
            raise ValueError(f"locality {locality} ({locality.slug}) is already on the site")
        region, cap_lat, cap_lng = CAPITALS[locality.state]
        if abs(lat - cap_lat) + abs(lng - cap_lng) > 0.9:
            region = f"{locality.name} Region"
        data = LocalityData(
            locality=locality,
            index=len(self._localities),
            lat=lat,
            lng=lng,
            region=region,
            area=f"{locality.name} - Greater Area",
            listings={kind: [] for kind in KINDS},
            projects=[],
        )
        LocalityBuilder(self, data, self._ids).build(counts)
        for kind in KINDS:
            data.default_order[kind] = sorted(data.listings[kind], key=_default_sort_key)
            for listing in data.listings[kind]:
                self._by_id[listing.listing_id] = listing
        with self._lock:
            self._localities[locality.slug] = data
            self._pages.clear()
            self._results.clear()
        return locality

    def add_locality(
        self,
        name: str,
        state: str,
        postcode: str,
        sale: int = 0,
        rent: int = 0,
        sold: int = 0,
        *,
        lat: float | None = None,
        lng: float | None = None,
    ) -> Locality:
        """Add a locality with exactly these numbers of listings (e.g. one with 3,000 for sale)."""
        locality = Locality(name, state, postcode)
        _, cap_lat, cap_lng = CAPITALS[state]
        return self._add(
            locality,
            cap_lat + 0.05 if lat is None else lat,
            cap_lng - 0.05 if lng is None else lng,
            {"sale": sale, "rent": rent, "sold": sold},
        )

    # Time ---------------------------------------------------------------------------------------

    def advance(self, days: int = 7) -> dict[str, int]:
        """The site `days` later, drawn from the seed (the same seed and steps give the same site):
        in each locality some sale listings sell (they move to the sold search, keeping their id, with
        a sale date in those days and a price), some are withdrawn, some change their price; some
        rentals are leased; new sale and rent listings come; profiles' market figures move. The ground
        truth follows. What changed, counted. Call it between crawls: a page rendered meanwhile could
        mix the two times."""
        if days < 1:
            raise ValueError("days must be at least 1")
        start = self.today
        self.today = start + timedelta(days=days)
        self.epoch += 1
        changes = {"listed": 0, "sold": 0, "withdrawn": 0, "leased": 0, "repriced": 0}
        share = min(1.0, days / 7)
        for slug in sorted(self._localities):
            data = self._localities[slug]
            rng = random.Random(f"newhomie-fakesite-advance:{self.seed}:{slug}:{self.epoch}:{days}")
            builder = LocalityBuilder(self, data, self._ids)
            builder.rng, builder.today = rng, self.today
            # New listings come from the agencies already active there.
            agencies = {
                listing.agency.agency_id: listing.agency for k in KINDS for listing in data.listings[k]
            }
            if agencies:
                builder.agencies = [agencies[key] for key in sorted(agencies)]
            sale, rent = data.listings["sale"], data.listings["rent"]
            # Project children stay: a project page lists them.
            movable = [x for x in sale if x.project_id is None]
            rng.shuffle(movable)
            selling = movable[: round(len(movable) * 0.12 * share)]
            withdrawn = movable[len(selling) : len(selling) + round(len(movable) * 0.03 * share)]
            repriced = movable[len(selling) + len(withdrawn) :][: round(len(movable) * 0.08 * share)]
            leased = rng.sample(rent, round(len(rent) * 0.15 * share))
            for listing in selling:
                builder.sell(listing, start)
            for listing in repriced:
                builder.reprice(listing, start)
            gone = {x.listing_id for x in (*selling, *withdrawn, *leased)}
            data.listings["sale"] = [x for x in sale if x.listing_id not in gone]
            data.listings["rent"] = [x for x in rent if x.listing_id not in gone]
            data.listings["sold"] = [*data.listings["sold"], *selling]
            for listing in (*withdrawn, *leased):
                self._by_id.pop(listing.listing_id, None)
            new_rates: tuple[tuple[Kind, float], ...] = (("sale", 0.12), ("rent", 0.15))
            for kind, rate in new_rates:
                count = rng.randint(0, max(1, round(len(data.listings[kind]) * rate * share) * 2))
                fresh = [builder.fresh_listing(kind, start) for _ in range(count)]
                data.listings[kind].extend(fresh)
                changes["listed"] += len(fresh)
            for kind in KINDS:
                data.default_order[kind] = sorted(data.listings[kind], key=_default_sort_key)
                for listing in data.listings[kind]:
                    self._by_id[listing.listing_id] = listing
            changes["sold"] += len(selling)
            changes["withdrawn"] += len(withdrawn)
            changes["leased"] += len(leased)
            changes["repriced"] += len(repriced)
        with self._lock:
            self._pages.clear()
            self._results.clear()
        return changes

    # Ground truth -------------------------------------------------------------------------------

    def localities(self) -> list[Locality]:
        return [data.locality for data in self._localities.values()]

    def locality_strings(self) -> list[str]:
        """["Dandenong VIC 3175", ...], the form of the spider's `-a localities=`."""
        return [str(locality) for locality in self.localities()]

    def locality_data(self, slug: str) -> LocalityData:
        try:
            return self._localities[slug]
        except KeyError:
            raise KeyError(
                f"no locality {slug!r} on this site; known: {', '.join(self._localities)}"
            ) from None

    def listings(self, slug: str, kind: Kind) -> list[Listing]:
        """The locality's listings of one kind in the site's default order."""
        return list(self.locality_data(slug).default_order[kind])

    def listing(self, listing_id: int) -> Listing:
        return self._by_id[listing_id]

    def ground_truth(self, slug: str, kind: Kind) -> list[dict[str, Any]]:
        """Per listing, what the site serves for it (see `listing_truth()` for the keys), default order."""
        return [listing_truth(listing) for listing in self.locality_data(slug).default_order[kind]]

    def projects(self, slug: str) -> list[dict[str, Any]]:
        return [
            {
                "project_id": p.project_id,
                "locality": p.slug,
                "name": p.name,
                "display_address": p.display_address,
                "url": p.url,
                "child_listing_ids": list(p.child_listing_ids),
            }
            for p in self.locality_data(slug).projects
        ]

    def all_listing_ids(self, kind: Kind | None = None) -> set[int]:
        return {
            listing.listing_id
            for data in self._localities.values()
            for k in KINDS
            if kind in (None, k)
            for listing in data.listings[k]
        }

    def served_listing_ids(self, kind: Kind | None = None) -> set[int]:
        """Ids of the listing entries (organic and promoted) of every whole search page served with
        status 200. Recent sales beside sale results (`UPVSoldListings`) are not counted: see the log's
        `upv_ids`."""
        return {
            listing_id
            for entry in self.served
            if entry.status == 200 and entry.page_kind == "search" and entry.fault is None
            if kind in (None, entry.listing_kind)
            for listing_id in entry.listing_ids
        }

    def ground_truth_document(self) -> dict[str, Any]:
        """Everything above as one JSON-able document (`/_fakesite/ground-truth.json`)."""
        return {
            "seed": self.seed,
            "today": self.today.isoformat(),
            "localities": [
                {
                    "name": data.locality.name,
                    "state": data.locality.state,
                    "postcode": data.locality.postcode,
                    "slug": slug,
                    "locality": str(data.locality),
                    "time_zone": data.locality.tz.key,
                    "counts": {kind: len(data.listings[kind]) for kind in KINDS},
                }
                for slug, data in self._localities.items()
            ],
            "listings": {
                slug: {kind: self.ground_truth(slug, kind) for kind in KINDS} for slug in self._localities
            },
            "projects": {slug: self.projects(slug) for slug in self._localities},
        }

    # URLs ---------------------------------------------------------------------------------------

    @staticmethod
    def search_path(kind: Kind, slug: str, page: int = 1, /, **params: str | int) -> str:
        """`/sale/<slug>/?ssubs=0&page=N` plus any filters (`price="500000-any"`, `sort=...`)."""
        query: dict[str, str | int] = {"ssubs": 0, **params}
        if page != 1:
            query["page"] = page
        return f"/{SEARCH_SEGMENTS[kind]}/{slug}/?{urlencode(query)}"

    @staticmethod
    def profile_path(slug: str) -> str:
        return f"/suburb-profile/{slug}"

    def search(self, kind: Kind, slug: str, filters: SearchFilters | None = None) -> tuple[Listing, ...]:
        """All results of a search in display order (before the 50-page cap)."""
        filters = filters or SearchFilters()
        key = (kind, slug, filters)
        with self._lock:
            cached = self._results.get(key)
            if cached is not None:
                self._results.move_to_end(key)
                return cached
        ordered = self.locality_data(slug).default_order[kind]
        results = [x for x in ordered if filters.matches(x)]
        position = {x.listing_id: i for i, x in enumerate(ordered)}
        if filters.sort in ("price-asc", "price-desc"):
            sign = 1 if filters.sort == "price-asc" else -1
            # Listings without a price come last either way.
            results.sort(
                key=lambda x: (
                    x.search_price is None,
                    sign * (x.search_price or 0),
                    position[x.listing_id],
                )
            )
        elif filters.sort == "dateupdated-desc":
            results.sort(key=lambda x: (-x.updated.timestamp(), x.listing_id))
        elif filters.sort == "solddate-desc" and kind == "sold":
            # Newest sale first; a day's sales in the order they were listed.
            results.sort(key=lambda x: (-(x.sold_on or date.min).toordinal(), x.listing_id))
        found = tuple(results)
        with self._lock:
            self._results[key] = found
            while len(self._results) > 512:
                self._results.popitem(last=False)
        return found

    # Cookie gate --------------------------------------------------------------------------------

    def issue_cookie(self) -> str:
        """A `_abck` value this site accepts (what the 403 page's script sets)."""
        nonce = secrets.token_hex(16).upper()
        mac = hmac.new(self._secret, nonce.encode(), hashlib.sha256).hexdigest()[:48]
        return f"{nonce}~0~{mac}~-1~-1~-1"

    def cookie_valid(self, value: str | None) -> bool:
        if not value:
            return False
        parts = value.split("~")
        if len(parts) != 6:
            return False
        expected = hmac.new(self._secret, parts[0].encode(), hashlib.sha256).hexdigest()[:48]
        return hmac.compare_digest(expected.encode(), parts[2].encode(errors="replace"))

    def held_requests(self) -> int:
        """How many requests a hang fault is holding right now."""
        with self._lock:
            return self._held

    def cookie_header(self) -> str:
        """A `Cookie:` header value that passes the gate, for plain HTTP clients in tests."""
        return f"{COOKIE_NAME}={self.issue_cookie()}"

    # Handling a request -------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, cookie_header: str | None, stop: threading.Event | None = None
    ) -> Response | None:
        """Answer one request as the server does: internal endpoints, static 404s, faults, the cookie
        gate, then the page. None: the request was held (hang fault) until `stop` was set."""
        stop = stop or threading.Event()
        started, wall = time.monotonic(), time.time()
        parts = urlsplit(target)
        path = parts.path or "/"
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if path.startswith("/_fakesite/"):
            return self._internal(path)
        has_cookie = self.cookie_valid(_cookie_value(cookie_header, COOKIE_NAME))

        def log(response: Response | None, fault: str | None = None) -> None:
            self.served.append(
                ServedRequest(
                    monotonic=started,
                    time=wall,
                    method=method,
                    path=path,
                    query=query,
                    status=response.status if response else 0,
                    cookie=has_cookie,
                    bytes=len(response.body) if response else 0,
                    page_kind=response.page_kind if response else "hang",
                    listing_kind=response.listing_kind if response else None,
                    slug=response.slug if response else None,
                    page=response.page if response else None,
                    listing_ids=response.listing_ids if response else (),
                    organic_ids=response.organic_ids if response else (),
                    project_ids=response.project_ids if response else (),
                    upv_ids=response.upv_ids if response else (),
                    fault=fault,
                )
            )

        if _is_static(path):
            response = small_page(404, "static", "Not Found", "Not Found")
            log(response)
            return response
        faults = self.faults
        fault: str | None = None
        if faults.hang_paths and (path in faults.hang_paths or target in faults.hang_paths):
            with self._lock:
                self._held += 1
            try:
                while path in faults.hang_paths or target in faults.hang_paths:
                    if stop.wait(0.05):
                        log(None, "hang")
                        return None
            finally:
                with self._lock:
                    self._held -= 1
            fault = "hang"
        if faults.slow_seconds > 0:
            stop.wait(faults.slow_seconds)
            fault = fault or "slow"
        if not has_cookie:
            response = self._challenge()
        elif faults.fail_paths and _listed(path, query, faults.fail_paths):
            response = small_page(503, "error", "Service Unavailable", "Service Unavailable")
            fault = "5xx"
        elif self._fault_due("block", faults.block_every):
            response, fault = block_page(), "block"
        elif self._fault_due("429", faults.rate_limit_every):
            response, fault = rate_limited(faults.retry_after), "429"
        elif self._fault_due("5xx", faults.fail_5xx_every):
            response = small_page(503, "error", "Service Unavailable", "Service Unavailable")
            fault = "5xx"
        else:
            response = self.page(target)
            if (
                response.status == 200
                and response.json_span
                and self._fault_due("truncate", faults.truncate_json_every)
            ):
                response, fault = truncated_page(response), "truncated"
        log(response, fault)
        return response

    def _fault_due(self, name: str, every: int) -> bool:
        if every <= 0:
            return False
        with self._lock:
            if self.faults.max_each and self._faults_fired[name] >= self.faults.max_each:
                return False
            self._fault_counts[name] += 1
            due = self._fault_counts[name] % every == 0
            self._faults_fired[name] += due
            return due

    def _challenge(self) -> Response:
        value = self.issue_cookie()
        body = CHALLENGE_PAGE.format(cookie=f"{COOKIE_NAME}={value}; path=/").encode()
        expires = formatdate(time.time() + 14_400, usegmt=True)
        bm_sz = f"bm_sz={secrets.token_hex(24).upper()}~YAAQ{secrets.token_hex(8)}; Path=/; Expires={expires}"
        headers = (("Set-Cookie", f"{bm_sz}; Max-Age=14400; HttpOnly"), ("Cache-Control", "no-store"))
        return Response(403, body, "challenge", headers=headers)

    def _internal(self, path: str) -> Response:
        if path == "/_fakesite/ground-truth.json":
            document: Any = self.ground_truth_document()
        elif path == "/_fakesite/requests.json":
            document = [entry.as_dict() for entry in self.served]
        else:
            return small_page(404, "static", "Not Found", "Not Found")
        body = json.dumps(document, ensure_ascii=False).encode()
        return Response(200, body, "internal", content_type="application/json; charset=utf-8")

    # Pages --------------------------------------------------------------------------------------

    def page(self, target: str) -> Response:
        """The page at `target` (path and query) as the site renders it: no gate, no faults, no log."""
        parts = urlsplit(target)
        path = parts.path or "/"
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        segments = path.strip("/").split("/")
        if len(segments) == 2 and segments[1] in self._localities:
            segment, slug = segments
            kind = next((k for k, s in SEARCH_SEGMENTS.items() if s == segment), None)
            if kind is not None:
                if not path.endswith("/"):
                    return redirect_page(f"{path}/" + (f"?{parts.query}" if parts.query else ""))
                return self._search_page(kind, slug, query)
            if segment == "suburb-profile":
                if path.endswith("/"):
                    return redirect_page(path.rstrip("/"))
                return self._cached(("profile", slug), lambda: self._profile_page(slug))
        return self._cached(("404",), not_found_page)

    def _cached(self, key: tuple[Any, ...], render: Callable[[], Response]) -> Response:
        with self._lock:
            cached = self._pages.get(key)
            if cached is not None:
                self._pages.move_to_end(key)
                return cached
        response = render()
        with self._lock:
            self._pages[key] = response
            while len(self._pages) > 256:
                self._pages.popitem(last=False)
        return response

    def _search_page(self, kind: Kind, slug: str, query: dict[str, str]) -> Response:
        filters = SearchFilters.from_query(query)
        try:
            page = max(1, int(query.get("page", "1")))
        except ValueError:
            page = 1
        surrounding = query.get("ssubs") != "0"
        key = ("search", kind, slug, filters, page, surrounding)
        return self._cached(
            key, lambda: SearchRenderer(self, kind, slug, filters, page, surrounding).render()
        )

    def _profile_page(self, slug: str) -> Response:
        return ProfileRenderer(self, self._localities[slug]).render()

    def neighbours(self, slug: str, limit: int = 7) -> list[Locality]:
        """The site's localities nearest to this one, in the same state."""
        here = self._localities[slug]
        others = [
            d for s, d in self._localities.items() if s != slug and d.locality.state == here.locality.state
        ]
        others.sort(key=lambda d: ((d.lat - here.lat) ** 2 + (d.lng - here.lng) ** 2, d.locality.slug))
        return [d.locality for d in others[:limit]]


def listing_truth(listing: Listing) -> dict[str, Any]:
    """What the site serves for one listing, in plain values. The keys of `ground_truth()`."""
    agents = [listing.agency.agents[i] for i in listing.agent_indexes]
    return {
        "listing_id": listing.listing_id,
        "listing_type": listing.kind,
        "locality": listing.slug,
        "url": listing.url,
        "street": listing.street or None,
        "suburb": listing.suburb,
        "state": listing.state,
        "postcode": listing.postcode,
        "lat": listing.lat,
        "lng": listing.lng,
        "beds": listing.beds,
        "baths": listing.baths,
        "parking": listing.parking,
        "property_type": listing.ptype.code,
        "property_type_formatted": listing.ptype.formatted,
        "is_rural": listing.is_rural,
        "is_retirement": listing.is_retirement,
        "land_size": listing.land_size,
        "land_unit": listing.land_unit,
        "land_area_m2": listing.land_area_m2,
        "price_text": listing.price_text,
        "price_intended": (
            None if listing.price_low is None else {"low": listing.price_low, "high": listing.price_high}
        ),
        "price_kind": listing.price_kind,
        "auction": listing.auction,
        "inspection_open": listing.open_time,
        "inspection_close": listing.close_time,
        "tag": listing.tag_text,
        "tag_class": listing.tag_class,
        "agency": listing.agency.name,
        "agency_id": listing.agency.agency_id,
        "agents": agents,
        "promo_type": listing.promo_type,
        "project_id": listing.project_id,
        "sold_on": listing.sold_on.isoformat() if listing.sold_on else None,
        "sold_method": listing.sold_method,
        "date_updated": local_iso(listing.updated),
    }


def _default_sort_key(listing: Listing) -> tuple[Any, ...]:
    if listing.kind == "sold":
        # The site's default ("Featured") order of sold listings is not by sale date: here, by the
        # month of the sale, and within a month by agency. Only `sort=solddate-desc` is newest first,
        # so a crawl that relies on that order must ask for it.
        assert listing.sold_on is not None
        month = listing.sold_on.year * 12 + listing.sold_on.month
        return (-month, listing.agency.agency_id, listing.listing_id)
    return (PROMO_RANK[listing.promo_type], -listing.updated.timestamp(), listing.listing_id)


def _listed(path: str, query: dict[str, str], targets: set[str]) -> bool:
    for target in targets:
        parts = urlsplit(target)
        if parts.path == path and dict(parse_qsl(parts.query, keep_blank_values=True)) == query:
            return True
    return False


def _cookie_value(header: str | None, name: str) -> str | None:
    for part in (header or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


_STATIC_PREFIXES: Final = ("/_next/", "/static/", "/images/", "/favicon")
_STATIC_SUFFIXES: Final = (".ico", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".css", ".js", ".map")


def _is_static(path: str) -> bool:
    return path.startswith(_STATIC_PREFIXES) or path.lower().endswith(_STATIC_SUFFIXES)
