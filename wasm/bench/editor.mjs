// The editor's half of scripts/wasm-bench.sh, on either build of the package:
// `browser` (what the editor downloads: opt-level z, index.js) or `full`
// (Node's: opt-level 3, node.js). Prints one JSON line.
//   node wasm/bench/editor.mjs [browser|full] [trace] [runs]
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createStore } from 'zustand/vanilla';

const build = process.argv[2] ?? 'browser';
const pkg =
  build === 'browser' ? await import('../pkg/index.js') : await import('../pkg/node.js');
const pkgDir = new URL('../pkg/', import.meta.url);
if (build === 'browser') await pkg.init(readFileSync(new URL('velocity_sync_wasm_bg.wasm', pkgDir)));
else await pkg.init();
const { createSyncSlice } = await import('../pkg/zustand.js');
const name = process.argv[3] ?? 'automerge-paper';
const runs = Number(process.argv[4] ?? 5);
const root = fileURLToPath(new URL('../../', import.meta.url));
const traces = process.env.VELOCITY_SYNC_TRACES ?? `${root}../shared/traces`;
const trace = JSON.parse(gunzipSync(readFileSync(`${traces}/sequential/${name}.json.gz`)).toString('utf8'));
const splices = trace.txns.flatMap((txn) => txn.patches);

// The editor's side, over the first 20,000 keystrokes (the client keeps its
// text in one string, so each edit is O(text) natively too). Three ways:
//  - client: the package calls ProjectClient.spliceUtf16 makes (with the
//    outbound messages polled), as examples/replay_native.rs does natively;
//  - store.localSplice: what bindMonaco calls per keystroke now (the client
//    call, the store's own text, Zustand's set, the outbound flush);
//  - store.localEdit: what bindMonaco called per keystroke before (changes and
//    the op as JSON, the whole text into the module twice).
const clientKeystrokes = Math.min(splices.length, 20000);
if (/[\u{10000}-\u{10FFFF}]/u.test(trace.startContent + splices.map((s) => s[2]).join(''))) {
  throw new Error('the editor-side replay passes character offsets as UTF-16 ones');
}
const bestClient = { client: Infinity, localSplice: Infinity, localEdit: Infinity };
for (let run = 0; run < runs; run += 1) {
  const client = new pkg.ProjectClient(1);
  const file = client.create('paper.txt', trace.startContent);
  const handle = client.fileHandle(file);
  const undo = new pkg.UndoManager(1000);
  const start = performance.now();
  for (let i = 0; i < clientKeystrokes; i += 1) {
    const [pos, deleted, inserted] = splices[i];
    client.spliceUtf16(handle, pos, deleted, inserted, undo);
    while (client.pollOutbound() !== undefined);
  }
  bestClient.client = Math.min(bestClient.client, performance.now() - start);
  client.free();
  undo.free();
  for (const path of ['localSplice', 'localEdit']) {
    const sent = [];
    const transport = { send: (event, payload) => sent.push(payload), on: () => {} };
    const store = createStore(createSyncSlice({ clientId: 1, transport }));
    store.getState().connect();
    const id = store.getState().createFile('paper.txt', trace.startContent);
    store.getState().openFile(id);
    const state = store.getState();
    const begin = performance.now();
    for (let i = 0; i < clientKeystrokes; i += 1) {
      const [pos, deleted, inserted] = splices[i];
      if (path === 'localSplice') state.localSplice(id, pos, deleted, inserted);
      else state.localEdit(id, [{ offset: pos, deleted, text: inserted }]);
    }
    bestClient[path] = Math.min(bestClient[path], performance.now() - begin);
    if (store.getState().texts[id] !== store.getState().fileText(id)) throw new Error(`${path}: store and client differ`);
  }
}
if (pkg.panics().length) throw new Error(`panics: ${pkg.panics()}`);
console.log(
  JSON.stringify({
    build,
    trace: name,
    client_keystrokes: clientKeystrokes,
    client_ms: Number(bestClient.client.toFixed(2)),
    local_splice_ms: Number(bestClient.localSplice.toFixed(2)),
    local_edit_ms: Number(bestClient.localEdit.toFixed(2)),
    runs,
  }),
);
