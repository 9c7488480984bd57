#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the sync server's tests and prints its URL.
#
#   eval "$(sync-server/scripts/start-test-postgres.sh)"   # exports GRIDWORK_TEST_PG_URL
#
# Needs the Debian postgresql server package (initdb/pg_ctl under /usr/lib/postgresql/*/bin).
# Runs as the current user; as root it runs the server as the `postgres` user (or `nobody`).
# Environment: PGPORT_TEST (default 54329), PGDATA_TEST (default: a new temp dir).
# Stop it with: pg_ctl -D "$GRIDWORK_TEST_PG_DATA" stop
set -euo pipefail

bindir=""
for d in /usr/lib/postgresql/*/bin; do
  [ -x "$d/initdb" ] && bindir="$d"
done
if [ -z "$bindir" ]; then
  echo "start-test-postgres: no initdb found under /usr/lib/postgresql/*/bin" >&2
  exit 1
fi

port="${PGPORT_TEST:-54329}"
data="${PGDATA_TEST:-$(mktemp -d /tmp/gridwork-pg.XXXXXX)}"
run_as=()
if [ "$(id -u)" = "0" ]; then
  user=postgres
  id -u "$user" >/dev/null 2>&1 || user=nobody
  chown -R "$user" "$data"
  run_as=(runuser -u "$user" --)
fi

"${run_as[@]}" "$bindir/initdb" -D "$data" -U gridwork --auth=trust -E UTF8 --locale=C.UTF-8 >"$data.initdb.log" 2>&1 \
  || "${run_as[@]}" "$bindir/initdb" -D "$data" -U gridwork --auth=trust -E UTF8 --no-locale >"$data.initdb.log" 2>&1
"${run_as[@]}" "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
  -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2
"$bindir/psql" -h 127.0.0.1 -p "$port" -U gridwork -d postgres -q -c "CREATE DATABASE gridwork_test" >&2

url="postgres://gridwork@127.0.0.1:$port/gridwork_test"
echo "export GRIDWORK_TEST_PG_URL='$url'"
echo "export GRIDWORK_TEST_PG_DATA='$data'"
