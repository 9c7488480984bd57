#!/usr/bin/env bash
# Runs the command-centre workbench's browser tests (sync-server/scripts/browser-tests.sh).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$HERE/../scripts/browser-tests.sh" "$HERE" "Workbench"
