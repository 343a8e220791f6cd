"""`report [--run ID] --out report.html`: one crawl run as a self-contained HTML page
(`newhomie.watch.report`)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from newhomie.store.connection import connection
from newhomie.store.migrations import ready_database
from newhomie.watch.report.data import latest_run_id, load_report_data
from newhomie.watch.report.page import one_line_summary, render_report

EXIT_NO_RUN = 2


def write_atomically(path: Path, text: str) -> None:
    """Readers (a browser tab being refreshed, a web server) never see half a page. The file gets
    the usual permissions (the umask's), not a temporary file's private ones."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def cmd_report(args: argparse.Namespace) -> int:
    target, _ = ready_database()
    with connection(target.url, application_name="newhomie-report") as conn:
        # One snapshot: the page's figures agree with each other even while a crawl writes.
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        run_id = args.run if args.run is not None else latest_run_id(conn)
        if run_id is None:
            print(f"report: no crawl runs yet in the {target.describe()}", file=sys.stderr)
            return EXIT_NO_RUN
        data = load_report_data(conn, run_id)
        if data is None:
            latest = latest_run_id(conn)
            hint = f" (the latest is {latest})" if latest is not None else " (there are no runs yet)"
            print(f"report: no crawl run with id {run_id} in the {target.describe()}{hint}", file=sys.stderr)
            return EXIT_NO_RUN
    out = Path(args.out)
    page = render_report(data)
    write_atomically(out, page)
    print(f"report: wrote {out} ({len(page.encode('utf-8')) / 1024:,.0f} KiB)")
    print(one_line_summary(data))
    return 0


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `report` command, for `python -m newhomie`'s parser."""
    parser = subparsers.add_parser("report", help="write an HTML page about one crawl run")
    parser.add_argument("--run", type=int, metavar="ID", help="the crawl run's id (default: the latest run)")
    parser.add_argument("--out", required=True, type=Path, metavar="PATH", help="the HTML file to write")
    parser.set_defaults(func=cmd_report)
