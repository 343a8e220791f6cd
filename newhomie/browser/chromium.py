"""Which Chromium to launch.

Playwright's own Chromium is used where it was downloaded; where it could not be (no network to
its download host), the system Chromium (Debian's `chromium` package) serves just as well.
`BrowserAddon` (a Scrapy add-on) points scrapy-playwright at it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from scrapy.settings import BaseSettings

SYSTEM_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


# Where `playwright install chromium` puts its builds, newest layouts first.
PLAYWRIGHT_BUILD_PATTERNS = (
    "chromium_headless_shell-*/chrome-headless-shell-linux64/chrome-headless-shell",
    "chromium_headless_shell-*/chrome-linux/headless_shell",
    "chromium-*/chrome-linux64/chrome",
    "chromium-*/chrome-linux/chrome",
)


def _revision(path: Path, root: Path) -> int:
    digits = path.relative_to(root).parts[0].rsplit("-", 1)[-1]
    return int(digits) if digits.isdigit() else 0


def playwright_chromium() -> Path | None:
    """The newest Chromium that `playwright install` downloaded, if any.

    Its path is passed explicitly, so a build of another revision than this Playwright's own
    still serves (Playwright alone would refuse it as missing).
    """
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    candidates = [
        path
        for pattern in PLAYWRIGHT_BUILD_PATTERNS
        for path in root.glob(pattern)
        if os.access(path, os.X_OK)
    ]
    return max(candidates, key=lambda path: _revision(path, root), default=None)


def system_chromium() -> Path | None:
    for name in SYSTEM_CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def resolve_chromium(explicit: str | None) -> Path:
    """The binary to launch: an explicit path, else Playwright's own build, else the system one.

    Raises FileNotFoundError with what to do when there is none at all.
    """
    if explicit:
        path = Path(explicit)
        if not os.access(path, os.X_OK):
            raise FileNotFoundError(f"NEWHOMIE_CHROMIUM={explicit} is not an executable file")
        return path
    found = playwright_chromium() or system_chromium()
    if found is None:
        raise FileNotFoundError(
            "no Chromium found: run `make setup` (it installs one), `playwright install chromium`, "
            "or set NEWHOMIE_CHROMIUM=/path/to/chromium"
        )
    return found


class BrowserAddon:
    """Points PLAYWRIGHT_LAUNCH_OPTIONS at the Chromium this machine has."""

    def update_settings(self, settings: BaseSettings) -> None:
        options = dict(settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS"))
        if options.get("executable_path"):
            return
        options["executable_path"] = str(resolve_chromium(settings.get("NEWHOMIE_CHROMIUM")))
        # Kept at the priority it was given (the project's), which an add-on's own would not override.
        priority = settings.getpriority("PLAYWRIGHT_LAUNCH_OPTIONS") or "addon"
        settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", options, priority=priority)
