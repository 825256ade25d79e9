// Two Zustand stores and a server, all through the package, converge over an
// in-memory transport that reorders and drops messages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createStore } from 'zustand/vanilla';
import { Hub, createSyncSlice, pkg, rng } from './support.mjs';

const ALPHABET = ['a', 'b', ' ', '\r\n', '\n', 'é', '😀', '👩‍👩‍👧', 'z'];

function setup(seed, drop) {
  const hub = new Hub({ seed, drop });
  const stores = [1, 2].map((id) => {
    hub.connect(id);
    return createStore(createSyncSlice({ clientId: id, transport: hub.transport(id) }));
  });
  for (const store of stores) store.getState().connect();
  return { hub, stores };
}

// A random Monaco-like change on a store's text: UTF-16 offsets on char bounds.
function randomEdit(random, text) {
  const chars = [...text];
  const at = Math.floor(random() * (chars.length + 1));
  const del = Math.min(chars.length - at, Math.floor(random() * 3));
  const insert = random() < 0.7 ? ALPHABET[Math.floor(random() * ALPHABET.length)] : '';
  const offset = chars.slice(0, at).join('').length;
  const deleted = chars.slice(at, at + del).join('').length;
  return [{ offset, deleted, text: insert }];
}

function heal(hub, stores) {
  hub.drop = 0;
  for (const store of stores) {
    const id = store.getState().clientId;
    hub.disconnect(id);
    hub.connect(id);
    store.getState().reconnect();
  }
  hub.drain();
}

function assertConverged(hub, stores, fileIds) {
  const { server } = hub;
  for (const store of stores) {
    const state = store.getState();
    assert.equal(state.connection, 'synced');
    assert.equal(state.idle, true, `client ${state.clientId} still has pending edits`);
    assert.deepEqual(state.pending, []);
    assert.equal(state.manifestId, server.manifestId());
    for (const id of fileIds) {
      assert.equal(state.texts[id], server.text(id), `file ${id} on client ${state.clientId}`);
    }
  }
}

test('a created file reaches the other store and edits are acknowledged', () => {
  const { hub, stores } = setup(1, 0);
  hub.drain();
  const [a, b] = stores;
  const id = a.getState().createFile('src/App.tsx', 'export const x = 1;\r\n');
  hub.drain();
  assert.equal(b.getState().openFile(id), 'export const x = 1;\r\n');
  assert.equal(b.getState().files[id].path, 'src/App.tsx');
  assert.equal(b.getState().files[id].kind, 'text');
  a.getState().openFile(id);
  a.getState().localEdit(id, [{ offset: 21, deleted: 0, text: '// 😀\r\n' }]);
  assert.deepEqual(a.getState().pending, [id]);
  hub.drain();
  assert.equal(b.getState().texts[id], 'export const x = 1;\r\n// 😀\r\n');
  assert.equal(hub.server.text(id), 'export const x = 1;\r\n// 😀\r\n');
  assertConverged(hub, stores, [id]);
  assert.deepEqual(pkg.panics(), []);
});

for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
  test(`two stores typing at once converge with reordering and drops (seed ${seed})`, () => {
    const random = rng(seed * 7919);
    const { hub, stores } = setup(seed, 0.1);
    hub.drain();
    const [a, b] = stores;
    const files = [a.getState().createFile('a.txt', 'one\r\ntwo\r\n'), a.getState().createFile('b.ts', 'x')];
    heal(hub, stores);
    for (const store of stores) for (const id of files) store.getState().openFile(id);
    hub.drop = 0.1;
    const edits = [];
    for (let round = 0; round < 120; round += 1) {
      const store = stores[Math.floor(random() * 2)];
      const id = files[Math.floor(random() * files.length)];
      const state = store.getState();
      const r = random();
      if (r < 0.75) {
        const changes = randomEdit(random, state.texts[id]);
        if (changes.length === 1 && random() < 0.5) {
          // The editor's per-keystroke path (bindMonaco uses it for one change).
          const [c] = changes;
          state.localSplice(id, c.offset, c.deleted, c.text);
          edits.push(changes);
        } else {
          edits.push(state.localEdit(id, changes));
        }
      } else if (r < 0.82) {
        state.undo(id);
      } else if (r < 0.85) {
        state.reconnect();
        hub.disconnect(state.clientId);
        hub.connect(state.clientId);
      } else {
        const steps = Math.floor(random() * 8);
        for (let i = 0; i < steps; i += 1) hub.step();
      }
    }
    heal(hub, stores);
    assertConverged(hub, stores, files);
    assert.ok(hub.dropped > 0, 'the network dropped something');
    assert.ok(edits.length > 50);
    assert.deepEqual(pkg.panics(), []);
  });
}

test('remote cursors are exposed and move through concurrent edits', () => {
  const { hub, stores } = setup(9, 0);
  hub.drain();
  const [a, b] = stores;
  const id = a.getState().createFile('c.txt', 'hello world');
  hub.drain();
  a.getState().openFile(id);
  b.getState().openFile(id);
  b.getState().setCursor(id, { head: 6, anchor: 11 });
  hub.drain();
  assert.deepEqual(a.getState().presence[id], { 2: { head: 6, anchor: 11 } });
  a.getState().localEdit(id, [{ offset: 0, deleted: 0, text: '😀 ' }]);
  assert.deepEqual(a.getState().presence[id], { 2: { head: 8, anchor: 13 } });
  b.getState().setCursor(id, null);
  hub.drain();
  assert.deepEqual(a.getState().presence[id], {});
});

test('hydration progress reaches the store of a late joiner', () => {
  const { hub, stores } = setup(10, 0);
  hub.drain();
  const [a] = stores;
  for (let i = 0; i < 40; i += 1) a.getState().createFile(`src/f${i}.ts`, `// ${i}\n`.repeat(200));
  hub.drain();
  hub.connect(3);
  const late = createStore(createSyncSlice({ clientId: 3, transport: hub.transport(3) }));
  late.getState().connect();
  hub.drain();
  const { hydration } = late.getState();
  assert.ok(hydration, 'a hydrating event arrived');
  assert.equal(pkg.hydration.complete(hydration), true);
  assert.equal(pkg.hydration.fraction(hydration), 1);
  assert.equal(late.getState().manifestId, hub.server.manifestId());
  assert.equal(late.getState().manifest.entries.length, 40);
});
