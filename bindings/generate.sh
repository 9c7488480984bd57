#!/usr/bin/env bash
# Builds the Gridwork library for this host and generates the bindings from it (DESIGN §7):
#
#   bindings/generate.sh [--release] [TARGET...]
#
# TARGETs (default: all):
#   kotlin-jvm  Kotlin for the desktop-JVM tests  -> bindings/kotlin/generated/ + bindings/kotlin/native/
#   python      Python package                    -> bindings/python/gridwork/ (with the .so beside it)
#   android     Kotlin for the Android library    -> android/gridwork/src/main/kotlin-generated/
#   swift       Swift sources, headers, modulemap -> ios/Sources/Gridwork/Generated/ + ios/build/include/
#
# Bindings are always generated from the built library with the workspace's own pinned
# `uniffi-bindgen` and the global config ./uniffi.toml. The Android and iOS native libraries are
# built on a workstation (android/README.md, ios/README.md); their bindings are generated from
# this host's library, which carries the same interface.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PROFILE=debug
CARGO_PROFILE_FLAG=()
TARGETS=()
for arg in "$@"; do
  case "$arg" in
    --release) PROFILE=release; CARGO_PROFILE_FLAG=(--release) ;;
    kotlin-jvm|python|android|swift|all) TARGETS+=("$arg") ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "generate.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(all)
want() { for t in "${TARGETS[@]}"; do [ "$t" = all ] || [ "$t" = "$1" ] && return 0; done; return 1; }

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$(uname -s)" in
  Darwin) LIBFILE=libgridwork_ffi.dylib ;;
  *) LIBFILE=libgridwork_ffi.so ;;
esac

echo "== building gridwork-ffi ($PROFILE) and uniffi-bindgen"
cargo build -p gridwork-ffi "${CARGO_PROFILE_FLAG[@]}"
# The generator is a separate crate (slow to build, never part of the library's build).
cargo build -p uniffi-bindgen --bins
LIB="$TARGET_DIR/$PROFILE/$LIBFILE"
BINDGEN="$TARGET_DIR/debug/uniffi-bindgen"
BINDGEN_SWIFT="$TARGET_DIR/debug/uniffi-bindgen-swift"
echo "   library: $LIB ($(wc -c <"$LIB") bytes)"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

if want kotlin-jvm; then
  echo "== Kotlin (desktop JVM)"
  # Same settings as the Android bindings except `android`, whose generated code uses Android
  # APIs (android.os.Build, SystemCleaner) that a desktop JVM lacks.
  sed 's/^android = true$/android = false/' uniffi.toml >"$TMP/uniffi-jvm.toml"
  rm -rf bindings/kotlin/generated bindings/kotlin/native
  "$BINDGEN" generate --library "$LIB" --language kotlin --no-format \
    --config "$TMP/uniffi-jvm.toml" --out-dir bindings/kotlin/generated
  mkdir -p bindings/kotlin/native
  cp "$LIB" bindings/kotlin/native/
fi

if want python; then
  echo "== Python"
  rm -f bindings/python/gridwork/gridwork_core.py bindings/python/gridwork/gridwork_ffi.py \
    bindings/python/gridwork/libgridwork_ffi.*
  "$BINDGEN" generate --library "$LIB" --language python --no-format \
    --config uniffi.toml --out-dir bindings/python/gridwork
  cp "$LIB" bindings/python/gridwork/
fi

if want android; then
  echo "== Kotlin (Android)"
  rm -rf android/gridwork/src/main/kotlin-generated
  "$BINDGEN" generate --library "$LIB" --language kotlin --no-format \
    --config uniffi.toml --out-dir android/gridwork/src/main/kotlin-generated
fi

if want swift; then
  echo "== Swift"
  rm -rf ios/Sources/Gridwork/Generated ios/build/include
  mkdir -p ios/Sources/Gridwork/Generated ios/build/include
  "$BINDGEN_SWIFT" "$LIB" ios/Sources/Gridwork/Generated --swift-sources --config uniffi.toml
  "$BINDGEN_SWIFT" "$LIB" ios/build/include --headers --modulemap --xcframework \
    --module-name GridworkFFI --modulemap-filename module.modulemap --config uniffi.toml
fi

echo "== bindings generated"
