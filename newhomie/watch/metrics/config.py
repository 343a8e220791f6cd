"""The exporter's settings, read once, with their defaults (newhomie/settings.py may set any of them)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from scrapy.settings import BaseSettings

from newhomie.watch.metrics.outputs import Gateway

#: Pushgateway URL ("http://host:9091", or scrapy-prometheus's "host:9091"); empty: no push.
#: Falls back to the environment variable PROMETHEUS_PUSHGATEWAY (for URLs with a password).
PROMETHEUS_PUSHGATEWAY = ""
#: The `job` label of pushed metrics.
PROMETHEUS_JOB = "scrapy"
#: The first part of every metric name.
PROMETHEUS_METRIC_PREFIX = "scrapy"
#: Extra grouping labels of the push; `instance` defaults to the host name; spider and shard are ours.
PROMETHEUS_GROUPING_KEY: dict[str, str] = {}
#: Seconds a push may take.
PROMETHEUS_PUSH_TIMEOUT = 5.0
#: Seconds between pushes and textfile writes during the crawl; 0: only at close.
PROMETHEUS_PUSH_INTERVAL = 0.0
#: Path of the textfile (must end in .prom for node_exporter); `{spider}`, `{shard}` are filled in.
PROMETHEUS_TEXTFILE = ""
#: Port of the /metrics endpoint while the crawl runs; 0: off; "low,high": the first free one.
PROMETHEUS_PORT = 0
#: Address the endpoint listens on.
PROMETHEUS_HOST = "127.0.0.1"
#: Seconds between process samples that only update the memory peaks; 0: sample only at exports.
PROMETHEUS_SAMPLE_INTERVAL = 10.0

GATEWAY_ENV = "PROMETHEUS_PUSHGATEWAY"


_VALID_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_ports(value: Any) -> list[int]:
    """PROMETHEUS_PORT: 0/empty (off), a port, or a range "low,high" / [low, high]."""
    if not value or value == "0":
        return []
    if isinstance(value, int):
        return [value]
    parts = value.replace("-", ",").split(",") if isinstance(value, str) else list(value)
    ports = [int(part) for part in parts if str(part).strip()]
    if not 1 <= len(ports) <= 2 or ports[0] > ports[-1] or ports[0] <= 0:
        raise ValueError(f"PROMETHEUS_PORT must be a port or a range low,high, not {value!r}")
    return ports


def file_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", text)


@dataclass(frozen=True)
class ExporterConfig:
    """The settings, read once."""

    prefix: str
    job: str
    grouping_key: dict[str, str]
    gateway: Gateway | None
    push_timeout: float
    interval: float
    textfile: str
    ports: list[int]
    host: str
    sample_interval: float

    @classmethod
    def from_settings(cls, settings: BaseSettings, environ: Mapping[str, str] = os.environ) -> Self:
        prefix = settings.get("PROMETHEUS_METRIC_PREFIX", PROMETHEUS_METRIC_PREFIX)
        if not isinstance(prefix, str) or not _VALID_PREFIX.fullmatch(prefix):
            raise ValueError(f"PROMETHEUS_METRIC_PREFIX must match [A-Za-z_][A-Za-z0-9_]*, not {prefix!r}")
        gateway = settings.get("PROMETHEUS_PUSHGATEWAY", PROMETHEUS_PUSHGATEWAY) or environ.get(
            GATEWAY_ENV, ""
        )
        grouping = settings.getdict("PROMETHEUS_GROUPING_KEY", PROMETHEUS_GROUPING_KEY)
        return cls(
            prefix=prefix,
            job=str(settings.get("PROMETHEUS_JOB", PROMETHEUS_JOB)),
            grouping_key={str(k): str(v) for k, v in grouping.items()},
            gateway=Gateway.parse(gateway) if gateway else None,
            push_timeout=settings.getfloat("PROMETHEUS_PUSH_TIMEOUT", PROMETHEUS_PUSH_TIMEOUT),
            interval=settings.getfloat("PROMETHEUS_PUSH_INTERVAL", PROMETHEUS_PUSH_INTERVAL),
            textfile=str(settings.get("PROMETHEUS_TEXTFILE", PROMETHEUS_TEXTFILE) or ""),
            ports=parse_ports(settings.get("PROMETHEUS_PORT", PROMETHEUS_PORT)),
            host=str(settings.get("PROMETHEUS_HOST", PROMETHEUS_HOST)),
            sample_interval=settings.getfloat("PROMETHEUS_SAMPLE_INTERVAL", PROMETHEUS_SAMPLE_INTERVAL),
        )

    @property
    def exports(self) -> bool:
        """Whether anything is pushed or written (the outputs an interval applies to)."""
        return self.gateway is not None or bool(self.textfile)
