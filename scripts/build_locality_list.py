"""Derive the bundled locality list (newhomie/localities/localities.csv) from the public postcode lists.

    .venv/bin/python scripts/build_locality_list.py [--postcodes P.csv] [--older O.csv] [--previous L.csv]
                                                    [--output newhomie/localities/localities.csv]

Inputs (kept in data/localities/, see its README):
  * `au-postcodes-2025-09.csv` (Suburb,State,Zip,Type,Lat,Long): the fuller list. Every row of Type
    `Delivery Area` is taken, with its coordinates (0 means unknown: left empty). Rows of Type
    `Post Office Boxes` or `LVR` (large volume receivers) are PO boxes and big mail rooms: nobody lives
    there, the site has no suburb page for them, so they are not taken from this list.
  * `au-localities-2021-04.csv` (Suburb,State,Zip): the older list. What it has that the fuller list
    does not take is considered one locality at a time by `judge_older_only`, which keeps a place
    people live and says why in the `basis` column:
      - a mail-only name or postcode block ("Perth GPO", "Albany DC", NSW 1xxx, VIC 8xxx): left out;
      - a name the fuller list types as PO boxes or LVR only, whose place is listed under another,
        delivery, postcode (Sydney NSW 2001 is Sydney's box postcode; Sydney 2000 is taken): left out;
      - a name the fuller list has with no type (Bilgola Plateau NSW 2107, Capital Hill ACT 2600):
        kept: Australia Post's type is missing, not the place;
      - a name the fuller list lacks altogether (O'Connor ACT 2602, Whitlam ACT 2611, North Kellyville
        NSW 2155): kept: suburbs and new estates the fuller list has not caught up with;
      - a PO-box/LVR name with no delivery postcode of its own (a campus, a base): kept; a crawl finds
        out whether the site knows it and remembers a not_found (docs/site.md).

Names take the display form `Locality.parse` gives ("D'AGUILAR" -> "D'Aguilar"), 3-digit postcodes get
their leading zero back, and a row is kept only if its text reads back through `Locality.parse` to
the same locality (names the spider cannot accept, "Home Island Cocos (Keeling) Islands", are left
out, counted and shown). Rows are deduplicated by slug, the site's identity of a locality.

Shards hang on the slug alone (newhomie.localities.selection.shard_of), and a slug is made from the
name, state and postcode by `slugify`, so a locality in both the old list and the new one keeps its
shard. With `--previous` (default: the list being replaced) the build reports the localities that
left the list and those that came into it.

Output: name,state,postcode,slug,latitude,longitude,basis sorted by (state, postcode, slug), LF, UTF-8.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from anywhere: the package is not installed

from newhomie.localities import Locality, LocalityError  # noqa: E402

DATA = REPO / "data" / "localities"
DEFAULT_POSTCODES = DATA / "au-postcodes-2025-09.csv"
DEFAULT_OLDER = DATA / "au-localities-2021-04.csv"
DEFAULT_OUTPUT = REPO / "newhomie" / "localities" / "localities.csv"
OUTPUT_COLUMNS = ("name", "state", "postcode", "slug", "latitude", "longitude", "basis")
EXAMPLES_SHOWN = 8
DELIVERY = "Delivery Area"
MAIL_ONLY_TYPES = {"Post Office Boxes", "LVR"}

# Australia Post's names for places that receive mail but where nobody lives.
_MAIL_ONLY_NAME = re.compile(r"\b(PO|GPO|LPO|DC|BC|MC|DELIVERY CENTRE|MAIL CENTRE)$", re.IGNORECASE)
# Postcode blocks reserved for PO boxes and large-volume receivers.
_MAIL_ONLY_POSTCODES = {
    "NSW": (1000, 1999),
    "VIC": (8000, 8999),
    "QLD": (9000, 9999),
    "SA": (5800, 5999),
    "WA": (6800, 6999),
    "TAS": (7800, 7999),
}


@dataclass(frozen=True)
class Row:
    locality: Locality
    kind: str  # the fuller list's Type ("" when untyped); "older" for the older list
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class BuildReport:
    read: Counter[str] = field(default_factory=Counter)
    invalid: list[str] = field(default_factory=list)
    delivery: int = 0
    #: The older list's extras, by decision ("kept: ..." / "left out: ...").
    older: Counter[str] = field(default_factory=Counter)
    older_examples: dict[str, list[str]] = field(default_factory=dict)
    written: int = 0
    without_coordinates: int = 0
    per_state: Counter[str] = field(default_factory=Counter)
    left_the_list: list[str] = field(default_factory=list)
    new_to_the_list: int = 0


def locality_from_row(suburb: str, state: str, postcode: str) -> Locality:
    """The row as the spider would read it; LocalityError if it cannot be written in that form."""
    postcode = postcode.strip()
    if len(postcode) == 3 and postcode.isdigit():
        postcode = "0" + postcode
    text = f"{suburb.strip()} {state.strip()} {postcode}"
    locality = Locality.parse(text)
    if Locality.parse(str(locality)) != locality:
        raise LocalityError(f"{text!r} does not read back as itself (read as {locality})")
    return locality


def looks_mail_only(locality: Locality) -> bool:
    block = _MAIL_ONLY_POSTCODES.get(locality.state)
    in_block = block is not None and block[0] <= int(locality.postcode) <= block[1]
    return in_block or bool(_MAIL_ONLY_NAME.search(locality.name))


def coordinate(text: str | None) -> float | None:
    """A latitude or longitude; the list writes 0 (or nothing) where it does not know."""
    try:
        value = float(text or 0)
    except ValueError:
        return None
    return value or None


def read_rows(path: Path, columns: tuple[str, ...], kind: str | None, report: BuildReport) -> Iterator[Row]:
    with path.open(newline="", encoding="utf-8-sig") as source:
        reader = csv.DictReader(source)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise SystemExit(f"{path}: no column(s) {', '.join(missing)}; found {reader.fieldnames}")
        for line_number, row in enumerate(reader, start=2):
            report.read[path.name] += 1
            try:
                locality = locality_from_row(row["Suburb"] or "", row["State"] or "", row["Zip"] or "")
            except LocalityError as exc:
                if kind is not None or (row.get("Type") or "") == DELIVERY:
                    report.invalid.append(f"{path.name} line {line_number}: {exc}")
                continue
            yield Row(
                locality,
                kind if kind is not None else (row.get("Type") or "").strip(),
                coordinate(row.get("Lat")),
                coordinate(row.get("Long")),
            )


def judge_older_only(locality: Locality, types: set[str], delivery_names: set[tuple[str, str]]) -> str:
    """What to do with a locality of the older list that the fuller list does not take: a basis
    starting "kept" or "left out", and why (see the module's docstring)."""
    if looks_mail_only(locality):
        return "left out: a PO-box or delivery-centre name or postcode"
    if types and types <= MAIL_ONLY_TYPES:
        if (locality.name.lower(), locality.state) in delivery_names:
            return "left out: the PO-box or LVR postcode of a place listed under its delivery postcode"
        return "kept: a PO-box or LVR name with no delivery postcode of its own"
    if "" in types:
        return "kept: named in the 2025 list without an Australia Post type"
    return "kept: a place the 2025 list lacks"


def build(postcodes: Path, older: Path, output: Path, previous: Path | None) -> BuildReport:
    report = BuildReport()
    chosen: dict[str, tuple[Row, str]] = {}
    types: dict[str, set[str]] = {}
    coordinates: dict[str, tuple[float | None, float | None]] = {}
    for row in read_rows(postcodes, ("Suburb", "State", "Zip", "Type", "Lat", "Long"), None, report):
        slug = row.locality.slug
        types.setdefault(slug, set()).add(row.kind)
        coordinates.setdefault(slug, (row.latitude, row.longitude))
        if row.kind == DELIVERY and slug not in chosen:
            chosen[slug] = (row, "delivery area")
    report.delivery = len(chosen)
    judged: set[str] = set()
    delivery_names = {(row.locality.name.lower(), row.locality.state) for row, _ in chosen.values()}

    for row in read_rows(older, ("Suburb", "State", "Zip"), "older", report):
        slug = row.locality.slug
        if slug in chosen or slug in judged:
            continue  # the older list repeats rows
        judged.add(slug)
        basis = judge_older_only(row.locality, types.get(slug, set()), delivery_names)
        report.older[basis] += 1
        report.older_examples.setdefault(basis, []).append(str(row.locality))
        if basis.startswith("kept"):
            latitude, longitude = coordinates.get(slug, (None, None))
            chosen[slug] = (Row(row.locality, "older", latitude, longitude), "older list")

    ordered = sorted(chosen.values(), key=lambda pair: (pair[0].locality.state, pair[0].locality.postcode,
                                                        pair[0].locality.slug))  # fmt: skip
    if previous is not None and previous.exists():
        check_previous(previous, {row.locality.slug: row.locality for row, _ in ordered}, report)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", newline="", encoding="utf-8") as target:
        writer = csv.writer(target, lineterminator="\n")
        writer.writerow(OUTPUT_COLUMNS)
        for row, basis in ordered:
            loc = row.locality
            lat = "" if row.latitude is None else f"{row.latitude:.6f}"
            lng = "" if row.longitude is None else f"{row.longitude:.6f}"
            writer.writerow((loc.name, loc.state, loc.postcode, loc.slug, lat, lng, basis))
            report.without_coordinates += row.latitude is None
    report.written = len(ordered)
    report.per_state.update(row.locality.state for row, _ in ordered)
    return report


def check_previous(previous: Path, now: dict[str, Locality], report: BuildReport) -> None:
    """The list being replaced against the new one: what left it, and how many came into it."""
    with previous.open(newline="", encoding="utf-8") as source:
        before = {
            row["slug"]: f"{row['name']} {row['state']} {row['postcode']}" for row in csv.DictReader(source)
        }
    report.left_the_list = [text for slug, text in before.items() if slug not in now]
    report.new_to_the_list = sum(1 for slug in now if slug not in before)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postcodes", type=Path, default=DEFAULT_POSTCODES, help="default %(default)s")
    parser.add_argument("--older", type=Path, default=DEFAULT_OLDER, help="default %(default)s")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="default %(default)s")
    parser.add_argument(
        "--previous", type=Path, default=None, help="the list being replaced (default: the output file)"
    )
    args = parser.parse_args(argv)
    previous = args.previous if args.previous is not None else args.output
    snapshot = None
    if previous.exists():  # read before the output overwrites it
        snapshot = args.output.with_suffix(".previous.csv")
        snapshot.write_bytes(previous.read_bytes())
    try:
        report = build(args.postcodes, args.older, args.output, snapshot)
    finally:
        if snapshot is not None:
            snapshot.unlink(missing_ok=True)

    for name, count in report.read.items():
        print(f"read       {count:6d} rows of {name}")
    print(f"delivery   {report.delivery:6d} delivery areas taken, with their coordinates")
    print(f"invalid    {len(report.invalid):6d} (not a locality the spider can read; left out)")
    for example in report.invalid[:EXAMPLES_SHOWN]:
        print(f"    {example}")
    print("older list: what it has that the delivery areas lack, one by one:")
    for basis, count in sorted(report.older.items()):
        examples = report.older_examples[basis]
        print(f"  {count:6d} {basis}: {'; '.join(examples[:4])}{' ...' if len(examples) > 4 else ''}")
    print(f"written    {report.written:6d} localities to {args.output}")
    print(f"  of which {report.without_coordinates} without coordinates")
    print("  per state: " + ", ".join(f"{state} {n}" for state, n in sorted(report.per_state.items())))
    if report.left_the_list:
        shown = "; ".join(report.left_the_list[:EXAMPLES_SHOWN])
        print(f"left the list {len(report.left_the_list)}: {shown} ...")
    if report.new_to_the_list:
        print(f"new to the list {report.new_to_the_list} (every other locality keeps its slug, so its shard)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
