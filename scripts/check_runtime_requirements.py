"""Install the run-time requirements alone into a throwaway virtualenv, from the package index, and run
the crawler's package in it; then add what the Docker image adds and run Scrapy Cloud's entry point.

    .venv/bin/python scripts/check_runtime_requirements.py [--keep]

What it checks, with a real `pip install` (the image's own steps, minus Docker):
  1. `pip install -r requirements.txt`, then the package as the image installs it (`pip install --no-deps .`
     from a copy of the sources); `pip check`; every module of the package imports (but its pytest plugin,
     newhomie.testing.fixtures); no test or development tool was installed; `scrapy list` says `listings`.
  2. `pip install -r requirements-image.txt` on top (Scrapy Cloud's entry points): `shub-image-info` lists
     the spider, and still no test or development tool.
It prints how long each step took. It needs the package index (the network), and takes about half a
minute; the test suite does the same checks offline with a virtualenv linked from .venv
(tests/deploy/test_docker.py), and this script is the proof that a fresh resolution agrees.
Exit status 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: What building the package needs (as in tests/deploy/test_packaging.py's copy_project).
PROJECT_FILES = ("pyproject.toml", "setup.py", "scrapy.cfg", "README.md")
#: Distributions that only tests, checks or a local Scrapyd need: none may be in the runtime virtualenv.
DEVELOPMENT_TOOLS = {
    "pytest",
    "pytest-timeout",
    "hypothesis",
    "ruff",
    "mypy",
    "pyyaml",
    "scrapyd",
    "scrapyd-client",
}
TEST_ONLY_MODULES = ("newhomie.testing.fixtures",)


class Checker:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.venv = root / "venv"
        self.bin = self.venv / "bin"
        self.work = root / "work"  # an empty working directory: nothing of the checkout is importable
        self.work.mkdir(parents=True)
        self.failures: list[str] = []
        # The image's environment, without HOME or anything of this shell's virtualenv.
        self.env = {
            "PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(root),
            "SCRAPY_SETTINGS_MODULE": "newhomie.settings",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            # How this machine reaches the package index.
            **{
                name: value
                for name, value in os.environ.items()
                if name.startswith("PIP_") or name.lower() in ("http_proxy", "https_proxy", "no_proxy")
            },
        }

    def run(self, title: str, command: Sequence[str]) -> subprocess.CompletedProcess[str]:
        started = time.perf_counter()
        result = subprocess.run(
            command, cwd=self.work, env=self.env, capture_output=True, text=True, timeout=900, check=False
        )
        print(f"{time.perf_counter() - started:6.1f} s  {title}")
        if result.returncode != 0:
            self.fail(f"{title}: exit {result.returncode}\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
        return result

    def fail(self, message: str) -> None:
        print(f"FAILED: {message}")
        self.failures.append(message)

    def installed(self) -> set[str]:
        listed = self.run("pip list", [str(self.bin / "python"), "-m", "pip", "list", "--format=json"])
        return {entry["name"].lower().replace("_", "-") for entry in json.loads(listed.stdout or "[]")}

    def check_no_development_tool(self) -> None:
        installed = self.installed()
        print(f"          {len(installed)} distributions installed")
        if DEVELOPMENT_TOOLS & installed:
            self.fail(f"development tools installed: {sorted(DEVELOPMENT_TOOLS & installed)}")

    def check_runtime(self) -> None:
        self.run("python -m venv", [sys.executable, "-m", "venv", str(self.venv)])
        pip = [str(self.bin / "python"), "-m", "pip", "install", "--quiet"]
        self.run("pip install -r requirements.txt", [*pip, "-r", str(REPO / "requirements.txt")])
        project = self.root / "app"
        project.mkdir()
        for name in PROJECT_FILES:
            shutil.copy2(REPO / name, project / name)
        shutil.copytree(REPO / "newhomie", project / "newhomie", ignore=shutil.ignore_patterns("__pycache__"))
        self.run("pip install --no-deps .", [*pip, "--no-deps", str(project)])
        self.run("pip check", [str(self.bin / "python"), "-m", "pip", "check"])
        self.check_no_development_tool()
        imported = self.run(
            "import every module",
            [str(self.bin / "python"), "-m", "newhomie.testing.import_probe", "--skip", *TEST_ONLY_MODULES],
        )
        if imported.returncode == 0:
            report = json.loads(imported.stdout.strip().splitlines()[-1])
            print(f"          {report['modules']} modules, from {report['package']}")
            if report["failed"]:
                self.fail(f"modules that do not import: {report['failed']}")
        listed = self.run("scrapy list", [str(self.bin / "scrapy"), "list"])
        if listed.stdout.split() != ["listings"]:
            self.fail(f"scrapy list printed {listed.stdout!r}")

    def check_image(self) -> None:
        pip = [str(self.bin / "python"), "-m", "pip", "install", "--quiet"]
        self.run("pip install -r requirements-image.txt", [*pip, "-r", str(REPO / "requirements-image.txt")])
        self.check_no_development_tool()
        info = self.run("shub-image-info", [str(self.bin / "shub-image-info")])
        lines = info.stdout.strip().splitlines()
        if not lines or json.loads(lines[-1]) != {"project_type": "scrapy", "spiders": ["listings"]}:
            self.fail(f"shub-image-info printed {info.stdout!r}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the throwaway directory and say where")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="newhomie-runtime-"))
    started = time.perf_counter()
    try:
        checker = Checker(root)
        checker.check_runtime()
        checker.check_image()
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(f"{time.perf_counter() - started:6.1f} s  in all")
    if checker.failures:
        print(f"{len(checker.failures)} check(s) failed")
        return 1
    print("every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
