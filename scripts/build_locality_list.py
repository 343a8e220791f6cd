"""Derive the bundled locality list (newhomie/localities/localities.csv) from a public postcode list.

    .venv/bin/python scripts/build_locality_list.py [INPUT.csv] [--output newhomie/localities/localities.csv]

The input has the columns Suburb,State,Zip (schappim/australian-postcodes; CRLF, upper case, rows
repeated). What this does with it, and why:
  * names take the display form `Locality.parse` gives ("D'AGUILAR" -> "D'Aguilar"), so a line of
    `python -m newhomie localities list` reads back as the same locality in the spider's `-a localities=`;
  * 3-digit postcodes get their leading zero back (NT 0800, ACT 0200, the APY lands 0872): the list was
    once kept as numbers, and every Australian postcode has 4 digits;
  * a row is kept only if it builds a `Locality` AND its text reads back through `Locality.parse` to the
    same locality: names the spider cannot accept ("No. 4 Branch", "Ernabella (Pukatja)") are left out,
    counted and shown, never silently renamed;
  * rows are deduplicated by slug (the site's identity of a locality; the first spelling wins);
  * a few real towns the 2021-04 list lacks (Broken Hill, Wollongong, Broome...; found by spot checks of
    regional centres, so there may be more) are added from `KNOWN_MISSING`; one that a newer input
    already has is reported, so the supplement can shrink as the input improves;
  * PO-box and delivery-centre localities ("Perth GPO", "Albany DC", NSW 1xxx) are KEPT: guessing which
    names the site knows would drop real places, and a crawl records the ones it does not know as
    not_found and skips them afterwards (see docs/site.md#a-locality-that-does-not-exist). They are
    only counted here, so a reader knows how many there are.
Output: name,state,postcode,slug sorted by (state, postcode, slug), LF line ends, UTF-8.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from anywhere: the package is not installed

from newhomie.localities import Locality, LocalityError  # noqa: E402

DEFAULT_INPUT = REPO / "data" / "localities" / "au-localities-2021-04.csv"
DEFAULT_OUTPUT = REPO / "newhomie" / "localities" / "localities.csv"
INPUT_COLUMNS = ("Suburb", "State", "Zip")
OUTPUT_COLUMNS = ("name", "state", "postcode", "slug")
EXAMPLES_SHOWN = 8

# Real localities that au-localities-2021-04.csv lacks (its neighbours, e.g. "South Broken Hill", are
# there): regional centres with thousands of listings between them. Added after the input, so the
# input's own spelling wins once it has them.
KNOWN_MISSING = (
    "Broken Hill NSW 2880",
    "Wollongong NSW 2500",
    "Bundaberg Central QLD 4670",
    "Mount Gambier SA 5290",
    "Burnie TAS 7320",
    "Bunbury WA 6230",
    "Broome WA 6725",
)

# Australia Post's names for places that receive mail but where nobody lives; counted, not dropped.
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


@dataclass
class BuildReport:
    read: int = 0
    duplicates: int = 0
    invalid: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    already_in_input: list[str] = field(default_factory=list)
    written: int = 0
    looks_mail_only: int = 0
    per_state: Counter[str] = field(default_factory=Counter)


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


def build(input_path: Path, output_path: Path) -> BuildReport:
    report = BuildReport()
    by_slug: dict[str, Locality] = {}
    with input_path.open(newline="", encoding="utf-8-sig") as source:
        reader = csv.DictReader(source)
        missing = [c for c in INPUT_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise SystemExit(f"{input_path}: no column(s) {', '.join(missing)}; found {reader.fieldnames}")
        for line_number, row in enumerate(reader, start=2):
            report.read += 1
            try:
                locality = locality_from_row(row["Suburb"] or "", row["State"] or "", row["Zip"] or "")
            except LocalityError as exc:
                report.invalid.append(f"line {line_number}: {exc}")
                continue
            if locality.slug in by_slug:
                report.duplicates += 1
                continue
            by_slug[locality.slug] = locality
    for text in KNOWN_MISSING:
        locality = Locality.parse(text)
        if locality.slug in by_slug:
            report.already_in_input.append(text)
        else:
            by_slug[locality.slug] = locality
            report.added.append(text)

    localities = sorted(by_slug.values(), key=lambda loc: (loc.state, loc.postcode, loc.slug))
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with output_path.open("w", newline="", encoding="utf-8") as target:
        writer = csv.writer(target, lineterminator="\n")
        writer.writerow(OUTPUT_COLUMNS)
        for locality in localities:
            writer.writerow((locality.name, locality.state, locality.postcode, locality.slug))
    report.written = len(localities)
    report.looks_mail_only = sum(looks_mail_only(loc) for loc in localities)
    report.per_state.update(loc.state for loc in localities)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("input", nargs="?", type=Path, default=DEFAULT_INPUT, help=f"default {DEFAULT_INPUT}")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="default %(default)s")
    args = parser.parse_args(argv)

    report = build(args.input, args.output)
    print(f"read       {report.read:6d} rows from {args.input}")
    print(f"duplicates {report.duplicates:6d} (same slug as an earlier row)")
    print(f"invalid    {len(report.invalid):6d} (not a locality the spider can read; left out)")
    for example in report.invalid[:EXAMPLES_SHOWN]:
        print(f"    {example}")
    if len(report.invalid) > EXAMPLES_SHOWN:
        print(f"    ... and {len(report.invalid) - EXAMPLES_SHOWN} more")
    print(f"added      {len(report.added):6d} known to be missing from the input: {'; '.join(report.added)}")
    if report.already_in_input:
        print(f"    now in the input, drop from KNOWN_MISSING: {'; '.join(report.already_in_input)}")
    print(f"written    {report.written:6d} localities to {args.output}")
    print(f"  of which {report.looks_mail_only} look like PO-box/delivery-centre localities (kept)")
    print("  per state: " + ", ".join(f"{state} {n}" for state, n in sorted(report.per_state.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
