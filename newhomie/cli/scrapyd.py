"""Scrapyd's HTTP API, as `python -m newhomie schedule` uses it: a node, its jobs, and the job ids
that name a crawl's shards (`KEY+shard-K-of-N+ATTEMPT`). A password is never printed."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

from newhomie.store.redact import redact_url

SCRAPYD_URL_ENV = "SCRAPYD_URL"  # the same variable as scrapy.cfg's [deploy] target
SCRAPYD_USERNAME_ENV = "SCRAPYD_USERNAME"
SCRAPYD_PASSWORD_ENV = "SCRAPYD_PASSWORD"


HTTP_TIMEOUT_SECONDS = 30.0


_JOB_ID = re.compile(r"^(?P<key>[^+]+)\+shard-(?P<k>\d+)-of-(?P<n>\d+)\+(?P<attempt>[^+]+)$")

Shard = tuple[int, int]


class ScrapydError(RuntimeError):
    """A node could not be reached, refused the request, or answered with an error; says which node."""


def shard_text(shard: Shard) -> str:
    return f"{shard[0]}/{shard[1]}"


def job_id(crawl_key: str, shard: Shard, attempt: str) -> str:
    """`KEY+shard-K-of-N+ATTEMPT`. Scrapyd names the job's log file after it, so the key's `/` (allowed in
    crawl keys, not in a file name) becomes `~`; `+` and `~` are not allowed in crawl keys, so the id
    reads back unambiguously."""
    return f"{crawl_key.replace('/', '~')}+shard-{shard[0]}-of-{shard[1]}+{attempt}"


def parse_job_id(text: str) -> tuple[str, Shard] | None:
    """(crawl key, shard) of a job id made by `job_id`; None for any other job."""
    match = _JOB_ID.match(text)
    if not match:
        return None
    return match["key"].replace("~", "/"), (int(match["k"]), int(match["n"]))


def new_attempt() -> str:
    """Unique per scheduling, and readable: when it was scheduled."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"


@dataclass(frozen=True)
class ScrapydNode:
    """A Scrapyd server: its URL without credentials (safe to print), and the credentials apart."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, text: str, env: Mapping[str, str] = os.environ) -> ScrapydNode:
        """`http://host:6800`, `https://user:pass@host:6800/prefix/`; credentials from the environment
        for a URL that names no user."""
        parts = urlsplit(text.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"bad Scrapyd URL {redact_url(text)!r}: expected http(s)://host:port")
        username = unquote(parts.username) if parts.username else env.get(SCRAPYD_USERNAME_ENV) or None
        password = unquote(parts.password) if parts.password else env.get(SCRAPYD_PASSWORD_ENV)
        netloc = parts.netloc.rpartition("@")[2]
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        url = urlunsplit((parts.scheme, netloc, path, "", ""))
        return cls(url=url, username=username, password=password if username else None)

    @property
    def name(self) -> str:
        return self.url.rstrip("/")

    def call(
        self, endpoint: str, fields: Sequence[tuple[str, str]] = (), *, post: bool = False
    ) -> dict[str, Any]:
        """One API call; its JSON answer when Scrapyd says "ok", else ScrapydError with its message."""
        query = urlencode(list(fields))
        url = self.url + endpoint + ("" if post or not query else f"?{query}")
        request = urllib.request.Request(url, data=query.encode() if post else None)
        if self.username:
            token = base64.b64encode(f"{self.username}:{self.password or ''}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                if exc.code == 401:
                    raise ScrapydError(
                        f"{self.name} refused the credentials (HTTP 401): put user:password@ in the URL, "
                        f"or set {SCRAPYD_USERNAME_ENV} and {SCRAPYD_PASSWORD_ENV}"
                    ) from None
                raise ScrapydError(
                    f"{self.name}/{endpoint}: HTTP {exc.code} {_error_message(exc.read())}"
                ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ScrapydError(f"cannot reach Scrapyd at {self.name}: {reason}") from exc
        try:
            answer: dict[str, Any] = json.loads(body)
        except ValueError:
            raise ScrapydError(f"{self.name}/{endpoint} did not answer JSON: {body[:200]!r}") from None
        if answer.get("status") != "ok":
            raise ScrapydError(f"{self.name}/{endpoint}: {answer.get('message', answer)}")
        return answer

    def daemon_status(self) -> dict[str, Any]:
        return self.call("daemonstatus.json")

    def list_jobs(self, project: str) -> dict[str, Any]:
        return self.call("listjobs.json", [("project", project)])

    def schedule(
        self, project: str, spider: str, jobid: str, settings: Mapping[str, str], arguments: Mapping[str, str]
    ) -> None:
        fields = [("project", project), ("spider", spider), ("jobid", jobid)]
        fields += [("setting", f"{name}={value}") for name, value in settings.items()]
        fields += list(arguments.items())
        self.call("schedule.json", fields, post=True)


def _error_message(body: bytes) -> str:
    try:
        return str(json.loads(body).get("message", ""))
    except (ValueError, AttributeError):
        return body[:200].decode(errors="replace")
