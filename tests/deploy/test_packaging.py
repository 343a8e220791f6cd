"""The egg Scrapyd runs: built by scrapyd-client from a copy of the project, it must work zipped and alone.

Scrapyd puts the egg file itself on sys.path: nothing of the checkout is there, and a path next to
`__file__` does not exist on disk. So the SQL, the locality list and the settings entry point must be
inside, read through importlib.resources, and every package must be a regular one (zipimport cannot
import a namespace package from a zip).
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from newhomie import sql
from newhomie.localities import catalog
from tests.imports import third_party_imports
from tests.paths import REPO

VENV_BIN = Path(sys.executable).parent
#: What building the package needs; the rest of the checkout (tests, .venv, .git) stays out.
PROJECT_FILES = ("pyproject.toml", "setup.py", "scrapy.cfg", "README.md")


def copy_project(destination: Path) -> Path:
    """The project's sources in `destination`: building there leaves the shared checkout untouched
    (bdist_egg writes build/ and *.egg-info next to setup.py)."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        shutil.copy2(REPO / name, destination / name)
    shutil.copytree(REPO / "newhomie", destination / "newhomie", ignore=shutil.ignore_patterns("__pycache__"))
    return destination


def build_egg(project: Path, egg: Path) -> Path:
    """`scrapyd-deploy --build-egg`: the very build scrapyd-deploy uploads."""
    result = subprocess.run(
        [str(VENV_BIN / "scrapyd-deploy"), "--build-egg", str(egg)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return egg


@pytest.fixture(scope="module")
def egg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("egg")
    return build_egg(copy_project(root / "project"), root / "newhomie.egg")


def packages() -> list[str]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    listed: list[str] = config["tool"]["setuptools"]["packages"]
    return listed


def test_every_directory_of_python_modules_is_a_listed_regular_package() -> None:
    module_dirs = {
        path.parent for path in (REPO / "newhomie").rglob("*.py") if "__pycache__" not in path.parts
    }
    for directory in sorted(module_dirs):
        name = ".".join(directory.relative_to(REPO).parts)
        assert name in packages(), f"{name} is left out of the egg: list it in pyproject.toml"
        assert (directory / "__init__.py").is_file(), (
            f"{name} has no __init__.py: Scrapyd's zipped egg cannot import a namespace package"
        )


def test_the_egg_holds_every_module_the_sql_the_locality_list_and_the_settings_entry_point(egg: Path) -> None:
    with zipfile.ZipFile(egg) as archive:
        names = set(archive.namelist())
        entry_points = configparser.ConfigParser()
        entry_points.read_string(archive.read("EGG-INFO/entry_points.txt").decode())
    wanted = {
        path.relative_to(REPO).as_posix()
        for pattern in ("*.py", "*.sql", "*.csv")
        for path in (REPO / "newhomie").rglob(pattern)
        if "__pycache__" not in path.parts
    }
    assert {"newhomie/localities/localities.csv", "newhomie/sql/migrations/0001_initial.sql"} <= wanted
    assert wanted - names == set()
    assert dict(entry_points["scrapy"]) == {"settings": "newhomie.settings"}


# Run in a fresh interpreter whose sys.path is the egg and the virtualenv's site-packages only: -I leaves
# out the working directory, PYTHONPATH and the user's site-packages.
PROBE = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
os.environ["SCRAPY_SETTINGS_MODULE"] = "newhomie.settings"  # what Scrapyd's runner reads from the egg
from newhomie import sql
from newhomie.localities import catalog
from scrapy.cmdline import _get_commands_dict
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings

settings = get_project_settings()
print(json.dumps({
    "newhomie": __import__("newhomie").__file__,
    "sql_dir": str(sql.SQL_DIR),
    "migrations": [[m.name, m.sql] for m in sql.migrations()],
    "queries": sql.queries(),
    "catalog": [str(locality) for locality in catalog.load_catalog()],
    "spiders": SpiderLoader.from_settings(settings).list(),
    "crawl_command": type(_get_commands_dict(settings, inproject=True)["crawl"]).__module__,
}))
"""


def test_the_zipped_egg_alone_loads_the_migrations_the_queries_the_catalog_and_the_spider(
    egg: Path, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SCRAPY"))}
    result = subprocess.run(
        [sys.executable, "-I", "-c", PROBE, str(egg)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout)
    assert loaded["newhomie"].startswith(str(egg) + os.sep), "newhomie was imported from outside the egg"
    assert loaded["sql_dir"].startswith(str(egg) + os.sep)
    assert loaded["migrations"] == [[m.name, m.sql] for m in sql.migrations()]
    assert loaded["queries"] == sql.queries()
    assert loaded["catalog"] == [str(locality) for locality in catalog.load_catalog()]
    assert loaded["spiders"] == ["listings"]
    assert loaded["crawl_command"] == "newhomie.commands.crawl"


def test_scrapy_cfg_deploy_target_takes_its_url_and_credentials_from_the_environment(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    env = {**os.environ, "SCRAPYD_URL": "http://127.0.0.1:6999/", "SCRAPYD_USERNAME": "crawler"}
    env["SCRAPYD_PASSWORD"] = "pw-from-env"
    # scrapyd-client's own reading of scrapy.cfg, as scrapyd-deploy does it.
    probe = "import json; from scrapyd_client.utils import _get_targets; print(json.dumps(_get_targets()))"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "default": {
            "url": "http://127.0.0.1:6999/",
            "username": "crawler",
            "password": "pw-from-env",
            "project": "newhomie",
        }
    }
    assert "pw-from-env" not in (REPO / "scrapy.cfg").read_text(encoding="utf-8")


def distribution_closure(requirements: list[str]) -> set[str]:
    """The distributions the requirements install, with theirs (extras left out), as normalised names."""
    seen: set[str] = set()
    todo = [Requirement(text) for text in requirements]
    while todo:
        requirement = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        todo += [Requirement(text) for text in metadata.requires(name) or []]
    return seen


def test_every_library_the_package_imports_is_among_its_declared_dependencies() -> None:
    # A Scrapyd node or an image installs the dependencies the package declares, not the checkout's .venv.
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    installed = distribution_closure(config["project"]["dependencies"])
    providers = metadata.packages_distributions()
    missing = {}
    for path in (REPO / "newhomie").rglob("*.py"):
        if "testing" in path.relative_to(REPO).parts:  # the local site for tests and the demo: pytest
            continue
        for top in third_party_imports(path):
            distributions = {canonicalize_name(d) for d in providers.get(top, [top])}
            if not distributions & installed:
                missing[top] = path.relative_to(REPO).as_posix()
    assert missing == {}, "imported but not declared in pyproject.toml's dependencies"
