"""Rows the database could not take yet, kept in a file: beyond the writer's memory bound while the
database is away, and whatever is still unwritten when a run ends.

A spill file is JSON lines, one `Write` a line, oldest first, in the folder NEWHOMIE_DB_SPILL_DIR (by
default `unwritten/` in the crawl's JOBDIR, else under NEWHOMIE_HOME). The next writer that starts with
the same folder writes them before anything new, so nothing is lost and nothing is written out of
order. A writer claims a file by renaming it (`.claimed-<pid>`), so two crawls sharing the folder never
write one file twice; a claim whose process is gone is taken over.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psutil
import psycopg2.extras

from newhomie.store.write import Write

logger = logging.getLogger(__name__)

SUFFIX = ".jsonl"
CLAIMED = ".claimed-"
DONE = ".done"


def _encode(value: Any) -> Any:
    """A statement parameter as JSON, every type the rows use tagged so that it reads back the same."""
    if isinstance(value, psycopg2.extras.Json):
        return {"$json": value.adapted}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {"$dict": {str(k): _encode(v) for k, v in value.items()}}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        (tag, inner), *_ = value.items()
        if tag == "$json":
            return psycopg2.extras.Json(inner, dumps=lambda v: json.dumps(v, default=str))
        if tag == "$datetime":
            return datetime.fromisoformat(inner)
        if tag == "$date":
            return date.fromisoformat(inner)
        if tag == "$tuple":
            return tuple(_decode(v) for v in inner)
        if tag == "$dict":
            return {k: _decode(v) for k, v in inner.items()}
    return value


def encode_write(write: Write, run_id: int | None) -> str:
    return json.dumps(
        {
            "statement": write.statement,
            "params": _encode(write.params),
            "locality": write.locality,
            "url": write.url,
            "key": _encode(write.key),
            "run_id": run_id,
        },
        # Text as Python holds it (a NUL, a lone surrogate): the database decides, and refuses it as a
        # row, never as a file that cannot be read back.
        ensure_ascii=True,
    )


def decode_write(line: str) -> tuple[Write, int | None]:
    record = json.loads(line)
    write = Write(record["statement"], _decode(record["params"]), record["locality"], record["url"],
                  _decode(record["key"]))  # fmt: skip
    return write, record.get("run_id")


class SpillFile:
    """One file of rows this writer could not write yet, appended to in order."""

    def __init__(self, directory: Path, run_id: int | None) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        run = "norun" if run_id is None else f"run{run_id}"
        self.path = directory / f"unwritten-{stamp}-{run}-{socket.gethostname()}-{os.getpid()}{SUFFIX}"
        self.run_id = run_id
        self.rows = 0

    def append(self, writes: list[Write]) -> None:
        with open(self.path, "a", encoding="utf-8") as file:
            for write in writes:
                file.write(encode_write(write, self.run_id) + "\n")
            file.flush()
            os.fsync(file.fileno())
        self.rows += len(writes)


def base_name(path: Path) -> str:
    """The file's own name, without the claim of the writer that holds it."""
    return path.name.split(CLAIMED)[0]


def _claimer(path: Path) -> int | None:
    if CLAIMED not in path.name:
        return None
    try:
        return int(path.name.rsplit(CLAIMED, 1)[1])
    except ValueError:
        return None


def claim_spilled(directory: Path) -> list[Path]:
    """The spill files of earlier writers in `directory`, oldest first, claimed for this process."""
    if not directory.is_dir():
        return []
    claimed = []
    for path in sorted(directory.iterdir(), key=base_name):
        if not path.name.startswith("unwritten-") or not base_name(path).endswith(SUFFIX):
            continue
        if path.name.endswith(DONE):
            continue
        owner = _claimer(path)
        if owner is not None and owner != os.getpid() and psutil.pid_exists(owner):
            continue  # another live writer is on it
        target = path.with_name(f"{base_name(path)}{CLAIMED}{os.getpid()}")
        try:
            path.rename(target)
        except FileNotFoundError:
            continue  # claimed by another writer just now
        claimed.append(target)
    return claimed


def release_claim(path: Path) -> Path:
    """Gives the file back, for the next writer; its path then."""
    if CLAIMED not in path.name or not path.exists():
        return path
    released = path.with_name(base_name(path))
    path.rename(released)
    return released


def _progress_path(path: Path) -> Path:
    return path.with_name(base_name(path) + DONE)


def progress(path: Path) -> int:
    """How many rows of a spill file were written already (a writer may have stopped half-way)."""
    try:
        return int(_progress_path(path).read_text(encoding="utf-8").strip() or 0)
    except FileNotFoundError:
        return 0


def save_progress(path: Path, rows: int) -> None:
    done = _progress_path(path)
    temporary = done.with_name(done.name + ".tmp")
    temporary.write_text(f"{rows}\n", encoding="utf-8")
    temporary.replace(done)


def finished(path: Path) -> None:
    """A spill file written whole: gone, with its progress."""
    path.unlink(missing_ok=True)
    _progress_path(path).unlink(missing_ok=True)


def count_rows(path: Path) -> int:
    with open(path, encoding="utf-8") as file:
        return sum(1 for line in file if line.strip())


def read_spilled(path: Path, batch: int, skip: int = 0) -> Iterator[list[tuple[Write, int | None]]]:
    """The rows of a spill file after the first `skip`, `batch` at a time, in the order they were kept."""
    rows: list[tuple[Write, int | None]] = []
    seen = 0
    with open(path, encoding="utf-8") as file:
        for line in file:
            if not line.strip():
                continue
            seen += 1
            if seen <= skip:
                continue
            rows.append(decode_write(line))
            if len(rows) >= batch:
                yield rows
                rows = []
    if rows:
        yield rows
