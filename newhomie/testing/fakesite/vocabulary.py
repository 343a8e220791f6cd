"""The words the local site's listings are made of: property types, streets, names, agencies,
no-price phrases, school sectors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class PropertyType:
    code: str
    formatted: str
    #: The `ptype=` filter value of the site.
    ptype: str
    #: The suburb profile's category: House, Unit, Land or Rural.
    category: str
    weights: tuple[int, int, int]  # sale, rent, sold
    price_factor: float
    beds: tuple[int, int] | None


PROPERTY_TYPES: Final[tuple[PropertyType, ...]] = (
    PropertyType("House", "House", "house", "House", (40, 34, 45), 1.0, (2, 5)),
    PropertyType("Townhouse", "Townhouse", "town-house", "Unit", (12, 12, 12), 0.82, (2, 4)),
    PropertyType(
        "ApartmentUnitFlat",
        "Apartment / Unit / Flat",
        "apartment-unit-flat",
        "Unit",
        (22, 36, 22),
        0.55,
        (1, 3),
    ),
    PropertyType("Villa", "Villa", "villa", "Unit", (3, 2, 3), 0.7, (2, 3)),
    PropertyType("Studio", "Studio", "studio", "Unit", (1, 3, 1), 0.32, (0, 0)),
    PropertyType("BlockOfUnits", "Block of Units", "block-of-units", "Unit", (1, 0, 1), 2.2, (4, 8)),
    PropertyType("SemiDetached", "Semi-Detached", "semi-detached", "House", (2, 2, 2), 0.9, (2, 4)),
    PropertyType("Duplex", "Duplex", "duplex", "House", (2, 1, 2), 0.95, (3, 4)),
    PropertyType("Terrace", "Terrace", "terrace", "House", (1, 1, 1), 1.05, (2, 4)),
    PropertyType("Penthouse", "Penthouse", "penthouse", "Unit", (1, 1, 0), 2.0, (2, 4)),
    PropertyType(
        "NewApartments", "New Apartments / Off the Plan", "new-apartments", "Unit", (2, 0, 0), 0.6, (1, 3)
    ),
    PropertyType("NewHouseLand", "New House & Land", "new-house-land", "House", (3, 0, 0), 0.9, (3, 4)),
    PropertyType("VacantLand", "Vacant land", "vacant-land", "Land", (5, 0, 3), 0.45, None),
    PropertyType(
        "AcreageSemiRural", "Acreage / Semi-Rural", "acreage-semi-rural", "Rural", (1, 1, 1), 1.4, (3, 5)
    ),
    PropertyType("Rural", "Rural", "rural", "Rural", (1, 0, 1), 1.3, (2, 5)),
)
_PTYPE_BY_CODE: Final = {p.code: p for p in PROPERTY_TYPES}

STREET_NAMES: Final = (
    "Power", "Potter", "Cheltenham", "Keneally", "Gooding", "Rodwell", "Bassett", "David", "King George",
    "Hammond", "Orgill", "Wilma", "Clow", "Purdy", "Grandview", "Desa", "Glenys", "High", "Station",
    "Church", "Victoria", "Albert", "George", "Queen", "William", "Elizabeth", "Park", "Railway",
    "Bridge", "Hill", "Main", "Wattle", "Banksia", "Acacia", "Grevillea", "Ironbark", "Kurrajong",
    "Waratah", "Boronia", "Myrtle", "Melaleuca", "Ocean", "Beach", "Harbour", "River", "Lake", "Valley",
    "Ridge", "Forest", "Orchard", "Mill", "Quarry", "School", "Lonsdale", "Foster", "Walker", "Scott",
    "Mason", "Langhorne", "Olive", "Benga", "Leonard", "Kyla", "Ann", "Ross", "Edward", "Bryants",
)  # fmt: skip
STREET_TYPES: Final = (
    "Street", "Street", "Street", "Road", "Road", "Avenue", "Avenue", "Court", "Crescent", "Parade",
    "Drive", "Place", "Grove", "Close", "Lane", "Way", "Terrace", "Boulevard", "Circuit", "Highway",
)  # fmt: skip
FIRST_NAMES: Final = (
    "Ben", "Raza", "Burak", "Ming", "Jason", "Chee-Ky", "Chang", "Tim", "Daniel", "Haroon", "Sarah", "Olivia",
    "Priya", "Liam", "Noah", "Mia", "Chloe", "Lachlan", "Aisha", "Tom", "Grace", "Wei", "Hannah", "Jack",
    "Zoe", "Ahmed", "Lucy", "Sam", "Ella", "Josh",
)  # fmt: skip
LAST_NAMES: Final = (
    "Jusufi", "Muhammad", "Gul", "Wang", "Choong", "Dunlop", "Stickley", "Bustin", "Ali", "Nguyen", "Smith",
    "Jones", "Williams", "Brown", "Wilson", "Taylor", "Patel", "Singh", "Kelly", "Murphy", "O'Brien",
    "Papadopoulos", "Rossi", "Tran", "Chen", "Walsh", "Campbell", "Stewart", "Hughes", "Morgan",
)  # fmt: skip
AGENCY_BRANDS: Final = (
    "Ray White", "Barry Plant", "LJ Hooker", "Harcourts", "McGrath", "First National Real Estate",
    "Belle Property", "Century 21", "Raine & Horne", "Jellis Craig", "Stockdale & Leggo", "Professionals",
    "Elders Real Estate", "PRD", "Hocking Stuart", "Biggin & Scott", "Fletchers", "Nelson Alexander",
)  # fmt: skip
NO_PRICE_SALE: Final = (
    "Contact Agent", "Contact Agent", "Contact Agent", "Contact Agent", "Expressions of Interest",
    "Auction", "Price on application", "JUST LISTED! | 224SQM!", "Over 55s paradise",
    "2bedroom + 1bedroom (study)",
)  # fmt: skip
SCHOOL_SECTORS: Final = (
    ("Primary", "Government", "CoEd", "Prep-6"),
    ("Primary", "Catholic", "CoEd", "Prep-6"),
    ("Secondary", "Government", "CoEd", "7-12"),
    ("Secondary", "Catholic", None, "7-12"),
    ("Secondary", "Independent", None, "7-12"),
    ("Combined", "Government", "CoEd", "Prep-12"),
    ("Special", "Independent", None, None),
)
PROMO_RANK: Final = {"elite": 0, "premiumplus": 1, "standardpp": 2, "standard": 3}
