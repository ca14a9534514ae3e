#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server for the portal's tests and prints ONLY its connection
# URL on stdout (everything else goes to stderr). Idempotent: when the server is already
# running it just prints the URL again.
#
#   export QUICKCARD_TEST_POSTGRES_URL="$(scripts/start-postgres.sh)"
#   scripts/start-postgres.sh --stop      # stop it and delete its data
#
# It uses Debian's postgresql package (/usr/lib/postgresql/*/bin: initdb, pg_ctl), listens on
# 127.0.0.1 only, keeps its data in a temporary directory, and trusts local connections (it
# holds nothing but test data). PostgreSQL refuses to run as root, so as root it runs as the
# `postgres` system user that the package creates.
#
# Settings: QUICKCARD_PG_PORT (default 55432), QUICKCARD_PG_DIR (default
# ${TMPDIR:-/tmp}/quickcard-pg-<uid>-<port>).
set -euo pipefail

PORT="${QUICKCARD_PG_PORT:-55432}"
DIR="${QUICKCARD_PG_DIR:-${TMPDIR:-/tmp}/quickcard-pg-$(id -u)-$PORT}"
URL="postgres://quickcard@127.0.0.1:$PORT/postgres"

say() { echo "start-postgres: $*" >&2; }

BIN=""
for v in 15 16 17 14 13; do
  if [ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ]; then BIN="/usr/lib/postgresql/$v/bin"; break; fi
done
if [ -z "$BIN" ]; then
  BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
fi
if [ -z "$BIN" ] || [ ! -x "$BIN/pg_ctl" ]; then
  say "PostgreSQL is not installed (expected /usr/lib/postgresql/*/bin/pg_ctl): apt-get install postgresql"
  exit 1
fi

# Run a PostgreSQL program as a user it accepts.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      say "running as root and there is no 'postgres' user to run the server as"
      exit 1
    fi
    if command -v runuser >/dev/null; then
      runuser -u postgres -- "$@"
    else
      su -s /bin/sh postgres -c "$(printf '%q ' "$@")"
    fi
  else
    "$@"
  fi
}

if [ "${1:-}" = "--stop" ]; then
  if [ -d "$DIR/data" ]; then
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >&2 || true
  fi
  rm -rf "$DIR"
  say "stopped and removed $DIR"
  exit 0
fi

if [ -d "$DIR/data" ] && as_pg "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
  say "already running in $DIR"
  echo "$URL"
  exit 0
fi

mkdir -p "$DIR"
chmod 700 "$DIR"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$DIR"; fi

if [ ! -f "$DIR/data/PG_VERSION" ]; then
  say "initdb in $DIR/data ($BIN)"
  as_pg "$BIN/initdb" -D "$DIR/data" -U quickcard --auth=trust -E UTF8 --no-locale >"$DIR/initdb.log" 2>&1 || {
    cat "$DIR/initdb.log" >&2
    exit 1
  }
fi

say "starting on 127.0.0.1:$PORT"
# A test server: no fsync (a crash of the machine may lose it; it is thrown away anyway).
as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c max_connections=300 -c shared_buffers=64MB" \
  start >&2 || {
  say "the server did not start; its log:"
  cat "$DIR/server.log" >&2 || true
  exit 1
}

for _ in $(seq 1 60); do
  if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
    echo "$URL"
    exit 0
  fi
  sleep 0.5
done
say "the server did not become ready; its log:"
cat "$DIR/server.log" >&2 || true
exit 1
