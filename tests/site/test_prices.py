"""Tests of newhomie.site.prices: every price text quoted in docs/site.md, the real sample pages, and
properties."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newhomie.site.prices import (
    RENT_MAX,
    RENT_MIN,
    SALE_MAX,
    SALE_MIN,
    Price,
    is_no_price_phrase,
    parse_rent_price,
    parse_sale_price,
)
from tests.paths import FIXTURES, FULL_SAMPLES

Expected = tuple[int | None, int | None] | None


def pair(price: Price | None) -> Expected:
    return None if price is None else (price.low, price.high)


# --- Every price text quoted in docs/site.md ("Price text") --------------------------------------

DOMAIN_SALE: list[tuple[str, Expected]] = [
    ("$550,000 - $575,000", (550_000, 575_000)),
    ("$480,000-$520,000", (480_000, 520_000)),
    ("$370,000 to $399,000", (370_000, 399_000)),
    ("$285,000 - $313,500", (285_000, 313_500)),
    ("AUCTION THIS SATURDAY @3:00PM ONSITE !!", None),
    ("Contact Agent", None),
    ("From $940,000", (940_000, None)),
    ("$4,295,000", (4_295_000, 4_295_000)),
    ("$390,000-$420,000", (390_000, 420_000)),
    ("Offers over $1.2m", (1_200_000, None)),
    ("$580k - $638k", (580_000, 638_000)),
    ("$580 000", (580_000, 580_000)),
    ("Up to $638,000", (None, 638_000)),
    ("Speak to Agent on 0469753390", None),
    ("Move in Early 2025 - walk to station", None),
    ("JUST LISTED! | 224SQM!", None),
    ("Sale by End Date 4/2/2026 (unless sold prior)", None),
    ("Over 55s paradise", None),
    ("2bedroom + 1bedroom (study)", None),
]
DOMAIN_RENT: list[tuple[str, Expected]] = [
    ("$495 p/w", (495, 495)),
    ("$ 430 PER WEEK", (430, 430)),
    ("$530", (530, 530)),
    ("$360.00", (360, 360)),
    ("$1,100.00 pw", (1100, 1100)),
    ("$550 pw/ $2390 pcm", (550, 550)),
    ("$570 Per Week", (570, 570)),
    ("315/week", (315, 315)),
    ("$315weekly", (315, 315)),
]
DOMAIN_SOLD: list[tuple[str, Expected]] = [
    ("$740,000", (740_000, 740_000)),
    ("Price Withheld", None),
]


@pytest.mark.parametrize(("text", "expected"), DOMAIN_SALE + DOMAIN_SOLD)
def test_domain_md_sale_and_sold_texts(text: str, expected: Expected) -> None:
    assert pair(parse_sale_price(text)) == expected
    assert is_no_price_phrase(text) == (expected is None)


@pytest.mark.parametrize(("text", "expected"), DOMAIN_RENT)
def test_domain_md_rent_texts(text: str, expected: Expected) -> None:
    assert pair(parse_rent_price(text)) == expected
    assert not is_no_price_phrase(text)


# --- Sale texts --------------------------------------------------------------------------------------

SALE_CASES: list[tuple[str, Expected]] = [
    # ranges and their separators and spacing
    ("$640,000 - $680,000", (640_000, 680_000)),
    ("$480,000 -$520,000", (480_000, 520_000)),
    ("$480,000- $520,000", (480_000, 520_000)),
    ("$480,000 \u2013 $520,000", (480_000, 520_000)),
    ("$480,000\u2013$520,000", (480_000, 520_000)),
    ("$480,000 \u2014 $520,000", (480_000, 520_000)),
    ("$480,000 -- $520,000", (480_000, 520_000)),
    ("$480,000 ~ $520,000", (480_000, 520_000)),
    ("$480,000 to 520,000", (480_000, 520_000)),
    ("$480000 - $520000", (480_000, 520_000)),
    ("$480,000 - 520000", (480_000, 520_000)),
    ("from $500,000 to $550,000", (500_000, 550_000)),
    ("Between $500k and $550k", (500_000, 550_000)),
    ("$520,000 - $480,000", (480_000, 520_000)),
    ("$1.2m/$1.3m", (1_200_000, 1_300_000)),
    ("$1,700,000 - $1,750,000", (1_700_000, 1_750_000)),
    ("Price $640 000 - $680 000", (640_000, 680_000)),
    ("580,000 - 620,000", (580_000, 620_000)),
    # a unit on one side only
    ("$850-900k", (850_000, 900_000)),
    ("$850-900K", (850_000, 900_000)),
    ("850-900k", (850_000, 900_000)),
    ("$850 - $900k", (850_000, 900_000)),
    ("$850k-900", (850_000, 900_000)),
    ("$1.2-1.4m", (1_200_000, 1_400_000)),
    ("$1.2-$1.4m", (1_200_000, 1_400_000)),
    ("$1.2m-1.4", (1_200_000, 1_400_000)),
    ("$1.2 - 1.4 million", (1_200_000, 1_400_000)),
    ("$900-1.2m", (900_000, 1_200_000)),
    ("$950k - 1.1", (950_000, 1_100_000)),
    ("$1500-1600k", (1_500_000, 1_600_000)),
    ("$850 - $900,000", (850_000, 900_000)),
    ("$850,000 - 900", (850_000, 900_000)),
    # k / m / mil / million
    ("$1.2m", (1_200_000, 1_200_000)),
    ("$12.5M", (12_500_000, 12_500_000)),
    ("$1M", (1_000_000, 1_000_000)),
    ("$1.25mil", (1_250_000, 1_250_000)),
    ("$1.5 mil", (1_500_000, 1_500_000)),
    ("$2.5 Million", (2_500_000, 2_500_000)),
    ("$850k", (850_000, 850_000)),
    ("$850K", (850_000, 850_000)),
    ("$850 k", (850_000, 850_000)),
    ("$850 thousand", (850_000, 850_000)),
    ("$850k-$900k", (850_000, 900_000)),
    ("1.2m to 1.4m", (1_200_000, 1_400_000)),
    ("Offers over 1.2m", (1_200_000, None)),
    # separators of thousands, cents
    ("$1 200 000", (1_200_000, 1_200_000)),
    ("580 000", (580_000, 580_000)),
    ("580,000", (580_000, 580_000)),
    ("580000", (580_000, 580_000)),
    ("$580000", (580_000, 580_000)),
    ("$ 1,200,000", (1_200_000, 1_200_000)),
    ("$1,500,000.00", (1_500_000, 1_500_000)),
    ("$499,999.50", (500_000, 500_000)),
    ("AUD 500,000", (500_000, 500_000)),
    ("A$500,000", (500_000, 500_000)),
    # qualifiers: low only
    ("Starting from $499,000", (499_000, None)),
    ("Starting at $499,000", (499_000, None)),
    ("Offers above $800,000", (800_000, None)),
    ("Over $1m", (1_000_000, None)),
    ("Above $900,000", (900_000, None)),
    ("Buyers over $600k", (600_000, None)),
    ("Offers from $650,000", (650_000, None)),
    ("Offers in excess of $650,000", (650_000, None)),
    ("Offers over - $1.2m", (1_200_000, None)),
    ("OFFERS OVER $1,100,000", (1_100_000, None)),
    ("Offers over 580,000", (580_000, None)),
    ("$500,000+", (500_000, None)),
    ("$700,000 plus", (700_000, None)),
    ("$500k OIEO", (500_000, None)),
    ("Apartments from $450,000", (450_000, None)),
    # qualifiers: high only
    ("Under $500k", (None, 500_000)),
    ("Below $600,000", (None, 600_000)),
    ("Offers under $700,000", (None, 700_000)),
    ("UP TO $638,000", (None, 638_000)),
    ("$700,000 or less", (None, 700_000)),
    # a range beats a qualifier; single figures that only look qualified
    ("Offers over $500k - $550k", (500_000, 550_000)),
    ("Under offer - $500,000", (500_000, 500_000)),
    ("$650,000 neg", (650_000, 650_000)),
    ("$500,000 + stamp duty", (500_000, 500_000)),
    # prefixes and suffixes around the price
    ("For Sale $450,000", (450_000, 450_000)),
    ("For Sale - $450,000 - $495,000", (450_000, 495_000)),
    ("Private Sale: $480,000 - $520,000", (480_000, 520_000)),
    ("EOI - $1.2m", (1_200_000, 1_200_000)),
    ("Expressions of Interest $1.2m - $1.3m", (1_200_000, 1_300_000)),
    ("Deadline Sale | $650k - $700k", (650_000, 700_000)),
    ("Guide $600,000", (600_000, 600_000)),
    ("Price Guide $1,200,000 - $1,320,000", (1_200_000, 1_320_000)),
    ("Price Guide: $1.1m", (1_100_000, 1_100_000)),
    ("Buyers Guide $550k - $600k", (550_000, 600_000)),
    ("Auction Guide $750,000 - $820,000", (750_000, 820_000)),
    ("Just listed $599,000", (599_000, 599_000)),
    ("JUST LISTED! $599,000 - $649,000", (599_000, 649_000)),
    ("$550,000 - walk to station", (550_000, 550_000)),
    ("$550,000 - $575,000 (unless sold prior)", (550_000, 575_000)),
    ("$640,000 - $680,000 - walk to station", (640_000, 680_000)),
    ("$580 000 - walk to station", (580_000, 580_000)),
    ("Auction Sat 1 Feb 11am - Guide $700,000", (700_000, 700_000)),
    # other numbers next to the price are not read as it
    ("Call 0412 345 678 $450,000", (450_000, 450_000)),
    ("(03) 9123 4567 - $500k", (500_000, 500_000)),
    ("@3pm $700,000", (700_000, 700_000)),
    ("600 m² $450,000", (450_000, 450_000)),
    ("Land 600m2 $450,000", (450_000, 450_000)),
    ("2 acres $1.2m", (1_200_000, 1_200_000)),
    ("3 bed $650,000", (650_000, 650_000)),
    ("built 1990 $700,000", (700_000, 700_000)),
    ("Lot 5 $450,000", (450_000, 450_000)),
    ("Lot 12 - 450,000", (450_000, 450_000)),
    ("Unit 2 $380,000", (380_000, 380_000)),
    ("12/5 $450,000", (450_000, 450_000)),
    ("600m to station, $500,000", (500_000, 500_000)),
    ("15m frontage $900,000", (900_000, 900_000)),
    ("Save $20,000! Now $450,000", (450_000, 450_000)),
    ("Was $600k now $550k", (550_000, 550_000)),
    ("$500k - 2 bed", (500_000, 500_000)),
    ("2 - $500,000", (500_000, 500_000)),
    ("$640,000 680,000", (640_000, 640_000)),
    ("Offered at $450,000, currently leased at $420 pw", (450_000, 450_000)),
    ("10% deposit $450,000", (450_000, 450_000)),
    ("Lot 101 | 448m2 | $389,000", (389_000, 389_000)),
    ("Display home leaseback 5.5% yield $1.1m", (1_100_000, 1_100_000)),
    ("1,2 and 3 bedroom apartments from $380,000", (380_000, None)),
    ("Over 50's living from $399,000", (399_000, None)),
    ("$695,000 - $745,000 Open Sat 11-11.30am", (695_000, 745_000)),
    ("$565,000 - $615,000 (AUCTION 22/3 @ 11AM)", (565_000, 615_000)),
    ("EOIs closing 15th Apr 2025 - $2.2m", (2_200_000, 2_200_000)),
    ("Contact Agent | $1.65M - $1.8M", (1_650_000, 1_800_000)),
    ("Set Date Sale | Offers over $3m", (3_000_000, None)),
    ("Price: $1,195,000 + GST", (1_195_000, 1_195_000)),
    ("Circa $2.5m", (2_500_000, 2_500_000)),
    ("$1.4m+", (1_400_000, None)),
    # an earlier price is not the price
    ("Reduced from $650,000 to $599,000", (599_000, 599_000)),
    ("Down from $650k, now $599k", (599_000, 599_000)),
    ("$599,000 (was $650,000)", (599_000, 599_000)),
    # a vague band ("mid $700,000s") is not a figure
    ("Mid $700,000s", None),
    ("High $600k's", None),
    # bounds
    ("$10,000", (10_000, 10_000)),
    ("$9,999", None),
    ("$100,000,000", (100_000_000, 100_000_000)),
    ("$100,000,001", None),
    ("$150m", None),
    ("$1.2m - $800", None),
    ("$99", None),
    ("$0.50", None),
    # malformed numbers are rejected whole, never read in part
    ("$1,2m", None),
    ("$640,000680,000", None),
    ("$640,000,680,000", None),
    ("$600 000 700 000", None),
    ("$1.250.000", None),
    ("$450 per week", None),
    ("$600,000 per sqm", None),
    ("$5,000 off", None),
]


@pytest.mark.parametrize(("text", "expected"), SALE_CASES)
def test_sale_texts(text: str, expected: Expected) -> None:
    assert pair(parse_sale_price(text)) == expected


# --- Rent texts --------------------------------------------------------------------------------------

RENT_CASES: list[tuple[str, Expected]] = [
    ("$420", (420, 420)),
    ("$ 450 PER WEEK", (450, 450)),
    ("$550 per week", (550, 550)),
    ("$450 p.w", (450, 450)),
    ("$500 p.w.", (500, 500)),
    ("$450 P/W", (450, 450)),
    ("450pw", (450, 450)),
    ("$450 a week", (450, 450)),
    ("$450 wk", (450, 450)),
    ("$500 /wk", (500, 500)),
    ("$500 p/wk", (500, 500)),
    ("$500 per wk", (500, 500)),
    ("$500 /week", (500, 500)),
    ("$500 weekly", (500, 500)),
    ("$500.00 per week", (500, 500)),
    ("$595.00", (595, 595)),
    ("$450.50", (451, 451)),
    ("$1,200", (1200, 1200)),
    ("$1.2k pw", (1200, 1200)),
    ("450", (450, 450)),
    ("3 bed 2 bath 450", (450, 450)),
    ("Rent $450", (450, 450)),
    ("Weekly rent $450", (450, 450)),
    ("450 pw st kilda", (450, 450)),
    # ranges
    ("$450 - $480 pw", (450, 480)),
    ("$450pw - $480pw", (450, 480)),
    ("$450 - 480", (450, 480)),
    ("$480 - $450 per week", (450, 480)),
    ("$450/500 pw", (450, 500)),
    ("From $450 pw", (450, None)),
    ("Up to $600 per week", (None, 600)),
    # monthly, fortnightly, yearly, only without a weekly figure
    ("$2390 pcm", (552, 552)),
    ("$2,390 per calendar month", (552, 552)),
    ("$2,000 per month", (462, 462)),
    ("$2,000 p/m", (462, 462)),
    ("$2000 pm", (462, 462)),
    ("$2,000 monthly", (462, 462)),
    ("$2,000 /month", (462, 462)),
    ("Monthly rent: $2,000", (462, 462)),
    ("$1,950 - $2,050 pcm", (450, 473)),
    ("$1950 - 2050 pcm", (450, 473)),
    ("$900 per fortnight", (450, 450)),
    ("$24,000 pa", (462, 462)),
    ("$24,000 per annum", (462, 462)),
    ("$2390 pcm / $550 pw", (550, 550)),
    ("$450 pw/$1950 pcm", (450, 450)),
    ("$550/$2390", (550, 550)),
    # bond, deposits and other numbers are not the rent
    ("bond $2000, $450 pw", (450, 450)),
    ("$450 pw, bond $1,800", (450, 450)),
    ("$500 per week (bond $2,000)", (500, 500)),
    ("Bond: 4 weeks $1,980 - rent $495 pw", (495, 495)),
    ("Holding deposit $450, rent $480 pw", (480, 480)),
    ("$1,800 bond, $450 pw", (450, 450)),
    ("No bond $450 pw", (450, 450)),
    ("Bond (4 weeks) $1980", None),
    ("Deposit: $450", None),
    ("$430pw + $50 parking", (430, 430)),
    ("Studio $320 p/w, 1 bed $380 p/w", (320, 320)),
    ("$430 per week - Open Sat 10:00-10:15am", (430, 430)),
    ("Available 15/03/2025 - $430 per week", (430, 430)),
    ("$520 PW INC WATER", (520, 520)),
    ("$550/pw", (550, 550)),
    ("$550p/w", (550, 550)),
    ("$2,600/mth", (600, 600)),
    ("$850 per fortnight", (425, 425)),
    ("$35,000 per annum + GST", (673, 673)),
    ("$450 per week, available 1 March 2025", (450, 450)),
    ("Available 1 March $450", (450, 450)),
    ("Inspection 3:30pm Sat 1 Feb $500", (500, 500)),
    ("Call 0412 345 678 - $450 pw", (450, 450)),
    ("2 weeks free! $450 pw", (450, 450)),
    ("$450 per week 6 month lease", (450, 450)),
    ("6 or 12 month lease $450", (450, 450)),
    ("Over 55s $450", (450, 450)),
    ("55+ village $380 pw", (380, 380)),
    ("Unit 3 - 450 pw", (450, 450)),
    ("12 Smith St 450 pw", (450, 450)),
    ("Ref 1234 $450", (450, 450)),
    ("2025", (2025, 2025)),
    ("Built 2020 - $450 pw", (450, 450)),
    ("$450 pw - 5 star", (450, 450)),
    ("$450 - $5 pw", None),
    # bounds and things that are not a weekly rent
    ("$50", (50, 50)),
    ("$49", None),
    ("$20,000 pw", (20_000, 20_000)),
    ("$25,000 pw", None),
    ("$550,000", None),
    ("$200 per night", None),
    ("$200 p/n", None),
    ("$45 per day", None),
    ("Leased, bond $2000", None),
    ("50c", None),
]


@pytest.mark.parametrize(("text", "expected"), RENT_CASES)
def test_rent_texts(text: str, expected: Expected) -> None:
    assert pair(parse_rent_price(text)) == expected


# --- Texts without a price -----------------------------------------------------------------------------

NO_PRICE_PHRASES = [
    "Auction",
    "AUCTION",
    "Auction this Saturday 15th Feb at 1:30pm",
    "Auction Sat 1 Feb 11am",
    "Auction on site 12 Smith St",
    "Contact Agent",
    "contact agent.",
    "CONTACT AGENT!!",
    "Contact agent for price",
    "Speak to Agent",
    "Speak to Agent on 0469753390",
    "Call 0412 345 678",
    "Contact Agent 0412345678",
    "Enquire (03) 9123 4567",
    "EOI",
    "E.O.I.",
    "Expressions of Interest",
    "Expressions of Interest closing 5pm Tuesday 4th March",
    "Price on application",
    "POA",
    "P.O.A.",
    "Price Withheld",
    "Under Offer",
    "Deposit Taken",
    "SOLD",
    "Leased",
    "Price by negotiation",
    "Tender",
    "Deadline sale",
    "Offers",
    "For Sale",
    "Private Sale",
    "TBA",
    "Offers Invited",
    "Sold prior to auction",
    "Under application",
    "Contact Agent 03 9701 1234",
    "Auction 2pm Saturday",
    "",
    "   ",
    "-",
    "Sale by End Date 4/2/2026 (unless sold prior)",
    "JUST LISTED! | 224SQM!",
    "Over 55s paradise",
    "2bedroom + 1bedroom (study)",
    "Move in Early 2025 - walk to station",
    "AUCTION THIS SATURDAY @3:00PM ONSITE !!",
]


@pytest.mark.parametrize("text", NO_PRICE_PHRASES)
def test_no_price_phrases(text: str) -> None:
    assert is_no_price_phrase(text)
    assert parse_sale_price(text) is None
    assert parse_rent_price(text) is None


NOT_NO_PRICE = [
    "Auction guide $500,000",
    "Contact agent $1.2m",
    "Offers over $1.2m",
    "Leased at $450 pw",
    "Auction $5",
    "$",
    "Price: $",
    "$1,2m",
    "$200 per night",
    "Only 12 left",
]


@pytest.mark.parametrize("text", NOT_NO_PRICE)
def test_texts_that_are_not_no_price_phrases(text: str) -> None:
    assert not is_no_price_phrase(text)


def test_none_is_no_price() -> None:
    assert parse_sale_price(None) is None
    assert parse_rent_price(None) is None
    assert is_no_price_phrase(None)


# --- Lessons of the earlier crawler (docs/site.md) -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$640,000 - $680,000", (640_000, 680_000)),
        ("$640,000-$680,000", (640_000, 680_000)),
        ("$640,000 \u2013 $680,000", (640_000, 680_000)),
        ("$640,000 to $680,000", (640_000, 680_000)),
        ("$640 000 - $680 000", (640_000, 680_000)),
        ("$640,000680,000", None),
        ("$640,000 680,000", (640_000, 640_000)),
        ("$600 000 700 000", None),
    ],
)
def test_lesson_range_digits_never_glued(text: str, expected: Expected) -> None:
    price = parse_sale_price(text)
    assert pair(price) == expected
    assert price is None or max(v for v in (price.low, price.high) if v is not None) <= 680_000


@pytest.mark.parametrize(
    "text",
    [
        "0469753390",
        "0412 345 678",
        "0412-345-678",
        "(03) 9123 4567",
        "03 9123 4567",
        "9123 4567",
        "1300 123 456",
        "1800 123 456",
        "+61 412 345 678",
        "4/2/2026",
        "04/02/26",
        "2025-02-01",
        "Sat 1 Feb",
        "Saturday 1st February 2025",
        "1 Feb",
        "Feb 15th",
        "3:00PM",
        "@3pm",
        "11am",
        "10.30am",
        "Move in Early 2025",
        "built 1990",
        "Completion 2026",
        "224SQM",
        "600m2",
        "600 m²",
        "600 sq m",
        "2 acres",
        "1.5ha",
        "500m to station",
        "2bedroom + 1bedroom (study)",
        "3 bed",
        "4 bedrooms 2 bathrooms 2 car",
        "Lot 23",
        "Lot 450",
        "Unit 5",
        "Unit 450",
        "50%",
        "5.5% yield",
        "Over 55s",
        "Over 55 lifestyle",
        "12 Smith St",
        "Dandenong VIC 3175",
        "10 minutes to CBD",
    ],
)
def test_lesson_phone_numbers_dates_times_years_areas_not_prices(text: str) -> None:
    assert parse_sale_price(text) is None
    assert parse_rent_price(text) is None
    assert is_no_price_phrase(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$1.2m", (1_200_000, 1_200_000)),
        ("Offers over $1.2m", (1_200_000, None)),
        ("$1.2M - $1.3M", (1_200_000, 1_300_000)),
        ("$1.2-1.4m", (1_200_000, 1_400_000)),
        ("$12.5M", (12_500_000, 12_500_000)),
        ("$1.25 million", (1_250_000, 1_250_000)),
        ("$2mil", (2_000_000, 2_000_000)),
        ("$0.95m", (950_000, 950_000)),
    ],
)
def test_lesson_millions_suffix(text: str, expected: Expected) -> None:
    assert pair(parse_sale_price(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$550 pw/ $2390 pcm", (550, 550)),
        ("$2390 pcm / $550 pw", (550, 550)),
        ("$2,390 per month ($550 per week)", (550, 550)),
        ("$550 / $2390 pcm", (550, 550)),
        ("$2390 pcm", (552, 552)),
    ],
)
def test_lesson_weekly_rent_wins_over_monthly(text: str, expected: Expected) -> None:
    assert pair(parse_rent_price(text)) == expected


@pytest.mark.parametrize(
    ("text", "parse", "expected"),
    [
        ("$360.00", parse_rent_price, 360),
        ("$360.49", parse_rent_price, 360),
        ("$360.50", parse_rent_price, 361),
        ("$2,000 pcm", parse_rent_price, 462),
        ("$1,001 per month", parse_rent_price, 231),
        ("$899,999.99", parse_sale_price, 900_000),
        ("$1.2345m", parse_sale_price, 1_234_500),
    ],
)
def test_lesson_prices_are_whole_dollars(
    text: str, parse: Callable[[str | None], Price | None], expected: int
) -> None:
    price = parse(text)
    assert price == Price(expected, expected)
    assert price is not None
    assert type(price.low) is int


def test_price_is_never_empty_or_reversed() -> None:
    with pytest.raises(ValueError, match="at least one side"):
        Price(None, None)
    with pytest.raises(ValueError, match="above high"):
        Price(2, 1)
    assert Price(None, 5) == Price(None, 5)


# --- The real sample pages -----------------------------------------------------------------------------


def _entries(path: Path) -> Iterator[tuple[str, str | None, bool]]:
    """(id, price text, sold) of every listing of a saved search page."""
    props = json.loads(path.read_text())["props"]["pageProps"]["componentProps"]
    for listing_id, entry in props["listingsMap"].items():
        if entry.get("listingType") == "listing":
            yield listing_id, entry["listingModel"].get("price"), False
    for entry in props.get("UPVSoldListings") or []:
        yield str(entry.get("id")), entry["listingModel"].get("price"), True


def _check_plausible(price: Price, low: int, high: int) -> None:
    assert price.low is not None or price.high is not None
    for v in (price.low, price.high):
        assert v is None or low <= v <= high
    if price.low is not None and price.high is not None:
        assert price.low <= price.high


def test_sample_sale_page_prices() -> None:
    entries = list(_entries(FIXTURES / "sale.dandenong-vic-3175.page1.2025-02.json"))
    assert len(entries) >= 30
    prices: dict[str, Price | None] = {}
    for listing_id, text, sold in entries:
        price = parse_sale_price(text)
        prices[listing_id] = price
        if price is None:
            assert is_no_price_phrase(text), text
        else:
            _check_plausible(price, SALE_MIN, SALE_MAX)
            assert not is_no_price_phrase(text)
            if sold:
                assert price.low == price.high, text
    assert prices["2018762688"] == Price(640_000, 680_000)
    assert prices["2019700219"] == Price(480_000, 520_000)
    assert prices["2019714490"] == Price(370_000, 399_000)
    assert prices["2019753113"] == Price(285_000, 313_500)
    assert prices["2019717175"] is None
    assert sum(p is None for p in prices.values()) == 1
    sold_prices = {prices[i] for i, _, is_sold in entries if is_sold}
    assert sold_prices == {
        Price(v, v)
        for v in (290_000, 400_000, 480_000, 511_000, 522_000, 665_000, 668_000, 733_000, 740_000, 890_000)
    }


def test_sample_rent_page_prices() -> None:
    entries = list(_entries(FIXTURES / "rent.dandenong-vic-3175.page1.2025-02.json"))
    assert len(entries) == 20
    prices = {listing_id: parse_rent_price(text) for listing_id, text, _ in entries}
    for listing_id, price in prices.items():
        assert price is not None, listing_id
        _check_plausible(price, RENT_MIN, RENT_MAX)
        assert price.low == price.high
    assert prices["16108292"] == Price(495, 495)
    assert prices["17403231"] == Price(430, 430)
    assert prices["17403456"] == Price(530, 530)
    assert prices["17411970"] == Price(360, 360)
    assert prices["17405566"] == Price(550, 550)


def _card_prices(path: Path) -> list[str]:
    state = json.loads(path.read_text())["props"]["pageProps"]["__APOLLO_STATE__"]
    return [
        v["priceDetails"]["displayPrice"]
        for k, v in state.items()
        if k.startswith("SearchListingsResultListing:") and v.get("priceDetails")
    ]


def test_sample_suburb_profile_card_prices() -> None:
    """Cards mix sale and rent listings: each text is a sale price, a weekly rent or a no-price phrase."""
    texts = _card_prices(FIXTURES / "suburb-profile.dandenong-vic-3175.2025-02.json")
    assert len(texts) >= 60
    for text in texts:
        sale, rent = parse_sale_price(text), parse_rent_price(text)
        assert sale is not None or rent is not None or is_no_price_phrase(text), text
    assert parse_sale_price("$1,700,000 - $1,750,000") == Price(1_700_000, 1_750_000)
    assert parse_sale_price("From $1,300,000") == Price(1_300_000, None)


def test_the_real_pages_prices() -> None:
    for kind, parse, low, high in (
        ("sale", parse_sale_price, SALE_MIN, SALE_MAX),
        ("rent", parse_rent_price, RENT_MIN, RENT_MAX),
    ):
        for _, text, _ in _entries(FULL_SAMPLES / f"{kind}.dandenong-vic-3175.page1.2025-02.json"):
            price = parse(text)
            if price is None:
                assert is_no_price_phrase(text), text
            else:
                _check_plausible(price, low, high)


# --- Properties ----------------------------------------------------------------------------------------

sale_amounts = st.integers(SALE_MIN, SALE_MAX)
rent_amounts = st.integers(RENT_MIN, RENT_MAX)
# Junk with no digits, no `$` and no unit (k, m, thousand): whatever it says, it holds no other amount.
junk = st.text(
    alphabet="abcdefghijlnopqrstuvwxyz ABCXYZ!|,.;:()[]*#@&'\"-\u2013\u2014/~", max_size=12
).filter(lambda s: "thousand" not in s.lower())
RANGE_SEPARATORS = [
    "-",
    " - ",
    "\u2013",
    " \u2013 ",
    "\u2014",
    " \u2014 ",
    " to ",
    " TO ",
    "  -  ",
    " -",
    "- ",
]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_gives_none_or_a_plausible_price(text: str) -> None:
    sale, rent = parse_sale_price(text), parse_rent_price(text)
    if sale is not None:
        _check_plausible(sale, SALE_MIN, SALE_MAX)
    if rent is not None:
        _check_plausible(rent, RENT_MIN, RENT_MAX)
    if is_no_price_phrase(text):
        assert sale is None
        assert rent is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789 ,.$-\u2013/:kKmM()+pwcPWC", max_size=30))
def test_numeric_noise_gives_none_or_a_plausible_price(text: str) -> None:
    for parse, low, high in ((parse_sale_price, SALE_MIN, SALE_MAX), (parse_rent_price, RENT_MIN, RENT_MAX)):
        price = parse(text)
        if price is not None:
            _check_plausible(price, low, high)


@settings(max_examples=200, deadline=None)
@given(sale_amounts)
def test_sale_amount_in_any_style_parses_back(a: int) -> None:
    for text in (f"${a:,}", f"${a}", f"${a:,}".replace(",", " "), f"{a:,}", f"  ${a:,}  "):
        assert parse_sale_price(text) == Price(a, a), text


@settings(max_examples=200, deadline=None)
@given(st.integers(SALE_MIN // 1000, SALE_MAX // 1000))
def test_sale_thousands_parse_back(k: int) -> None:
    for text in (f"${k}k", f"${k}K", f"${k} k", f"{k}k"):
        assert parse_sale_price(text) == Price(k * 1000, k * 1000), text


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 1000))
def test_sale_millions_parse_back(tenths: int) -> None:
    x, y = divmod(tenths, 10)
    a = tenths * 100_000
    for text in (f"${x}.{y}m", f"${x}.{y}M", f"${x}.{y} million", f"${x}.{y}mil"):
        assert parse_sale_price(text) == Price(a, a), text


@settings(max_examples=200, deadline=None)
@given(sale_amounts, sale_amounts, st.sampled_from(RANGE_SEPARATORS))
def test_sale_range_with_any_separator_parses_back(a: int, b: int, sep: str) -> None:
    low, high = min(a, b), max(a, b)
    assert parse_sale_price(f"${a:,}{sep}${b:,}") == Price(low, high)
    assert parse_sale_price(f"${a:,}{sep}{b:,}") == Price(low, high)


@settings(max_examples=100, deadline=None)
@given(st.integers(SALE_MIN, SALE_MAX // 2), st.integers(0, 100))
def test_sale_range_with_a_slash_parses_back(a: int, percent: int) -> None:
    b = a + a * percent // 100
    assert parse_sale_price(f"${a:,}/${b:,}") == Price(a, b)


@settings(max_examples=200, deadline=None)
@given(st.integers(10, 95_000), st.integers(0, 5000), st.sampled_from(RANGE_SEPARATORS))
def test_sale_range_with_a_unit_on_one_side_parses_back(k: int, step: int, sep: str) -> None:
    low, high = k, k + step
    assert parse_sale_price(f"${low}{sep}{high}k") == Price(low * 1000, high * 1000)
    m_low, m_high = k / 10, (k + step) / 10
    if m_high <= 100:
        assert parse_sale_price(f"${m_low:g}{sep}{m_high:g}m") == Price(
            round(m_low * 1_000_000), round(m_high * 1_000_000)
        )


@settings(max_examples=200, deadline=None)
@given(rent_amounts)
def test_rent_amount_in_any_style_parses_back(a: int) -> None:
    texts = [
        f"${a}",
        f"${a:,}",
        f"${a} p/w",
        f"$ {a} PER WEEK",
        f"${a:,}.00",
        f"${a:,}.00 pw",
        f"${a} Per Week",
        f"{a}/week",
        f"${a}weekly",
        f"${a} pw/ ${round(a * 52 / 12, -1):.0f} pcm",
    ]
    for text in texts:
        assert parse_rent_price(text) == Price(a, a), text


@settings(max_examples=200, deadline=None)
@given(st.integers(220, 86_000))
def test_monthly_rent_is_converted_to_a_week(monthly: int) -> None:
    weekly = round(monthly * 12 / 52)
    assert parse_rent_price(f"${monthly:,} pcm") == Price(weekly, weekly)
    assert parse_rent_price(f"${monthly} per month") == Price(weekly, weekly)


@settings(max_examples=200, deadline=None)
@given(rent_amounts, rent_amounts, st.sampled_from(RANGE_SEPARATORS))
def test_rent_range_parses_back(a: int, b: int, sep: str) -> None:
    low, high = min(a, b), max(a, b)
    assert parse_rent_price(f"${a}{sep}${b} per week") == Price(low, high)


@settings(max_examples=300, deadline=None)
@given(junk, sale_amounts, junk, sale_amounts, junk, st.booleans())
def test_junk_around_a_range_never_glues_numbers(
    before: str, a: int, between: str, b: int, after: str, dollar: bool
) -> None:
    text = f"{before}${a:,}{between}{'$' if dollar else ''}{b:,}{after}"
    price = parse_sale_price(text)
    if price is not None:
        assert {price.low, price.high} - {None} <= {a, b}, text


@settings(max_examples=200, deadline=None)
@given(junk, sale_amounts, junk)
def test_junk_separated_from_a_price_keeps_it_readable(before: str, a: int, after: str) -> None:
    punctuation = "".join(c for c in before + after if not c.isalpha())
    text = f"{punctuation} ${a:,} {punctuation}"
    assert parse_sale_price(text) == Price(a, a), text


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**10), sale_amounts, sale_amounts)
def test_digits_before_a_range_never_glue_to_it(digits: int, a: int, b: int) -> None:
    low, high = min(a, b), max(a, b)
    for text in (f"{digits} ${a:,} - ${b:,}", f"{digits}${a:,} - ${b:,}", f"{digits:,}: ${a:,} - ${b:,}"):
        price = parse_sale_price(text)
        assert price is not None, text
        assert price.high is None or price.high <= max(high, digits), text
        if digits < SALE_MIN:
            assert price == Price(low, high), text
