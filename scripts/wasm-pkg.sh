#!/usr/bin/env bash
# Builds the editor's npm package into wasm/pkg/, idempotently:
#   - the wasm32 target (scripts/ensure-wasm-target.sh), Node and npm (apt when missing);
#   - wasm-bindgen-cli at exactly the wasm-bindgen version in Cargo.lock;
#   - binaryen (wasm-opt) and the test tools from npm (wasm/package-lock.json);
#   - cargo build twice: the browser build without the server feature
#     (--profile wasm-release, size-tuned), the full build with it
#     (--profile wasm-server, speed-tuned); wasm-bindgen --target web;
#     wasm-opt --flatten --rereloop -Oz -Oz (browser) or -O3 (full), with
#     --low-memory-unused;
#   - the JS wrapper, adapters, types, README and package.json from wasm/js/.
# Skips the work when wasm/pkg/.stamp matches the inputs. Prints both .wasm sizes.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'wasm-pkg: %s\n' "$*" >&2; }

# --- tools -----------------------------------------------------------------
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  log "installing nodejs and npm (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends nodejs npm >&2
fi

if [ ! -d wasm/node_modules/binaryen ] || [ wasm/package-lock.json -nt wasm/node_modules/.package-lock.json ]; then
  log "npm ci (binaryen, test tools)"
  (cd wasm && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $bindgen_version" ]; then
  log "installing wasm-bindgen-cli $bindgen_version (a few minutes, once)"
  cargo install wasm-bindgen-cli --version "$bindgen_version" >&2
fi

# --- freshness -------------------------------------------------------------
stamp=$( (cat Cargo.lock Cargo.toml core/Cargo.toml wasm/Cargo.toml scripts/wasm-pkg.sh
          find core/src wasm/src wasm/js -type f | LC_ALL=C sort | xargs cat) | sha256sum | cut -c1-64)
if [ -f wasm/pkg/.stamp ] && [ "$(cat wasm/pkg/.stamp)" = "$stamp" ] && [ "${1:-}" != "--force" ]; then
  log "wasm/pkg is up to date"
  exit 0
fi

# --- build -----------------------------------------------------------------
wasm_cargo=$(bash scripts/ensure-wasm-target.sh)
rm -rf wasm/pkg
mkdir -p wasm/pkg
# Two builds: `full` (default features: with ProjectServer and the row codecs,
# for Node and `velocity-sync/server`) and `wasm` (--no-default-features: the
# browser build the editor loads, under the size budget's eye).
# The full build is tuned for speed (profile wasm-server: opt-level 3, then
# wasm-opt -O3), the browser build for size (wasm-release: opt-level z, -Oz).
for build in full wasm; do
  features=()
  profile=wasm-server
  passes=(-O3)
  if [ "$build" = wasm ]; then
    features=(--no-default-features)
    profile=wasm-release
    # Flattening and re-looping the control flow before two -Oz rounds finds
    # ~2.7 KB gzipped more than one -Oz (same semantics, binaryen's own passes).
    passes=(--flatten --rereloop -Oz -Oz)
  fi
  log "cargo build ($profile, $build)"
  $wasm_cargo build -p velocity-sync-wasm --lib --target wasm32-unknown-unknown \
    --profile "$profile" --locked "${features[@]}" >&2
  wasm_in=target/wasm32-unknown-unknown/$profile/velocity_sync_wasm.wasm
  [ -f "$wasm_in" ] || wasm_in=target/debian-wasm/wasm32-unknown-unknown/$profile/velocity_sync_wasm.wasm
  wasm-bindgen "$wasm_in" --target web --out-dir wasm/pkg --out-name "velocity_sync_$build" --no-typescript
  # --low-memory-unused: the first KiB of linear memory is the far end of
  # Rust's stack (it starts at 1 MiB and grows down; data sits above it), only
  # reached just before a stack overflow, so binaryen may fold constant
  # offsets into loads and stores: ~1.6 KB gzipped less.
  log "wasm-opt ${passes[*]} --low-memory-unused ($build)"
  wasm/node_modules/.bin/wasm-opt "${passes[@]}" --low-memory-unused --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "wasm/pkg/velocity_sync_${build}_bg.wasm" -o "wasm/pkg/velocity_sync_${build}_bg.wasm"
done
# The browser build must not carry the server (guards against a stale artifact).
if grep -q 'ProjectServer' wasm/pkg/velocity_sync_wasm.js || ! grep -q 'ProjectServer' wasm/pkg/velocity_sync_full.js; then
  log "the browser/full builds are mixed up"; exit 1
fi
cp wasm/js/*.js wasm/js/*.d.ts wasm/js/package.json wasm/js/README.md wasm/pkg/
echo "$stamp" > wasm/pkg/.stamp

for build in wasm full; do
  file=wasm/pkg/velocity_sync_${build}_bg.wasm
  printf 'wasm-pkg: %s %d bytes raw, %d bytes gzip -9\n' "${file##*/}" "$(wc -c < "$file")" \
    "$(gzip -9 -c "$file" | wc -c)" >&2
done
gz=$(gzip -9 -c wasm/pkg/velocity_sync_wasm_bg.wasm | wc -c)
if [ "$gz" -gt 256000 ]; then
  log "WARNING: the browser build is over the 250 KB gzipped budget (see README: what the size is made of)"
fi
