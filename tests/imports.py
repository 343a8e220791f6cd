"""What a module imports, read from its source: for the tests that check the declared dependencies."""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def third_party_imports(path: Path) -> set[str]:
    """The top-level names of the packages a module imports, other than the standard library's and
    ours. Imports inside functions count: they run at run time too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        found.update(name.split(".")[0] for name in names)
    ours = {"newhomie", "__future__"}
    return {top for top in found if top not in sys.stdlib_module_names and top not in ours}
