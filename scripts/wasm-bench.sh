#!/usr/bin/env bash
# The trace replay through the npm package (Node, WebAssembly) next to the
# same replay natively, in one run; prints a table with the ratio.
#   bash scripts/wasm-bench.sh [trace] [runs]     (default: automerge-paper 5)
# Not part of scripts/test (timings belong to benches, not tests).
set -euo pipefail
cd "$(dirname "$0")/.."
trace=${1:-automerge-paper}
runs=${2:-5}

bash scripts/wasm-pkg.sh
cargo build --release --locked -q -p velocity-sync-wasm --example replay_native
native=$(./target/release/examples/replay_native "$trace" "$runs")
wasm=$(node wasm/bench/replay.mjs "$trace" "$runs")
node -e '
const [native, wasm] = process.argv.slice(1).map(JSON.parse);
const row = (name, r) => `| ${name} | ${r.keystrokes} | ${r.best_ms.toFixed(1)} ms | ${(r.keystrokes / r.best_ms / 1000).toFixed(2)} M/s |`;
console.log(`trace replay, ${native.trace}: one file:update JSON envelope per keystroke through ProjectServer (best of ${native.runs})`);
console.log("| build | keystrokes | time | keystrokes/s |");
console.log("|---|---:|---:|---:|");
console.log(row("native (release)", native));
console.log(row("npm package in Node " + process.version + " (wasm)", wasm));
console.log(`ratio wasm / native: ${(wasm.best_ms / native.best_ms).toFixed(2)}x`);
' "$native" "$wasm"
