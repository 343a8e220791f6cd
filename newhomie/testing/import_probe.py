"""Imports every module of the installed `newhomie` package, and prints one JSON line about it.

Run with the interpreter of the environment under test (a virtualenv holding only the run-time
requirements, or the image's), from a directory without a checkout in it:

    python -m newhomie.testing.import_probe [--skip MODULE ...] [--absent NAME ...]

It prints {"package": where newhomie was imported from, "modules": how many, "failed": {module:
error}, "absent": the NAMEs that cannot be imported there}. tests/deploy/test_docker.py and
scripts/check_runtime_requirements.py both read it. Exit status 0 even when modules fail: the
report says which.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import pkgutil
import sys
from collections.abc import Iterable


def probe(skip: Iterable[str] = (), absent: Iterable[str] = ()) -> dict[str, object]:
    import newhomie

    skipped = set(skip)
    failed: dict[str, str] = {}
    modules = [m.name for m in pkgutil.walk_packages(newhomie.__path__, "newhomie.")]
    for name in modules:
        if name not in skipped:
            try:
                importlib.import_module(name)
            except Exception as exc:  # the report is the point: every failure is listed in it
                failed[name] = repr(exc)
    return {
        "package": newhomie.__file__,
        "modules": len(modules),
        "failed": failed,
        "absent": [name for name in absent if importlib.util.find_spec(name) is None],
    }


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m newhomie.testing.import_probe")
    parser.add_argument("--skip", nargs="*", default=[], help="modules not to import")
    parser.add_argument("--absent", nargs="*", default=[], help="names to report if not importable")
    args = parser.parse_args(None if argv is None else list(argv))
    print(json.dumps(probe(args.skip, args.absent)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
