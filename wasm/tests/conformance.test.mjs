// The shared conformance vectors through the package in Node.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { canonical, runVectors } from './conformance.mjs';
import { pkg, root } from './support.mjs';

const vectors = JSON.parse(readFileSync(`${root}conformance/vectors.json`, 'utf8'));

test('every conformance case gives the same result as core, byte for byte', () => {
  const result = runVectors(pkg, vectors);
  assert.deepEqual(result.failures, []);
  assert.equal(result.passed, vectors.cases.length);
  assert.ok(result.total > 100);
  assert.deepEqual(pkg.panics(), []);
});

test('the runner refuses a case it does not know and notices a wrong result', () => {
  const result = runVectors(pkg, {
    format: 1,
    cases: [
      { name: 'new', fn: 'op.teleport', args: {}, ok: 1 },
      { name: 'wrong', fn: 'op.apply', args: { text: 'a', op: [1, 'b'] }, ok: 'ba' },
      { name: 'wrong code', fn: 'op.apply', args: { text: 'a', op: [2] }, err: 'ot.out_of_range' },
    ],
  });
  assert.equal(result.passed, 0);
  assert.deepEqual(
    result.failures.map((f) => f.name),
    ['new', 'wrong', 'wrong code'],
  );
  assert.equal(canonical({ b: [1, { d: 1, c: 'x' }], a: null }), '{"a":null,"b":[1,{"c":"x","d":1}]}');
});
