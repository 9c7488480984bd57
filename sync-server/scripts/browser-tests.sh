#!/usr/bin/env bash
# Runs a staff web page's browser tests (`sync-server/<page>/test/`): builds gridwork-server and
# the gridwork CLI, installs playwright-core into the page's folder (the library only; it drives
# the system's Chromium, /usr/bin/chromium or $CHROMIUM_BIN) and runs `node --test` there.
# Usage: browser-tests.sh <page folder> <title>
set -euo pipefail
PAGE="$(cd "$1" && pwd)"
TITLE="$2"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
cargo build -q -p gridwork-sync-server --bin gridwork-server -p gridwork-cli --bin gridwork
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
export GRIDWORK_SERVER_BIN="$TARGET/debug/gridwork-server" GRIDWORK_CLI_BIN="$TARGET/debug/gridwork"
cd "$PAGE"
if [ ! -d node_modules/playwright-core ]; then
  npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error
fi
echo "== $TITLE: node --test ($PAGE, Chromium)"
node --test test/
