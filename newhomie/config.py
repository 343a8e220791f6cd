"""Every setting the crawl reads, checked before it starts: one table of names, kinds and accepted forms.

`setting_problems(settings)` says, one line each, what is wrong: a value that does not read as its kind
or falls outside its range (the setting, the value, the accepted form), a NEWHOMIE_* name that is no
setting of ours (with the nearest one that is), a folder that cannot be made, the database URL given as
a setting (Scrapy would print it). The `crawl` command runs it before anything starts (exit 2); the
components still read their settings once, in `from_crawler`, now knowing the values are sound.

The environment's own settings are checked too: NEWHOMIE_HOME (where the embedded database and rows
waiting for the database live) must be a folder that can be made and written.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newhomie.feeds import FEED_ITEMS_FORM, item_classes

#: Problems listed one by one at most; the rest are counted.
SHOWN = 5


@dataclass(frozen=True)
class Rule:
    name: str
    #: Reads the setting's value; raises ValueError when it does not read.
    read: Callable[[Any], Any]
    #: What is accepted, in words, for the message.
    form: str
    check: Callable[[Any], bool] = lambda value: True


def _number(kind: type) -> Callable[[Any], Any]:
    def read(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("a flag, not a number")
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError("not a whole number")
        return kind(value)

    return read


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("not a flag")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def whole(name: str, low: int, high: int | None = None) -> Rule:
    if high is None:
        return Rule(name, _number(int), f"a whole number of at least {low}", lambda v: v >= low)
    return Rule(name, _number(int), f"a whole number from {low} to {high}", lambda v: low <= v <= high)


def seconds(name: str, *, positive: bool = False, high: float | None = None) -> Rule:
    bound = "more than 0" if positive else "0 or more"
    form = f"a number of seconds, {bound}" + (f", at most {high:g}" if high is not None else "")

    def within(v: float) -> bool:
        return (
            (v > 0 if positive else v >= 0) and (high is None or v <= high) and v == v and v != float("inf")
        )

    return Rule(name, _number(float), form, within)


def share(name: str) -> Rule:
    return Rule(name, _number(float), "a share from 0 to 1 (0.05 is 5%)", lambda v: 0 <= v <= 1)


def flag(name: str) -> Rule:
    return Rule(name, _flag, "True or False (1 or 0)")


def text(name: str) -> Rule:
    return Rule(name, _text, "text")


#: The settings of ours, and the Scrapy settings the crawl leans on.
RULES: tuple[Rule, ...] = (
    whole("NEWHOMIE_LOCALITIES_AT_ONCE", 1, 64),
    seconds("NEWHOMIE_STALL_SECONDS", positive=True),
    Rule(
        "NEWHOMIE_PROFILE_MAX_AGE_DAYS",
        _number(float),
        "a number of days, 0 or more (0: always read)",
        lambda v: 0 <= v < 100_000,
    ),
    seconds("NEWHOMIE_NEXT_DATA_TIMEOUT", positive=True),
    seconds("NEWHOMIE_BLOCK_SETTLE_SECONDS"),
    whole("NEWHOMIE_BROWSER_RETRIES", 0, 20),
    seconds("NEWHOMIE_BROWSER_CLOSE_TIMEOUT", positive=True),
    seconds("NEWHOMIE_BLOCK_BACKOFF"),
    seconds("NEWHOMIE_BLOCK_BACKOFF_MAX"),
    whole("NEWHOMIE_BLOCK_RETRIES", 0, 20),
    seconds("NEWHOMIE_RETRY_AFTER_MAX"),
    flag("NEWHOMIE_DB_ENABLED"),
    whole("NEWHOMIE_DB_BATCH_SIZE", 1, 100_000),
    seconds("NEWHOMIE_DB_FLUSH_SECONDS", positive=True),
    whole("NEWHOMIE_DB_MEMORY_ROWS", 1, 10_000_000),
    seconds("NEWHOMIE_DB_CLOSE_WAIT_SECONDS"),
    seconds("NEWHOMIE_DB_RECONNECT_MAX_SECONDS", positive=True),
    text("NEWHOMIE_DB_SPILL_DIR"),
    flag("NEWHOMIE_JSON_LOGS"),
    text("NEWHOMIE_CHROMIUM"),
    whole("NEWHOMIE_HEALTH_MIN_LISTINGS", 0),
    share("NEWHOMIE_HEALTH_MAX_ERROR_RATE"),
    share("NEWHOMIE_HEALTH_MAX_BLOCK_RATE"),
    share("NEWHOMIE_HEALTH_MAX_UNPARSED_PRICE_RATE"),
    share("NEWHOMIE_HEALTH_MAX_FAILED_LOCALITIES"),
    text("NEWHOMIE_TEST_LOSE_URL"),  # newhomie.testing.lost_requests
    Rule("NEWHOMIE_FEED_ITEMS", lambda v: item_classes(str(v)), FEED_ITEMS_FORM),
    # Scrapy's, as the crawl uses them.
    seconds("DOWNLOAD_DELAY"),
    share("DOWNLOAD_DELAY_JITTER"),
    whole("CONCURRENT_REQUESTS", 1, 64),
    whole("CONCURRENT_REQUESTS_PER_DOMAIN", 1, 64),
    flag("AUTOTHROTTLE_ENABLED"),
    seconds("AUTOTHROTTLE_START_DELAY"),
    seconds("AUTOTHROTTLE_MAX_DELAY", positive=True),
    Rule("AUTOTHROTTLE_TARGET_CONCURRENCY", _number(float), "a number more than 0", lambda v: v > 0),
    seconds("DOWNLOAD_TIMEOUT", positive=True),
    whole("RETRY_TIMES", 0, 20),
    whole("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT", 1),
    whole("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT", 1, 64),
    seconds("PROMETHEUS_PUSH_TIMEOUT", positive=True),
    seconds("PROMETHEUS_PUSH_INTERVAL"),
    seconds("PROMETHEUS_SAMPLE_INTERVAL"),
)
RULES_BY_NAME = {rule.name: rule for rule in RULES}
#: Names that look like ours but are read from the environment, never from Scrapy's settings.
ENVIRONMENT_ONLY = {
    "NEWHOMIE_DATABASE_URL": "the database URL is not a setting (Scrapy prints its settings): set "
    "NEWHOMIE_DATABASE_URL in the environment",
    "NEWHOMIE_HOME": "NEWHOMIE_HOME is read from the environment, not from the settings",
}


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def problem_of(rule: Rule, value: Any) -> str | None:
    """What is wrong with one setting's value, said with the setting and the accepted form."""
    try:
        read = rule.read(value)
    except (TypeError, ValueError):
        return f"{rule.name}={_shown(value)}: expected {rule.form}"
    if not rule.check(read):
        return f"{rule.name}={_shown(value)}: expected {rule.form}"
    return None


def writable_folder(name: str, path: Path) -> str | None:
    """A folder that can be made and written, or what keeps it from being one."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"{name}={str(path)!r}: cannot make the folder ({exc.strerror or exc})"
    if not os.access(path, os.W_OK | os.X_OK):
        return f"{name}={str(path)!r}: the folder cannot be written"
    return None


def setting_problems(settings: Any, environ: dict[str, str] | None = None) -> list[str]:
    """Every problem with the settings (a Scrapy Settings, or a mapping) and the environment."""
    environ = dict(os.environ) if environ is None else environ
    problems: list[str] = []
    names = list(settings.keys()) if hasattr(settings, "keys") else list(settings)
    on_scrapy_cloud = bool(environ.get("SHUB_JOBKEY"))
    for name in names:
        if name == "NEWHOMIE_DATABASE_URL" and on_scrapy_cloud:
            continue  # Scrapy Cloud puts the settings of its UI among Scrapy's: that is where it is set there
        if name in ENVIRONMENT_ONLY:
            problems.append(ENVIRONMENT_ONLY[name])
        elif name.startswith("NEWHOMIE_") and name not in RULES_BY_NAME:
            nearest = difflib.get_close_matches(name, RULES_BY_NAME, n=1)
            hint = f" (did you mean {nearest[0]}?)" if nearest else ""
            problems.append(f"{name}: no such setting{hint}")
    for rule in RULES:
        if rule.name in names:
            value = settings.get(rule.name)
            if value is not None and (problem := problem_of(rule, value)):
                problems.append(problem)
    batch, memory = settings.get("NEWHOMIE_DB_BATCH_SIZE"), settings.get("NEWHOMIE_DB_MEMORY_ROWS")
    readable = batch is not None and memory is not None and not problems_in(problems, "NEWHOMIE_DB_")
    if readable and int(memory) < int(batch):
        problems.append(
            f"NEWHOMIE_DB_MEMORY_ROWS={memory!r}: expected at least NEWHOMIE_DB_BATCH_SIZE ({batch})"
        )
    home = environ.get("NEWHOMIE_HOME")
    if home and (problem := writable_folder("NEWHOMIE_HOME", Path(home))):
        problems.append(problem)
    for name in ("NEWHOMIE_DB_SPILL_DIR", "JOBDIR"):
        if (folder := settings.get(name)) and (problem := writable_folder(name, Path(str(folder)))):
            problems.append(problem)
    return problems


def problems_in(problems: Iterable[str], prefix: str) -> bool:
    return any(problem.startswith(prefix) for problem in problems)


def one_line(problems: list[str], shown: int = SHOWN) -> str:
    """The first few problems, and how many more."""
    text = "; ".join(problems[:shown])
    return text + (f"; and {len(problems) - shown} more" if len(problems) > shown else "")
