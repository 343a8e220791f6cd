"""Which localities are in flight: a few at a time, the failed ones once more at the end of the run, and
a watchdog that ends a locality whose requests were lost.

A locality holds a slot from its first request to its outcome (`release`). `run` admits localities
as slots free up, waits for every one to end, then admits the failed first attempts again. While it
waits, a watchdog looks every NEWHOMIE_STALL_SECONDS: if the engine has nothing to do yet localities
are still in flight, their count was lost (a bug, a dropped request), so they are ended as failed
(and retried at the end) rather than waited for forever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

from newhomie.crawl.engine import EngineState
from newhomie.crawl.plan import names
from newhomie.localities import Locality

logger = logging.getLogger(__name__)

#: Starts an attempt at a locality: the requests of its first pages (it may ask the database first).
Begin = Callable[[Locality, int], Awaitable[Iterable[Any]]]


class Admission:
    def __init__(
        self,
        at_once: int,
        stall_seconds: float,
        engine: EngineState,
        abandon: Callable[[], Iterable[Any]],
    ) -> None:
        #: Ends every locality in flight as failed, and gives their outcomes.
        self.abandon = abandon
        self.at_once = at_once
        self.stall_seconds = stall_seconds
        self.engine = engine
        self.in_flight = 0
        self._slots: asyncio.Semaphore | None = None
        self._drained: asyncio.Event | None = None

    async def run(
        self, localities: Iterable[Locality], begin: Begin, failed: Callable[[], list[Locality]]
    ) -> AsyncIterator[Any]:
        """The requests of every locality's attempts (and the outcomes of stalled ones), a few
        localities at a time; then those of the retries of the `failed()` ones."""
        # Made here, in the reactor's event loop.
        self._slots = asyncio.Semaphore(self.at_once)
        self._drained = asyncio.Event()
        self._drained.set()
        for attempt, todo in ((1, localities), (2, None)):
            if todo is None:
                todo = failed()
                if todo:
                    logger.warning("retrying %d failed localities: %s", len(todo), names(list(todo)))
            for locality in todo:
                async for item in self._watched(self._slots.acquire):
                    yield item
                self.in_flight += 1
                self._drained.clear()
                for request in await begin(locality, attempt):
                    yield request
            async for item in self._watched(self._drained.wait):
                yield item

    def release(self) -> None:
        """A locality ended: its slot is free."""
        assert self._slots is not None
        assert self._drained is not None
        self.in_flight -= 1
        self._slots.release()
        if self.in_flight == 0:
            self._drained.set()

    async def _watched(self, wait: Callable[[], Awaitable[Any]]) -> AsyncIterator[Any]:
        """Waits (for a free slot, or for all to end); yields the outcomes of stalled localities."""
        while True:
            try:
                await asyncio.wait_for(wait(), timeout=self.stall_seconds)
                return
            except TimeoutError:
                if self.in_flight and self.engine.idle_but_for_start():
                    for item in self.abandon():
                        yield item
