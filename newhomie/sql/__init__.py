"""Every SQL statement of newhomie, read as package data: numbered migrations and named query blocks.

    from newhomie import sql
    sql.query("upsert_listings")     # a named block of queries/*.sql
    sql.migrations()                 # the migrations of migrations/, in version order

A query file holds blocks that start with a `-- name: <name>` line and run to the next one, the way
procrastinate reads its `queries.sql`; the comment lines under the name say what the statement is for
and, for an upsert, its table's conflict rule. Names are unique across the files. A migration is a file
`NNNN_what_it_does.sql`, applied once (`newhomie.store.migrations`).

Read through importlib.resources, so that they are found when the project runs from a zipped egg
(Scrapyd), where no path next to this file exists, as well as from a checkout (where the top-level
`sql/` is a link to this directory). Nothing here imports anything of ours: the database layer
(`newhomie.store`) runs these, with parameters, never with data spliced into the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

SQL_DIR: Traversable = resources.files(__name__)
QUERIES_DIR: Traversable = SQL_DIR / "queries"
MIGRATIONS_DIR: Traversable = SQL_DIR / "migrations"

_QUERY_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def parse_named_queries(text: str) -> dict[str, str]:
    """Blocks that start with a `-- name: <name>` line, up to the next one."""
    queries: dict[str, str] = {}
    matches = list(_QUERY_NAME.finditer(text))
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following else len(text)
        name = match[1]
        if name in queries:
            raise RuntimeError(f"query {name!r} is defined twice")
        queries[name] = text[match.end() : end].strip()
    return queries


def _sql_files(directory: Traversable) -> list[Traversable]:
    # A Traversable has no glob(): the same filter by hand, in name order.
    files = [entry for entry in directory.iterdir() if entry.name.endswith(".sql")]
    return sorted(files, key=lambda entry: entry.name)


@cache
def queries() -> dict[str, str]:
    """Every named query of `queries/*.sql`, by name."""
    found: dict[str, str] = {}
    for entry in _sql_files(QUERIES_DIR):
        for name, text in parse_named_queries(entry.read_text(encoding="utf-8")).items():
            if name in found:
                raise RuntimeError(f"query {name!r} is defined twice (again in {entry.name})")
            found[name] = text
    return found


def query(name: str) -> str:
    """The text of one named query; KeyError naming it when there is none."""
    try:
        return queries()[name]
    except KeyError:
        raise KeyError(f"no query named {name!r} in {QUERIES_DIR}") from None


def migrations(directory: Traversable = MIGRATIONS_DIR) -> list[Migration]:
    """The numbered migrations, in version order; two files of one number are an error."""
    found = []
    for entry in _sql_files(directory):
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            name = entry.name.removesuffix(".sql")
            found.append(Migration(int(match[1]), name, entry.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number in {directory}: {versions}")
    return found
