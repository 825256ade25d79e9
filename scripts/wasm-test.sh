#!/usr/bin/env bash
# The editor package's checks: builds wasm/pkg when missing or stale
# (scripts/wasm-pkg.sh), runs the Node tests against it, then the browser test
# (Debian's Chromium, installed with apt when missing, driven by playwright-core
# with real Monaco editors). Ends with one "wasm: N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/wasm-pkg.sh

if [ ! -x /usr/bin/chromium ]; then
  echo "wasm-test: installing chromium (apt)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends chromium >&2
fi

mkdir -p wasm/test-artifacts
log=wasm/test-artifacts/node-test.tap
status=0
node --test --test-reporter=tap wasm/tests/*.test.mjs > "$log" 2>&1 || status=$?
grep -E '^# (Subtest|pass|fail)|^not ok' "$log" || true
pass=$(awk '/^# pass /{ p += $3 } END { print p + 0 }' "$log")
fail=$(awk '/^# fail /{ f += $3 } END { print f + 0 }' "$log")
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then
  cat "$log"
  fail=1
fi
echo "wasm: $pass passed, $fail failed"
# The shared summary counts cargo-style lines.
echo "test result: wasm package. $pass passed; $fail failed"
[ "$fail" -eq 0 ]
