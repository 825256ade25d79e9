// The package half of scripts/wasm-bench.sh: replays an editing trace through
// the npm package (WebAssembly): the whole server path (ProjectServer, one
// `file:update` JSON envelope per keystroke) and the text engine alone
// (TextDocument.submit per keystroke), as examples/replay_native.rs does
// natively.
// Prints one JSON line.  node wasm/bench/replay.mjs [trace] [runs]
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as pkg from '../pkg/node.js';

await pkg.init();
const name = process.argv[2] ?? 'automerge-paper';
const runs = Number(process.argv[3] ?? 5);
const root = fileURLToPath(new URL('../../', import.meta.url));
const traces = process.env.VELOCITY_SYNC_TRACES ?? `${root}../shared/traces`;
const trace = JSON.parse(gunzipSync(readFileSync(`${traces}/sequential/${name}.json.gz`)).toString('utf8'));

const id = pkg.fileIdDerive('bench', 'paper');
let len = [...trace.startContent].length;
const ops = [];
for (const txn of trace.txns) {
  for (const [pos, deleted, inserted] of txn.patches) {
    const op = pkg.ops.fromSplice(len, pos, deleted, inserted);
    len += [...inserted].length - deleted;
    ops.push(JSON.stringify(op));
  }
}

let best = Infinity;
for (let run = 0; run < runs; run += 1) {
  const server = new pkg.ProjectServer();
  server.connect(1, 'editor');
  const handle = (text) => {
    server.handle(1, text);
    while (server.pollOutbound() !== undefined);
  };
  handle('{"v":1,"event":"sync:hello","payload":{"client":1}}');
  handle(JSON.stringify({ v: 1, event: 'file:create', payload: { id, path: 'paper.txt', seq: 1, content: { text: trace.startContent } } }));
  const base = server.manifest().entries.find((e) => e.id === id).revision;
  const messages = ops.map(
    (op, i) => `{"v":1,"event":"file:update","payload":{"id":"${id}","seq":${i + 1},"base":${base + i},"op":${op}}}`,
  );
  const start = performance.now();
  for (const message of messages) handle(message);
  const ms = performance.now() - start;
  if (server.text(id) !== trace.endContent) throw new Error('replay did not reach the trace endContent');
  best = Math.min(best, ms);
  server.free();
}
// The text engine alone: TextDocument.submit per keystroke (op JSON in, the
// applied op back), as Document::submit natively.
let bestDocument = Infinity;
for (let run = 0; run < runs; run += 1) {
  const doc = new pkg.TextDocument(trace.startContent);
  const start = performance.now();
  for (let i = 0; i < ops.length; i += 1) doc.submit(1, i + 1, i, ops[i]);
  const ms = performance.now() - start;
  if (doc.text() !== trace.endContent) throw new Error('document replay did not reach endContent');
  bestDocument = Math.min(bestDocument, ms);
  doc.free();
}
// The text engine with splices as numbers: TextDocument.splice per keystroke
// (numbers in, the revision out; one typed character crosses as its code
// point), and the same plus lastOpJson() (a server broadcasting every
// keystroke puts the op's JSON text into its message, as native to_json).
const splices = trace.txns.flatMap((txn) => txn.patches);
const bestSplice = [Infinity, Infinity];
for (const variant of [0, 1]) {
  for (let run = 0; run < runs; run += 1) {
    const doc = new pkg.TextDocument(trace.startContent);
    const start = performance.now();
    for (let i = 0; i < splices.length; i += 1) {
      const [pos, deleted, inserted] = splices[i];
      doc.splice(1, i + 1, i, pos, deleted, inserted);
      if (variant === 1) doc.lastOpJson();
    }
    const ms = performance.now() - start;
    if (doc.text() !== trace.endContent) throw new Error('splice replay did not reach endContent');
    bestSplice[variant] = Math.min(bestSplice[variant], ms);
    doc.free();
  }
}
if (pkg.panics().length) throw new Error(`panics: ${pkg.panics()}`);
console.log(
  JSON.stringify({
    trace: name,
    keystrokes: ops.length,
    best_ms: Number(best.toFixed(2)),
    document_ms: Number(bestDocument.toFixed(2)),
    splice_ms: Number(bestSplice[0].toFixed(2)),
    splice_broadcast_ms: Number(bestSplice[1].toFixed(2)),
    runs,
  }),
);
