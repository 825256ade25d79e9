#!/usr/bin/env bash
# The C API beyond `cargo test` (which already runs the header freshness
# test and the C programs under sanitizers): the Python ctypes suite, then
# the fuzz smoke run (skipped with a reason without nightly + cargo-fuzz).
# Idempotent; installs python3 with apt when it is missing and we are root.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v python3 >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq python3 >/dev/null
  else
    echo "ffi: python3 is missing (install it to run the Python suite)" >&2
    exit 1
  fi
fi

cargo build --locked -q -p velocity-sync-ffi
target_dir=$(cargo metadata --format-version 1 --no-deps --locked | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
VS_LIB="$target_dir/debug/libvelocity_sync_ffi.so" python3 ffi/tests/python/test_ffi.py

bash scripts/fuzz-smoke.sh
