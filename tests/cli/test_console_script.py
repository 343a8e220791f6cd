"""`make setup` installs the package into .venv: its `newhomie` command works from any folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from newhomie.localities.catalog import load_catalog

NEWHOMIE = Path(sys.executable).parent / "newhomie"


def test_the_newhomie_command_runs_from_any_folder(tmp_path: Path, database_url: str) -> None:
    assert NEWHOMIE.is_file(), (
        "no newhomie command in the virtualenv: the set-up installs it (pip install -e .)"
    )
    env = {**os.environ, "NEWHOMIE_DATABASE_URL": database_url, "PYTHONPATH": ""}

    def newhomie(*args: str) -> str:
        done = subprocess.run([str(NEWHOMIE), *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=60, check=True)  # fmt: skip
        return done.stdout

    assert int(newhomie("localities", "count", "--state", "TAS")) == sum(
        1 for locality in load_catalog() if locality.state == "TAS"
    )
    assert newhomie("sql", "select count(*) as n from locality").splitlines()[0].strip() == "n"
