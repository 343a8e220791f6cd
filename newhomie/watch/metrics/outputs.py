"""Where metrics go: a Pushgateway, a node_exporter textfile, the /metrics page."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

from prometheus_client.exposition import (
    CONTENT_TYPE_PLAIN_0_0_4,
    basic_auth_handler,
    default_handler,
    push_to_gateway,
)
from prometheus_client.metrics_core import (
    Metric,
)
from prometheus_client.parser import text_string_to_metric_families
from twisted.web import http
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from newhomie.store.redact import redact_url
from newhomie.watch.metrics.families import Families

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Gateway:
    """A Pushgateway: its URL without credentials, and the credentials for basic auth."""

    url: str
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, text: str) -> Self:
        text = text.strip()
        if "://" not in text:
            text = f"http://{text}"  # scrapy-prometheus took "host:port"
        parts = urlsplit(text)
        if parts.username is None and parts.password is None:
            return cls(text)
        netloc = parts.netloc.rsplit("@", 1)[1]
        return cls(urlunsplit(parts._replace(netloc=netloc)), parts.username, parts.password)

    @property
    def shown(self) -> str:
        """For logs: the URL with the user, never the password."""
        if self.username is None:
            return self.url
        parts = urlsplit(self.url)
        user = self.username if self.password is None else f"{self.username}:{self.password}"
        return redact_url(urlunsplit(parts._replace(netloc=f"{user}@{parts.netloc}")))

    def push(self, job: str, families: list[Metric], grouping_key: dict[str, str], timeout: float) -> None:
        push_to_gateway(
            self.url,
            job,
            Families(families),
            grouping_key=grouping_key,
            timeout=timeout,
            handler=self._handler,
        )

    def _handler(self, url: str, method: str, timeout: float | None, headers: list[Any], data: bytes) -> Any:
        if self.username is None:
            return default_handler(url, method, timeout, headers, data)
        return basic_auth_handler(url, method, timeout, headers, data, self.username, self.password)


def read_last_success(path: str, name: str, labels: Mapping[str, str]) -> float | None:
    """The last-success time in a textfile we wrote before, for the same spider and shard."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        logger.warning("cannot read the previous metrics textfile %s: %s", path, exc)
        return None
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return float(sample.value)
    except ValueError as exc:
        logger.warning("previous metrics textfile %s is not in the exposition format: %s", path, exc)
    return None


@dataclass(frozen=True)
class Snapshot:
    """One collection, shaped for each output; built in the reactor thread, written out in another."""

    run: list[Metric]
    labelled: list[Metric]
    success: list[Metric] = field(default_factory=list)


@dataclass
class ExportOutcome:
    pushed: bool | None = None
    written: bool | None = None


class MetricsPage(Resource):
    isLeaf = True

    def __init__(self, render: Callable[[], bytes]) -> None:
        super().__init__()
        self._render = render

    def render_GET(self, request: Request) -> bytes:
        if request.path != b"/metrics":
            request.setResponseCode(404)
            return b"metrics are at /metrics\n"
        try:
            body = self._render()
        except Exception:
            logger.exception("collecting metrics for /metrics failed")
            request.setResponseCode(500)
            return b"collecting metrics failed; see the crawl's log\n"
        request.setHeader(b"Content-Type", CONTENT_TYPE_PLAIN_0_0_4.encode())
        return body


class QuietSite(Site):
    """No access log: a scrape every 15 s would fill the crawl's log."""

    noisy = False

    def log(self, request: http.Request) -> None:
        return None
