#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for the tests.
#
#   bash scripts/pg.sh run CMD...   start one, run CMD with VELOCITY_SYNC_PG_URL
#                                   set, stop and delete it (even when CMD fails);
#                                   exits with CMD's status
#   bash scripts/pg.sh start        start one (idempotent: reuses a running one),
#                                   print its URL; also written to target/pg/url
#   bash scripts/pg.sh stop         stop it and delete its directory
#
# Installs the `postgresql` Debian package when no initdb is found and the
# caller is root (CI). The cluster lives in a temporary directory, listens on
# a free port of 127.0.0.1 only (no Unix socket in a shared place), trusts
# local connections (it is throwaway), and runs as user `postgres` when the
# caller is root (PostgreSQL refuses to run as root).
set -euo pipefail
cd "$(dirname "$0")/.."

state=target/pg
mkdir -p "$state"
state=$(cd "$state" && pwd)

find_bin() {
  for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin /usr/local/bin /usr/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

ensure_installed() {
  if find_bin >/dev/null; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "pg.sh: installing postgresql with apt-get" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  fi
  find_bin >/dev/null || { echo "pg.sh: no initdb/pg_ctl found and cannot install postgresql" >&2; return 1; }
}

# Runs a PostgreSQL binary as an unprivileged user when we are root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

running() {
  [ -f "$state/dir" ] && [ -f "$state/url" ] || return 1
  local bin dir
  bin=$(find_bin) || return 1
  dir=$(cat "$state/dir")
  [ -d "$dir/data" ] && as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

start() {
  if running; then
    cat "$state/url"
    return 0
  fi
  ensure_installed
  local bin dir port
  bin=$(find_bin)
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  fi
  dir=$(mktemp -d /tmp/velocity-sync-pg.XXXXXX)
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  port=$(free_port)
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$dir' -c fsync=on -c max_connections=200" \
    start >/dev/null || { cat "$dir/log" >&2; return 1; }
  echo "$dir" >"$state/dir"
  echo "postgres://postgres@127.0.0.1:$port/postgres" >"$state/url"
  cat "$state/url"
}

stop() {
  [ -f "$state/dir" ] || return 0
  local bin dir
  dir=$(cat "$state/dir")
  if bin=$(find_bin) && [ -d "$dir/data" ]; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  rm -f "$state/dir" "$state/url"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  run)
    shift
    trap stop EXIT
    VELOCITY_SYNC_PG_URL=$(start)
    export VELOCITY_SYNC_PG_URL
    echo "pg.sh: PostgreSQL at $VELOCITY_SYNC_PG_URL" >&2
    "$@"
    ;;
  *)
    echo "usage: bash scripts/pg.sh start | stop | run CMD..." >&2
    exit 2
    ;;
esac
