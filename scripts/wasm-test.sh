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

# Types: the .d.ts files check on their own, a usage file with Zustand's and
# Monaco's real types checks against them, and no `any` on the public surface.
types=0
(cd wasm && node_modules/.bin/tsc --noEmit --strict --target es2022 --module nodenext \
  --moduleResolution nodenext --lib es2022,dom pkg/*.d.ts) && types=$((types + 1))
(cd wasm && node_modules/.bin/tsc -p tests/types/tsconfig.json) && types=$((types + 1))
if grep -nwE 'any' wasm/pkg/*.d.ts; then echo "wasm-test: 'any' in the public types" >&2; else types=$((types + 1)); fi
echo "wasm types: $types of 3 checks passed"

mkdir -p wasm/test-artifacts
log=wasm/test-artifacts/node-test.tap
status=0
node --test --test-reporter=tap wasm/tests/*.test.mjs > "$log" 2>&1 || status=$?
grep -E '^# (Subtest|pass|fail)|^not ok' "$log" || true
pass=$(( $(awk '/^# pass /{ p += $3 } END { print p + 0 }' "$log") + types ))
fail=$(( $(awk '/^# fail /{ f += $3 } END { print f + 0 }' "$log") + 3 - types ))
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then
  cat "$log"
  fail=1
fi
echo "wasm: $pass passed, $fail failed"
# The shared summary counts cargo-style lines.
echo "test result: wasm package. $pass passed; $fail failed"
[ "$fail" -eq 0 ]
