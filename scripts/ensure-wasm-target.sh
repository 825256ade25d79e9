#!/usr/bin/env bash
# Makes sure `cargo check --target wasm32-unknown-unknown` can run, idempotently.
# Prints the command prefix to use on stdout (everything else goes to stderr):
#   - rustup's target when `rustup target add` works (the normal case);
#   - otherwise Debian's rustc-web toolchain with build-std.
set -euo pipefail

if command -v rustup >/dev/null 2>&1; then
  if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
     || rustup target add wasm32-unknown-unknown >&2; then
    echo "cargo"
    exit 0
  fi
fi

echo "rustup cannot provide wasm32-unknown-unknown; using Debian's rustc-web" >&2
if [ ! -x /usr/bin/cargo ] || ! dpkg -s rust-web-src >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y rustc-web cargo-web rust-web-src lld-22 >&2
fi
echo "env RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 /usr/bin/cargo -Zbuild-std=std,panic_abort --config build.target-dir=\"target/debian-wasm\""
