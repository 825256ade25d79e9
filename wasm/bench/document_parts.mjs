// Where the package's text-engine time goes: the automerge-paper replay
// through TextDocument.submit as the package exports it (the wrapper parses
// the result JSON) and through the raw wasm-bindgen export (result left as
// text), best of 3 each, same run.
//   node wasm/bench/document_parts.mjs [trace]
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as pkg from '../pkg/node.js';

await pkg.init();
const name = process.argv[2] ?? 'automerge-paper';
const root = fileURLToPath(new URL('../../', import.meta.url));
const traces = process.env.VELOCITY_SYNC_TRACES ?? `${root}../shared/traces`;
const trace = JSON.parse(gunzipSync(readFileSync(`${traces}/sequential/${name}.json.gz`)).toString('utf8'));

let len = [...trace.startContent].length;
const ops = [];
for (const txn of trace.txns) {
  for (const [pos, deleted, inserted] of txn.patches) {
    ops.push(JSON.stringify(pkg.ops.fromSplice(len, pos, deleted, inserted)));
    len += [...inserted].length - deleted;
  }
}

const replay = (Document) => {
  const doc = new Document(trace.startContent);
  const start = performance.now();
  for (let i = 0; i < ops.length; i += 1) doc.submit(1, i + 1, i, ops[i]);
  const ms = performance.now() - start;
  if (doc.text() !== trace.endContent) throw new Error('replay did not reach endContent');
  doc.free();
  return ms;
};
const best = { wrapper: Infinity, raw: Infinity };
for (let run = 0; run < 3; run += 1) {
  best.wrapper = Math.min(best.wrapper, replay(pkg.TextDocument));
  best.raw = Math.min(best.raw, replay(pkg.raw.TextDocument));
}
console.log(`${name}, ${ops.length} keystrokes, best of 3`);
console.log(`TextDocument.submit (package, parses the result): ${best.wrapper.toFixed(1)} ms`);
console.log(`raw export (result left as JSON text):            ${best.raw.toFixed(1)} ms`);
