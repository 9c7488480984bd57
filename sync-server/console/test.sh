#!/usr/bin/env bash
# Runs the admin console's browser tests: builds gridwork-server and the gridwork CLI, installs
# playwright-core (the library only; it drives the system's Chromium, /usr/bin/chromium or
# $CHROMIUM_BIN) and runs `node --test` on test/.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
cargo build -q -p gridwork-sync-server --bin gridwork-server -p gridwork-cli --bin gridwork
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
export GRIDWORK_SERVER_BIN="$TARGET/debug/gridwork-server" GRIDWORK_CLI_BIN="$TARGET/debug/gridwork"
cd "$HERE"
if [ ! -d node_modules/playwright-core ]; then
  npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error
fi
echo "== Admin console: node --test (sync-server/console, Chromium)"
node --test test/
