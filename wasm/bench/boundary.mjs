// The cost of crossing into the package and back, without work: as many
// calls as automerge-paper has keystrokes, each passing a short string in
// and getting one back.  node wasm/bench/boundary.mjs
import * as pkg from '../pkg/node.js';

await pkg.init();
const N = 259778;
const best = { pathParse: Infinity, coreVersion: Infinity };
for (let run = 0; run < 5; run += 1) {
  let start = performance.now();
  for (let i = 0; i < N; i += 1) pkg.raw.pathParse('src/a.ts');
  best.pathParse = Math.min(best.pathParse, performance.now() - start);
  start = performance.now();
  for (let i = 0; i < N; i += 1) pkg.raw.coreVersion();
  best.coreVersion = Math.min(best.coreVersion, performance.now() - start);
}
for (const [name, ms] of Object.entries(best)) {
  console.log(`${name}: ${N} calls in ${ms.toFixed(1)} ms, ${((ms * 1000) / N).toFixed(2)} µs per call`);
}
