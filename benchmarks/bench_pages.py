"""How fast `newhomie.site` reads real pages.

Parses the real captured pages (tests/fixtures/full),
each wrapped in an HTML page shaped like the site's (head, styles, rendered cards, scripts, then the
`__NEXT_DATA__` script), over and over for a few seconds per page kind, and prints pages per second:

    python benchmarks/bench_pages.py [--seconds 2]

The last line is the summary, `N pages/s` over all kinds.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as `python benchmarks/bench_pages.py` from a checkout, with or without the package installed.
sys.path.insert(0, str(ROOT))

from newhomie.site import extract_next_data, parse_search_page, parse_suburb_profile  # noqa: E402

SAMPLES = ROOT / "tests" / "fixtures" / "full"

PAGES: list[tuple[str, str, str, Callable[[str, str], Any]]] = [
    (
        "sale page",
        "sale.dandenong-vic-3175.page1.2025-02.json",
        "https://www.domain.com.au/sale/dandenong-vic-3175/?ssubs=0&page=1",
        parse_search_page,
    ),
    (
        "rent page",
        "rent.dandenong-vic-3175.page1.2025-02.json",
        "https://www.domain.com.au/rent/dandenong-vic-3175/?ssubs=0&page=1",
        parse_search_page,
    ),
    (
        "suburb profile",
        "suburb-profile.dandenong-vic-3175.2025-02.json",
        "https://www.domain.com.au/suburb-profile/dandenong-vic-3175",
        parse_suburb_profile,
    ),
]


def html_page(next_data: str) -> str:
    """A page of the site's shape around its JSON (the site's pages are 0.3-1 MB)."""
    head = (
        '<!DOCTYPE html><html lang="en-AU"><head><meta charSet="utf-8"/>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>'
        "<title>474 Real Estate Properties for Sale in Dandenong, VIC, 3175 | Domain</title>"
        + '<link rel="preload" href="/_next/static/chunks/chunk-{0}.js" as="script"/>' * 40
        + "<style data-emotion>"
        + ".css-1qp9106{display:flex;flex-direction:column;margin:0 0 16px;padding:0}" * 600
        + "</style>"
        + '<script src="/_next/static/chunks/webpack.js" defer=""></script>'
        + "<script>window.dataLayer=window.dataLayer||[];window.__NEXT_DATA__loaded=false;</script></head>"
    )
    card = (
        '<li class="css-1qp9106" data-testid="listing-card-wrapper-premiumplus">'
        '<div class="css-qrqvvg"><a href="/16-rodwell-street-dandenong-vic-3175-2019717175" '
        'class="address is-two-lines css-1y2bib4"><h2 class="css-bqbbuf">16 Rodwell Street, '
        '<span>DANDENONG VIC 3175</span></h2></a><p data-testid="listing-card-price" '
        'class="css-mgq8yx">AUCTION THIS SATURDAY @3:00PM ONSITE !!</p>'
        '<div data-testid="property-features" class="css-1t41ar7"><span>4 Beds</span>'
        "<span>2 Baths</span><span>4 Parking</span></div></div></li>"
    )
    body = '<body><div id="__next"><main><ul data-testid="results" class="css-8tedhq">' + card * 300
    tail = "</ul></main></div>"
    script = f'<script id="__NEXT_DATA__" type="application/json">{next_data}</script>'
    scripts = '<script src="/_next/static/chunks/main.js" defer=""></script>' * 12 + "</body></html>"
    return head + body + tail + script + scripts


def rate(function: Callable[[], Any], seconds: float) -> tuple[int, float]:
    """Runs `function` for about `seconds`; returns (calls, elapsed)."""
    calls = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        function()
        calls += 1
        now = time.perf_counter()
        if now >= deadline:
            return calls, now - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time spent on each page kind")
    args = parser.parse_args()
    folder = SAMPLES
    print(f"samples: {folder}")
    total_calls = 0
    total_time = 0.0
    for label, name, url, parse in PAGES:
        page = html_page((folder / name).read_text(encoding="utf-8"))
        parse(page, url)  # warm up and fail early
        calls, elapsed = rate(partial(parse, page, url), args.seconds)
        json_calls, json_elapsed = rate(partial(extract_next_data, page), args.seconds / 4)
        total_calls += calls
        total_time += elapsed
        print(
            f"{label}: {calls / elapsed:.0f} pages/s ({1000 * elapsed / calls:.2f} ms per page of "
            f"{len(page) / 1024:.0f} KB; finding and decoding the JSON alone: "
            f"{1000 * json_elapsed / json_calls:.2f} ms)"
        )
    print(f"{total_calls / total_time:.0f} pages/s")


if __name__ == "__main__":
    main()
