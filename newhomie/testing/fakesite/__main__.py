"""`python -m newhomie.testing.fakesite --port 8000 --localities 5 --seed 1`: the local site as a process."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterable
from types import FrameType

from newhomie.localities import Locality
from newhomie.testing.fakesite.model import KINDS, Kind
from newhomie.testing.fakesite.server import serve
from newhomie.testing.fakesite.site import FakeSite


def _locality_spec(text: str) -> tuple[Locality, dict[Kind, int]]:
    """ "Big Town VIC 3999:3000,0,0" -> the locality and its sale, rent, sold counts."""
    name, _, numbers = text.partition(":")
    values = [int(v) for v in numbers.split(",")] if numbers else [1200, 0, 0]
    if len(values) != 3:
        raise argparse.ArgumentTypeError(f"{text!r}: expected 'Name STATE 1234[:SALE,RENT,SOLD]'")
    return Locality.parse(name), dict(zip(KINDS, values, strict=True))


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m newhomie.testing.fakesite", description="Serve the local copy of domain.com.au."
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--localities", type=int, default=5, help="number of localities (default 5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--listings", metavar="LOW-HIGH", help="draw every kind's listing count from this range instead"
    )
    parser.add_argument(
        "--add-locality",
        action="append",
        default=[],
        type=_locality_spec,
        metavar="'Name STATE 1234[:SALE,RENT,SOLD]'",
        help="add a locality with exactly these counts (repeatable)",
    )
    args = parser.parse_args(None if argv is None else list(argv))
    per_locality = None
    if args.listings:
        low, _, high = args.listings.partition("-")
        per_locality = (int(low), int(high))
    site = FakeSite(localities=args.localities, seed=args.seed, listings_per_locality=per_locality)
    for locality, counts in args.add_locality:
        site.add_locality(locality.name, locality.state, locality.postcode, **counts)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with serve(site, args.host, args.port) as running:
        print(f"fakesite: serving {len(site.localities())} localities at {running.base_url}", flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
