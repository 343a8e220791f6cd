#!/usr/bin/env bash
# `make test-server`: the storage and end-to-end database tests once more, against a PostgreSQL server that
# is not the embedded one (scripts/postgres_server.sh: Debian's, over TCP with a password), so that "any
# PostgreSQL 14+ by URL" is tested, not claimed. The URL (and its password) is never printed.
set -euo pipefail
cd "$(dirname "$0")/.."
NEWHOMIE_TEST_DATABASE_URL=$(bash scripts/postgres_server.sh start)
export NEWHOMIE_TEST_DATABASE_URL
trap 'bash scripts/postgres_server.sh stop' EXIT
.venv/bin/python - <<'PY'
import os

import psycopg2

with psycopg2.connect(os.environ["NEWHOMIE_TEST_DATABASE_URL"]) as conn, conn.cursor() as cur:
    cur.execute("SHOW server_version")
    print(f"test-server: PostgreSQL {cur.fetchone()[0]} over TCP on loopback, with a password")
PY
.venv/bin/python -m pytest -q -p no:cacheprovider tests/store tests/crawl/test_crawl_e2e.py tests/test_pipelines.py "$@"
