#!/usr/bin/env bash
# A PostgreSQL server that is not the embedded one, for `make test-server`: Debian's packaged PostgreSQL
# (installed by scripts/setup.sh), a cluster of our own on its own port (NEWHOMIE_TEST_SERVER_PORT, 55432),
# reached over TCP on loopback with a password, as a user's own server would be.
#   scripts/postgres_server.sh start   makes and starts it when needed; prints its URL
#   scripts/postgres_server.sh stop    stops it
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${NEWHOMIE_TEST_SERVER_PORT:-55432}
FOLDER=${NEWHOMIE_TEST_SERVER_DIR:-${TMPDIR:-/tmp}/newhomie-test-server-$PORT}
say() { printf 'postgres_server: %s\n' "$*" >&2; }

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bindir" ] || [ ! -x "$bindir/postgres" ]; then
    say "no PostgreSQL server programs in /usr/lib/postgresql: apt-get install postgresql"; exit 1
fi
# PostgreSQL refuses to run as root: as root, the cluster belongs to Debian's postgres user.
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
password_file="$FOLDER.password"

case "${1:-start}" in
start)
    if [ ! -f "$FOLDER/PG_VERSION" ]; then
        rm -rf "$FOLDER" && mkdir -p "$FOLDER"
        # A password of this machine's, never printed to the log: the URL goes to a file the tests read.
        head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$password_file"
        chmod 600 "$password_file"
        [ "$(id -u)" = 0 ] && chown postgres "$FOLDER" "$password_file"
        run "$bindir/initdb" -D "$FOLDER" -U newhomie --auth-host=scram-sha-256 --auth-local=peer \
            --pwfile="$password_file" -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if ! run "$bindir/pg_ctl" -D "$FOLDER" status >/dev/null 2>&1; then
        run "$bindir/pg_ctl" -D "$FOLDER" -w -t 120 -l "$FOLDER/server.log" \
            -o "-c listen_addresses=127.0.0.1 -p $PORT -k $FOLDER" start >/dev/null
    fi
    echo "postgresql://newhomie:$(cat "$password_file")@127.0.0.1:$PORT/postgres"
    ;;
stop)
    [ -f "$FOLDER/PG_VERSION" ] && run "$bindir/pg_ctl" -D "$FOLDER" -w -m fast stop >/dev/null 2>&1 || true
    ;;
*)
    say "usage: $0 start|stop"; exit 2 ;;
esac
