#!/usr/bin/env bash
# Compile-checks the generated C header with gcc (no Swift compiler needed) and links a small C
# program against the built library that calls every function the header declares a checksum
# for, so a header that names a symbol the library lacks fails here.
#
# Usage: bash bindings/swift/check-header.sh   (after generate.sh has built the library)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
header="$HERE/Sources/RingletKitFFI/RingletKitFFI.h"
target_dir="$(cd "$REPO" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
# target/<triple>/debug when the build names a target (tests/run.sh does).
profile_dir="$target_dir/${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}debug"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The header uses clang's nullability qualifiers, which gcc does not know.
flags=(-std=c11 -Wall -Wextra -Werror -D_Nullable= -D_Nonnull= -I"$(dirname "$header")")

checksums=$(grep -o 'uniffi_ringlet_ffi_checksum_[a-z_]*' "$header" | sort -u)
[ -n "$checksums" ] || { echo "no checksum functions in $header" >&2; exit 1; }
{
  echo '#include <stdio.h>'
  echo '#include "RingletKitFFI.h"'
  echo 'int main(void) {'
  echo '  unsigned total = ffi_ringlet_ffi_uniffi_contract_version();'
  for fn in $checksums; do echo "  total += $fn();"; done
  echo '  printf("%u\n", total);'
  echo '  return 0;'
  echo '}'
} >"$work/check.c"

gcc "${flags[@]}" "$work/check.c" -o "$work/check" -L"$profile_dir" -lringlet_ffi \
  -Wl,-rpath,"$profile_dir"
"$work/check" >/dev/null
echo "RingletKitFFI.h: compiles with gcc; $(echo "$checksums" | wc -l) checksum functions link and run"
