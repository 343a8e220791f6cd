"""CPU seconds and resident memory of the crawler and of its descendants (the browser, any other
child), counted over the whole process tree."""

from __future__ import annotations

import logging
import resource
import sys
from collections import defaultdict
from dataclasses import dataclass

import psutil

logger = logging.getLogger(__name__)


CRAWLER, BROWSER, OTHER = "crawler", "browser", "other"


@dataclass
class ProcessFigures:
    cpu_seconds: float = 0.0
    rss_bytes: int = 0
    peak_rss_bytes: int = 0
    processes: int = 0


def is_browser_process(process: psutil.Process) -> bool:
    """Chromium's processes by name; Playwright's node driver by its command line."""
    if process.name().startswith(("chrom", "headless_shell")):
        return True
    return any("playwright" in part for part in process.cmdline())


def _own_peak_rss() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux


class ProcessSampler:
    """CPU seconds and resident memory of the crawler (this process) and of its descendants: the
    browser (Playwright's driver, Chromium's processes) and any other child, one figure per group."""

    def __init__(self, root: psutil.Process | None = None) -> None:
        self.root = root or psutil.Process()
        self.figures: dict[str, ProcessFigures] = {}

    def sample(self) -> dict[str, ProcessFigures]:
        cpu: dict[str, float] = defaultdict(float)
        rss: dict[str, int] = defaultdict(int)
        count: dict[str, int] = defaultdict(int)
        with self.root.oneshot():
            own = self.root.cpu_times()
            cpu[CRAWLER] = own.user + own.system
            rss[CRAWLER] = self.root.memory_info().rss
            count[CRAWLER] = 1
            descendants = self.root.children(recursive=True)  # one pass over /proc
        for process in descendants:
            try:
                with process.oneshot():
                    role = BROWSER if is_browser_process(process) else OTHER
                    times = process.cpu_times()
                    # Exited children that it reaped (Chromium's renderers) count too.
                    process_cpu = times.user + times.system + times.children_user + times.children_system
                    process_rss = process.memory_info().rss
            except psutil.Error as exc:  # it ended while we looked: nothing left to count
                logger.debug("process %s gone while sampling: %s", process.pid, exc)
                continue
            cpu[role] += process_cpu
            rss[role] += process_rss
            count[role] += 1
        for role in {*self.figures, *count}:
            figures = self.figures.setdefault(role, ProcessFigures())
            figures.cpu_seconds = max(figures.cpu_seconds, cpu.get(role, 0.0))  # a counter never goes down
            figures.rss_bytes = rss.get(role, 0)
            figures.processes = count.get(role, 0)
            figures.peak_rss_bytes = max(figures.peak_rss_bytes, figures.rss_bytes)
        crawler = self.figures[CRAWLER]
        crawler.peak_rss_bytes = max(crawler.peak_rss_bytes, _own_peak_rss())
        return self.figures
