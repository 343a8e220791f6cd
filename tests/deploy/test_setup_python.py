"""`make setup` picks its Python as the README says: NEWHOMIE_PYTHON, else the newest Python 3.11+ on the
machine, skipping what does not run (a pyenv shim of an unselected version); and finds none when there is
none. The set-up's own functions (scripts/pythons.sh), run by bash on a PATH of the test's making."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.paths import REPO

PYTHONS = REPO / "scripts" / "pythons.sh"


def pick(path: Path) -> subprocess.CompletedProcess[str]:
    """The set-up's interpreter choice, with only `path` to look in (and the few tools it runs)."""
    tools = path / "tools"
    tools.mkdir(exist_ok=True)
    for tool in ("sed", "sort", "grep", "head", "tail", "cat"):
        target = shutil.which(tool)
        assert target, tool
        (tools / tool).symlink_to(target)
    script = f"""
        source {PYTHONS}
        newest_python || {{ echo none; exit 1; }}
    """
    return subprocess.run(
        ["/bin/bash", "-c", script], env={"PATH": f"{path}:{tools}"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def fake_python(folder: Path, name: str, version: tuple[int, int]) -> None:
    """A python3.N whose version is `version`: the real interpreter, told to report it."""
    (folder / name).write_text(
        "#!/bin/sh\n"
        f'exec {sys.executable} -c "import sys; sys.version_info = ({version[0]}, {version[1]}, 0); '
        'exec(sys.argv[2]) if sys.argv[1] == \'-c\' else None" "$@"\n'
    )
    (folder / name).chmod(0o755)


def test_the_newest_python_that_runs_is_taken(tmp_path: Path) -> None:
    fake_python(tmp_path, "python3.11", (3, 11))
    fake_python(tmp_path, "python3.13", (3, 13))
    fake_python(tmp_path, "python3.9", (3, 9))
    shim = tmp_path / "python3.14"  # as pyenv's shim of a version that is not selected
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.14: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    done = pick(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "python3.13")


def test_none_is_found_when_none_is_3_11_or_newer(tmp_path: Path) -> None:
    fake_python(tmp_path, "python3.10", (3, 10))
    fake_python(tmp_path, "python3", (3, 9))
    done = pick(tmp_path)
    assert done.returncode == 1
    assert done.stdout.strip() == "none"
