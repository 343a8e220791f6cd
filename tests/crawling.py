"""Running the real `scrapy crawl listings` against the local site, for end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import psycopg2.extras

from newhomie import db

REPO = Path(__file__).resolve().parents[1]

# Politeness is for the real site; the local one is ours and on loopback.
FAST_SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_START_DELAY": "0",
    "AUTOTHROTTLE_TARGET_CONCURRENCY": "4",
    "CONCURRENT_REQUESTS": "4",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "4",
    "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": "4",
    "NEWHOMIE_DB_FLUSH_SECONDS": "0.5",
}


def run_crawl(
    base_url: str,
    database_url: str | None,
    localities: str,
    *extra_args: str,
    settings: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOMAIN_BASE_URL": base_url}
    env.pop(db.DATABASE_URL_ENV, None)
    if database_url is not None:
        env[db.DATABASE_URL_ENV] = database_url
    command = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "listings",
        "-a",
        f"localities={localities}",
        *extra_args,
    ]
    for name, value in {**FAST_SETTINGS, **(settings or {})}.items():
        command += ["-s", f"{name}={value}"]
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def fetch_all(database_url: str, statement: str, params: Sequence[object] = ()) -> list[dict[str, object]]:
    conn = db.connect(database_url)
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(statement, params)
            return [dict(row) for row in cur.fetchall()]
    finally:
        conn.close()
