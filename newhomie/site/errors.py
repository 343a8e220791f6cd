"""What can be wrong with a page of the site. Every error names the URL
(docs/site.md#lessons-of-the-earlier-crawler)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError


class PageError(Exception):
    """A page that cannot be read. Its message always names the URL (docs/site.md, lessons)."""

    def __init__(self, detail: str, url: str | None = None) -> None:
        self.detail = detail
        self.url = url
        super().__init__(f"{detail} (url: {url or 'unknown'})")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.detail, self.url))


class PageNotFound(PageError):
    """The site does not know this locality: it answered with its `/404` route."""


class BlockedPage(PageError):
    """Bot protection answered instead of the site: the body has no `__NEXT_DATA__`."""


class PageShapeError(PageError):
    """The page's JSON is there but not in the expected shape; `path` names where it broke."""

    def __init__(self, path: str, problem: str, url: str | None = None) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"unexpected page shape at {path}: {problem}", url)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.problem, self.url))


@dataclass(frozen=True, slots=True)
class EntryError:
    """One malformed entry of a search page; the rest of the page is kept.

    `field` is the item field (or the JSON key) that failed, `raw` the entry as the site sent it,
    `section` the part of the page it came from (`listingsMap` or `UPVSoldListings`).
    """

    listing_id: int | str | None
    field: str
    message: str
    raw: dict[str, Any]
    section: str = "listingsMap"

    def __str__(self) -> str:
        return f"{self.section} entry {self.listing_id}: {self.field}: {self.message}"


def validation_problem(exc: ValidationError) -> tuple[str, str]:
    details = exc.errors(include_url=False)
    first_loc = details[0]["loc"] if details else ()
    name = str(first_loc[0]) if first_loc else "entry"
    parts = []
    for detail in details:
        where = ".".join(str(part) for part in detail["loc"]) or "entry"
        parts.append(f"{where}: {detail['msg']} (got {short(detail.get('input'))})")
    return name, "; ".join(parts)


def short(value: Any, limit: int = 80) -> str:
    """A value's repr, cut: what an error message quotes of what the site sent (it may be megabytes)."""
    if isinstance(value, str | bytes) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value):,} long)"
    try:
        text = repr(value)
    except RecursionError:
        return f"<a {type(value).__name__} nested too deep to show>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
