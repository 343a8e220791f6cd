"""A locality's listings, projects and profile figures, drawn from the seed: the same seed gives the
same site, byte for byte."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from newhomie.testing.fakesite.model import (
    KINDS,
    Agency,
    Kind,
    Listing,
    LocalityData,
    Project,
    in_millions,
    local_iso,
    money,
    round_to,
)
from newhomie.testing.fakesite.vocabulary import (
    AGENCY_BRANDS,
    FIRST_NAMES,
    LAST_NAMES,
    NO_PRICE_SALE,
    PROPERTY_TYPES,
    STREET_NAMES,
    STREET_TYPES,
    PropertyType,
)

if TYPE_CHECKING:  # the site makes these; they only need its type
    from newhomie.testing.fakesite.site import FakeSite


class IdCounter:
    """Listing ids, unique across the site and shaped like the real ones."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {
            "sale": 2019700000,
            "rent": 17400000,
            "sold": 2019300000,
            "project": 6000,
        }
        self.next_agency = 8000
        self.used: set[int] = set()

    def take(self, kind: str, rng: random.Random) -> int:
        while True:
            self.next[kind] += rng.randint(1, 4)
            value = self.next[kind]
            if value not in self.used:
                self.used.add(value)
                return value

    def agency(self, rng: random.Random) -> int:
        self.next_agency += rng.randint(1, 300)
        return self.next_agency


class LocalityBuilder:
    """Generates one locality's listings from its own random stream (seed and slug)."""

    def __init__(self, site: FakeSite, data: LocalityData, ids: IdCounter) -> None:
        self.site = site
        self.data = data
        self.loc = data.locality
        self.ids = ids
        self.rng = random.Random(f"newhomie-fakesite:{site.seed}:{self.loc.slug}")
        self.today = site.today
        # Typical prices of this locality.
        self.median_sale = math.exp(self.rng.uniform(math.log(380_000), math.log(2_400_000)))
        self.median_rent = 300 + self.median_sale * 0.00028
        self.streets = self._streets()
        self.agencies = self._agencies()
        # Listings whose address is part of a deliberate pair: projects leave them alone.
        self.paired: set[int] = set()

    def _streets(self) -> list[str]:
        names = self.rng.sample(STREET_NAMES, 14)
        return [f"{name} {self.rng.choice(STREET_TYPES)}" for name in names]

    def _agencies(self) -> list[Agency]:
        rng = self.rng
        agencies = []
        for brand in rng.sample(AGENCY_BRANDS, rng.randint(3, 6)):
            count = rng.randint(2, 6)
            agents = tuple(f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(count))
            photos = tuple(rng.randint(900_000, 1_990_000) if rng.random() > 0.1 else None for _ in agents)
            agencies.append(
                Agency(
                    agency_id=self.ids.agency(rng),
                    name=f"{brand} {self.loc.name}",
                    color="#" + "".join(rng.choice("0123456789ABCDEFabcdef") for _ in range(6)),
                    agents=agents,
                    photos=photos,
                    logo_ext=rng.choice(("jpg", "png", "jpeg")),
                )
            )
        return agencies

    def build(self, counts: dict[Kind, int]) -> None:
        for kind in KINDS:
            listings = [self._listing(kind) for _ in range(counts[kind])]
            self._shared_addresses(listings)
            self.data.listings[kind] = listings
        self.data.projects = self._projects(self.data.listings["sale"])

    # One listing ------------------------------------------------------------------------------

    def _listing(self, kind: Kind) -> Listing:
        rng = self.rng
        index = 0 if kind == "sale" else 1 if kind == "rent" else 2
        ptypes = [p for p in PROPERTY_TYPES if p.weights[index]]
        ptype = rng.choices(ptypes, weights=[p.weights[index] for p in ptypes])[0]
        beds = rng.randint(*ptype.beds) if ptype.beds else None
        is_land = ptype.category == "Land"
        baths = 0 if is_land else max(1, min((beds or 1) - rng.randint(0, 2), 4))
        parking: int | None = None
        parking_absent = False
        roll = rng.random()
        if is_land or roll < 0.1:
            parking_absent = True
        elif roll < 0.18:
            parking = None
        else:
            parking = rng.choice((0, 1, 1, 1, 2, 2, 2, 3, 4, 6))
        land_size, land_unit = self._land(ptype)
        unit, number, street_name = self._address(ptype)
        street = _format_street(unit, number, street_name)
        if rng.random() < 0.03:
            street = ""
        decimals = rng.choice((5, 6, 6))
        lat = round(self.data.lat + rng.uniform(-0.018, 0.018), decimals)
        lng = round(self.data.lng + rng.uniform(-0.022, 0.022), decimals)
        updated = datetime.combine(self.today, datetime.min.time()) - timedelta(
            seconds=rng.randint(0, 75 * 86_400)
        )
        agency = rng.choice(self.agencies)
        agents = tuple(
            sorted(rng.sample(range(len(agency.agents)), rng.randint(1, min(2, len(agency.agents)))))
        )
        listing = Listing(
            listing_id=self.ids.take(kind, rng),
            kind=kind,
            slug=self.loc.slug,
            suburb=self.loc.name.upper(),
            state=self.loc.state,
            postcode=self.loc.postcode,
            street=street,
            unit=unit,
            number=number,
            street_name=street_name,
            lat=lat,
            lng=lng,
            ptype=ptype,
            beds=beds,
            baths=baths,
            parking=parking,
            parking_absent=parking_absent,
            is_rural=ptype.category == "Rural",
            is_retirement=ptype.code in ("Villa", "ApartmentUnitFlat") and rng.random() < 0.04,
            land_size=land_size,
            land_unit=land_unit,
            open_time=None,
            close_time=None,
            auction=None,
            tag_text=None,
            tag_class=None,
            agency=agency,
            agent_indexes=agents,
            promo_type="standard",
            price_text="",
            price_low=None,
            price_high=None,
            price_kind="none",
            updated=updated,
            image_count=rng.randint(2, 6),
            image_size=rng.choice(((1920, 1280), (1600, 1067), (768, 512), (4000, 2000), (2048, 1365))),
            has_video=rng.random() < 0.15,
            appearance=rng.choice(("light", "light", "dark")),
        )
        if kind == "sold":
            self._sold(listing)
        else:
            self._on_market(listing)
        return listing

    def _land(self, ptype: PropertyType) -> tuple[int | float, str]:
        rng = self.rng
        if ptype.category == "Rural" or (ptype.code == "House" and rng.random() < 0.02):
            return round(rng.uniform(0.4, 40.0), rng.choice((1, 2))), "ha"
        if ptype.category == "Land":
            return rng.randint(250, 900), "m²"
        if ptype.category == "House" and rng.random() < 0.8:
            return rng.randint(180, 950), "m²"
        if rng.random() < 0.05:
            return rng.randint(80, 600), "m²"
        return 0, "m²"

    def _address(self, ptype: PropertyType) -> tuple[str, str, str]:
        rng = self.rng
        street_name = rng.choice(self.streets)
        number = str(rng.randint(1, 180))
        if ptype.category == "Land" and rng.random() < 0.4:
            return "", f"Lot {rng.randint(1, 400)}", street_name
        if ptype.category == "Unit" and ptype.code != "BlockOfUnits":
            if rng.random() < 0.25:
                number = f"{number}-{int(number) + 2}"
            return str(rng.randint(1, 40)), number, street_name
        if rng.random() < 0.08:
            number += rng.choice("AB")
        elif rng.random() < 0.02:
            number = f"REAR {number}"
        return "", number, street_name

    def _shared_addresses(self, listings: list[Listing]) -> None:
        """Two units of one building, and one street address listed twice (two listing ids)."""
        candidates = [x for x in listings if x.street]
        if len(candidates) < 4:
            return
        first, second, third, fourth = self.rng.sample(candidates, 4)
        self.paired.update(x.listing_id for x in (first, second, third, fourth))
        building = self.rng.choice(self.streets)
        for unit, listing in (("1", first), ("2", second)):
            listing.unit, listing.number, listing.street_name = unit, "36", building
            listing.street = _format_street(unit, "36", building)
            listing.lat, listing.lng = first.lat, first.lng
        fourth.unit, fourth.number, fourth.street_name = third.unit, third.number, third.street_name
        fourth.street, fourth.lat, fourth.lng = third.street, third.lat, third.lng

    def _on_market(self, listing: Listing) -> None:
        rng = self.rng
        sale = listing.kind == "sale"
        if sale:
            listing.promo_type = rng.choices(
                ("elite", "premiumplus", "standardpp", "standard"), weights=(5, 35, 30, 30)
            )[0]
        else:
            listing.promo_type = rng.choices(("elite", "standard"), weights=(70, 30))[0]
        if rng.random() < 0.55:
            start, minutes = self._inspection()
            listing.open_time = local_iso(start)
            listing.close_time = local_iso(start + timedelta(minutes=minutes))
        auction_at: datetime | None = None
        if sale and listing.ptype.category != "Land" and rng.random() < 0.22:
            auction_at = self._auction()
            listing.auction = local_iso(auction_at)
        if sale:
            self._sale_price(listing, auction_at)
        else:
            self._rent_price(listing)
        self._tag(listing, auction_at)

    def _inspection(self) -> tuple[datetime, int]:
        rng = self.rng
        if rng.random() < 0.65:
            day = self._saturday(rng.randint(0, 1))
        else:
            day = self.today + timedelta(days=rng.randint(0, 10))
        start = datetime.combine(day, datetime.min.time()) + timedelta(
            hours=rng.randint(9, 17), minutes=rng.choice((0, 5, 15, 20, 30, 40, 45))
        )
        return start, rng.choice((10, 15, 15, 20, 30, 45))

    def _saturday(self, weeks_ahead: int) -> date:
        this_saturday = self.today + timedelta(days=(5 - self.today.weekday()) % 7)
        return this_saturday + timedelta(weeks=weeks_ahead)

    def _auction(self) -> datetime:
        rng = self.rng
        # Five Saturdays ahead: with the default "today" they straddle the end of daylight saving
        # (5 April 2026), so local times turn into two different UTC offsets.
        if rng.random() < 0.9:
            day = self._saturday(rng.randint(0, 4))
            minutes = 10 * 60 + 30 * rng.randint(0, 13)
        else:
            day = self.today + timedelta(days=rng.randint(1, 30))
            minutes = rng.choice((18 * 60, 18 * 60 + 30))
        return datetime.combine(day, datetime.min.time()) + timedelta(minutes=minutes)

    def _typical_price(self, listing: Listing) -> float:
        beds = listing.beds if listing.beds is not None else 3
        factor = listing.ptype.price_factor * (1 + 0.12 * (beds - 3))
        return max(120_000.0, self.median_sale * factor * math.exp(self.rng.gauss(0, 0.18)))

    def _sale_price(self, listing: Listing, auction_at: datetime | None) -> None:
        rng = self.rng
        raw = self._typical_price(listing)
        low = round_to(raw, 10_000 if raw >= 1_000_000 else 5_000)
        listing.hidden_price = low
        this_saturday = self._saturday(0)
        if auction_at is not None and auction_at.date() == this_saturday and rng.random() < 0.3:
            hour = auction_at.strftime("%I").lstrip("0")
            listing.price_text = f"AUCTION THIS SATURDAY @{hour}:{auction_at:%M%p} ONSITE !!"
            return
        form = rng.choices(
            (
                "range", "range_tight", "range_to", "range_endash", "range_k", "over", "from", "single",
                "space", "up_to", "none", "phone", "end_date", "move_in",
            ),
            weights=(30, 6, 6, 5, 4, 3, 4, 9, 2, 2, 14, 2, 2, 1),
        )[0]  # fmt: skip
        if form.startswith("range"):
            high = int(low * 1.1) if rng.random() < 0.5 else low + 5_000 * rng.randint(2, 8)
            if form == "range_k" and (low % 1000 or high % 1000):
                form = "range"
            text = {
                "range": f"{money(low)} - {money(high)}",
                "range_tight": f"{money(low)}-{money(high)}",
                "range_to": f"{money(low)} to {money(high)}",
                "range_endash": f"{money(low)} \u2013 {money(high)}",
                "range_k": f"${low // 1000}k - ${high // 1000}k",
            }[form]
            listing.price_text, listing.price_low, listing.price_high, listing.price_kind = (
                text,
                low,
                high,
                "range",
            )
            return
        texts = {
            "over": ("over", f"Offers over {in_millions(low)}"),
            "from": ("from", f"From {money(low)}"),
            "single": ("single", money(low)),
            "space": ("single", f"${low:,}".replace(",", " ")),
            "up_to": ("up_to", f"Up to {money(low)}"),
        }
        if form in texts:
            listing.price_kind, listing.price_text = texts[form]
            listing.price_low = listing.price_high = low
            return
        end = self.today + timedelta(days=rng.randint(14, 60))
        listing.price_text = {
            "phone": f"Speak to Agent on 04{rng.randint(0, 99_999_999):08d}",
            "end_date": f"Sale by End Date {end.day}/{end.month}/{end.year} (unless sold prior)",
            "move_in": f"Move in Early {self.today.year + 1} - walk to station",
        }.get(form) or rng.choice(NO_PRICE_SALE)

    def _rent_price(self, listing: Listing) -> None:
        rng = self.rng
        beds = listing.beds if listing.beds is not None else 2
        factor = {"House": 1.0, "Unit": 0.78, "Rural": 1.1}.get(listing.ptype.category, 0.8)
        raw = self.median_rent * factor * (1 + 0.15 * (beds - 3)) * math.exp(rng.gauss(0, 0.12))
        weekly = round_to(max(raw, 180.0), 10 if raw >= 1000 else 5)
        listing.hidden_price = weekly
        form = rng.choices(
            ("pw", "caps", "bare", "cents", "cents_pw", "pcm", "Per", "per", "slash", "weekly", "none"),
            weights=(8, 10, 10, 4, 3, 2, 4, 8, 2, 2, 3),
        )[0]
        if form == "none":
            listing.price_text = rng.choice(("Contact Agent", "Price on application", "Deposit Taken"))
            return
        pcm = round_to(weekly * 52 / 12, 10)
        listing.price_text = {
            "pw": f"${weekly} p/w",
            "caps": f"$ {weekly} PER WEEK",
            "bare": f"${weekly}",
            "cents": f"${weekly:,}.00",
            "cents_pw": f"${weekly:,}.00 pw",
            "pcm": f"${weekly} pw/ ${pcm} pcm",
            "Per": f"${weekly} Per Week",
            "per": f"${weekly} per week",
            "slash": f"{weekly}/week",
            "weekly": f"${weekly}weekly",
        }[form]
        listing.price_low = listing.price_high = weekly
        listing.price_kind = "weekly"

    def _tag(self, listing: Listing, auction_at: datetime | None) -> None:
        rng = self.rng
        if auction_at is not None and 0 <= (auction_at.date() - self.today).days < 7:
            listing.tag_text = f"Auction {auction_at:%a} {auction_at.day} {auction_at:%b}"
            listing.tag_class = "is-auction"
            return
        roll = rng.random()
        recent = (datetime.combine(self.today, datetime.min.time()) - listing.updated).days < 10
        if recent and roll < 0.6:
            listing.tag_text, listing.tag_class = "New", "is-new"
        elif listing.kind == "sale" and roll > 0.93:
            listing.tag_text, listing.tag_class = "Under offer", "is-under-offer"
        elif roll > 0.9:
            listing.tag_text, listing.tag_class = "Updated", "is-updated"

    def _sold(self, listing: Listing, sold_on: date | None = None, price: int | None = None) -> None:
        rng = self.rng
        listing.sold_on = sold_on or self.today - timedelta(days=rng.randint(1, 365))
        listing.updated = datetime.combine(listing.sold_on, datetime.min.time()) + timedelta(hours=18)
        method = rng.choices(("private treaty", "auction", "prior to auction"), weights=(55, 30, 15))[0]
        listing.sold_method = method
        day = f"{listing.sold_on:%d}" if rng.random() < 0.5 else str(listing.sold_on.day)
        when = f"{day} {listing.sold_on:%b %Y}"
        listing.tag_text = {
            "private treaty": f"Sold by private treaty {when}",
            "auction": f"Sold at auction {when}",
            "prior to auction": f"Sold prior to auction {when}",
        }[method]
        listing.tag_class = "is-sold"
        if rng.random() < 0.2:
            listing.price_text = "Price Withheld"
            listing.hidden_price = round_to(self.median_sale * listing.ptype.price_factor, 1_000)
        else:
            if price is None:
                price = round_to(self._typical_price(listing), 1_000 if rng.random() < 0.7 else 500)
            listing.price_text, listing.price_low, listing.price_high = money(price), price, price
            listing.price_kind = "single"

    # Time passing (FakeSite.advance) ----------------------------------------------------------------

    def sell(self, listing: Listing, since: date) -> None:
        """A sale listing sold between `since` and today: it keeps its id and moves to the sold search."""
        rng = self.rng
        asked = listing.search_price or round_to(self.median_sale * listing.ptype.price_factor, 5_000)
        listing.kind = "sold"
        listing.promo_type = "standard"
        listing.open_time = listing.close_time = listing.auction = None
        listing.price_low = listing.price_high = None
        listing.price_kind = "none"
        sold_on = since + timedelta(days=rng.randint(1, max(1, (self.today - since).days)))
        self._sold(listing, sold_on=sold_on, price=round_to(asked * rng.uniform(0.94, 1.08), 1_000))

    def reprice(self, listing: Listing, since: date) -> None:
        """A sale listing whose agent changed the asking price: a single figure, a little lower."""
        low = round_to((listing.search_price or self.median_sale) * self.rng.uniform(0.9, 0.98), 5_000)
        listing.price_text, listing.price_low, listing.price_high = money(low), low, low
        listing.price_kind, listing.hidden_price = "single", low
        listing.updated = self._moment_since(since)

    def fresh_listing(self, kind: Kind, since: date) -> Listing:
        """A listing first listed between `since` and today."""
        listing = self._listing(kind)
        listing.updated = self._moment_since(since)
        return listing

    def _moment_since(self, since: date) -> datetime:
        seconds = max(1, (self.today - since).days * 86_400)
        return datetime.combine(since, datetime.min.time()) + timedelta(seconds=self.rng.randint(1, seconds))

    def _projects(self, listings: list[Listing]) -> list[Project]:
        rng = self.rng
        if len(listings) < 15:
            return []
        taken: set[int] = set()
        projects = []
        for _ in range(rng.randint(1, 2)):
            pool = [
                x
                for x in listings
                if x.ptype.code in ("ApartmentUnitFlat", "Townhouse", "NewApartments", "NewHouseLand")
                and x.listing_id not in taken
                and x.listing_id not in self.paired
            ]
            if len(pool) < 2:
                break
            children = rng.sample(pool, min(len(pool), rng.randint(2, 4)))
            number = rng.randint(2, 120)
            street_name = rng.choice(self.streets)
            project_id = self.ids.take("project", rng)
            agency = children[0].agency
            lat, lng = children[0].lat, children[0].lng
            for unit, child in enumerate(children, start=1):
                taken.add(child.listing_id)
                child.project_id = project_id
                child.unit, child.number, child.street_name = str(unit), f"{number}-{number + 2}", street_name
                child.street = _format_street(child.unit, child.number, street_name)
                child.lat, child.lng = lat, lng
                child.agency, child.agent_indexes = agency, children[0].agent_indexes
                child.tag_text, child.tag_class = "New home", "is-new-homes"
            projects.append(
                Project(
                    project_id=project_id,
                    slug=self.loc.slug,
                    name=f"The {street_name.split()[0]} {rng.choice(('Residences', 'Collection', 'Villas'))}",
                    display_address=f"{number}-{number + 2} {street_name}, {self.loc.name} {self.loc.state}",
                    child_listing_ids=tuple(sorted(c.listing_id for c in children)),
                    street=f"{number}-{number + 2} {street_name}",
                    suburb=self.loc.name.upper(),
                    state=self.loc.state,
                    postcode=self.loc.postcode,
                    lat=lat,
                    lng=lng,
                    agency=agency,
                )
            )
        return projects


def _format_street(unit: str, number: str, street_name: str) -> str:
    if number.startswith("Lot "):
        return f"{number} {street_name}"
    return f"{unit}/{number} {street_name}" if unit else f"{number} {street_name}"
