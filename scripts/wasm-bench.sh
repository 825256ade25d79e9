#!/usr/bin/env bash
# The trace replay through the npm package (Node, WebAssembly) next to the
# same replay natively, in one run: the text engine alone (TextDocument /
# Document::submit, with ops as JSON and as numbers), the editor's
# per-keystroke client calls and store actions (on the browser build and on
# the full build), and the whole server path (ProjectServer); prints a table
# with the ratios.
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
editor_browser=$(node wasm/bench/editor.mjs browser "$trace" "$runs")
editor_full=$(node wasm/bench/editor.mjs full "$trace" "$runs")
node -e '
const [native, wasm, browser, full] = process.argv.slice(1).map(JSON.parse);
const k = native.keystrokes;
const rate = (ms) => `${(k / ms / 1000).toFixed(2)} M/s`;
console.log(`trace replay, ${native.trace}, ${k} keystrokes, best of ${native.runs}, Node ${process.version}`);
console.log("| workload | native | npm package (wasm) | ratio |");
console.log("|---|---:|---:|---:|");
console.log(`| text engine: op JSON -> Document::submit -> op JSON | ${native.document_ms.toFixed(1)} ms (${rate(native.document_ms)}) | ${wasm.document_ms.toFixed(1)} ms (${rate(wasm.document_ms)}) | ${(wasm.document_ms / native.document_ms).toFixed(2)}x |`);
console.log(`| text engine, splice as numbers: TextDocument.splice -> rev | ${native.splice_ms.toFixed(1)} ms (${rate(native.splice_ms)}) | ${wasm.splice_ms.toFixed(1)} ms (${rate(wasm.splice_ms)}) | ${(wasm.splice_ms / native.splice_ms).toFixed(2)}x |`);
console.log(`| text engine, splice as numbers + broadcast op: splice, then lastOpJson() (op JSON text out) | ${native.splice_broadcast_ms.toFixed(1)} ms (${rate(native.splice_broadcast_ms)}) | ${wasm.splice_broadcast_ms.toFixed(1)} ms (${rate(wasm.splice_broadcast_ms)}) | ${(wasm.splice_broadcast_ms / native.splice_broadcast_ms).toFixed(2)}x |`);
const c = native.client_keystrokes;
const crate = (ms) => `${(c / ms / 1000).toFixed(2)} M/s`;
for (const e of [browser, full]) {
  const b = `${e.build} build`;
  console.log(`| editor, first ${c} keystrokes, ${b}: ProjectClient.spliceUtf16 + outbound polled | ${native.client_ms.toFixed(1)} ms (${crate(native.client_ms)}) | ${e.client_ms.toFixed(1)} ms (${crate(e.client_ms)}) | ${(e.client_ms / native.client_ms).toFixed(2)}x |`);
  console.log(`| editor, first ${c} keystrokes, ${b}: store.localSplice (bindMonaco per keystroke now) | (same core calls) | ${e.local_splice_ms.toFixed(1)} ms (${crate(e.local_splice_ms)}) | ${(e.local_splice_ms / native.client_ms).toFixed(2)}x |`);
  console.log(`| editor, first ${c} keystrokes, ${b}: store.localEdit (bindMonaco per keystroke before) | (same core calls) | ${e.local_edit_ms.toFixed(1)} ms (${crate(e.local_edit_ms)}) | ${(e.local_edit_ms / native.client_ms).toFixed(2)}x |`);
}
console.log(`| server path: file:update envelope -> ProjectServer -> ack + broadcast | ${native.best_ms.toFixed(1)} ms (${rate(native.best_ms)}) | ${wasm.best_ms.toFixed(1)} ms (${rate(wasm.best_ms)}) | ${(wasm.best_ms / native.best_ms).toFixed(2)}x |`);
' "$native" "$wasm" "$editor_browser" "$editor_full"
