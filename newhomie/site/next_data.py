"""Finding a page's `__NEXT_DATA__` JSON and walking it (docs/site.md#the-embedded-json).

A page is the whole HTML or the bare JSON. No DOM is built: the script element is found by text.
A body without the JSON is a block page (docs/site.md#bot-protection), and says what it looked like.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any, Final

from newhomie.site.errors import BlockedPage, PageError, PageNotFound, PageShapeError

#: A real page is 0.3-1 MB; a bot-protection answer is a few KB.
BLOCK_BODY_LIMIT: Final = 10_000
NOT_FOUND_ROUTE: Final = "/404"
ERROR_ROUTE: Final = "/_error"
NEXT_DATA: Final = "__NEXT_DATA__"

_SCRIPT_TAG = re.compile(r"<script\b[^>]*?\bid\s*=\s*([\"']?)__NEXT_DATA__\1(?:[\s/][^>]*)?>", re.IGNORECASE)


_SCRIPT_CLOSE = re.compile(r"</script", re.IGNORECASE)


BARE_JSON = re.compile(r"\ufeff?\s*\{")


_AKAMAI_REFERENCE = re.compile(r"Reference\s*#\s*([0-9a-f]+(?:\.[0-9a-f]+)+)", re.IGNORECASE)


_BLOCK_MARKERS: Final = (
    ("access denied", "Akamai 'Access Denied' page"),
    ("pardon our interruption", "bot challenge 'Pardon Our Interruption'"),
    ("bm-verify", "Akamai bot-manager challenge"),
    ("sec-if-cpt", "Akamai bot-manager challenge"),
    ("_sec/cp_challenge", "Akamai bot-manager challenge"),
    ("errors.edgesuite.net", "Akamai edge error page"),
    ("request unsuccessful", "Incapsula-style block page"),
    ("captcha", "captcha page"),
    ("too many requests", "rate-limit page"),
)


def extract_next_data(text: str, url: str | None = None) -> dict[str, Any]:
    """The `__NEXT_DATA__` JSON of a page: `text` is the whole HTML page or the bare JSON.

    Raises BlockedPage when the body holds no such JSON, PageShapeError when it is not valid JSON.
    """
    if BARE_JSON.match(text):
        return _load_json(text.lstrip("\ufeff"), url)
    body = _next_data_script(text, url)
    if body is None:
        raise BlockedPage(_block_reason(text), url)
    return _load_json(body, url)


def is_blocked_body(text: str) -> bool:
    """True when a response body is not a page of the site (a bot-protection answer, an empty body).

    Every real page carries `__NEXT_DATA__`; block pages (Akamai "Access Denied" with a
    "Reference #", challenge pages, rate-limit pages) never do.
    """
    return NEXT_DATA not in text and not BARE_JSON.match(text)


def _next_data_script(text: str, url: str | None) -> str | None:
    """The text inside `<script id="__NEXT_DATA__" ...>`, found without building a DOM."""
    pos = text.find(NEXT_DATA)
    while pos != -1:
        tag_start = text.rfind("<", 0, pos)
        tag_end = text.find(">", pos)
        if tag_start != -1 and tag_end != -1 and _SCRIPT_TAG.fullmatch(text, tag_start, tag_end + 1):
            close = text.find("</script", tag_end)
            if close == -1:
                match = _SCRIPT_CLOSE.search(text, tag_end)
                if match is None:
                    raise PageShapeError(NEXT_DATA, "the script element is not closed (truncated page?)", url)
                close = match.start()
            return text[tag_end + 1 : close]
        pos = text.find(NEXT_DATA, pos + len(NEXT_DATA))
    return None


def _load_json(text: str, url: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PageShapeError(NEXT_DATA, f"not valid JSON ({exc})", url) from None
    except RecursionError:
        raise PageShapeError(NEXT_DATA, "nested deeper than any page of the site (not read)", url) from None
    if not isinstance(data, dict):
        raise PageShapeError(NEXT_DATA, f"expected an object, found {type(data).__name__}", url)
    return data


def _block_reason(text: str) -> str:
    size = len(text)
    if not text.strip():
        return "empty body instead of a page (blocked?)"
    # Akamai writes its page with character references: "Reference&#32;&#35;18&#46;6f2d...".
    head = html.unescape(text[: BLOCK_BODY_LIMIT * 10])
    lowered = head.lower()
    for marker, what in _BLOCK_MARKERS:
        if marker in lowered:
            reference = _AKAMAI_REFERENCE.search(head)
            suffix = f", Reference #{reference.group(1)}" if reference else ""
            return f"blocked: {what}{suffix} ({size} characters, no {NEXT_DATA})"
    if size < BLOCK_BODY_LIMIT:
        return f"blocked: a body of {size} characters with no {NEXT_DATA}"
    return f"blocked or not a page of the site: {size} characters with no {NEXT_DATA}"


def raise_for_route(data: dict[str, Any], url: str | None, slug: str | None) -> None:
    route = data.get("page")
    if route == NOT_FOUND_ROUTE:
        raise PageNotFound(f"the site has no page for locality {slug or '(unknown)'} (route /404)", url)
    if route == ERROR_ROUTE:
        raise PageError("the site answered with its error page (route /_error)", url)


def query_of(data: dict[str, Any]) -> dict[str, Any]:
    query = data.get("query")
    return query if isinstance(query, dict) else {}


def at_path(
    node: Any, path: str, url: str | None, kind: type | tuple[type, ...] = dict, *, root: str = ""
) -> Any:
    """The value at a dotted JSON path; PageShapeError naming the full path when absent or mistyped.

    `root` is the path of `node` itself, so errors name the path from the top of the JSON.
    """
    walked = [root] if root else []
    for part in path.split("."):
        walked.append(part)
        if not isinstance(node, dict) or part not in node:
            raise PageShapeError(".".join(walked), "missing", url)
        node = node[part]
    if not isinstance(node, kind) or (isinstance(node, bool) and kind is not bool):
        raise PageShapeError(
            ".".join(walked), f"expected {_kind_name(kind)}, found {type(node).__name__}", url
        )
    return node


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)
