#!/usr/bin/env bash
# Idempotent set-up: .venv/ with the pinned requirements (requirements-dev.txt), a Chromium for
# scrapy-playwright, and the programs the tests use (a Pushgateway, Debian's PostgreSQL).
# The Python: NEWHOMIE_PYTHON, else the newest Python 3.11 or newer found on PATH (python3.N) or in pyenv.
# Takes seconds when everything is already in place (stamps in .venv/ remember what was done).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${NEWHOMIE_VENV:-.venv}
say() { printf 'setup: %s\n' "$*"; }

source scripts/pythons.sh  # supported_version, newest_python

wanted=${NEWHOMIE_PYTHON:-${PYTHON:-}}
if [ -n "$wanted" ]; then
    supported_version "$wanted" >/dev/null || {
        found=$("$wanted" --version 2>/dev/null | head -1) || true
        say "NEWHOMIE_PYTHON=$wanted is not a Python 3.11 or newer (${found:-it does not run})"; exit 1; }
    PYTHON=$wanted
    # A venv of another version is made again: the interpreter asked for is the one used.
    if [ -x "$VENV/bin/python" ] && [ "$(supported_version "$VENV/bin/python")" != "$(supported_version "$wanted")" ]; then
        say "$VENV is Python $(supported_version "$VENV/bin/python"); making it again with $wanted"
        rm -rf "$VENV"
    fi
elif [ -x "$VENV/bin/python" ] && supported_version "$VENV/bin/python" >/dev/null; then
    PYTHON=$VENV/bin/python  # made earlier: kept (NEWHOMIE_PYTHON=... or `make clean` changes it)
else
    PYTHON=$(newest_python) || {
        say "no Python 3.11 or newer found (on PATH as python3.N, or in pyenv): install one, or set NEWHOMIE_PYTHON=/path/to/python3"
        exit 1
    }
fi

# The venv module is split out of Python on Debian/Ubuntu.
if [ ! -x "$VENV/bin/python" ]; then
    say "using Python $(supported_version "$PYTHON") at $PYTHON"
    say "creating $VENV"
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
            rm -rf "$VENV" && "$PYTHON" -m venv "$VENV"
        else
            say "cannot create a virtualenv: install python3-venv"; exit 1
        fi
    fi
fi

# requirements-dev.txt: the run-time pins (requirements.txt, through requirements-image.txt, what the
# Docker image installs) plus the tools for tests and checks, then the package itself (its `newhomie`
# command). The stamp hashes every file of that chain and pyproject.toml, so editing any one installs again.
req_files=(requirements.txt requirements-image.txt requirements-dev.txt pyproject.toml)
req_hash=$(sha256sum "${req_files[@]}" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$req_hash" ]; then
    say "installing requirements-dev.txt"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements-dev.txt
    # The package itself, editable: the `newhomie` command works from any folder and runs this checkout.
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e .
    echo "$req_hash" > "$VENV/.requirements.sha256"
    say "$VENV runs Python $(supported_version "$VENV/bin/python")"
fi

# Chromium: an explicit NEWHOMIE_CHROMIUM wins; then Playwright's own build (downloaded where the
# network allows it); then the system one (Debian's `chromium` package, installed when missing and root).
chromium_ok() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }
stamp="$VENV/.chromium"
if [ -n "${NEWHOMIE_CHROMIUM:-}" ]; then
    chromium_ok "$NEWHOMIE_CHROMIUM" || { say "NEWHOMIE_CHROMIUM=$NEWHOMIE_CHROMIUM does not run"; exit 1; }
elif [ -f "$stamp" ] && { [ "$(cat "$stamp")" = playwright ] || chromium_ok "$(cat "$stamp")"; }; then
    :
elif timeout 300 "$VENV/bin/playwright" install chromium >/dev/null 2>&1; then
    say "using Playwright's Chromium"
    echo playwright > "$stamp"
else
    system_chromium=$(command -v chromium || command -v chromium-browser || true)
    if [ -z "$system_chromium" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "Playwright's Chromium download is not reachable; installing Debian's chromium"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
        system_chromium=$(command -v chromium || true)
    fi
    if [ -z "$system_chromium" ] || ! chromium_ok "$system_chromium"; then
        say "no Chromium: Playwright's download failed and no system chromium was found."
        say "Install one (Debian/Ubuntu: apt-get install chromium) or set NEWHOMIE_CHROMIUM=/path/to/chrome"
        exit 1
    fi
    say "using the system Chromium at $system_chromium"
    echo "$system_chromium" > "$stamp"
fi

# The Pushgateway tests/watch/test_metrics.py pushes to (it starts its own on a free port): Debian's
# package, installed when missing and root. Where systemd runs, the package also starts a service
# on :9091 that keeps pushed metrics across restarts; the tests do not need it, so it is disabled.
if ! command -v prometheus-pushgateway >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing Debian's prometheus-pushgateway (for the metrics tests)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus-pushgateway >/dev/null
        if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
            systemctl disable --now prometheus-pushgateway >/dev/null 2>&1 \
                || say "could not disable the prometheus-pushgateway service"
        fi
    else
        say "no prometheus-pushgateway: tests/watch/test_metrics.py needs it (apt-get install prometheus-pushgateway)"
    fi
fi

# A PostgreSQL server that is not the embedded one, for `make test-server` ("any PostgreSQL 14+ by URL"), and
# the older PostgreSQL whose data folders `db upgrade` is tested on: Debian's package, installed when
# missing and root. Its own service is not needed: scripts/postgres_server.sh starts a cluster of ours.
if [ ! -d /usr/lib/postgresql ] || [ -z "$(ls /usr/lib/postgresql/*/bin/postgres 2>/dev/null)" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing Debian's postgresql (for make test-server and the upgrade tests)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        say "no PostgreSQL server package: make test-server and tests/store/test_embedded_upgrade.py need one (apt-get install postgresql)"
    fi
fi
