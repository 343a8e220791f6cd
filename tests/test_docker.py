"""The Docker image for Zyte Scrapy Cloud and self-hosting, tested without a Docker engine (none runs here).

What the image does is tested from its Dockerfile: the files it copies, the pinned requirements it
installs, the environment it sets; and its entry point is run for real the way Scrapy Cloud runs it:
`start-crawl` from scrapinghub-entrypoint-scrapy, with the package installed as `pip install .`
installs it, in an empty working directory, with an empty HOME and only the image's environment, a
job description in SHUB_JOB_DATA and a file for the platform's pipe.
"""

from __future__ import annotations

import configparser
import fnmatch
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from newhomie import db
from newhomie.testing.fakesite import RunningSite
from newhomie.testing.fixtures import FakeSiteFactory
from tests.crawling import FAST_SETTINGS, assert_database_holds_ground_truth, fetch_all, truth_ids
from tests.test_packaging import VENV_BIN, copy_project

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def dockerfile() -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    instructions: list[Instruction] = []
    pending = ""
    for line in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("#") or (not line.strip() and not pending):
            continue
        pending += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            keyword, _, arguments = pending.strip().partition(" ")
            instructions.append(Instruction(keyword.upper(), " ".join(arguments.split())))
            pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def arguments_of(keyword: str) -> list[str]:
    return [i.arguments for i in dockerfile() if i.keyword == keyword]


def image_environment() -> dict[str, str]:
    """The ENV instructions' variables (the `ENV NAME=value NAME=value` form)."""
    env: dict[str, str] = {}
    for arguments in arguments_of("ENV"):
        for pair in shlex.split(arguments):
            name, equals, value = pair.partition("=")
            assert equals, f"ENV {arguments!r}: use the NAME=value form"
            env[name] = value
    return env


def pinned_requirements() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines():
        text = line.split("#", 1)[0].strip()
        if text:
            name, equals, version = text.partition("==")
            assert equals, f"requirements.txt: {text!r} is not pinned with =="
            assert version.strip(), f"requirements.txt: {text!r} has no version"
            pins[name.strip()] = version.strip()
    return pins


def test_the_image_runs_the_python_the_tests_run() -> None:
    (base,) = arguments_of("FROM")
    image, _, tag = base.partition(":")
    assert image == "python"
    assert tag.startswith(f"{sys.version_info.major}.{sys.version_info.minor}-slim-"), (
        tag
    )  # pinned Debian too
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == f">={sys.version_info.major}.{sys.version_info.minor}"


def test_every_file_the_image_copies_exists_and_the_context_leaves_secrets_out() -> None:
    ignored = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copies = arguments_of("COPY")
    assert copies
    for arguments in copies:
        *sources, _destination = arguments.split()
        for source in sources:
            assert not source.startswith("--"), f"COPY {arguments}: no options expected"
            assert (REPO / source).exists(), f"COPY {arguments}: {source} does not exist"
            assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), f"{source} is ignored"
    for secret_or_local_state in (".git", ".venv", ".newhomie", ".env"):
        assert secret_or_local_state in ignored


def test_the_image_installs_the_pinned_requirements_the_tests_run_with_then_the_package_alone() -> None:
    runs = [i for i in dockerfile() if i.keyword in ("COPY", "RUN")]
    texts = [f"{i.keyword} {i.arguments}" for i in runs]
    install_requirements = texts.index("RUN pip install -r requirements.txt")
    assert texts.index("COPY requirements.txt /app/") < install_requirements
    install_package = texts.index("RUN pip install --no-deps .")
    assert install_requirements < install_package
    assert texts.index("COPY newhomie /app/newhomie") < install_package
    assert not [
        t
        for t in texts
        if "pip install" in t and t not in (texts[install_requirements], texts[install_package])
    ]

    pins = pinned_requirements()
    assert pins["scrapinghub-entrypoint-scrapy"]  # the entry points Scrapy Cloud calls
    # What the image installs is what this virtualenv holds, so these tests speak for the image.
    assert {name: metadata.version(name) for name in pins} == pins
    # `--no-deps .` installs nothing else: every dependency the package declares must be pinned here.
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for text in declared:
        requirement = Requirement(text)
        pinned = {name.lower(): version for name, version in pins.items()}.get(requirement.name.lower())
        assert pinned is not None, f"{requirement.name} is declared but not pinned in requirements.txt"
        assert requirement.specifier.contains(pinned), f"{requirement.name}=={pinned} does not satisfy {text}"


def test_scrapy_cloud_can_run_its_commands_in_the_image() -> None:
    # Scrapy Cloud runs `start-crawl` and `shub-image-info` as the container's command: an ENTRYPOINT would
    # receive them as its arguments instead.
    assert arguments_of("ENTRYPOINT") == []
    (command,) = arguments_of("CMD")
    assert json.loads(command)[0] == "scrapy"  # exec form: a plain command for self-hosting
    scripts = {
        ep.name: ep.value for ep in metadata.distribution("scrapinghub-entrypoint-scrapy").entry_points
    }
    assert {"start-crawl", "shub-image-info"} <= set(scripts)
    for name in ("start-crawl", "shub-image-info"):
        assert (VENV_BIN / name).exists()


def test_the_image_names_the_same_project_settings_as_scrapy_cfg_and_the_package() -> None:
    settings_module = image_environment()["SCRAPY_SETTINGS_MODULE"]
    scrapy_cfg = configparser.ConfigParser(interpolation=None)
    scrapy_cfg.read(REPO / "scrapy.cfg")
    assert scrapy_cfg["settings"]["default"] == settings_module
    entry_points = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]["scrapy"]
    assert entry_points == {"settings": settings_module}
    assert scrapy_cfg["deploy"]["project"] == "newhomie"
    shub = yaml.safe_load((REPO / "scrapinghub.yml").read_text(encoding="utf-8"))
    # The custom image, never a stack (shub refuses both at once); the image installs requirements.txt itself.
    assert shub["image"] is True
    assert not {"stack", "stacks", "requirements"} & set(shub)
    assert (REPO / shub.get("dockerfile", "Dockerfile")).is_file()
    for project in (shub.get("projects") or {}).values():
        assert isinstance(project, int) or (isinstance(project, dict) and project.get("image", True) is True)


def test_the_image_sets_a_system_chromium_that_needs_no_home_directory() -> None:
    env = image_environment()
    chromium = env["NEWHOMIE_CHROMIUM"]
    assert not chromium.startswith(("~", "/root", "/home", "/scrapinghub")), chromium
    installs = [run for run in arguments_of("RUN") if "apt-get install" in run]
    assert installs, "the image installs no browser"
    assert "chromium" in installs[0].split()
    # Debian's package puts the browser where the image says; this machine runs Debian's package too.
    assert chromium == "/usr/bin/chromium"


@pytest.fixture(scope="module")
def installed_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package as the image's `RUN pip install --no-deps .` installs it (here into a target directory)."""
    root = tmp_path_factory.mktemp("image")
    project = copy_project(root / "app")
    target = root / "site-packages"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(target),
            str(project),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return target


@pytest.fixture
def short_tmpdir() -> Iterator[Path]:
    """TMPDIR for a job: the entry point's JOBDIR lands there, and so does Chromium's profile, whose socket
    path must stay under the 108 bytes a Unix socket allows (pytest's tmp_path is too deep)."""
    path = Path(tempfile.mkdtemp(prefix="nh-job-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def job_environment(installed: Path, home: Path, tmpdir: Path, extra: dict[str, str]) -> dict[str, str]:
    """What a Scrapy Cloud job sees: the image's ENV, an empty HOME, the installed package, the job's own."""
    return {
        "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
        # The image's site-packages: the virtualenv's (the same pins) plus the installed package.
        "PYTHONPATH": str(installed),
        "HOME": str(home),
        "TMPDIR": str(tmpdir),
        **image_environment(),
        **extra,
    }


def test_shub_image_info_lists_the_spider_from_the_installed_package(
    installed_package: Path, tmp_path: Path, short_tmpdir: Path
) -> None:
    (tmp_path / "home").mkdir()
    result = subprocess.run(
        [str(VENV_BIN / "shub-image-info")],
        cwd=tmp_path,
        env=job_environment(installed_package, tmp_path / "home", short_tmpdir, {}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "project_type": "scrapy",
        "spiders": ["listings"],
    }


@pytest.mark.e2e
def test_start_crawl_runs_a_scrapy_cloud_job_that_lands_the_site(
    installed_package: Path,
    fakesite_factory: FakeSiteFactory,
    database_url: str,
    tmp_path: Path,
    short_tmpdir: Path,
) -> None:
    running: RunningSite = fakesite_factory(localities=2, seed=5, listings_per_locality=(2, 6))
    site = running.site
    work, home = tmp_path / "scrapinghub", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    pipe = tmp_path / "pipe"
    job = {
        "key": "123/4/5",
        "auth": "job-auth",
        "spider": "listings",
        "spider_args": {"localities": ";".join(site.locality_strings())},
        "tags": [],
    }
    # The database URL reaches the job from the environment, as the design wants; on Scrapy Cloud itself
    # see the README's note on where that comes from.
    extra = {
        "SHUB_JOB_DATA": json.dumps(job),
        "SHUB_SETTINGS": json.dumps({"job_settings": FAST_SETTINGS}),
        "SHUB_FIFO_PATH": str(pipe),
        db.DATABASE_URL_ENV: database_url,
        "DOMAIN_BASE_URL": running.base_url,
    }
    result = subprocess.run(
        [str(VENV_BIN / "start-crawl")],
        cwd=work,
        env=job_environment(installed_package, home, short_tmpdir, extra),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    messages = pipe.read_text(encoding="utf-8").splitlines() if pipe.exists() else []
    assert result.returncode == 0, (result.stderr[-3000:], messages[-40:])
    assert 'FIN {"outcome":"finished"}' in messages, messages[-40:]
    errors = [m for m in messages if m.startswith("LOG ") and json.loads(m[4:])["level"] >= 40]
    assert errors == []

    assert truth_ids(site), "the local site should serve listings"
    assert_database_holds_ground_truth(site, database_url, running.base_url)
    runs = fetch_all(database_url, "SELECT status, health FROM crawl_run")
    assert runs == [{"status": "finished", "health": "healthy"}]
