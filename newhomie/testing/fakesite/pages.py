"""What every page of the local site is made of: the HTML around its `__NEXT_DATA__`, listing cards,
and the small pages (404, challenge, block, rate limit, truncated)."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from newhomie.testing.fakesite.model import IMAGE_HOST, SEARCH_BUILD_ID, Agency, Listing, Project


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    page_kind: str
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    listing_kind: str | None = None
    slug: str | None = None
    page: int | None = None
    listing_ids: tuple[int, ...] = ()
    organic_ids: tuple[int, ...] = ()
    project_ids: tuple[int, ...] = ()
    upv_ids: tuple[int, ...] = ()
    #: The `__NEXT_DATA__` JSON's position in `body` (start, end), for the truncation fault.
    json_span: tuple[int, int] | None = None


def image_name(listing_id: int, number: int, stamp: str, size: tuple[int, int]) -> str:
    return f"{listing_id}_{number}_1_{stamp}-w{size[0]}-h{size[1]}"


def image_url(geometry: str, name: str) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha1(f"{geometry}/{name}".encode()).digest()).decode()
    return f"{IMAGE_HOST}/{digest}/{geometry}/{name}"


def _fit(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    scale = min(box[0] / size[0], box[1] / size[1], 1.0)
    return round(size[0] * scale), round(size[1] * scale)


def _images(listing_id: int, count: int, stamp: str, size: tuple[int, int]) -> tuple[list[str], list[Any]]:
    images, skeleton = [], []
    for number in range(1, count + 1):
        name = image_name(listing_id, number, stamp, size)
        images.append(image_url("660x440/filters:format(jpeg):quality(80)", name))
        views = {}
        for view, box in (("original", (1920, 1080)), ("tablet", (1020, 1020)), ("mobile", (600, 800))):
            width, height = _fit(size, box)
            geometry = f"fit-in/{box[0]}x{box[1]}/filters:format(jpeg):quality(80):no_upscale()"
            views[view] = {"url": image_url(geometry, name), "width": width, "height": height}
        skeleton.append({"images": views, "mediaType": "image"})
    return images, skeleton


def _agency_logo(agency: Agency, geometry: str) -> str:
    source = f"https://images.domain.com.au/img/Agencys/{agency.agency_id}/logo_{agency.agency_id}.{agency.logo_ext}"
    return image_url(f"{geometry}/filters:format(jpeg):quality(80)", f"{source}?buster=2026-03-01")


def _branding(agency: Agency, agent_indexes: Sequence[int], stamp: str) -> dict[str, Any]:
    agents: list[dict[str, Any]] = []
    for index in agent_indexes:
        photo_id = agency.photos[index]
        photo = (
            None
            if photo_id is None
            else image_url(
                "90x90/filters:format(jpeg):quality(80)",
                f"https://images.domain.com.au/img/{agency.agency_id}/contact_{photo_id}.jpeg?mod={stamp}",
            )
        )
        agents.append({"agentName": agency.agents[index], "agentPhoto": photo})
    return {
        "agencyId": agency.agency_id,
        "agents": agents,
        "agentNames": ", ".join(a["agentName"] for a in agents),
        "brandLogo": _agency_logo(agency, "170x60"),
        "skeletonBrandLogo": _agency_logo(agency, "200x70"),
        "brandName": agency.name,
        "brandColor": agency.color,
        "agentPhoto": agents[0]["agentPhoto"],
        "agentName": agents[0]["agentName"],
    }


def listing_entry(listing: Listing, topspot: bool, *, upv: bool = False) -> dict[str, Any]:
    stamp = listing.updated.strftime("%y%m%d_%H%M%S")
    images, skeleton = _images(
        listing.listing_id,
        1 if upv else listing.image_count,
        stamp,
        listing.image_size,
    )
    features: dict[str, Any] = {}
    if listing.beds is not None:
        features["beds"] = listing.beds
    features["baths"] = listing.baths
    if not listing.parking_absent:
        features["parking"] = listing.parking
    features |= {
        "propertyType": listing.ptype.code,
        "propertyTypeFormatted": listing.ptype.formatted,
        "isRural": listing.is_rural,
        "landSize": listing.land_size,
        "landUnit": listing.land_unit,
        "isRetirement": listing.is_retirement,
    }
    model: dict[str, Any] = {
        "promoType": "standard" if upv else listing.promo_type,
        "url": listing.url,
        "images": images,
        "skeletonImages": skeleton,
        "brandingAppearance": listing.appearance,
        "price": listing.price_text,
        "hasVideo": listing.has_video,
        "branding": _branding(listing.agency, listing.agent_indexes, stamp[:6] + "-" + stamp[7:]),
        "address": {
            "street": listing.street,
            "suburb": listing.suburb,
            "state": listing.state,
            "postcode": listing.postcode,
            "lat": listing.lat,
            "lng": listing.lng,
        },
        "features": features,
        "inspection": {"openTime": listing.open_time, "closeTime": listing.close_time},
        "auction": listing.auction,
        "tags": (
            {"tagText": "Sold", "tagClassName": "is-sold"}
            if upv
            else {"tagText": listing.tag_text, "tagClassName": listing.tag_class}
        ),
        "displaySearchPriceRange": None,
        "enableSingleLineAddress": False,
    }
    if topspot:
        model["topspotUrl"] = f"{listing.url}?topspot=1"
    return {"id": listing.listing_id, "listingType": "listing", "listingModel": model}


def project_entry(project: Project) -> dict[str, Any]:
    stamp = "260201_090000"
    images, skeleton = _images(project.project_id, 3, stamp, (1920, 1080))
    return {
        "id": project.project_id,
        "listingType": "project",
        "listingModel": {
            "promoType": "standardpp",
            "url": project.url,
            "projectName": project.name,
            "displayAddress": project.display_address,
            "images": images,
            "skeletonImages": skeleton,
            "brandingAppearance": "light",
            "branding": _branding(project.agency, (0,), "260201-090000"),
            "childListingIds": list(project.child_listing_ids),
            "address": {
                "street": project.street,
                "suburb": project.suburb,
                "state": project.state,
                "postcode": project.postcode,
                "lat": project.lat,
                "lng": project.lng,
            },
        },
    }


_HTML_JSON_ESCAPES: Final = (
    ("&", "\\u0026"),
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def plural(word: str, count: int) -> str:
    return word if count == 1 else word + "s"


def _json_for_html(document: Any) -> str:
    """JSON as Next.js embeds it: `<`, `>`, `&` and line separators escaped."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in _HTML_JSON_ESCAPES:
        text = text.replace(raw, escaped)
    return text


def html_page(
    status: int,
    page_kind: str,
    title: str,
    description: str,
    canonical: str | None,
    body: str,
    next_data: dict[str, Any],
    **meta: Any,
) -> Response:
    head = (
        '<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>'
        f"<title>{html.escape(title)}</title>"
        f'<meta name="description" content="{html.escape(description)}"/>'
        + (f'<link rel="canonical" href="{html.escape(canonical)}"/>' if canonical else "")
        + '<meta name="next-head-count" content="5"/>'
        '<link rel="preload" href="/_next/static/css/app.css" as="style"/></head><body>'
        f'<div id="__next">{body}</div><script id="__NEXT_DATA__" type="application/json">'
    )
    data = _json_for_html(next_data)
    tail = '</script><script src="/_next/static/chunks/main.js" defer=""></script></body></html>'
    start = len(head.encode())
    encoded = (head + data + tail).encode()
    return Response(status, encoded, page_kind, json_span=(start, start + len(data.encode())), **meta)


def not_found_page() -> Response:
    next_data = {
        "props": {"pageProps": {}},
        "page": "/404",
        "query": {},
        "buildId": SEARCH_BUILD_ID,
        "nextExport": True,
        "autoExport": True,
        "isFallback": False,
        "scriptLoader": [],
    }
    body = (
        '<div style="font-family:system-ui;height:100vh;text-align:center;display:flex;flex-direction:column;'
        'align-items:center;justify-content:center"><h1 class="next-error-h1">404</h1>'
        "<h2>This page could not be found.</h2></div>"
    )
    return html_page(404, "not-found", "404: This page could not be found", "", None, body, next_data)


def small_page(status: int, page_kind: str, title: str, text: str) -> Response:
    body = f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{text}</h1></body></html>"
    return Response(status, body.encode(), page_kind)


def rate_limited(retry_after: float) -> Response:
    body = "<html><head><title>Too Many Requests</title></head><body>Too Many Requests</body></html>"
    headers = (("Retry-After", f"{retry_after:g}"), ("Cache-Control", "no-store"))
    return Response(429, body.encode(), "rate-limit", headers=headers)


def redirect_page(location: str) -> Response:
    body = f'<html><body>Moved: <a href="{html.escape(location)}">{html.escape(location)}</a></body></html>'
    return Response(301, body.encode(), "redirect", headers=(("Location", location),))


CHALLENGE_PAGE: Final = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Just a moment...</title></head><body>'
    "<noscript>Please enable JavaScript to view this page.</noscript>"
    '<script>(function(){{document.cookie = "{cookie}";location.reload();}})();</script>'
    "</body></html>"
)


def block_page() -> Response:
    reference = "18." + secrets.token_hex(4) + "." + str(int(time.time())) + "." + secrets.token_hex(4)
    body = (
        "<HTML><HEAD>\n<TITLE>Access Denied</TITLE>\n</HEAD><BODY>\n<H1>Access Denied</H1>\n"
        "You don't have permission to access this page on this server.<P>\n"
        f"Reference&#32;&#35;{reference}\n</BODY>\n</HTML>\n"
    )
    return Response(403, body.encode(), "block", headers=(("Cache-Control", "no-store"),))


def truncated_page(response: Response) -> Response:
    assert response.json_span is not None
    start, end = response.json_span
    cut = start + (end - start) // 2
    body = response.body[:cut] + response.body[end:]
    return Response(
        response.status,
        body,
        response.page_kind,
        headers=response.headers,
        listing_kind=response.listing_kind,
        slug=response.slug,
        page=response.page,
    )
