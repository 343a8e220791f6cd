"""Text for the page: escaped, and durations, times and counts in words. Pure."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any


def esc(value: Any) -> str:
    """Text from anywhere, safe in HTML and inline SVG, text and attribute alike."""
    return html.escape("" if value is None else str(value), quote=True)


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def format_offset(seconds: float) -> str:
    """A short time since the start, for an axis: `+45 s`, `+12 min`, `+2 h 05`."""
    whole = round(seconds)
    if whole < 60:
        return f"+{whole} s"
    if whole < 3600:
        return f"+{whole // 60} min"
    return f"+{whole // 3600} h {whole % 3600 // 60:02d}"


def format_time(moment: datetime | None) -> str:
    return "—" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"
