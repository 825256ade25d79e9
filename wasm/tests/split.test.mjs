// The two builds: the browser entry (`index.js`) loads the small build, which
// has no ProjectServer, TextDocument or row codecs and says so with a typed error; the
// `velocity-sync/server` entry adds the full build for those while the rest
// stays on the browser build. Runs in its own process (node --test), so the
// module state starts fresh: nothing here goes through node.js.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const pkgDir = new URL('../pkg/', import.meta.url);
const bytes = (name) => readFileSync(new URL(name, pkgDir));
const exportNames = (name) =>
  WebAssembly.Module.exports(new WebAssembly.Module(bytes(name))).map((e) => e.name);

test('the browser build leaves out the server half, the full build has it', () => {
  const browser = exportNames('velocity_sync_wasm_bg.wasm');
  const full = exportNames('velocity_sync_full_bg.wasm');
  for (const name of [
    'projectserver_new',
    'textdocument_new',
    'rowsDecode',
    'rowsEncode',
    'changesetBetween',
    'protocolDecodeClient',
    'hydratePlan',
  ]) {
    assert.ok(!browser.includes(name), `${name} is not in the browser build`);
    assert.ok(full.includes(name), `${name} is in the full build`);
  }
  for (const name of [
    'projectclient_new',
    'undomanager_new',
    'opApply',
    'hydrationFraction',
    'changesetApply',
    'protocolDecodeServer',
  ]) {
    assert.ok(browser.includes(name), `${name} is in the browser build`);
  }
  assert.ok(bytes('velocity_sync_wasm_bg.wasm').length < bytes('velocity_sync_full_bg.wasm').length);
});

test('the browser entry works on the browser build and refuses server exports by code', async () => {
  const pkg = await import('../pkg/index.js');
  await pkg.init(bytes('velocity_sync_wasm_bg.wasm'));
  assert.equal(pkg.ops.apply([1, '!'], 'a'), 'a!');
  const client = new pkg.ProjectClient(1);
  assert.equal(client.isIdle, true);
  client.free();
  for (const attempt of [
    () => new pkg.ProjectServer(),
    () => new pkg.TextDocument('a'),
    () => pkg.rows.decode({}),
    () => pkg.protocol.decodeClient('{}'),
    () => pkg.hydration.plan({ version: 1, entries: [] }),
  ]) {
    assert.throws(attempt, (err) => {
      assert.ok(pkg.isVelocitySyncError(err));
      assert.equal(err.code, 'wasm.not_in_build');
      assert.match(err.message, /velocity-sync\/server/);
      return true;
    });
  }

  // The server entry adds the full build for the server half only.
  const serverPkg = await import('../pkg/server.js');
  await serverPkg.init(bytes('velocity_sync_full_bg.wasm'));
  const server = new serverPkg.ProjectServer();
  server.connect(1, 'editor');
  server.handle(1, { v: 1, event: 'sync:hello', payload: { client: 1 } });
  assert.notEqual(server.pollOutbound(), undefined);
  server.free();
  assert.equal(pkg.raw.ProjectServer, undefined, 'the rest still runs on the browser build');
  const doc = new serverPkg.TextDocument('b');
  assert.equal(doc.submit(1, 1, 0, [1, '?']).rev, 1);
  assert.equal(doc.text(), 'b?');
  doc.free();
  assert.equal(serverPkg.ops.apply([1, '?'], 'b'), 'b?');
});
