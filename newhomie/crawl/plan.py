"""Which localities a crawl takes, and which crawl a run belongs to.

A crawl is identified by its key. Runs that share a key (a resumed run, the shards of one full
crawl) skip the localities another run of the key already finished. Without `-a crawl`, the key
lives in JOBDIR (so `-s JOBDIR=...` resumes), or is new for the run.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from newhomie.crawl.arguments import CrawlArguments, Kind
from newhomie.localities import Locality
from newhomie.localities.catalog import catalog_slugs, load_catalog
from newhomie.localities.selection import select
from newhomie.store.crawls import discovered_localities, finished_and_missing
from newhomie.store.target import database_target

logger = logging.getLogger(__name__)

CRAWL_KEY_FILE = "newhomie-crawl-key"
#: Names listed in a log line at most; the rest are counted.
NAMES_SHOWN = 20


@dataclass(frozen=True)
class CrawlPlan:
    """The localities the arguments select, in order, from the list they name or the bundled one."""

    arguments: CrawlArguments
    localities: tuple[Locality, ...]
    #: "list" (named in `-a localities`) or "catalog" (the bundled list).
    source: str

    @classmethod
    def of(cls, arguments: CrawlArguments) -> CrawlPlan:
        if isinstance(arguments.localities, tuple):
            source, candidates = "list", list(arguments.localities)
        else:  # "all", or filters alone
            source, candidates = "catalog", load_catalog()
        return cls(arguments, tuple(select(candidates, arguments.selection)), source)

    @property
    def kinds(self) -> tuple[Kind, ...]:
        return self.arguments.kinds

    def describe(self) -> dict[str, object]:
        """The arguments as stored with the run (crawl_run.arguments): each in its canonical text, a
        list of localities as names, and how many were selected."""
        described: dict[str, object] = {**self.arguments.as_text(), "kinds": list(self.kinds)}
        if self.source == "list":
            described["localities"] = [str(locality) for locality in self.localities]
        described["selected"] = len(self.localities)
        return described

    @property
    def summary(self) -> str:
        text = self.arguments.as_text()
        parts = [f"{len(self.localities)} selected from the {self.source}", f"kinds {text['kinds']}"]
        parts += [f"{k}={v}" for k, v in sorted(text.items()) if k not in ("localities", "kinds")]
        return ", ".join(parts)


def catalog_with(discovered: list[Locality]) -> list[Locality]:
    """The bundled list and the discovered localities (suburb profiles named them and no list had
    them) that it lacks, in the list's order: what a crawl of the catalog, or its estimate, takes."""
    listed = catalog_slugs()
    merged = load_catalog() + [loc for loc in discovered if loc.slug not in listed]
    merged.sort(key=lambda loc: (loc.state, loc.postcode, loc.slug))
    return merged


def localities_to_crawl(plan: CrawlPlan, crawl_key: str, use_database: bool = True) -> list[Locality]:
    """The plan's localities (with the discovered ones, for a crawl of the catalog), less what this
    crawl already finished and (unless rechecked) what the site did not know; the plan's localities
    as they are without a database (NEWHOMIE_DB_ENABLED off)."""
    if not use_database:
        return list(plan.localities)
    url = database_target().url
    candidates = list(plan.localities)
    if plan.source == "catalog":
        candidates = select(catalog_with(discovered_localities(url)), plan.arguments.selection)
    if len(candidates) > len(plan.localities):
        logger.info("crawl %s: %d discovered localities added to the %d selected", crawl_key,
                    len(candidates) - len(plan.localities), len(plan.localities))  # fmt: skip
    finished, missing = finished_and_missing(url, crawl_key)
    done = [loc for loc in candidates if loc.slug in finished]
    if done:
        logger.info("crawl %s: skipping %d localities it already finished", crawl_key, len(done))
    skipped = [loc for loc in candidates if loc.slug in missing and loc.slug not in finished]
    if skipped and not plan.arguments.recheck_missing:
        logger.info(
            "skipping %d localities the site did not know last time (-a recheck_missing=1 to retry): %s",
            len(skipped), names(skipped),
        )  # fmt: skip
    else:
        skipped = []
    leave_out = finished | {loc.slug for loc in skipped}
    return [loc for loc in candidates if loc.slug not in leave_out]


def names(localities: list[Locality], shown: int = NAMES_SHOWN) -> str:
    """The first few names, and how many more."""
    text = "; ".join(map(str, localities[:shown]))
    return text + (f"; and {len(localities) - shown} more" if len(localities) > shown else "")


def new_crawl_key() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def crawl_key_for_jobdir(jobdir: str | None) -> str:
    """The crawl a JOBDIR belongs to: written there on its first run, read back when it resumes."""
    if not jobdir:
        return new_crawl_key()
    path = Path(jobdir) / CRAWL_KEY_FILE
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if key:
            logger.info("resuming crawl %s (key from %s)", key, path)
            return key
    key = new_crawl_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(key + "\n", encoding="utf-8")
    return key
