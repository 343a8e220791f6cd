"""The Docker image for Zyte Scrapy Cloud and self-hosting, tested without a Docker engine (none runs here).

What the image does is tested from its Dockerfile: the files it copies, the pinned requirements it
installs, the environment it sets. What it installs is rebuilt here as a virtualenv holding only the
distributions those pins install (linked from .venv, which holds the same versions: offline, in a second
or two): the package's modules are imported and `scrapy list` run with requirements.txt's alone, and
Scrapy Cloud's entry points run for real with the image's, the way Scrapy Cloud runs them:
`start-crawl` from scrapinghub-entrypoint-scrapy, with the package installed as `pip install .` installs
it, in an empty working directory, with an empty HOME and only the image's environment, a job description
in SHUB_JOB_DATA, the settings set in Scrapy Cloud's UI in SHUB_SETTINGS and a file for the platform's
pipe. (scripts/check_runtime_requirements.py does the same with a real `pip install` from the index.)
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
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from newhomie.store.redact import redact_url
from newhomie.store.target import DATABASE_URL_ENV
from newhomie.testing.fakesite import RunningSite
from newhomie.testing.fixtures import FakeSiteFactory
from tests.crawling import FAST_SETTINGS, assert_database_holds_ground_truth, fetch_all, truth_ids
from tests.deploy.test_packaging import copy_project, distribution_closure
from tests.imports import third_party_imports
from tests.paths import REPO

#: What the crawler needs at run time; what the image installs (those and Scrapy Cloud's entry points);
#: what `make setup` installs into .venv (those and the tools for tests and checks).
RUNTIME_REQUIREMENTS = REPO / "requirements.txt"
IMAGE_REQUIREMENTS = REPO / "requirements-image.txt"
DEV_REQUIREMENTS = REPO / "requirements-dev.txt"
SCRAPY_CLOUD_ENTRY_POINTS = "scrapinghub-entrypoint-scrapy"
#: The package's pytest plugin (fixtures for the local site): test support, which imports pytest.
TEST_ONLY_MODULES = {"newhomie.testing.fixtures"}


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


def pinned_requirements(path: Path) -> dict[str, str]:
    """The pins of a requirements file and of the files it includes with `-r` (relative to it, as pip reads
    them), by name as written; each one pinned with == and pinned once."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        option, _, included = text.partition(" ")
        if option in ("-r", "--requirement"):
            for name, version in pinned_requirements(path.parent / included.strip()).items():
                assert name not in pins, f"{path.name}: {name} is pinned twice"
                pins[name] = version
            continue
        assert not text.startswith("-"), f"{path.name}: {text!r}: only pins and -r are expected"
        requirement = Requirement(text)
        specifiers = list(requirement.specifier)
        assert specifiers, f"{path.name}: {text!r} has no version"
        specifier, *more = specifiers
        assert specifier.operator == "==", f"{path.name}: {text!r} is not pinned with =="
        assert not more, f"{path.name}: {text!r} is not one pin"
        assert requirement.name not in pins, f"{path.name}: {requirement.name} is pinned twice"
        if requirement.marker is None or requirement.marker.evaluate():  # a pin for other Pythons only
            pins[requirement.name] = specifier.version
    return pins


def installed_closure(path: Path) -> set[str]:
    """What `pip install -r path` installs, as normalised names: the pins and what they require (read from
    the metadata of .venv, which holds exactly these pins, test_the_requirement_files_build_on_each_other)."""
    return distribution_closure([f"{name}=={version}" for name, version in pinned_requirements(path).items()])


def imported_distributions(package: Path) -> dict[str, set[str]]:
    """The distributions (normalised) that the modules under `package` import, with the modules importing
    each; TEST_ONLY_MODULES left out. Imports inside functions count: they run at run time too."""
    providers = metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        module = ".".join(path.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__")
        if module in TEST_ONLY_MODULES:
            continue
        for top in third_party_imports(path):
            for distribution in providers.get(top, [f"<no installed distribution provides {top}>"]):
                found.setdefault(canonicalize_name(distribution), set()).add(module)
    return found


def linked_venv(destination: Path, requirements: Path) -> Path:
    """A virtualenv holding only the distributions `pip install -r requirements` installs: each one's
    files (its RECORD) linked from .venv, and its console scripts written as pip writes them. Offline and
    fast, and exactly those distributions: an import of anything else fails in it. Returns its bin/."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(destination)], check=True, timeout=120)
    (site_packages,) = destination.glob("lib/python*/site-packages")
    bin_dir = destination / "bin"
    for name in sorted(installed_closure(requirements)):
        distribution = metadata.distribution(name)
        for file in distribution.files or []:
            if file.parts[0] == "..":  # scripts in .venv/bin, written below for this venv
                continue
            link = site_packages / file
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(Path(str(distribution.locate_file(file))).resolve())
        for entry_point in distribution.entry_points.select(group="console_scripts"):
            module, _, function = entry_point.value.partition(":")
            script = bin_dir / entry_point.name
            top = function.split(".")[0]
            script.write_text(
                f"#!{bin_dir / 'python'}\nimport sys\nfrom {module} import {top}\nsys.exit({function}())\n",
                encoding="utf-8",
            )
            script.chmod(0o755)
    return bin_dir


def test_the_image_runs_a_supported_python_that_ci_tests() -> None:
    """The image's Python is one the project supports and CI runs the suite under: `make setup` takes the
    newest Python of the machine (3.13 on CI's), `make test-python` the oldest other one (3.11)."""
    (base,) = arguments_of("FROM")
    image, _, tag = base.partition(":")
    assert image == "python"
    version, _, variant = tag.partition("-")
    assert variant.startswith("slim-"), tag  # pinned Debian too
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11"
    assert tuple(int(part) for part in version.split(".")) >= (3, 13), f"{tag}: not a current Python"
    assert sys.version_info >= (3, 11)


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


def test_the_requirement_files_build_on_each_other_and_venv_holds_their_pins() -> None:
    runtime, image, dev = (
        pinned_requirements(p) for p in (RUNTIME_REQUIREMENTS, IMAGE_REQUIREMENTS, DEV_REQUIREMENTS)
    )
    assert runtime.items() <= image.items() <= dev.items()
    # The image adds Scrapy Cloud's entry points and nothing else; its pin is written once, there.
    assert set(image) - set(runtime) == {SCRAPY_CLOUD_ENTRY_POINTS}
    assert SCRAPY_CLOUD_ENTRY_POINTS not in DEV_REQUIREMENTS.read_text(encoding="utf-8")
    # What the image installs is what this virtualenv holds, so these tests speak for the image.
    assert {name: metadata.version(name) for name in dev} == dev


def test_the_image_installs_its_pins_then_the_package_alone() -> None:
    runs = [i for i in dockerfile() if i.keyword in ("COPY", "RUN")]
    texts = [f"{i.keyword} {i.arguments}" for i in runs]
    install_requirements = texts.index(f"RUN pip install -r {IMAGE_REQUIREMENTS.name}")
    # Both files: requirements-image.txt includes requirements.txt.
    copy_requirements = texts.index(f"COPY {RUNTIME_REQUIREMENTS.name} {IMAGE_REQUIREMENTS.name} /app/")
    assert copy_requirements < install_requirements
    install_package = texts.index("RUN pip install --no-deps .")
    assert install_requirements < install_package
    assert texts.index("COPY newhomie /app/newhomie") < install_package
    assert [t for t in texts if "pip install" in t] == [texts[install_requirements], texts[install_package]]
    assert not [t for t in texts if DEV_REQUIREMENTS.name in t]

    # `--no-deps .` installs nothing else: every dependency the package declares must be pinned for run time.
    pins = {
        canonicalize_name(name): version
        for name, version in pinned_requirements(RUNTIME_REQUIREMENTS).items()
    }
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for text in declared:
        requirement = Requirement(text)
        pinned = pins.get(canonicalize_name(requirement.name))
        assert pinned is not None, f"{requirement.name} is declared but not pinned in requirements.txt"
        assert requirement.specifier.contains(pinned), f"{requirement.name}=={pinned} does not satisfy {text}"


def test_the_image_installs_no_test_or_development_tool() -> None:
    image = installed_closure(IMAGE_REQUIREMENTS)
    image_pins = {canonicalize_name(name) for name in pinned_requirements(IMAGE_REQUIREMENTS)}
    dev_only = {canonicalize_name(name) for name in pinned_requirements(DEV_REQUIREMENTS)} - image_pins
    # Named, so that a tool moved into the image's lists fails here whatever the dev list says; with what
    # pytest and mypy bring along.
    tools = {"pytest", "pytest-timeout", "hypothesis", "ruff", "mypy", "pyyaml", "scrapyd", "scrapyd-client"}
    assert tools <= dev_only
    # Neither pinned for the image nor pulled in by what is.
    assert image & (dev_only | tools | {"pluggy", "iniconfig", "mypy-extensions", "uberegg"}) == set()


def test_every_import_of_the_package_is_satisfied_by_the_runtime_requirements_alone() -> None:
    runtime = installed_closure(RUNTIME_REQUIREMENTS)
    imported = imported_distributions(REPO / "newhomie")
    read = {"scrapy", "playwright", "psycopg2-binary", "pydantic", "twisted"}
    assert read <= set(imported)  # the scan finds imports (Twisted comes with Scrapy, it is not pinned)
    missing = {name: sorted(modules) for name, modules in imported.items() if name not in runtime}
    assert missing == {}, "imported at run time but not installed by requirements.txt"


def test_scrapy_cloud_can_run_its_commands_in_the_image() -> None:
    # Scrapy Cloud runs `start-crawl` and `shub-image-info` as the container's command: an ENTRYPOINT would
    # receive them as its arguments instead.
    assert arguments_of("ENTRYPOINT") == []
    (command,) = arguments_of("CMD")
    assert json.loads(command)[0] == "scrapy"  # exec form: a plain command for self-hosting
    scripts = {ep.name for ep in metadata.distribution(SCRAPY_CLOUD_ENTRY_POINTS).entry_points}
    assert {"start-crawl", "shub-image-info"} <= scripts


def test_the_image_names_the_same_project_settings_as_scrapy_cfg_and_the_package() -> None:
    settings_module = image_environment()["SCRAPY_SETTINGS_MODULE"]
    scrapy_cfg = configparser.ConfigParser(interpolation=None)
    scrapy_cfg.read(REPO / "scrapy.cfg")
    assert scrapy_cfg["settings"]["default"] == settings_module
    entry_points = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]["scrapy"]
    assert entry_points == {"settings": settings_module}
    assert scrapy_cfg["deploy"]["project"] == "newhomie"
    shub = yaml.safe_load((REPO / "scrapinghub.yml").read_text(encoding="utf-8"))
    # The custom image, never a stack (shub refuses both at once); the image installs its requirements itself.
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


@pytest.fixture(scope="module")
def runtime_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a virtualenv with requirements.txt's distributions alone."""
    return linked_venv(tmp_path_factory.mktemp("runtime") / "venv", RUNTIME_REQUIREMENTS)


@pytest.fixture(scope="module")
def image_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a virtualenv with what the image installs: requirements-image.txt's distributions alone."""
    return linked_venv(tmp_path_factory.mktemp("image-venv") / "venv", IMAGE_REQUIREMENTS)


@pytest.fixture
def short_tmpdir() -> Iterator[Path]:
    """TMPDIR for a job: the entry point's JOBDIR lands there, and so does Chromium's profile, whose socket
    path must stay under the 108 bytes a Unix socket allows (pytest's tmp_path is too deep)."""
    path = Path(tempfile.mkdtemp(prefix="nh-job-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def job_environment(
    bin_dir: Path, installed: Path, home: Path, tmpdir: Path, extra: dict[str, str]
) -> dict[str, str]:
    """What a Scrapy Cloud job sees: the image's ENV, an empty HOME, the installed package, the job's own."""
    return {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        # The image's site-packages: the virtualenv's (the image's pins) plus the installed package.
        "PYTHONPATH": str(installed),
        "HOME": str(home),
        "TMPDIR": str(tmpdir),
        **image_environment(),
        **extra,
    }


# Checked absent from the runtime virtualenv: what only tests, checks or Scrapy Cloud need.
NOT_AT_RUN_TIME = ("pytest", "yaml", "hypothesis", "scrapyd", "sh_scrapy")


def test_the_runtime_requirements_alone_import_every_module_and_list_the_spider(
    runtime_bin: Path, installed_package: Path, tmp_path: Path, short_tmpdir: Path
) -> None:
    (tmp_path / "home").mkdir()
    env = job_environment(runtime_bin, installed_package, tmp_path / "home", short_tmpdir, {})
    probe = ["-m", "newhomie.testing.import_probe", "--skip", *TEST_ONLY_MODULES]
    probe += ["--absent", *NOT_AT_RUN_TIME]
    result = subprocess.run(
        [str(runtime_bin / "python"), *probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["failed"] == {}
    assert Path(report["package"]).is_relative_to(installed_package)
    assert report["modules"] > 20
    # The virtualenv really holds nothing else: what only tests, checks or Scrapy Cloud need is absent.
    assert report["absent"] == ["pytest", "yaml", "hypothesis", "scrapyd", "sh_scrapy"]

    listed = subprocess.run(
        [str(runtime_bin / "scrapy"), "list"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert listed.stdout.split() == ["listings"]


def test_shub_image_info_lists_the_spider_and_its_arguments_from_the_installed_package(
    image_bin: Path, installed_package: Path, tmp_path: Path, short_tmpdir: Path
) -> None:
    (tmp_path / "home").mkdir()
    result = subprocess.run(
        [str(image_bin / "shub-image-info")],
        cwd=tmp_path,
        env=job_environment(image_bin, installed_package, tmp_path / "home", short_tmpdir, {}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    info = json.loads(result.stdout.strip().splitlines()[-1])
    assert (info["project_type"], info["spiders"]) == ("scrapy", ["listings"])
    # Scrapy Cloud's UI offers the spider's arguments from this schema (scrapy-spider-metadata).
    schema = info["metadata"]["listings"]["param_schema"]
    assert {"localities", "shard", "kinds", "crawl"} <= set(schema["properties"])
    assert schema["properties"]["shard"]["type"] == "string"


@dataclass(frozen=True)
class JobRun:
    result: subprocess.CompletedProcess[str]
    #: What the job sent down the platform's pipe: its log lines, stats, items and the end.
    messages: list[str]

    def output(self) -> str:
        """Everything the job wrote anywhere Scrapy Cloud keeps or shows."""
        return "\n".join([self.result.stdout, self.result.stderr, *self.messages])


def run_scrapy_cloud_job(
    image_bin: Path,
    installed: Path,
    running: RunningSite,
    tmp_path: Path,
    tmpdir: Path,
    *,
    settings: dict[str, dict[str, str]],
    environment: dict[str, str],
) -> JobRun:
    """`start-crawl` as Scrapy Cloud runs it for `listings` over the local site's localities, with the
    settings set in Scrapy Cloud's UI by section (SHUB_SETTINGS) and extra environment variables."""
    work, home = tmp_path / "scrapinghub", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    pipe = tmp_path / "pipe"
    job = {
        "key": "123/4/5",
        "auth": "job-auth",
        "spider": "listings",
        "spider_args": {"localities": ";".join(running.site.locality_strings())},
        "tags": [],
    }
    extra = {
        "SHUB_JOB_DATA": json.dumps(job),
        "SHUB_SETTINGS": json.dumps(settings),
        "SHUB_FIFO_PATH": str(pipe),
        "DOMAIN_BASE_URL": running.base_url,
        **environment,
    }
    result = subprocess.run(
        [str(image_bin / "start-crawl")],
        cwd=work,
        env=job_environment(image_bin, installed, home, tmpdir, extra),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    messages = pipe.read_text(encoding="utf-8").splitlines() if pipe.exists() else []
    return JobRun(result, messages)


def assert_job_landed_the_site(job: JobRun, running: RunningSite, database_url: str) -> None:
    assert job.result.returncode == 0, (job.result.stderr[-3000:], job.messages[-40:])
    assert 'FIN {"outcome":"finished"}' in job.messages, job.messages[-40:]
    errors = [m for m in job.messages if m.startswith("LOG ") and json.loads(m[4:])["level"] >= 40]
    assert errors == []
    assert truth_ids(running.site), "the local site should serve listings"
    assert_database_holds_ground_truth(running.site, database_url, running.base_url)
    runs = fetch_all(database_url, "SELECT status, health FROM crawl_run")
    assert runs == [{"status": "finished", "health": "healthy"}]


@pytest.mark.e2e
def test_start_crawl_runs_a_scrapy_cloud_job_that_lands_the_site(
    image_bin: Path,
    installed_package: Path,
    fakesite_factory: FakeSiteFactory,
    database_url: str,
    tmp_path: Path,
    short_tmpdir: Path,
) -> None:
    running: RunningSite = fakesite_factory(localities=2, seed=5, listings_per_locality=(2, 6))
    # The database URL from the environment: a self-hosted run of the image (`docker run -e ...`).
    job = run_scrapy_cloud_job(
        image_bin,
        installed_package,
        running,
        tmp_path,
        short_tmpdir,
        settings={"job_settings": FAST_SETTINGS},
        environment={DATABASE_URL_ENV: database_url},
    )
    assert_job_landed_the_site(job, running, database_url)


def with_password(url: str) -> tuple[str, str]:
    """The URL with a password, and that password: its own if it has one, else a made-up one (the embedded
    server trusts local connections and ignores it; what matters is that the job was handed it)."""
    parts = urlsplit(url)
    if parts.password:
        return url, parts.password
    password = f"pw-{uuid.uuid4().hex}"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}:{password}@{host}")), password


@pytest.mark.e2e
def test_a_scrapy_cloud_job_gets_the_database_from_the_projects_settings_and_never_logs_its_password(
    image_bin: Path,
    installed_package: Path,
    fakesite_factory: FakeSiteFactory,
    database_url: str,
    tmp_path: Path,
    short_tmpdir: Path,
) -> None:
    running: RunningSite = fakesite_factory(localities=2, seed=7, listings_per_locality=(2, 6))
    url, password = with_password(database_url)
    # No environment variable of ours, as on Scrapy Cloud: the URL is a project setting set in its UI. The
    # job logs at DEBUG (a user may turn it on), so that not even Scrapy's most talkative lines hold it.
    job = run_scrapy_cloud_job(
        image_bin,
        installed_package,
        running,
        tmp_path,
        short_tmpdir,
        settings={
            "project_settings": {DATABASE_URL_ENV: url},
            "job_settings": {**FAST_SETTINGS, "LOG_LEVEL": "DEBUG"},
        },
        environment={},
    )
    assert_job_landed_the_site(job, running, database_url)
    output = job.output()
    assert password not in output
    # The log does say which database, masked, and where its URL came from.
    assert f"PostgreSQL at {redact_url(url)} (from the Scrapy Cloud setting {DATABASE_URL_ENV})" in output
    assert "Overridden settings" in output  # Scrapy's settings line was there, and did not show it
    assert any('"level": 10' in m or '"level":10' in m for m in job.messages)  # DEBUG lines were logged


@pytest.mark.e2e
def test_a_scrapy_cloud_job_without_a_database_stops_before_crawling(
    image_bin: Path,
    installed_package: Path,
    fakesite_factory: FakeSiteFactory,
    tmp_path: Path,
    short_tmpdir: Path,
) -> None:
    running: RunningSite = fakesite_factory(localities=1, seed=3, listings_per_locality=(1, 2))
    job = run_scrapy_cloud_job(
        image_bin,
        installed_package,
        running,
        tmp_path,
        short_tmpdir,
        settings={"job_settings": FAST_SETTINGS},
        environment={},
    )
    # The preflight's exit status, not a crawl into an embedded database that the job's container takes along.
    assert job.result.returncode == 2, (job.result.stderr[-3000:], job.messages[-40:])
    assert f"set {DATABASE_URL_ENV} in the project's (or the spider's) settings" in job.output()
    assert len(running.site.served) == 0  # no page was asked for
    assert not (tmp_path / "scrapinghub" / ".newhomie").exists()  # and no embedded database was made
