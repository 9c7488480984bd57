#!/usr/bin/env bash
# Runs every test of the project: the Rust workspace (core, sync server on SQLite and
# PostgreSQL, CLI, end-to-end tests with a real server on loopback) and, when present, the
# bindings' Kotlin (JUnit on the desktop JVM) and Python (pytest) suites, and the admin
# console's and the command-centre workbench's browser tests in headless Chromium.
#
# PostgreSQL: if GRIDWORK_TEST_PG_URL is unset and the Debian PostgreSQL server is installed,
# a throwaway cluster is started on a free loopback port and stopped at exit. Under CI (CI set)
# the PostgreSQL tests fail rather than skip when no server is available.
set -euo pipefail
cd "$(dirname "$0")/.."

stop_pg() {
  if [ -n "${GRIDWORK_TEST_PG_DATA:-}" ]; then
    bindir=$(dirname "$(ls /usr/lib/postgresql/*/bin/pg_ctl | tail -n1)")
    if [ "$(id -u)" = "0" ]; then
      owner=$(stat -c %U "$GRIDWORK_TEST_PG_DATA")
      runuser -u "$owner" -- "$bindir/pg_ctl" -D "$GRIDWORK_TEST_PG_DATA" -m fast stop >/dev/null 2>&1 || true
    else
      "$bindir/pg_ctl" -D "$GRIDWORK_TEST_PG_DATA" -m fast stop >/dev/null 2>&1 || true
    fi
    # The cluster was this run's alone: leave nothing behind in the temporary directory.
    rm -rf "$GRIDWORK_TEST_PG_DATA" "$GRIDWORK_TEST_PG_DATA.initdb.log"
  fi
}

if [ -z "${GRIDWORK_TEST_PG_URL:-}" ]; then
  if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    PGPORT_TEST=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    export PGPORT_TEST
    eval "$(sync-server/scripts/start-test-postgres.sh)"
    trap stop_pg EXIT
    echo "test.sh: PostgreSQL for tests at $GRIDWORK_TEST_PG_URL"
  else
    echo "test.sh: PostgreSQL server not installed; its tests will be skipped (CI installs it)"
  fi
fi

cargo test --workspace --no-fail-fast

if [ -x bindings/test.sh ]; then
  bindings/test.sh
fi

# The admin console and the workbench in real Chromium (Debian's chromium; CI installs it).
if [ -x "${CHROMIUM_BIN:-/usr/bin/chromium}" ] || [ -n "${CI:-}" ]; then
  sync-server/console/test.sh
  sync-server/workbench/test.sh
else
  echo "test.sh: Chromium not installed; the admin console's browser tests are skipped (CI installs it)"
fi
