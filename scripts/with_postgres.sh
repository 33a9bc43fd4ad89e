#!/usr/bin/env bash
# Run a command against a throwaway local PostgreSQL 15 server.
#
#   bash scripts/with_postgres.sh <command> [args...]
#
# initdb into a temporary folder (as the `postgres` OS user when run as root,
# since initdb refuses root), listen on 127.0.0.1 only on a free port, export
# PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE for the command, then stop the
# server and remove the folder, also when the command fails or is interrupted.
# The command's exit code is returned.
set -euo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
if [ ! -x "$PG_BIN/initdb" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "with_postgres: installing postgresql-15 (initdb not found in $PG_BIN)" >&2
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
    fi
fi
if [ ! -x "$PG_BIN/initdb" ]; then
    echo "with_postgres: PostgreSQL 15 server binaries not found in $PG_BIN (set PG_BIN)" >&2
    exit 2
fi

work_dir="$(mktemp -d "${TMPDIR:-/tmp}/handshake-pg.XXXXXX")"
as_owner=()
if [ "$(id -u)" = 0 ]; then
    chown postgres "$work_dir"
    as_owner=(runuser -u postgres --)
fi
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

stop_server() {
    "${as_owner[@]}" "$PG_BIN/pg_ctl" -D "$work_dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$work_dir"
}
trap stop_server EXIT
trap 'exit 130' INT TERM

"${as_owner[@]}" "$PG_BIN/initdb" -D "$work_dir/data" -U postgres -A trust -E UTF8 \
    --locale=C.UTF-8 --locale-provider=icu --icu-locale=en-US >"$work_dir/initdb.log" 2>&1 \
    || { cat "$work_dir/initdb.log" >&2; exit 2; }
"${as_owner[@]}" "$PG_BIN/pg_ctl" -D "$work_dir/data" -l "$work_dir/server.log" -w \
    -o "-h 127.0.0.1 -p $port -k $work_dir -c fsync=off -c full_page_writes=off" start >/dev/null \
    || { cat "$work_dir/server.log" >&2; exit 2; }

export PGHOST=127.0.0.1 PGPORT="$port" PGUSER=postgres PGPASSWORD="" PGDATABASE=handshake_alumni
"$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres handshake_alumni
echo "with_postgres: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2

set +e
"$@"
status=$?
set -e
exit "$status"
