#!/usr/bin/env bash
# Builds GridworkFFI.xcframework (device + simulator slices) and the Swift bindings. macOS with
# Xcode and Rust only: see README.md.
set -euo pipefail
IOS="$(cd "$(dirname "$0")" && pwd)"
ROOT="$IOS/.."
cd "$ROOT"

rustup target add aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios
for t in aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios; do
  cargo build --release -p gridwork-ffi --target "$t"
done
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
mkdir -p "$TARGET_DIR/ios-sim-universal"
lipo -create "$TARGET_DIR/aarch64-apple-ios-sim/release/libgridwork_ffi.a" \
             "$TARGET_DIR/x86_64-apple-ios/release/libgridwork_ffi.a" \
     -output "$TARGET_DIR/ios-sim-universal/libgridwork_ffi.a"

# Swift sources, both headers and one `GridworkFFI` modulemap (from the host build).
bindings/generate.sh --release swift

rm -rf "$IOS/GridworkFFI.xcframework"
xcodebuild -create-xcframework \
  -library "$TARGET_DIR/aarch64-apple-ios/release/libgridwork_ffi.a" -headers "$IOS/build/include" \
  -library "$TARGET_DIR/ios-sim-universal/libgridwork_ffi.a" -headers "$IOS/build/include" \
  -output "$IOS/GridworkFFI.xcframework"
echo "built $IOS/GridworkFFI.xcframework"
