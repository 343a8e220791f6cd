"""After the suite: no PostgreSQL server that it started is still running (`make ci` runs this after
`make test`). A server is the suite's when its data folder is in the temporary folder, where every test's
NEWHOMIE_HOME and scratch server live. Their keepers stop them as the last command ends, so this waits
for that, and fails naming the ones left."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import psutil

WAIT_S = 120


def suite_servers() -> list[tuple[int, str]]:
    temporary = Path(tempfile.gettempdir()).resolve()
    found = []
    for process in psutil.process_iter(["name", "cwd", "ppid"]):
        try:
            if process.info["name"] != "postgres" or not process.info["cwd"]:
                continue
            parent = psutil.Process(process.info["ppid"])
            if parent.name() == "postgres":
                continue  # a backend or helper of a postmaster counted already
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        folder = Path(process.info["cwd"]).resolve()
        if folder.is_relative_to(temporary) and "newhomie-test-server" not in folder.name:
            found.append((process.pid, str(folder)))
    return found


def main() -> int:
    deadline = time.monotonic() + WAIT_S
    while (left := suite_servers()) and time.monotonic() < deadline:
        time.sleep(0.5)
    if left:
        for pid, folder in left:
            print(f"no_servers_left: the suite left a PostgreSQL server running: pid {pid} on {folder}")
        return 1
    print("no_servers_left: the suite left no PostgreSQL server running")
    return 0


if __name__ == "__main__":
    sys.exit(main())
