"""Ways for the local site to misbehave, all off by default, and what it served (its request log)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Faults:
    """Ways for the site to misbehave, all off by default; change them while the site runs."""

    #: Paths (`/sale/x/`, or with the query: `/sale/x/?ssubs=0&page=2`) never answered while listed.
    hang_paths: set[str] = field(default_factory=set)
    #: Pages (path with its query, as `FakeSite.search_path` writes it; the order of the query's
    #: parameters does not matter) answered 503 every time while listed.
    fail_paths: set[str] = field(default_factory=set)
    #: Seconds to wait before answering each page.
    slow_seconds: float = 0.0
    #: Every Nth page (passing the cookie gate) is a 503.
    fail_5xx_every: int = 0
    #: Every Nth page that would be a 200 carries a `__NEXT_DATA__` cut in half.
    truncate_json_every: int = 0
    #: Every Nth page (with a valid cookie) gets the 403 block page anyway.
    block_every: int = 0
    #: Every Nth page (with a valid cookie) is a 429 asking to wait `retry_after` seconds.
    rate_limit_every: int = 0
    retry_after: float = 1.0
    #: Each counted fault (block, 5xx, truncate, 429) happens at most this many times; 0: no limit.
    max_each: int = 0

    def reset(self) -> None:
        self.hang_paths.clear()
        self.fail_paths.clear()
        self.slow_seconds = 0.0
        self.fail_5xx_every = self.truncate_json_every = self.block_every = self.rate_limit_every = 0
        self.retry_after = 1.0
        self.max_each = 0


@dataclass(frozen=True, slots=True)
class ServedRequest:
    """One request the site answered (or held, for a hang fault: status 0)."""

    monotonic: float
    time: float
    method: str
    path: str
    query: dict[str, str]
    status: int
    #: Whether the request carried a `_abck` cookie this site issued.
    cookie: bool
    bytes: int
    #: search, profile, not-found, redirect, challenge, block, error, static
    page_kind: str
    listing_kind: str | None = None
    slug: str | None = None
    page: int | None = None
    #: Ids of the listing entries (organic and promoted) of a 200 search page.
    listing_ids: tuple[int, ...] = ()
    organic_ids: tuple[int, ...] = ()
    project_ids: tuple[int, ...] = ()
    #: Ids of the recent sales shown beside the results (`UPVSoldListings`).
    upv_ids: tuple[int, ...] = ()
    #: hang, slow, 5xx, truncated, block, 429
    fault: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ServedLog:
    """A thread-safe, append-only log of `ServedRequest`s."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[ServedRequest] = []
        self._added = threading.Condition(self._lock)

    def append(self, entry: ServedRequest) -> None:
        with self._lock:
            self._entries.append(entry)
            self._added.notify_all()

    def snapshot(self) -> list[ServedRequest]:
        with self._lock:
            return list(self._entries)

    def __iter__(self) -> Iterator[ServedRequest]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until at least `count` requests are logged; False on timeout."""
        with self._added:
            return self._added.wait_for(lambda: len(self._entries) >= count, timeout)
