"""Which localities a crawl covers and what it reads of each: the spider's arguments, checked.

    -a localities="Dandenong VIC 3175;..."  or  -a localities=all
    -a state=VIC  -a postcodes=3000-3207  -a shard=3/90  -a limit=N      (filters, combinable)
    -a kinds=profile,sale,rent,sold  (default: all four)
    -a crawl=KEY         one crawl spread over several runs: what a run of KEY finished is skipped
    -a recheck_missing=1 also crawl the localities the site answered with its 404 page before

A crawl is identified by its key. Runs that share a key (a resumed run, the shards of one full
crawl) skip the localities another run of the key already finished. Without `-a crawl`, the key
lives in JOBDIR (so `-s JOBDIR=...` resumes), or is new for the run.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from scrapy.settings import BaseSettings

from newhomie.localities import Locality, catalog, parse_locality_list
from newhomie.localities import selection as selections
from newhomie.store.crawls import finished_and_missing
from newhomie.store.target import database_target

logger = logging.getLogger(__name__)

KINDS = ("profile", "sale", "rent", "sold")
CRAWL_KEY_FILE = "newhomie-crawl-key"
_CRAWL_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse_kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(dict.fromkeys(k.strip().lower() for k in text.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise ValueError(f"kinds={text!r}: expected a comma list of {', '.join(KINDS)}")
    # Always in the same order: the profile first, as a person would read a suburb.
    return tuple(k for k in KINDS if k in kinds)


def parse_flag(name: str, text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise ValueError(f"{name}={text!r}: expected 1 or 0")


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


@dataclass(frozen=True)
class CrawlPlan:
    ARGUMENTS: ClassVar[frozenset[str]] = frozenset(
        {"localities", "state", "postcodes", "shard", "limit", "kinds", "crawl", "recheck_missing"}
    )

    localities: tuple[Locality, ...]
    selection: selections.Selection
    kinds: tuple[str, ...] = KINDS
    crawl_key: str | None = None
    recheck_missing: bool = False
    source: str = "list"
    raw: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_arguments(cls, arguments: dict[str, str]) -> CrawlPlan:
        """Raises ValueError naming each bad argument and its accepted form."""
        unknown = set(arguments) - cls.ARGUMENTS
        if unknown:
            raise ValueError(
                f"unknown arguments {sorted(unknown)}; known: {', '.join(sorted(cls.ARGUMENTS))}"
            )
        text = arguments.get("localities", "").strip()
        selection = selections.Selection(
            state=selections.parse_state(arguments["state"]) if arguments.get("state") else None,
            postcodes=selections.parse_postcodes(arguments["postcodes"])
            if arguments.get("postcodes")
            else None,
            shard=selections.parse_shard(arguments["shard"]) if arguments.get("shard") else None,
            limit=selections.parse_limit(arguments["limit"]) if arguments.get("limit") else None,
        )
        filtered = any(getattr(selection, name) is not None for name in ("state", "postcodes", "shard"))
        if text.lower() == "all" or (not text and filtered):
            source, candidates = "catalog", catalog.load_catalog()
        elif text:
            source, candidates = "list", parse_locality_list(text)
        else:
            raise ValueError(
                'say which localities: -a localities="Dandenong VIC 3175;...", -a localities=all, '
                "or filters -a state=VIC / postcodes=3000-3207 / shard=3/90"
            )
        chosen = tuple(selections.select(candidates, selection))
        crawl_key = arguments.get("crawl", "").strip() or None
        if crawl_key is not None and not _CRAWL_KEY_RE.match(crawl_key):
            raise ValueError(f"crawl={crawl_key!r}: letters, digits and . _ : / - only, at most 100")
        return cls(
            localities=chosen,
            selection=selection,
            kinds=parse_kinds(arguments.get("kinds", ",".join(KINDS))),
            crawl_key=crawl_key,
            recheck_missing=parse_flag("recheck_missing", arguments.get("recheck_missing", "0")),
            source=source,
            raw=dict(arguments),
        )

    @property
    def shard_text(self) -> str | None:
        shard = self.selection.shard
        return f"{shard[0]}/{shard[1]}" if shard else None

    @property
    def summary(self) -> str:
        parts = [f"{len(self.localities)} selected from the {self.source}", f"kinds {','.join(self.kinds)}"]
        parts += [f"{k}={v}" for k, v in sorted(self.raw.items()) if k not in ("localities", "kinds")]
        return ", ".join(parts)

    def describe(self) -> dict[str, object]:
        """The arguments as stored with the run (crawl_run.arguments)."""
        described: dict[str, object] = {
            **self.raw,
            "kinds": list(self.kinds),
            "selected": len(self.localities),
        }
        if self.source == "list":
            described["localities"] = [str(loc) for loc in self.localities]
        return described

    def localities_to_crawl(self, crawl_key: str, settings: BaseSettings) -> list[Locality]:
        """The selection, less what this crawl already finished and (unless rechecked) what is missing."""
        if not settings.getbool("NEWHOMIE_DB_ENABLED", True):
            return list(self.localities)
        finished, missing = finished_and_missing(database_target().url, crawl_key)
        done = [loc for loc in self.localities if loc.slug in finished]
        if done:
            logger.info("crawl %s: skipping %d localities it already finished", crawl_key, len(done))
        skipped = [loc for loc in self.localities if loc.slug in missing and loc.slug not in finished]
        if skipped and not self.recheck_missing:
            names = "; ".join(map(str, skipped[:20])) + (
                f"; and {len(skipped) - 20} more" if len(skipped) > 20 else ""
            )
            logger.info(
                "skipping %d localities the site did not know last time (-a recheck_missing=1 to retry): %s",
                len(skipped), names,
            )  # fmt: skip
        else:
            skipped = []
        leave_out = finished | {loc.slug for loc in skipped}
        return [loc for loc in self.localities if loc.slug not in leave_out]
