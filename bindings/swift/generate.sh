#!/usr/bin/env bash
# Generates the Swift package's sources from the built ringlet-ffi library with uniffi-bindgen
# (this crate's `uniffi-bindgen` binary):
#   Sources/RingletKit/RingletKit.swift         the Swift API
#   Sources/RingletKitFFI/RingletKitFFI.h       the C declarations it calls
#   Sources/RingletKitFFI/module.modulemap      the C module, for SwiftPM
#
# Usage: bash bindings/swift/generate.sh           regenerate in place
#        bash bindings/swift/generate.sh --check   fail if the committed sources are stale
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
cd "$REPO"

mode="${1:-write}"
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"

# target/<triple>/debug when the build names a target (tests/run.sh does).
profile_dir="$target_dir/${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}debug"

cargo build --locked -p ringlet-ffi --lib --bin uniffi-bindgen
case "$(uname -s)" in
  Darwin) lib="$profile_dir/libringlet_ffi.dylib" ;;
  *) lib="$profile_dir/libringlet_ffi.so" ;;
esac

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# --no-format: the output must not depend on whether swift-format is installed.
"$profile_dir/uniffi-bindgen" generate --library "$lib" --language swift --no-format \
  --out-dir "$out" >/dev/null
mkdir -p "$out/Sources/RingletKit" "$out/Sources/RingletKitFFI"
mv "$out/RingletKit.swift" "$out/Sources/RingletKit/RingletKit.swift"
mv "$out/RingletKitFFI.h" "$out/Sources/RingletKitFFI/RingletKitFFI.h"
mv "$out/RingletKitFFI.modulemap" "$out/Sources/RingletKitFFI/module.modulemap"

if [ "$mode" = "--check" ]; then
  if ! diff -ru "$HERE/Sources" "$out/Sources"; then
    echo "bindings/swift/Sources is stale: run \`bash bindings/swift/generate.sh\` and commit" >&2
    exit 1
  fi
  echo "bindings/swift/Sources is up to date"
else
  rm -rf "$HERE/Sources/RingletKit" "$HERE/Sources/RingletKitFFI"
  mkdir -p "$HERE/Sources"
  cp -R "$out/Sources/." "$HERE/Sources/"
  echo "regenerated bindings/swift/Sources"
fi
