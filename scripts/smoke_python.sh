#!/usr/bin/env bash
# `make test-python`: when the machine has a Python 3.11+ of another version than .venv's, a smoke run
# under it, in a venv of its own (.venv-smoke): the set-up, the demo (a crawl of the local site into the
# embedded database), a query of what landed, and the storage tests. The oldest such Python is taken:
# .venv runs the newest, so the two ends of what is supported are both run.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'test-python: %s\n' "$*"; }
source scripts/pythons.sh

main_version=$(supported_version .venv/bin/python)
# The oldest other version (the last found, of several of one version).
line=$(supported_pythons | tac | sort -s -k1,1V | grep -v "^$main_version " | head -1) || true
other=${line#* } other_version=${line%% *}
if [ -z "$other" ]; then
    say "no Python 3.11+ but .venv's $main_version on this machine: nothing to run"
    exit 0
fi
say ".venv runs Python $main_version; the smoke run uses Python $other_version ($other) in .venv-smoke"
export NEWHOMIE_VENV=.venv-smoke NEWHOMIE_PYTHON=$other
make --no-print-directory demo VENV=.venv-smoke
home=.newhomie/demo
count=$(NEWHOMIE_HOME=$home .venv-smoke/bin/python -m newhomie sql "select count(*) as listings from listing" | grep -E "^ *[0-9]+ *$" | tr -d " ")
[ "${count:-0}" -gt 0 ] || { say "the demo's crawl left no listings in the embedded database"; exit 1; }
say "the demo's crawl landed $count listings in the embedded PostgreSQL under Python $other_version"
.venv-smoke/bin/python -m pytest -q -p no:cacheprovider tests/store tests/test_pipelines.py
