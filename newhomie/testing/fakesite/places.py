"""Where the local site's localities are: real ones first (the interesting cases), then made-up ones."""

from __future__ import annotations

from typing import Final

# (name, state, postcode, lat, lng). Ordered so that the first few cover the interesting cases:
# Broken Hill keeps Adelaide time, Noble Park North shares its postcode with Noble Park, and
# Richmond and Kingston exist in two states each.
REAL_LOCALITIES: Final[tuple[tuple[str, str, str, float, float], ...]] = (
    ("Dandenong", "VIC", "3175", -37.9870, 145.2150),
    ("Broken Hill", "NSW", "2880", -31.9560, 141.4660),
    ("Noble Park North", "VIC", "3174", -37.9550, 145.1900),
    ("Parramatta", "NSW", "2150", -33.8150, 151.0010),
    ("Fortitude Valley", "QLD", "4006", -27.4570, 153.0350),
    ("Braddon", "ACT", "2612", -35.2710, 149.1350),
    ("Adelaide", "SA", "5000", -34.9280, 138.6000),
    ("Perth", "WA", "6000", -31.9530, 115.8570),
    ("Hobart", "TAS", "7000", -42.8820, 147.3270),
    ("Darwin City", "NT", "0800", -12.4630, 130.8420),
    ("Richmond", "VIC", "3121", -37.8230, 144.9980),
    ("Surry Hills", "NSW", "2010", -33.8860, 151.2110),
    ("Richmond", "NSW", "2753", -33.5990, 150.7510),
    ("Kingston", "ACT", "2604", -35.3160, 149.1450),
    ("Kingston", "TAS", "7050", -42.9760, 147.3080),
    ("Noble Park", "VIC", "3174", -37.9680, 145.1760),
    ("Keysborough", "VIC", "3173", -38.0000, 145.1600),
    ("Doveton", "VIC", "3177", -37.9930, 145.2400),
    ("Footscray", "VIC", "3011", -37.8000, 144.9000),
    ("Brunswick", "VIC", "3056", -37.7670, 144.9600),
    ("Geelong", "VIC", "3220", -38.1470, 144.3610),
    ("Ballarat Central", "VIC", "3350", -37.5610, 143.8570),
    ("Bendigo", "VIC", "3550", -36.7580, 144.2800),
    ("Frankston", "VIC", "3199", -38.1440, 145.1260),
    ("Werribee", "VIC", "3030", -37.9000, 144.6600),
    ("Point Cook", "VIC", "3030", -37.9100, 144.7500),
    ("St Kilda", "VIC", "3182", -37.8670, 144.9810),
    ("Box Hill", "VIC", "3128", -37.8190, 145.1220),
    ("Craigieburn", "VIC", "3064", -37.6000, 144.9430),
    ("Mildura", "VIC", "3500", -34.1850, 142.1620),
    ("Bondi Beach", "NSW", "2026", -33.8910, 151.2770),
    ("Newtown", "NSW", "2042", -33.8980, 151.1790),
    ("Chatswood", "NSW", "2067", -33.7970, 151.1810),
    ("Blacktown", "NSW", "2148", -33.7710, 150.9060),
    ("Liverpool", "NSW", "2170", -33.9200, 150.9240),
    ("Penrith", "NSW", "2750", -33.7510, 150.6940),
    ("Newcastle", "NSW", "2300", -32.9270, 151.7760),
    ("Wollongong", "NSW", "2500", -34.4240, 150.8930),
    ("Dubbo", "NSW", "2830", -32.2430, 148.6040),
    ("Wagga Wagga", "NSW", "2650", -35.1080, 147.3700),
    ("Manly", "NSW", "2095", -33.7970, 151.2850),
    ("Albury", "NSW", "2640", -36.0810, 146.9160),
    ("Castle Hill", "NSW", "2154", -33.7310, 151.0040),
    ("Coffs Harbour", "NSW", "2450", -30.2960, 153.1140),
    ("Belconnen", "ACT", "2617", -35.2380, 149.0660),
    ("Gungahlin", "ACT", "2912", -35.1860, 149.1330),
    ("Tuggeranong", "ACT", "2900", -35.4150, 149.0670),
    ("Dickson", "ACT", "2602", -35.2500, 149.1400),
    ("Brisbane City", "QLD", "4000", -27.4680, 153.0280),
    ("Southport", "QLD", "4215", -27.9670, 153.4000),
    ("Surfers Paradise", "QLD", "4217", -28.0020, 153.4300),
    ("Toowoomba City", "QLD", "4350", -27.5630, 151.9540),
    ("Cairns City", "QLD", "4870", -16.9200, 145.7710),
    ("Townsville City", "QLD", "4810", -19.2590, 146.8170),
    ("Mackay", "QLD", "4740", -21.1440, 149.1860),
    ("Ipswich", "QLD", "4305", -27.6140, 152.7590),
    ("Maroochydore", "QLD", "4558", -26.6600, 153.0990),
    ("Logan Central", "QLD", "4114", -27.6400, 153.1090),
    ("Glenelg", "SA", "5045", -34.9800, 138.5150),
    ("Norwood", "SA", "5067", -34.9210, 138.6300),
    ("Mount Gambier", "SA", "5290", -37.8290, 140.7830),
    ("Port Adelaide", "SA", "5015", -34.8460, 138.5030),
    ("Elizabeth", "SA", "5112", -34.7200, 138.6700),
    ("Whyalla", "SA", "5600", -33.0330, 137.5750),
    ("Fremantle", "WA", "6160", -32.0560, 115.7470),
    ("Joondalup", "WA", "6027", -31.7450, 115.7660),
    ("Rockingham", "WA", "6168", -32.2770, 115.7300),
    ("Bunbury", "WA", "6230", -33.3270, 115.6410),
    ("Geraldton", "WA", "6530", -28.7780, 114.6140),
    ("Scarborough", "WA", "6019", -31.8940, 115.7570),
    ("Kalgoorlie", "WA", "6430", -30.7490, 121.4660),
    ("Launceston", "TAS", "7250", -41.4330, 147.1440),
    ("Sandy Bay", "TAS", "7005", -42.9040, 147.3250),
    ("Devonport", "TAS", "7310", -41.1800, 146.3500),
    ("Glenorchy", "TAS", "7010", -42.8330, 147.2760),
    ("Palmerston City", "NT", "0830", -12.4800, 130.9840),
    ("Alice Springs", "NT", "0870", -23.6980, 133.8810),
    ("Katherine", "NT", "0850", -14.4650, 132.2640),
    ("Nightcliff", "NT", "0810", -12.3830, 130.8500),
    ("Stuart Park", "NT", "0820", -12.4460, 130.8430),
)

CAPITALS: Final[dict[str, tuple[str, float, float]]] = {
    "ACT": ("ACT Region", -35.2810, 149.1300),
    "NSW": ("Sydney Region", -33.8690, 151.2090),
    "NT": ("Darwin Region", -12.4630, 130.8420),
    "QLD": ("Brisbane Region", -27.4700, 153.0250),
    "SA": ("Adelaide Region", -34.9290, 138.6010),
    "TAS": ("Hobart Region", -42.8820, 147.3270),
    "VIC": ("Melbourne Region", -37.8140, 144.9630),
    "WA": ("Perth Region", -31.9520, 115.8610),
}
MADE_UP_POSTCODES: Final[dict[str, int]] = {
    "ACT": 2990,
    "NSW": 2890,
    "NT": 890,
    "QLD": 4890,
    "SA": 5990,
    "TAS": 7990,
    "VIC": 3990,
    "WA": 6990,
}
_MADE_UP_STEMS: Final = ("vale", "brook", "wood", "field", "hill", "ford", "mere", "dale", "leigh", "bury")
_MADE_UP_SUFFIXES: Final = ("", " North", " South", " East", " West", " Heights", " Park", " Downs", " Creek")


def made_up_locality_name(index: int) -> str:
    """The `index`-th generated name ("Testvale", "Testbrook North", ...); letters only, so that
    `Locality.parse` reads it back (it does not accept digits in a name)."""
    stems, suffixes = len(_MADE_UP_STEMS), len(_MADE_UP_SUFFIXES)
    name = "Test" + _MADE_UP_STEMS[index % stems] + _MADE_UP_SUFFIXES[(index // stems) % suffixes]
    tier = index // (stems * suffixes)
    if tier:
        letters = ""
        while tier:
            tier, rest = divmod(tier - 1, 26)
            letters = chr(ord("a") + rest) + letters
        name += " " + letters.title()
    return name
