"""Which Chromium is launched: an explicit one, Playwright's newest build, else the system one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from scrapy.settings import Settings

from newhomie.browser import chromium as browser
from newhomie.browser.rendering import should_abort_request


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_playwright_build_newest_revision_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path))
    assert browser.playwright_chromium() is None
    _executable(tmp_path / "chromium-1100/chrome-linux/chrome")
    shell = "chromium_headless_shell-1255/chrome-headless-shell-linux64/chrome-headless-shell"
    newest = _executable(tmp_path / shell)
    (tmp_path / "chromium-1300/chrome-linux").mkdir(parents=True)  # a download that never finished
    assert browser.playwright_chromium() == newest


def test_explicit_path_wins_and_a_bad_one_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path))
    mine = _executable(tmp_path / "bin" / "my-chrome")
    assert browser.resolve_chromium(str(mine)) == mine
    with pytest.raises(FileNotFoundError, match="/nowhere/chrome"):
        browser.resolve_chromium("/nowhere/chrome")


def test_system_chromium_when_playwright_has_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "empty"))
    system = _executable(tmp_path / "bin" / "chromium")
    monkeypatch.setenv("PATH", str(system.parent))
    assert browser.resolve_chromium(None) == system
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    with pytest.raises(FileNotFoundError, match="make setup"):
        browser.resolve_chromium(None)


def test_addon_sets_the_executable_at_the_projects_priority(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "empty"))
    system = _executable(tmp_path / "bin" / "chromium")
    monkeypatch.setenv("PATH", str(system.parent) + os.pathsep + os.environ.get("PATH", ""))
    settings = Settings()
    settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", {"headless": True}, priority="project")
    browser.BrowserAddon().update_settings(settings)
    assert settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS") == {"headless": True, "executable_path": str(system)}


@pytest.mark.parametrize(("resource_type", "aborted"), [("image", True), ("font", True), ("media", True),
                                                        ("document", False), ("script", False)])  # fmt: skip
def test_only_images_fonts_and_media_are_aborted(resource_type: str, aborted: bool) -> None:
    class FakeRequest:  # only the attribute the predicate reads
        pass

    request = FakeRequest()
    request.resource_type = resource_type  # type: ignore[attr-defined]
    assert should_abort_request(request) is aborted  # type: ignore[arg-type]
