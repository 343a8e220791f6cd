"""Throughput of price-text normalisation, as the pipeline does it.

    python benchmarks/bench_prices.py [calls]

The texts are those of tests/site/test_prices.py (every text quoted in docs/site.md and the hand-written
cases) plus every price on the saved sample pages, each read as the pipeline reads it: parse with the
parser of its listing type and, when that gives no price, ask whether it is a no-price phrase. The
list is repeated until `calls` texts (default 200,000) have been read.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newhomie.site.prices import Price, is_no_price_phrase, parse_rent_price, parse_sale_price  # noqa: E402

Parser = Callable[[str | None], Price | None]


def _test_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_test_prices", ROOT / "tests" / "test_prices.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _page_texts(path: Path) -> list[str]:
    props = json.loads(path.read_text())["props"]["pageProps"]["componentProps"]
    entries = [e for e in props["listingsMap"].values() if e.get("listingType") == "listing"]
    entries += props.get("UPVSoldListings") or []
    return [e["listingModel"]["price"] for e in entries if e["listingModel"].get("price")]


def texts() -> list[tuple[Parser, str]]:
    tests = _test_module()
    sale = [t for t, _ in tests.DOMAIN_SALE + tests.DOMAIN_SOLD + tests.SALE_CASES] + tests.NO_PRICE_PHRASES
    rent = [t for t, _ in tests.DOMAIN_RENT + tests.RENT_CASES]
    fixtures = ROOT / "tests" / "fixtures"
    sale += _page_texts(fixtures / "sale.dandenong-vic-3175.page1.2025-02.json")
    rent += _page_texts(fixtures / "rent.dandenong-vic-3175.page1.2025-02.json")
    return [(parse_sale_price, t) for t in sale] + [(parse_rent_price, t) for t in rent]


def run(mix: list[tuple[Parser, str]], calls: int) -> tuple[float, dict[str, int]]:
    counts = {"parsed": 0, "no price phrase": 0, "unparsed": 0}
    work = (mix * (calls // len(mix) + 1))[:calls]
    start = time.perf_counter()
    for parse, text in work:
        if parse(text) is not None:
            counts["parsed"] += 1
        elif is_no_price_phrase(text):
            counts["no price phrase"] += 1
        else:
            counts["unparsed"] += 1
    return time.perf_counter() - start, counts


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    mix = texts()
    run(mix, min(calls, 5_000))  # warm up
    elapsed, counts = run(mix, calls)
    print(f"{len(mix)} distinct texts, {calls} calls in {elapsed:.2f} s")
    print(", ".join(f"{name}: {n}" for name, n in counts.items()))
    print(f"{calls / elapsed:.0f} price texts/s")


if __name__ == "__main__":
    main()
