// A panic inside the module is a bug: the hook records it and the call fails
// with `wasm.panic` instead of an opaque trap. (Its own file: after a trap the
// module instance is not used again.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pkg } from './support.mjs';

test('a panic is recorded and surfaces as wasm.panic', () => {
  assert.deepEqual(pkg.panics(), []);
  assert.throws(() => pkg.__panicForTests(), (err) => {
    assert.equal(err.code, 'wasm.panic');
    assert.match(err.message, /velocity-sync test panic/);
    return true;
  });
  assert.equal(pkg.panics().length, 1);
  assert.match(pkg.panics()[0], /velocity-sync test panic/);
});
