"""Pytest fixtures serving the local copy of the site (`pytest_plugins = ["newhomie.testing.fixtures"]`).

- `fakesite`: `FakeSite(localities=3, seed=1, mix=QUICK_MIX)` on 127.0.0.1, a free port, for one test;
- `fakesite_factory`: `fakesite_factory(localities=..., seed=..., listings_per_locality=...)` (the quick
  mix too) or `fakesite_factory(site=a_prepared_site)`; every site it starts is stopped after the test.

The quick mix has a sixth of the default's sold listings: most tests are about something else than
volume, and a sold page costs a browser render like any other. Tests of volume (incremental crawls)
make their site with the default mix.

Both yield `RunningSite`s: `.site` (the `FakeSite`), `.base_url` ("http://127.0.0.1:PORT"), `.get(path)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Protocol

import pytest

from newhomie.testing.fakesite import QUICK_MIX, FakeSite, RunningSite, serve


class FakeSiteFactory(Protocol):
    def __call__(
        self,
        localities: int = 3,
        seed: int = 1,
        listings_per_locality: tuple[int, int] | None = None,
        *,
        site: FakeSite | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> RunningSite: ...


@pytest.fixture
def fakesite_factory() -> Iterator[FakeSiteFactory]:
    with ExitStack() as stack:

        def make(
            localities: int = 3,
            seed: int = 1,
            listings_per_locality: tuple[int, int] | None = None,
            *,
            site: FakeSite | None = None,
            host: str = "127.0.0.1",
            port: int = 0,
        ) -> RunningSite:
            if site is None:
                site = FakeSite(
                    localities=localities,
                    seed=seed,
                    listings_per_locality=listings_per_locality,
                    mix=QUICK_MIX,
                )
            return stack.enter_context(serve(site, host=host, port=port))

        yield make


@pytest.fixture
def fakesite() -> Iterator[RunningSite]:
    with serve(FakeSite(localities=3, seed=1, mix=QUICK_MIX)) as running:
        yield running
