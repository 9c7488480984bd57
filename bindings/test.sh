#!/usr/bin/env bash
# Builds the Gridwork library for this host, generates the Kotlin and Python bindings from it and
# runs their tests: JUnit 5 on the desktop JVM (Maven, JNA loading the built library) and pytest,
# the sync tests against a real gridwork-server process.
#
#   bindings/test.sh            debug build (fast); GRIDWORK_PROFILE=release for the release build
#
# Needs cargo, a JDK 17+, Maven (dependencies from Maven Central) and python3 with pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

flag=()
[ "${GRIDWORK_PROFILE:-debug}" = release ] && flag=(--release)
bindings/generate.sh "${flag[@]}" kotlin-jvm python

# The sync tests (Kotlin SyncTest, pytest test_sync.py) start a real gridwork-server on a free
# loopback port; build it once (debug: the workspace's own tests build the same binary).
echo "== building gridwork-server for the sync tests"
cargo build -p gridwork-sync-server --bin gridwork-server
export GRIDWORK_SERVER_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/gridwork-server"

echo "== Kotlin: mvn test (bindings/kotlin)"
(cd bindings/kotlin && mvn -q -B test)
# Surefire's summary, for CI logs (mvn -q prints nothing when all pass).
python3 - <<'PY'
import glob, xml.etree.ElementTree as ET
t = f = e = s = 0
for p in glob.glob("bindings/kotlin/target/surefire-reports/TEST-*.xml"):
    r = ET.parse(p).getroot()
    t += int(r.get("tests")); f += int(r.get("failures")); e += int(r.get("errors")); s += int(r.get("skipped"))
print(f"Tests run: {t}, Failures: {f}, Errors: {e}, Skipped: {s}")
if t == 0:
    raise SystemExit("no Kotlin tests ran")
PY

echo "== Python: pytest (bindings/python)"
(cd bindings/python && python3 -m pytest -q)
