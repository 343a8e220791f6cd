"""Normalisation of the free-text `price` that agents type on domain.com.au listings.

The text is lower-cased and its dashes and spaces unified; then everything made of digits that is
known not to be money (phone numbers, dates, times, "over 55s") is replaced by a breaker so that it can
neither be read nor joined to a neighbour. What remains is cut into number tokens, each read on its
own (`580,000`, `1.2` + `m`, `580 000` after `$`): a run of digits and separators that is not a
well-formed number is rejected whole, so the digits of two numbers are never glued together.
Each token is then judged by the words right before and after it: a unit (`sqm`, `bed`, `%`,
`bond`), a rent period (`pw`, `pcm`), a qualifier (`from`, `offers over`, `up to`, `+`). Two tokens
joined by a range separator form a range; a unit written on one side only (`$850-900k`) applies to
both. The first plausible figure wins, in order of trust (for rent: weekly, then unlabelled `$`
amounts, then bare numbers, then fortnightly, monthly and yearly ones converted to a week).
Figures outside the plausible bounds below are dropped, never clamped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Literal

SALE_MIN: Final = 10_000
SALE_MAX: Final = 100_000_000
RENT_MIN: Final = 50  # dollars per week
RENT_MAX: Final = 20_000


@dataclass(frozen=True, slots=True)
class Price:
    """A price in whole Australian dollars (rent: dollars per week); a missing side is unbounded."""

    low: int | None
    high: int | None

    def __post_init__(self) -> None:
        if self.low is None and self.high is None:
            raise ValueError("a Price needs at least one side")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low {self.low} above high {self.high}")


_Kind = Literal["sale", "rent"]

_BOUNDS: Final[dict[_Kind, tuple[int, int]]] = {
    "sale": (SALE_MIN, SALE_MAX),
    "rent": (RENT_MIN, RENT_MAX),
}

_TRANSLATE: Final = str.maketrans(
    {
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\ufe63": "-",
        "\uff0d": "-",
        "\u00a0": " ",
        "\u2007": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u2018": "'",
        "\u2019": "'",
        "\uff04": "$",
    }
)
_SPACES_RE: Final = re.compile(r"\s+")
# Replaces every span that is not money: nothing on either side of it can join across it.
_BREAKER: Final = " ; "

_MONTH: Final = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_WEEKDAY: Final = (
    r"(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?"
    r"|sat(?:urday)?|sun(?:day)?)\b\.?"
)
_NOISE_RE: Final = re.compile(
    rf"""
    (?<![\d$.,])(?:
        \+61[\s-]?(?:\(0?\d\)|0?\d)(?:[\s-]?\d){{8}}        # +61 4xx xxx xxx, +61 (3) xxxx xxxx
      | \(0\d\)[\s-]?\d{{4}}[\s-]?\d{{4}}                  # (03) 9123 4567
      | 0\d(?:[\s-]?\d){{8}}                               # 0412 345 678, 03 9123 4567, 0469753390
      | 1[38]00[\s-]?\d{{3}}[\s-]?\d{{3}}                  # 1300 123 456
      | \d{{4}}\ \d{{4}}                                   # 9123 4567
      | \d{{4}}-\d{{1,2}}-\d{{1,2}}                        # 2025-02-01
      | \d{{1,2}}(?P<dsep>[/.-])\d{{1,2}}(?P=dsep)(?:\d{{4}}|\d{{2}})   # 4/2/2026, 4.2.26
      | \d{{1,2}}/\d{{1,2}}                                # 4/2
      | \d{{1,2}}:\d{{2}}(?:\s*[ap]\.?m\b\.?)?             # 3:00pm, 11:30
      | \d{{1,2}}\.\d{{2}}\s*[ap]\.?m\b\.?                 # 10.30am
      | (?:1[0-2]|0?\d)\s*(?:[ap]\.?m\b\.?|o'?clock\b)     # 3pm, 11 am
      | \d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?   # 1 feb 2025
    )(?!\d)
    | \b{_WEEKDAY},?\s+(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\b(?!\s*[,.]?\d)
        (?:\s+(?:of\s+)?{_MONTH})?(?:,?\s+\d{{4}}\b)?      # sat 1 feb, saturday 15th
    | \b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?![,.]?\d)(?:,?\s+\d{{4}}\b)?   # feb 1st, 2025
    | \b{_MONTH},?\s+\d{{4}}\b(?![,.]?\d)                  # feb 2025
    | \bover[\s-]*(?:45|50|55|60|65|70)'?s?\b(?![\d,.])    # over 55s (an age, not a price)
    """,
    re.VERBOSE | re.ASCII,
)

# A number token. `num` is the whole run of digits, commas and points (validated afterwards, never
# split); `sp` a space-grouped tail (`$580 000`), only believed after a `$`.
_TOKEN_RE: Final = re.compile(
    r"""
    (?:(?P<cur>(?:a|au|aud)?\$|\baud\b)\s*)?
    (?<![\w.,])
    (?P<num>\d(?:[\d,.]*\d)?)
    (?P<sp>(?:\ \d{3}(?![\w²³]|[,.]\d))+)?
    (?P<mult>\s*(?:millions?|mill?|mn|m|thousand|k)(?![\w²³]))?
    """,
    re.VERBOSE | re.ASCII,
)
_COMMA_NUM_RE: Final = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?", re.ASCII)
_PLAIN_NUM_RE: Final = re.compile(r"\d+(?:\.(?P<frac>\d+))?", re.ASCII)
_WHOLE_NUMBER_RE: Final = re.compile(
    r"(?:(?:a|au|aud)?\$|aud)?\s*(?P<num>\d{1,3}(?:,\d{3})+|\d{1,3}(?: \d{3})+|\d{1,7})"
    r"(?:\.(?P<cents>\d{1,2}))?",
    re.ASCII,
)
_MAX_NUMBER_CHARS: Final = 20  # longer runs are not amounts; keeps Decimal work bounded
_MULTIPLIERS: Final = {
    "k": Decimal(1000),
    "thousand": Decimal(1000),
    "m": Decimal(1_000_000),
    "mil": Decimal(1_000_000),
    "mill": Decimal(1_000_000),
    "million": Decimal(1_000_000),
    "millions": Decimal(1_000_000),
    "mn": Decimal(1_000_000),
}
_THOUSAND: Final = Decimal(1000)
_MILLION: Final = Decimal(1_000_000)

# Words after any amount (even `$500`) that make it something other than a price.
_TAIL_NOT_PRICE_RE: Final = re.compile(
    r"""
    \s*(?:
        %|per\s*cent\b|percent\b
      | c\b(?!/)|cents?\b
      | (?:holding\s+)?(?:bond|deposit)\b
      | (?:discount|rebate|cash\s*back|bonus|savings?|stamp\s+duty|grant|incentive)\b
      | off(?=\s*(?:$|[!.,;)|]|the\b|rrp\b|list\b|price\b|asking\b))
      | (?:sq\.?\s*m|sqm|sqms|sq\.?\s*ft|sqft|sq|squares?|m\s*[²2]|m\s*sq|ft[²2]|acres?|ha|hectares?)
        (?![a-z\d])
      | (?:(?:per|a|each)\s+|/\s*)(?:sq|m[²2]|metre|meter|square|ft|acre|hectare|ha\b|night|nite|nt\b|day
                                  |hour|hr|person|head)
      | (?:nightly|daily|hourly)\b
      | p\.?\s*/?\s*[nd]\.?(?![a-z])                         # p/n, pd: per night, per day
      | x\s*\d                                               # 20 x 30
      | (?<=[\dkm])'?s(?![a-z])                              # 55s, 1990s, mid $700k's
      | (?<=\d)(?:st|nd|rd|th)(?![a-z])                      # 1st
    )
    """,
    re.VERBOSE,
)
# Words after a bare number (no `$`, no k/m) that make it a count, a duration, a distance or an address.
_TAIL_NOT_PRICE_BARE_RE: Final = re.compile(
    r"""
    \s*(?:-\s*)?(?:
        (?:bed|beds|bedrooms?|bdr|bdrms?|br|b/r|brm|bath|baths|bathrooms?|bth|cars?|carports?|carspaces?
          |garages?|study|studies|storeys?|story|stories|levels?|lvl|rooms?|living|parking|spaces?|lots?
          |units?|homes?|houses?|townhouses?|apartments?|residences?|villas?|dwellings?|blocks?|sites?|people
          |persons?|pax|guests?|kids|children|schools?|shops?|stores?|minutes?|mins?|hours?|hrs?|days?|weeks
          |months|years|yrs|yo|y/o|kms?|klms?|kilomet(?:re|er)s?|met(?:re|er)s?|mtrs?|ft|feet|foot)(?![a-z])
      | [a-z'.-]+\s+(?:street|st|road|rd|avenue|ave|drive|dr|court|ct|place|pl|crescent|cres|way|lane|ln
          |parade|pde|highway|hwy|boulevard|blvd|close|cl|terrace|tce|grove|gr|circuit|cct)\b
    )
    """,
    re.VERBOSE,
)
# After `500m` or `2k` with no `$`: a distance or a dimension, not 500 million.
_TAIL_DISTANCE_RE: Final = re.compile(
    r"\s*(?:walk|stroll|drive|away|frontage|front|wide|width|deep|depth|long|length|high|height|setback"
    r"|radius|approx|(?:to|from|of)\s+(?![$\d])|x\b)"
)
_HEAD_NOT_PRICE_RE: Final = re.compile(
    r"""
    (?:
        \b(?<!\bno\s)bond\b(?:\s*(?:amount|of|is|[:=(-]))*\s*(?:\d+\s*weeks?\)?\s*[:=-]?\s*)?  # (4 weeks)
      | (?<!%)(?<!%\s)\b(?:holding\s+)?deposit\s*(?:of|is|:|-)?\s*     # not "10% deposit $450,000"
      | \b(?:save|saving|savings|rebate|discount|bonus|cash\s*back|grant|incentive|stamp\s+duty|was|previously
          |reduced\s+(?:by|from)|down\s+from|rrp)\b\s*(?:of|up\s+to|over|:|-)?\s*
    )$
    """,
    re.VERBOSE,
)
_HEAD_NOT_PRICE_BARE_RE: Final = re.compile(
    r"""
    (?:
        \b(?:lots?|units?|apt|apartments?|shop|suite|villa|level|lvl|floor|block|stage|site|building|bldg
          |townhouse|residence|home|house|no|number|ref|id|code|postcode|p/c|route|bus|tram|platform|gate
          |vic|nsw|qld|sa|wa|tas|nt|act|x)
      | \#
    )\s*[.:#-]?\s*$
    """,
    re.VERBOSE,
)
_PERIOD_RE: Final = re.compile(
    r"""
    \s*(?:
        (?P<w>p\.?\s*/?\s*w(?:k|eek)?\.?(?![a-z])|per\s*w(?:ee)?k\b|/\s*w(?:ee)?k\b|/\s*w\b
          |(?:a|each)\s+week\b|weekly\b|wkly\b|week\b|wk\b)
      | (?P<f>(?:per|/|a|each)\s*fortnight\b|fortnightly\b|fortnight\b|p\.?\s*/?\s*f\.?(?![a-z]))
      | (?P<m>p\.?\s*c\.?\s*m\.?(?![a-z])|per\s+(?:calendar\s+)?m(?:onth|th)\b
          |/\s*(?:calendar\s+)?m(?:onth|th|o)?\b|(?:a|each)\s+month\b|monthly\b|mthly\b|month\b|mth\b
          |p\.?\s*/?\s*m(?:th|onth)?\.?(?![a-z\d²]))
      | (?P<y>p\.?\s*/?\s*a\.?(?![a-z])|per\s+(?:annum|year|yr)\b|/\s*(?:annum|year|yr|y)\b|a\s+year\b
          |annually\b|yearly\b|year\b|yr\b)
    )
    """,
    re.VERBOSE,
)
_HEAD_PERIOD_RE: Final = re.compile(
    r"(?:(?P<w>weekly|per\s+week|p/?w)|(?P<m>monthly|per\s+month|pcm))\b[^$\d;]{0,12}$"
)
_PERIOD_DIVISORS: Final = {"w": Decimal(1), "f": Decimal(2), "m": Decimal(52) / 12, "y": Decimal(52)}
_PERIOD_RANKS: Final = {"w": 0, "f": 3, "m": 4, "y": 5}

_HEAD_LOW_RE: Final = re.compile(
    r"(?:\bfrom|\bover|\babove|\bexcess\s+of|\bmore\s+than|\bexceeding|\bat\s+least|\bminimum|\bstarting\s+at"
    r"|\bbeyond|\bo/o|\boieo)(?:\s+(?:only|just))?[\s:|,-]*$"
)
_HEAD_HIGH_RE: Final = re.compile(
    r"(?:\bup\s+to|\bunder|\bbelow|\bless\s+than|\bmax(?:imum)?\.?|\bno\s+more\s+than|\bbeneath)"
    r"(?:\s+(?:only|just))?[\s:|,-]*$"
)
_NOT_EXTRA: Final = r"(?!\s*(?:gst|og\b|o/g|outgoings|bills|utilities|stamp|duty|costs|fees|\$|\d))"
_TAIL_LOW_RE: Final = re.compile(
    rf"\s*(?:\+{_NOT_EXTRA}|plus\b{_NOT_EXTRA}|(?:and|&)\s*(?:above|over|up(?:wards)?|beyond)\b"
    r"|or\s+(?:more|above|over|higher)\b|onwards\b|upwards\b|o\.?i\.?e\.?o\b|in\s+excess\b)"
)
_TAIL_HIGH_RE: Final = re.compile(r"\s*(?:or\s+(?:less|under|below|lower)\b|and\s+(?:under|below)\b|max\b)")
_RANGE_SEP_RE: Final = re.compile(r"\s*(?:-+|~|to|till|until|thru|through)\s*")
_SLASH_SEP_RE: Final = re.compile(r"\s*/\s*")
_AND_SEP_RE: Final = re.compile(r"\s*(?:and|&)\s*")
_HEAD_BETWEEN_RE: Final = re.compile(r"\bbetween[\s:]*$")
_HEAD_WINDOW: Final = 40

# Texts that say on purpose that no price is given.
_NO_PRICE_RE: Final = re.compile(
    r"""
    \b(?:auctions?|agents?|enquir(?:e|ies)|inquir(?:e|ies)|call|contact|eoi|e\.o\.i
      |expressions?\s+of\s+interest|on\s+(?:application|request)|upon\s+request|p\.?\s*o\.?\s*a
      |withheld|undisclosed|not\s+disclosed|under\s+(?:offer|contract)|offer\s+accepted
      |deposit\s+(?:taken|received)|sold|leased|let\s+agreed|rented|negotiat(?:ion|e|ed|able)|tenders?
      |deadline|end\s+date|set\s+date|offers?|for\s+(?:sale|lease|rent)|private\s+sale|just\s+listed
      |new\s+(?:listing|to\s+market|on\s+market|release)|coming\s+soon|tba|tbc|to\s+be\s+advised
      |price\s+guide|register|registrations?|inspect(?:ion)?s?|open\s+(?:home|house))\b
    """,
    re.VERBOSE,
)
_PUNCTUATION_ONLY_RE: Final = re.compile(r"[^\w$]*")


@dataclass(slots=True)
class _Token:
    start: int
    end: int  # after the number and its multiplier
    after: int  # after the rent period too, if any
    value: Decimal | None  # None: a run of digits that is not a well-formed number
    cur: bool  # written with a `$`
    mult: Decimal | None
    grouped: bool  # thousands separators: `580,000`
    integral: bool
    period: str  # "" or one of _PERIOD_DIVISORS, written after the amount
    head_period: str  # written before it ("weekly rent $450"); believed on rent listings only
    excluded: bool
    year: bool  # excluded only because it reads as a year


def _normalise(text: str) -> str:
    return _SPACES_RE.sub(" ", text.lower().translate(_TRANSLATE)).strip()


def _read_number(num: str, has_mult: bool) -> tuple[Decimal | None, bool]:
    """The value of a run of digits and separators, or None when it is not one well-formed number."""
    if len(num) > _MAX_NUMBER_CHARS:
        return None, False
    if _COMMA_NUM_RE.fullmatch(num):
        return Decimal(num.replace(",", "")), True
    m = _PLAIN_NUM_RE.fullmatch(num)
    if m is None:
        return None, False
    frac = m.group("frac")
    # `$1.250` is a European thousand or a typo; cents have at most two digits.
    if frac is not None and len(frac) > 2 and not has_mult:
        return None, False
    return Decimal(num), False


def _tokenise(s: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    prev_after = 0
    while (m := _TOKEN_RE.search(s, pos)) is not None:
        cur = m.group("cur") is not None
        num = m.group("num")
        mult_text = m.group("mult")
        end = m.end()
        sp = m.group("sp")
        if sp is not None:
            # `580 000` only after a `$`, and at most two groups: `$600 000 700 000` is two numbers.
            if cur and sp.count(" ") <= 2:
                # Read as if written with commas; a run that already has separators is malformed.
                num = num + sp.replace(" ", ",") if num.isdigit() else num + "?"
            else:
                end = m.end("num")
                mult_text = None
        mult = _MULTIPLIERS[mult_text.strip()] if mult_text else None
        value, grouped = _read_number(num, mult is not None)
        start = m.start()
        head = s[max(prev_after, start - _HEAD_WINDOW) : start]
        bare = not cur and mult is None

        period = ""
        after = end
        if (pm := _PERIOD_RE.match(s, end)) is not None:
            period = pm.lastgroup or ""
            after = pm.end()
        excluded = bool(
            _TAIL_NOT_PRICE_RE.match(s, end)
            # May reach back past a number: "bond (4 weeks) $1980".
            or _HEAD_NOT_PRICE_RE.search(s, max(0, start - _HEAD_WINDOW), start)
            or (bare and _HEAD_NOT_PRICE_BARE_RE.search(head))
            # "450 pw st kilda" is a rent; "450 smith st" is an address.
            or (bare and not period and _TAIL_NOT_PRICE_BARE_RE.match(s, end))
            or (mult is not None and not cur and _TAIL_DISTANCE_RE.match(s, end))
        )
        head_period = ""
        if excluded:
            period = ""
            after = end
        elif not period and (hm := _HEAD_PERIOD_RE.search(head)) is not None:
            head_period = hm.lastgroup or ""
        integral = value is not None and value == value.to_integral_value()
        year = (
            not excluded
            and bare
            and not grouped
            and not period
            and not head_period
            and value is not None
            and integral
            and "." not in num
            and 1900 <= value <= 2099
        )
        tokens.append(
            _Token(
                start,
                end,
                after,
                value,
                cur,
                mult,
                grouped,
                integral,
                period,
                head_period,
                excluded or year,
                year,
            )
        )
        pos = end
        prev_after = after
    return tokens


def _period(t: _Token, kind: _Kind) -> str:
    return t.period or (t.head_period if kind == "rent" else "")


def _is_money(t: _Token, kind: _Kind) -> bool:
    if t.excluded or t.value is None:
        return False
    if kind == "sale":
        return not t.period and (t.cur or t.mult is not None or t.grouped)
    return True


def _round(d: Decimal) -> int:
    return int(d.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _in_bounds(v: int, kind: _Kind) -> bool:
    lo, hi = _BOUNDS[kind]
    return lo <= v <= hi


def _weekly(v: Decimal, period: str, kind: _Kind) -> int:
    if kind == "rent" and period:
        v = v / _PERIOD_DIVISORS[period]
    return _round(v)


def _rank(kind: _Kind, period: str, marked: bool) -> int:
    if kind == "rent" and period:
        return _PERIOD_RANKS[period]
    return 1 if marked else 2


_Figure = tuple[int, int | None, int | None]  # (rank, low, high)
_DROPPED: Final = (-1, None, None)


def _scaled_partner(bare: _Token, other: Decimal, mult: Decimal | None, bare_is_low: bool) -> Decimal | None:
    """The side of a range written without a unit, read in the unit of the other side, or None.

    `$850-900k` and `$1.2-1.4m`; `$900-1.2m` is 900k, not 900m. With no unit on either side, thousands
    left off one side (`$850-$900,000`, `$850,000-900`) only when that makes an increase of less than double.
    """
    assert bare.value is not None
    candidates: tuple[Decimal, ...]
    if bare.grouped:
        return None
    if mult is not None:
        candidates = (mult, _THOUSAND if mult == _MILLION else _MILLION)
    elif bare.integral and bare.value < 1000:
        candidates = (_THOUSAND,)
    else:
        return None
    for m in candidates:
        v = bare.value * m
        low, high = (v, other) if bare_is_low else (other, v)
        if low <= high and (mult is not None or high <= 2 * low):
            return v
    return None


def _range(s: str, a: _Token, b: _Token, kind: _Kind) -> _Figure | None:
    """Tokens a and b read as a range; None when they are not one, _DROPPED when it is implausible."""
    if a.value is None or b.value is None or (a.excluded and not a.year) or (b.excluded and not b.year):
        return None
    sep = s[a.after : b.start]
    slash = False
    if _SLASH_SEP_RE.fullmatch(sep):
        slash = True
    elif not _RANGE_SEP_RE.fullmatch(sep) and not (
        _AND_SEP_RE.fullmatch(sep) and _HEAD_BETWEEN_RE.search(s[max(0, a.start - _HEAD_WINDOW) : a.start])
    ):
        return None
    money_a, money_b = _is_money(a, kind), _is_money(b, kind)
    if not (money_a or money_b):
        return None
    period_a, period_b = _period(a, kind), _period(b, kind)
    if period_a and period_b and period_a != period_b:
        return None
    period = period_a or period_b
    if kind == "sale" and period:
        return None
    va = a.value * (a.mult or 1)
    vb = b.value * (b.mult or 1)
    if (
        a.mult is None
        and (b.mult is not None or kind == "sale")
        and (scaled := _scaled_partner(a, vb, b.mult, bare_is_low=True))
    ):
        va = scaled
    elif (
        b.mult is None
        and (a.mult is not None or kind == "sale")
        and (scaled := _scaled_partner(b, va, a.mult, bare_is_low=False))
    ):
        vb = scaled
    # A side that is not money by itself (a bare `2` in a sale text) joins only if it now looks like money.
    lo_kind = _BOUNDS[kind][0]
    if (not money_a and va < lo_kind) or (not money_b and vb < lo_kind):
        return None
    if va > vb:
        va, vb = vb, va
    if (slash or a.year or b.year) and vb > 2 * va:
        return None  # `$550/$2390`: two ways of saying one price; `built 2020 - $450 pw`
    marked_a = a.cur or a.mult is not None or a.grouped
    marked_b = b.cur or b.mult is not None or b.grouped
    low, high = _weekly(va, period, kind), _weekly(vb, period, kind)
    if not (_in_bounds(low, kind) and _in_bounds(high, kind)):
        # `$850,000 - $9` is a broken range; in `$450 pw - 5 star` the 5 was never part of one.
        both_amounts = (marked_a or bool(period_a)) and (marked_b or bool(period_b))
        return _DROPPED if both_amounts else None
    return (_rank(kind, period, marked_a or marked_b), low, high)


def _single(s: str, t: _Token, head_from: int, kind: _Kind) -> _Figure | None:
    assert t.value is not None
    period = _period(t, kind)
    v = _weekly(t.value * (t.mult or 1), period, kind)
    if not _in_bounds(v, kind):
        return None
    rank = _rank(kind, period, t.cur or t.mult is not None or t.grouped)
    head = s[max(head_from, t.start - _HEAD_WINDOW) : t.start]
    if _HEAD_LOW_RE.search(head) or _TAIL_LOW_RE.match(s, t.after):
        return (rank, v, None)
    if _HEAD_HIGH_RE.search(head) or _TAIL_HIGH_RE.match(s, t.after):
        return (rank, None, v)
    return (rank, v, v)


def _parse(text: str | None, kind: _Kind) -> Price | None:
    if not text:
        return None
    s = _normalise(text)
    whole = _WHOLE_NUMBER_RE.fullmatch(s)
    if whole is not None:
        v = _round(
            Decimal(whole.group("num").replace(",", "").replace(" ", "") + "." + (whole["cents"] or "0"))
        )
        return Price(v, v) if _in_bounds(v, kind) else None
    s = _NOISE_RE.sub(_BREAKER, s)
    tokens = _tokenise(s)
    best: _Figure | None = None
    i = 0
    prev_after = 0
    while i < len(tokens):
        t = tokens[i]
        figure: _Figure | None = None
        if i + 1 < len(tokens) and (figure := _range(s, t, tokens[i + 1], kind)) is not None:
            prev_after = tokens[i + 1].after
            i += 2
        else:
            if _is_money(t, kind):
                figure = _single(s, t, prev_after, kind)
            prev_after = t.after
            i += 1
        if figure is not None and figure is not _DROPPED and (best is None or figure[0] < best[0]):
            best = figure
            if figure[0] == 0:
                break
    if best is None:
        return None
    return Price(best[1], best[2])


def parse_sale_price(text: str | None) -> Price | None:
    """The price of a sale (or sold) listing in dollars, or None when the text holds none."""
    return _parse(text, "sale")


def parse_rent_price(text: str | None) -> Price | None:
    """The rent of a rent listing in dollars per week, or None when the text holds none."""
    return _parse(text, "rent")


def is_no_price_phrase(text: str | None) -> bool:
    """True when the text carries no price on purpose ("Contact Agent", "Auction Sat 1 Feb 3pm").

    Every number in it must be something else (a phone number, a date, a time, a year, an area, a
    count); a bare number nothing accounts for ("only 12 left") is allowed only next to a known
    phrase. A text with an amount in it, even an implausible one (`$5`), is never a no-price phrase.
    """
    if text is None:
        return True
    s = _normalise(text)
    if _PUNCTUATION_ONLY_RE.fullmatch(s):
        return True
    if parse_sale_price(text) is not None or parse_rent_price(text) is not None:
        return False
    # Any `$`, even one that is not the price ("$200 per night", "bond $2000"), needs a look.
    if "$" in s:
        return False
    s = _NOISE_RE.sub(_BREAKER, s)
    live = [t for t in _tokenise(s) if not t.excluded]
    if any(t.cur or t.mult is not None or t.grouped for t in live):
        return False
    return not live or bool(_NO_PRICE_RE.search(s))


def normalise_price(listing_type: str, text: str | None) -> Price | None:
    """The price a listing's text gives: rent in dollars a week, sale and sold in dollars."""
    parse = parse_rent_price if listing_type == "rent" else parse_sale_price
    return parse(text)


def exact_sold_price(price: Price | None) -> int | None:
    """A sold listing's price: only one exact figure is a price it sold for, never a range."""
    if price is None or price.low is None or price.low != price.high:
        return None
    return price.low
