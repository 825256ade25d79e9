// The text helpers through the package: round trips and every error path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pkg, throwsCode } from './support.mjs';

const { ops, charOfUtf16, utf16OfChar, TextDocument, UndoManager, panics } = pkg;

test('splices, apply and invert round trip with astral characters', () => {
  const base = 'a😀b\r\n';
  const op = ops.fromSplice(5, 1, 1, '🎉x');
  assert.deepEqual(op, [1, '🎉x', -1, 3]);
  const edited = ops.apply(op, base);
  assert.equal(edited, 'a🎉xb\r\n');
  assert.equal(ops.apply(ops.invert(op, base), edited), base);
  assert.deepEqual(ops.info(op), { op, baseLen: 5, targetLen: 6 });
});

test('Monaco UTF-16 changes in and out', () => {
  const base = 'x😀y\r\nz';
  const op = ops.fromUtf16(base, [
    { offset: 3, deleted: 1, text: '' },
    { offset: 0, deleted: 0, text: '👋' },
  ]);
  assert.equal(ops.apply(op, base), '👋x😀\r\nz');
  const back = ops.toUtf16(op, base);
  let text = base;
  for (const c of back) text = text.slice(0, c.offset) + c.text + text.slice(c.offset + c.deleted);
  assert.equal(text, '👋x😀\r\nz');
  assert.equal(utf16OfChar(base, 2), 3);
  assert.equal(charOfUtf16(base, 3), 2);
});

test('compose and transform agree (TP1) on concurrent edits', () => {
  const base = 'hello world';
  const a = ops.fromSplice(11, 5, 0, ',');
  const b = ops.fromSplice(11, 11, 0, '!');
  const [a2, b2] = ops.transform(a, b, 'left');
  const left = ops.apply(b2, ops.apply(a, base));
  const right = ops.apply(a2, ops.apply(b, base));
  assert.equal(left, 'hello, world!');
  assert.equal(right, left);
  assert.equal(ops.apply(ops.compose(a, b2), base), left);
  assert.equal(ops.transformPosition(a, 6, 'after'), 7);
  assert.equal(ops.transformPosition(a, 5, 'before'), 5);
  assert.equal(ops.apply(ops.diff('one two', 'one 2 two'), 'one two'), 'one 2 two');
});

test('undo skips remote edits', () => {
  const undo = new UndoManager(10);
  let text = 'hello';
  const mine = ops.fromSplice(5, 5, 0, ' world');
  undo.record(mine, text);
  text = ops.apply(mine, text);
  const remote = ops.fromSplice(11, 0, 1, 'J');
  undo.remote(remote);
  text = ops.apply(remote, text);
  assert.equal(undo.canUndo, true);
  text = ops.apply(undo.undo(text), text);
  assert.equal(text, 'Jello');
  assert.equal(undo.canRedo, true);
  text = ops.apply(undo.redo(text), text);
  assert.equal(text, 'Jello world');
  assert.equal(new UndoManager(1).undo('x'), undefined);
});

test('every op error path carries core code', () => {
  throwsCode(assert, () => ops.apply([3], 'ab'), 'ot.length_mismatch');
  throwsCode(assert, () => ops.apply([0.5], 'ab'), 'ot.invalid_json');
  throwsCode(assert, () => ops.apply([{}], 'ab'), 'ot.invalid_json');
  throwsCode(assert, () => ops.compose([1], [2]), 'ot.compose_mismatch');
  throwsCode(assert, () => ops.transform([1], [2], 'left'), 'ot.transform_mismatch');
  throwsCode(assert, () => ops.transform([1], [1], 'middle'), 'wasm.bad_argument');
  throwsCode(assert, () => ops.invert([2], 'abc'), 'ot.length_mismatch');
  throwsCode(assert, () => ops.transformPosition([1], -1, 'after'), 'wasm.bad_argument');
  throwsCode(assert, () => ops.transformPosition([1], 0, 'sideways'), 'wasm.bad_argument');
  throwsCode(assert, () => ops.fromSplice(2, 2, 1, ''), 'ot.out_of_range');
  throwsCode(assert, () => ops.fromSplice(1.5, 0, 0, ''), 'wasm.bad_argument');
  throwsCode(assert, () => ops.fromUtf16('😀', [{ offset: 1, deleted: 0, text: '' }]), 'ot.split_surrogate');
  throwsCode(assert, () => ops.fromUtf16('ab', [{ offset: 1, deleted: 5, text: '' }]), 'ot.out_of_range');
  throwsCode(
    assert,
    () => ops.fromUtf16('abcd', [{ offset: 0, deleted: 3, text: '' }, { offset: 1, deleted: 0, text: 'x' }]),
    'ot.overlapping_changes',
  );
  throwsCode(assert, () => ops.fromUtf16('ab', [{ offset: 0 }]), 'wasm.bad_argument');
  throwsCode(assert, () => ops.toUtf16([5], 'ab'), 'ot.length_mismatch');
  throwsCode(assert, () => charOfUtf16('😀', 1), 'ot.split_surrogate');
  throwsCode(assert, () => charOfUtf16('a', 3), 'ot.out_of_range');
  throwsCode(assert, () => new UndoManager(-1), 'wasm.bad_argument');
  const undo = new UndoManager(5);
  throwsCode(assert, () => undo.record([4], 'ab'), 'ot.length_mismatch');
  undo.record([2, 'c'], 'ab');
  throwsCode(assert, () => undo.remote(['x', 9]), 'ot.transform_mismatch');
  assert.equal(undo.canUndo, true, 'a refused remote op leaves the manager unchanged');
  assert.deepEqual(panics(), []);
});

test('a text document orders concurrent ops and answers retries once', () => {
  const doc = new TextDocument('hello');
  const first = doc.submit(1, 1, 0, [5, ' world']);
  assert.deepEqual(first, { rev: 1, op: [5, ' world'], duplicate: false });
  // Client 2 inserted at the start of revision 0, concurrently.
  const second = doc.submit(2, 1, 0, ['😀', 5]);
  assert.deepEqual(second, { rev: 2, op: ['😀', 11], duplicate: false });
  assert.equal(doc.text(), '😀hello world');
  assert.equal(doc.lenChars, 12);
  assert.deepEqual(doc.submit(1, 1, 0, [5, ' world']), { ...first, duplicate: true });
  assert.equal(doc.transformPositionSince(0, 2), 3);
  assert.equal(doc.transformPositionSince(0, 5), 12, 'a caret at an insert moves past it');
  throwsCode(assert, () => doc.submit(3, 1, 9, [12]), 'ot.future_revision');
  throwsCode(assert, () => doc.submit(3, 1, 2, [3]), 'ot.length_mismatch');
  throwsCode(assert, () => doc.submit(3, 1, 2, '[1,'), 'ot.invalid_json');
  doc.submit(3, 5, 2, [12, '!']);
  throwsCode(assert, () => doc.submit(3, 4, 2, [12]), 'ot.stale_seq');
  assert.equal(doc.rev, 3);
});

test('splices as numbers order like submit, with the op read only when wanted', () => {
  const byOp = new TextDocument('hello');
  const bySplice = new TextDocument('hello');
  assert.equal(bySplice.lastOp(), undefined);
  assert.equal(bySplice.lastOpJson(), undefined);
  assert.equal(bySplice.lastDuplicate, false);
  const edits = [
    // [client, seq, baseRev, pos, deleted, inserted]
    [1, 1, 0, 5, 0, ' world'],
    [2, 1, 0, 0, 0, '😀'], // concurrent with the first, one astral code point
    [1, 2, 1, 0, 1, ''], // a deletion on an older revision
    [2, 2, 3, 1, 0, 'x'], // one BMP character
    [3, 1, 4, 2, 3, '\uD800'], // a lone surrogate takes the string path, as in submit
  ];
  const texts = [byOp.text()]; // the text at each revision
  for (const [client, seq, base, pos, deleted, inserted] of edits) {
    const op = ops.fromSplice([...texts[base]].length, pos, deleted, inserted);
    const expected = byOp.submit(client, seq, base, op);
    texts.push(byOp.text());
    const rev = bySplice.splice(client, seq, base, pos, deleted, inserted);
    assert.equal(rev, expected.rev);
    assert.deepEqual(bySplice.lastOp(), expected.op);
    assert.equal(bySplice.lastOpJson(), JSON.stringify(expected.op));
    assert.equal(bySplice.lastDuplicate, false);
    assert.equal(bySplice.text(), byOp.text());
  }
  assert.ok(bySplice.text().includes('\uFFFD'), 'a lone surrogate arrives as U+FFFD');
  // A retry answers the first result again, whatever the splice says.
  const first = byOp.submit(1, 2, 1, [11]);
  assert.equal(first.duplicate, true);
  assert.equal(bySplice.splice(1, 2, 1, 99, 99, 'ignored'), first.rev);
  assert.equal(bySplice.lastDuplicate, true);
  assert.deepEqual(bySplice.lastOp(), first.op);
  // Every error path, with the code submit gives (the document unchanged).
  const rev = bySplice.rev;
  throwsCode(assert, () => bySplice.splice(4, 1, rev + 1, 0, 0, 'a'), 'ot.future_revision');
  throwsCode(assert, () => bySplice.splice(4, 1, rev, bySplice.lenChars + 1, 0, 'a'), 'ot.out_of_range');
  throwsCode(assert, () => bySplice.splice(4, 1, rev, 0, bySplice.lenChars + 1, ''), 'ot.out_of_range');
  throwsCode(assert, () => bySplice.splice(4, 1, rev, -1, 0, 'a'), 'wasm.bad_argument');
  throwsCode(assert, () => bySplice.splice(4, 1.5, rev, 0, 0), 'wasm.bad_argument');
  assert.equal(bySplice.rev, rev);
  byOp.free();
  bySplice.free();
  assert.deepEqual(panics(), []);
});

test('the code-point entry point refuses what is not a character', () => {
  const raw = new pkg.raw.TextDocument('ab');
  assert.equal(raw.submitCodePoint(1, 1, 0, 0, 0, 0xd800), -1);
  throwsCode(assert, () => raw.takeError(), 'wasm.bad_argument');
  raw.takeError(); // nothing left to throw
  assert.equal(raw.submitCodePoint(1, 1, 0, 0, 0, 0x110000), -1);
  throwsCode(assert, () => raw.takeError(), 'wasm.bad_argument');
  assert.equal(raw.submitCodePoint(1, 1, 0, 0, 0, -2), -1);
  throwsCode(assert, () => raw.takeError(), 'wasm.bad_argument');
  assert.equal(raw.submitCodePoint(1, 1, 0, 2, 0, 0x1f600), 1);
  assert.equal(raw.text(), 'ab😀');
  raw.free();
  assert.deepEqual(panics(), []);
});
