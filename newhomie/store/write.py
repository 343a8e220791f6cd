"""One row for one named statement: what the batch writer writes, spills and rejects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Write:
    """One row for one named statement, with the locality and URL it came from (for logs).

    `key` is the row's identity in its table (a listing id, a slug): a batch writes each statement's
    rows in key order, so that two writers lock shared rows in the same order and cannot deadlock.
    Rows without a key keep the order they came in.
    """

    statement: str
    params: tuple[Any, ...]
    locality: str | None = None
    url: str | None = None
    key: tuple[Any, ...] = ()
