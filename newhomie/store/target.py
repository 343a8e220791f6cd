"""Which database a command or crawl uses.

NEWHOMIE_DATABASE_URL names any PostgreSQL 14+. Without it the embedded PostgreSQL
(`newhomie.store.embedded`) is started on demand. URLs are only ever shown with their password masked.

On Zyte Scrapy Cloud a job gets no environment variables of ours, only the settings set in the UI, in
the JSON of SHUB_SETTINGS: there a setting named NEWHOMIE_DATABASE_URL is read from that JSON (the
environment variable still wins), and a job never falls back to the embedded database, whose data
would vanish with the job's container.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from newhomie.store.embedded import embedded_url
from newhomie.store.errors import DatabaseUnavailable
from newhomie.store.redact import redact_url, remember_secrets

logger = logging.getLogger(__name__)

DATABASE_URL_ENV = "NEWHOMIE_DATABASE_URL"
# What Zyte Scrapy Cloud gives a job (read by scrapinghub-entrypoint-scrapy, sh_scrapy): the settings set
# in its UI, as JSON, in SHUB_SETTINGS; and the job's key in SHUB_JOBKEY, which says we run there.
SCRAPY_CLOUD_SETTINGS_ENV = "SHUB_SETTINGS"
SCRAPY_CLOUD_JOB_ENV = "SHUB_JOBKEY"
# SHUB_SETTINGS' sections, lowest precedence first: sh_scrapy merges them in this order (priorities 10,
# 20, 30, 40), so a job's setting beats its spider's, which beats the organisation's and the project's.
SCRAPY_CLOUD_SECTIONS = ("project_settings", "organization_settings", "spider_settings", "job_settings")


@dataclass(frozen=True)
class DatabaseTarget:
    url: str
    embedded: bool
    #: Where the URL came from, when that is not the environment variable (shown in the log).
    source: str = ""

    def describe(self) -> str:
        kind = "embedded PostgreSQL" if self.embedded else "PostgreSQL"
        return f"{kind} at {redact_url(self.url)}" + (f" (from {self.source})" if self.source else "")


def decode_scrapy_cloud_settings(text: str) -> dict[str, Any]:
    """SHUB_SETTINGS' value: JSON itself, a base64 `data:` URI of it, or a file path (or `file://` URI) to
    it; the forms sh_scrapy's own decoder (sh_scrapy.env.decode_uri) reads, decoded the same way.

    Decoded here rather than with sh_scrapy's function: sh_scrapy is Scrapy Cloud's entry point, installed in
    the image only, and nothing the crawler imports may need more than requirements.txt.
    """
    text = text.strip()
    if text.startswith("data:"):
        header, _, payload = text.rpartition(",")
        mime_type, *parameters = header[len("data:") :].split(";")
        options = dict(p.partition("=")[::2] for p in parameters)
        if "base64" not in options or mime_type not in ("", "application/json"):
            raise ValueError(f"a data: URI of {mime_type or 'JSON'} without base64 is not read")
        decoded = json.loads(base64.b64decode(payload).decode(options.get("charset") or "utf-8"))
    elif text.startswith("{"):
        decoded = json.loads(text)
    elif text.startswith(("/", "file://")):
        decoded = json.loads(Path(text.removeprefix("file://")).read_text(encoding="utf-8"))
    else:
        raise ValueError("neither JSON, a data: URI nor a file path")
    if not isinstance(decoded, dict):
        raise ValueError(f"a JSON {type(decoded).__name__}, not an object")
    return decoded


def scrapy_cloud_setting(name: str) -> str | None:
    """The value Scrapy Cloud's settings give `name` (what sh_scrapy hands Scrapy), or None when no
    section sets it or when not on Scrapy Cloud.

    Read from SHUB_SETTINGS in the environment, as NEWHOMIE_DATABASE_URL is, not from Scrapy's settings:
    this module has none (the `python -m newhomie` commands run without Scrapy), and no setting of ours
    carries the URL. sh_scrapy copies every UI setting into Scrapy's settings too, but Scrapy's
    "Overridden settings" line prints only settings Scrapy defines, so this one is never printed
    (tests/deploy/test_docker.py reads a whole job's output for its password).
    """
    text = os.environ.get(SCRAPY_CLOUD_SETTINGS_ENV, "")
    if not text.strip():
        return None
    try:
        settings = decode_scrapy_cloud_settings(text)
    except (OSError, ValueError, binascii.Error) as exc:
        # These errors name a position, a byte or a path, never the settings' text (it may hold a password).
        logger.warning("cannot read %s (%s); its settings are ignored", SCRAPY_CLOUD_SETTINGS_ENV, exc)
        return None
    value: object = None
    for section in SCRAPY_CLOUD_SECTIONS:
        entries = settings.get(section)
        if isinstance(entries, dict) and name in entries:
            value = entries[name]
    return None if value is None else str(value).strip()


def database_target() -> DatabaseTarget:
    """The database to use: NEWHOMIE_DATABASE_URL; else, on Scrapy Cloud, the setting of that name; else
    the embedded PostgreSQL, except in a Scrapy Cloud job (its data would go with the job's container)."""
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if url:
        remember_secrets(url)
        return DatabaseTarget(url=url, embedded=False)
    url = scrapy_cloud_setting(DATABASE_URL_ENV) or ""
    if url:
        remember_secrets(url)
        return DatabaseTarget(url=url, embedded=False, source=f"the Scrapy Cloud setting {DATABASE_URL_ENV}")
    if os.environ.get(SCRAPY_CLOUD_JOB_ENV):
        raise DatabaseUnavailable(
            f"no database for a Scrapy Cloud job: set {DATABASE_URL_ENV} in the project's (or the spider's) "
            "settings on Scrapy Cloud; an embedded one would be lost with the job's container"
        )
    return DatabaseTarget(url=embedded_url(), embedded=True)


def with_database(url: str, name: str) -> str:
    """The same server's URL for another database."""
    if "://" not in url:
        return f"{url} dbname={name}"
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
