"""Checks that can fail a crawl before it starts: a component's `preflight` classmethod."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scrapy.settings import BaseSettings
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object

from newhomie.config import one_line, setting_problems


class PreflightError(Exception):
    """What stops a crawl before it starts, said in one line."""


def run_preflight(spidercls: Any, settings: BaseSettings, spider_arguments: Mapping[str, str]) -> None:
    """The settings (newhomie.config), the spider's check of its arguments, then each enabled item
    pipeline's check."""
    if problems := setting_problems(settings):
        raise PreflightError(f"bad setting: {one_line(problems)}")
    check = getattr(spidercls, "preflight", None)
    if check is not None:
        check(settings, dict(spider_arguments))
    for path in build_component_list(settings.getwithbase("ITEM_PIPELINES")):
        check = getattr(load_object(path), "preflight", None)
        if check is not None:
            check(settings)
