// Client, server, manifests, rows and the Supabase transport through the
// package: round trips and every error path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createStore } from 'zustand/vanilla';
import { Hub, createSyncSlice, pkg, supabaseTransport, throwsCode } from './support.mjs';

const { ProjectClient, ProjectServer, manifests, paths, rows } = pkg;

test('hashes, derived ids and changesets', () => {
  assert.deepEqual(pkg.hashOf(''), {
    blake3: 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262',
    sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  });
  assert.equal(pkg.fileIdDerive('x', 'a'), pkg.fileIdDerive('x', new TextEncoder().encode('a')));
  assert.notEqual(pkg.fileIdDerive('x', 'a'), pkg.fileIdDerive('y', 'a'));
  const v1 = { version: 0, entries: [manifests.entryFromContent('a.ts', 'one\n')] };
  const v2 = { version: 1, entries: [manifests.entryFromContent('a.ts', 'one\ntwo\n', undefined, 1)] };
  const changeset = pkg.changesets.between(v1, v2, ['one\ntwo\n']);
  const applied = pkg.changesets.apply(v1, ['one\n'], changeset);
  assert.equal(manifests.id(applied.manifest), manifests.id(v2));
  assert.deepEqual(applied.files, { 'a.ts': { text: 'one\ntwo\n' } });
  throwsCode(assert, () => pkg.changesets.between(v1, v2, []), 'changeset.sender_missing');
  throwsCode(assert, () => pkg.changesets.apply(v2, ['one\ntwo\n'], changeset), 'changeset.base_mismatch');
  throwsCode(assert, () => pkg.changesets.apply(v1, ['one\n'], '{'), 'changeset.bad_json');
  const plan = pkg.hydration.plan(v2);
  assert.equal(plan.batches.length, 1);
  assert.equal(plan.content_bytes, 8);
  throwsCode(assert, () => pkg.hydration.plan(v2, [], [], -1), 'wasm.bad_argument');
  assert.equal(pkg.protocol.decodeServer('{"v":1,"event":"ack","payload":{"seq":1,"rev":2}}').event, 'ack');
  throwsCode(assert, () => pkg.protocol.decodeClient('{"v":1,"event":"ack","payload":{}}'), 'protocol.unknown_event');
  throwsCode(assert, () => pkg.protocol.decodeServer('{"v":1,"event":"ack","payload":{"seq":1,"rev":2}}', { maxMessageBytes: 10 }), 'protocol.message_too_large');
});

test('paths parse strictly and leniently', () => {
  assert.equal(paths.parse('src/app.ts'), 'src/app.ts');
  assert.equal(paths.parseLenient('/src//app.ts'), 'src/app.ts');
  throwsCode(assert, () => paths.parse('../etc'), 'path.parent_segment');
  throwsCode(assert, () => paths.parse('/abs'), 'path.absolute');
  throwsCode(assert, () => paths.parse('a\\b'), 'path.backslash');
  throwsCode(assert, () => paths.parse(''), 'path.empty');
});

test('manifests: id, diff and apply round trip', () => {
  const a = { version: 0, entries: [manifests.entryFromContent('a.ts', 'one')] };
  const b = {
    version: 1,
    entries: [
      manifests.entryFromContent('a.ts', 'two', undefined, 1),
      manifests.entryFromContent('img.png', new Uint8Array([0, 159, 146, 150])),
    ],
  };
  assert.equal(b.entries[1].kind, 'binary');
  assert.match(manifests.id(a), /^[0-9a-f]{64}$/);
  const diff = manifests.diff(a, b);
  assert.deepEqual(diff.changes.map((c) => c.op), ['modified', 'added']);
  const applied = manifests.apply(a, diff);
  assert.equal(manifests.id(applied), manifests.id(b));
  assert.deepEqual(manifests.normalize(applied), manifests.normalize(b));
  throwsCode(
    assert,
    () =>
      manifests.id({
        entries: [manifests.entryFromContent('README.md', 'a'), manifests.entryFromContent('readme.md', 'b')],
      }),
    'manifest.portable_key_collision',
  );
  throwsCode(assert, () => manifests.id({ entries: 3 }), 'wasm.bad_argument');
  throwsCode(assert, () => manifests.entryFromContent('a', 'x', 'not-a-uuid'), 'entry.bad_id');
  throwsCode(assert, () => manifests.entryFromContent('../a', 'x'), 'path.parent_segment');
  throwsCode(assert, () => manifests.apply(a, manifests.diff(b, a)), manifestCode(a, b));
});

function manifestCode(a, b) {
  try {
    manifests.apply(a, manifests.diff(b, a));
  } catch (err) {
    assert.match(err.code, /^manifest\./);
    return err.code;
  }
  assert.fail('applying a diff to the wrong base must fail');
}

test('rows: decode and encode the editor and rich shapes', () => {
  const row = { path: '/src/a.ts', type: 'file', content: 'x\r\n' };
  const decoded = rows.decode(row);
  assert.equal(decoded.shape, 'editor');
  assert.equal(decoded.entry.path, 'src/a.ts');
  assert.deepEqual(decoded.content, { text: 'x\r\n' });
  const project = '6f1c1e2a-0000-4000-8000-000000000001';
  const rich = rows.encode('rich', decoded.entry, 'x\r\n', { project_id: project, created_by: project });
  assert.equal(rich.file_path, 'src/a.ts');
  const again = rows.decode(rich);
  assert.equal(again.shape, 'rich');
  assert.deepEqual(again.content, { text: 'x\r\n' });
  assert.deepEqual(rows.decode(rows.encode('editor', decoded.entry, { text: 'x\r\n' }, decoded.context)).entry, decoded.entry);
  assert.equal(again.sha256, decoded.sha256);
  throwsCode(assert, () => rows.decode({ type: 'file' }), rowCode({ type: 'file' }));
  throwsCode(assert, () => rows.decode(row, 'maybe'), 'wasm.bad_argument');
  throwsCode(assert, () => rows.encode('wide', decoded.entry, 'x'), 'wasm.bad_argument');
  throwsCode(assert, () => rows.encode('rich', decoded.entry, 'x\r\n', {}), rowCode(null));
});

function rowCode(row) {
  try {
    if (row) rows.decode(row);
    else rows.encode('rich', rows.decode({ path: 'a', content: 'x\r\n' }).entry, 'x\r\n', {});
  } catch (err) {
    assert.match(err.code, /^row\./);
    return err.code;
  }
  assert.fail('expected a row error');
}

test('client and server: round trip by hand, and malformed messages refused', () => {
  const server = new ProjectServer();
  const client = new ProjectClient(7);
  server.connect(7, 'editor');
  client.connect();
  const pump = () => {
    for (let m = client.pollOutbound(); m; m = client.pollOutbound()) server.handle(7, m);
    for (let o = server.pollOutbound(); o; o = server.pollOutbound()) client.handle(o.message);
  };
  pump();
  assert.equal(client.isSynced, true);
  const id = client.create('index.html', '<p>hi</p>');
  pump();
  client.edit(id, [3, '!', 6]);
  assert.equal(client.text(id), '<p>!hi</p>');
  pump();
  assert.equal(server.text(id), '<p>!hi</p>');
  assert.equal(client.isIdle, true);
  assert.equal(client.manifestId(), server.manifestId());
  assert.ok(server.checkpoint() > 0);
  assert.equal(server.manifest().entries[0].path, 'index.html');
  const events = client.pollEvents();
  assert.ok(events.some((e) => e.type === 'synced'));

  throwsCode(assert, () => client.handle('{"v":1,"event":"nope","payload":{}}'), 'protocol.unknown_event');
  throwsCode(assert, () => client.handle('not json'), 'protocol.bad_json');
  throwsCode(assert, () => client.handle({ v: 9, event: 'ack', payload: {} }), 'protocol.unsupported_version');
  throwsCode(assert, () => server.handle(7, '{"v":1,"event":"file:update","payload":{}}'), 'protocol.bad_payload');
  throwsCode(assert, () => server.connect(8, 'admin'), 'wasm.bad_argument');
  throwsCode(assert, () => server.handle(-1, '{}'), 'wasm.bad_argument');
  throwsCode(assert, () => new ProjectClient(2 ** 53), 'wasm.bad_argument');
  throwsCode(assert, () => client.edit('nope', [1]), 'entry.bad_id');
  throwsCode(assert, () => client.edit('6f1c1e2a-0000-4000-8000-000000000009', [1]), 'client.unknown_file');
  throwsCode(assert, () => client.edit(id, [99]), 'ot.length_mismatch');
  throwsCode(assert, () => client.editUtf16(id, [{ offset: 99, deleted: 0, text: '' }]), 'ot.out_of_range');
  throwsCode(assert, () => client.create('../x', 'y'), 'path.parent_segment');
  throwsCode(assert, () => client.rename(id, 'a/../b'), 'path.parent_segment');
  throwsCode(assert, () => client.setCursor(id, { head: -1, anchor: 0 }), 'wasm.bad_argument');
  const bin = client.create('logo.png', new Uint8Array([0, 1, 2]));
  pump();
  throwsCode(assert, () => client.edit(bin, [3]), 'client.not_text');
  assert.deepEqual(pkg.panics(), []);
});

test('the per-keystroke splice edits and records undo like editUtf16 and record', () => {
  const server = new ProjectServer();
  const [byChanges, bySplice] = [new ProjectClient(1), new ProjectClient(2)];
  for (const [n, client] of [[1, byChanges], [2, bySplice]]) {
    server.connect(n, 'editor');
    client.connect();
  }
  const pump = () => {
    for (const [n, client] of [[1, byChanges], [2, bySplice]]) {
      for (let m = client.pollOutbound(); m; m = client.pollOutbound()) server.handle(n, m);
    }
    for (let o = server.pollOutbound(); o; o = server.pollOutbound()) {
      const to = o.to === 'client' ? [o.client] : [1, 2].filter((n) => o.to === 'all' || n !== o.client);
      for (const n of to) (n === 1 ? byChanges : bySplice).handle(o.message);
    }
  };
  pump();
  const id = byChanges.create('a.txt', 'x😀y\r\n');
  pump();
  const undoA = new pkg.UndoManager(10);
  const undoB = new pkg.UndoManager(10);
  const handle = bySplice.fileHandle(id);
  assert.equal(bySplice.fileHandle(id), handle, 'one handle per file');
  assert.equal(bySplice.lastEdit(), undefined);
  // [offset, deleted, text] in UTF-16 code units, as Monaco reports them.
  const edits = [[1, 2, ''], [0, 0, '👋'], [3, 0, 'ab'], [5, 1, 'é'], [2, 0, 'z']];
  for (const [offset, deleted, text] of edits) {
    const before = byChanges.text(id);
    const op = byChanges.editUtf16(id, [{ offset, deleted, text }]);
    undoA.record(op, before);
    bySplice.spliceUtf16(handle, offset, deleted, text, undoB);
    assert.deepEqual(bySplice.lastEdit(), op);
    assert.equal(bySplice.text(id), byChanges.text(id));
  }
  assert.equal(bySplice.text(id), '👋zxabé\r\n');
  const undone = undoB.undo(bySplice.text(id));
  assert.deepEqual(undone, undoA.undo(byChanges.text(id)));
  bySplice.edit(id, undone);
  assert.equal(bySplice.text(id), '👋xabé\r\n');
  // Every error path, nothing changed by any of them.
  const text = bySplice.text(id);
  throwsCode(assert, () => bySplice.fileHandle('nope'), 'entry.bad_id');
  throwsCode(assert, () => bySplice.spliceUtf16(handle + 9, 0, 0, 'a', undoB), 'wasm.bad_argument');
  throwsCode(assert, () => bySplice.spliceUtf16(handle, 99, 0, 'a', undoB), 'ot.out_of_range');
  throwsCode(assert, () => bySplice.spliceUtf16(handle, 1, 0, 'a', undoB), 'ot.split_surrogate');
  throwsCode(assert, () => bySplice.spliceUtf16(handle, -1, 0, '', undoB), 'wasm.bad_argument');
  throwsCode(assert, () => bySplice.spliceUtf16(handle, 0, 0.5, 'ab', undoB), 'wasm.bad_argument');
  const gone = bySplice.fileHandle('6f1c1e2a-0000-4000-8000-000000000009');
  throwsCode(assert, () => bySplice.spliceUtf16(gone, 0, 0, 'a', undoB), 'client.unknown_file');
  const bin = bySplice.create('logo.png', new Uint8Array([0, 1, 2]));
  // As with editUtf16, a file without a local text is unknown to text edits.
  throwsCode(assert, () => bySplice.spliceUtf16(bySplice.fileHandle(bin), 0, 0, 'a', undoB), 'client.unknown_file');
  assert.equal(bySplice.text(id), text);
  assert.equal(undoB.canRedo, true, 'a refused splice leaves the undo manager as it was');
  // Both clients made the same edits concurrently: they still converge.
  for (let i = 0; i < 5; i += 1) pump();
  assert.equal(bySplice.text(id), server.text(id));
  assert.equal(byChanges.text(id), server.text(id));
  assert.deepEqual(pkg.panics(), []);
});

test('the store keeps the module\'s text through localSplice, lone surrogates included', () => {
  const hub = new Hub();
  hub.connect(1);
  const store = createStore(createSyncSlice({ clientId: 1, transport: hub.transport(1) }));
  store.getState().connect();
  hub.drain();
  const id = store.getState().createFile('a.txt', 'ab😀\r\n');
  store.getState().openFile(id);
  const edits = [[2, 2, 'x'], [0, 0, '\uD800'], [1, 1, ''], [4, 0, '👋'], [0, 1, 'é']];
  for (const [offset, deleted, text] of edits) {
    store.getState().localSplice(id, offset, deleted, text);
    assert.equal(store.getState().texts[id], store.getState().fileText(id));
  }
  assert.equal(store.getState().texts[id], 'ébx\r👋\n');
  assert.deepEqual(store.getState().pending, [id]);
  hub.drain();
  assert.equal(hub.server.text(id), store.getState().texts[id]);
  assert.equal(store.getState().idle, true);
  // Undo goes through the manager localSplice recorded into.
  store.getState().undo(id);
  assert.equal(store.getState().texts[id], '\uFFFDbx\r👋\n', 'the last splice undone');
  throwsCode(assert, () => store.getState().localSplice(id, 99, 0, 'a'), 'ot.out_of_range');
  assert.deepEqual(pkg.panics(), []);
});

test('a malformed message reaches the store as an error, not an exception', () => {
  const hub = new Hub();
  hub.connect(1);
  const store = createStore(createSyncSlice({ clientId: 1, transport: hub.transport(1) }));
  store.getState().connect();
  hub.drain();
  store.getState().receive('{"v":1,"event":"ack"');
  store.getState().receive({ v: 1, event: 'file:update', payload: { nope: 1 } });
  assert.deepEqual(
    store.getState().errors.map((e) => e.code),
    ['protocol.bad_json', 'protocol.bad_payload'],
  );
  assert.equal(store.getState().connection, 'synced');
});

test('a viewer is refused writes with a rejected event in the store', () => {
  const hub = new Hub();
  hub.connect(1, 'viewer');
  const store = createStore(createSyncSlice({ clientId: 1, transport: hub.transport(1) }));
  store.getState().connect();
  hub.drain();
  store.getState().createFile('a.txt', 'x');
  hub.drain();
  const [rejected] = store.getState().rejected;
  assert.equal(rejected.code, 'sync.read_only');
});

// A stand-in for a Supabase RealtimeChannel: broadcast to every other
// subscriber, with the platform's size limit enforced on the wire.
class FakeChannel {
  constructor(bus, name) {
    this.bus = bus;
    this.name = name;
    this.handlers = [];
    this.sizes = [];
    bus.push(this);
  }
  on(type, filter, callback) {
    assert.equal(type, 'broadcast');
    this.handlers.push([filter.event, callback]);
    return this;
  }
  send(message) {
    assert.equal(message.type, 'broadcast');
    const size = Buffer.byteLength(JSON.stringify({ event: message.event, payload: message.payload }));
    this.sizes.push(size);
    assert.ok(size <= 256 * 1024, `a ${size}-byte broadcast exceeds Supabase's limit`);
    for (const channel of this.bus) {
      if (channel === this) continue;
      for (const [event, callback] of channel.handlers) {
        if (event === message.event) channel.pending.push(() => callback({ event, payload: message.payload }));
      }
    }
    return Promise.resolve('ok');
  }
  pending = [];
}

test('Supabase transport: a large project hydrates in batches under the size limit', () => {
  const bus = [];
  const serverChannel = new FakeChannel(bus, 'server');
  const server = new ProjectServer();
  const serverTransport = supabaseTransport(serverChannel);
  for (const event of pkg.CLIENT_EVENTS) {
    serverTransport.on(event, (envelope) => {
      const from = envelope.from;
      server.handle(from, envelope.message);
      for (let out = server.pollOutbound(); out; out = server.pollOutbound()) {
        serverTransport.send(out.message.event, out);
      }
    });
  }
  const stores = [1, 2].map((clientId) => {
    server.connect(clientId, 'editor');
    const channel = new FakeChannel(bus, `client ${clientId}`);
    const transport = supabaseTransport(channel, { clientId });
    return { channel, store: createStore(createSyncSlice({ clientId, transport })) };
  });
  const run = () => {
    for (let busy = true; busy; ) {
      busy = false;
      for (const channel of bus) {
        while (channel.pending.length) {
          busy = true;
          channel.pending.shift()();
        }
      }
    }
  };
  const [a, b] = stores;
  a.store.getState().connect();
  run();
  // ~3 MB of text: far more than one broadcast may carry.
  const big = 'const value = "0123456789abcdef";\n'.repeat(3000);
  for (let i = 0; i < 30; i += 1) a.store.getState().createFile(`src/module${i}.ts`, `${i}${big}`);
  run();
  b.store.getState().connect();
  run();
  const state = b.store.getState();
  assert.equal(state.manifestId, server.manifestId());
  assert.equal(state.manifest.entries.length, 30);
  assert.equal(pkg.hydration.complete(state.hydration), true);
  assert.ok(serverChannel.sizes.filter((s) => s > 100 * 1024).length >= 5, 'hydration came in several large batches');
  assert.ok(Math.max(...serverChannel.sizes) <= 256 * 1024);
  const tooBig = supabaseTransport(new FakeChannel([], 'x'), { maxBytes: 100 });
  throwsCode(assert, () => tooBig.send('file:update', { text: 'x'.repeat(200) }), 'transport.message_too_large');
});
