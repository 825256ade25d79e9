// Remote carets under concurrent typing: two stores type at their own carets
// and share them after every keystroke over a network whose links are each in
// order (as WebSockets and Supabase channels are) but interleave at random;
// once quiet, each store shows the other's caret where it really is.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createStore } from 'zustand/vanilla';
import { createSyncSlice, pkg, rng } from './support.mjs';

// One server; every link a FIFO queue; each step delivers the head of a random busy link.
function net(seed) {
  const random = rng(seed);
  const server = new pkg.ProjectServer();
  const links = new Map(); // name -> queue of fns
  const handlers = new Map();
  const push = (link, fn) => { if (!links.has(link)) links.set(link, []); links.get(link).push(fn); };
  const route = () => {
    for (let out = server.pollOutbound(); out; out = server.pollOutbound()) {
      const targets = out.to === 'client' ? [out.client] : [...handlers.keys()].filter((c) => out.to === 'all' || c !== out.client);
      const text = JSON.stringify(out.message);
      for (const to of targets) push(`to${to}`, () => handlers.get(to).get(out.message.event)?.(JSON.parse(text)));
    }
  };
  const transport = (id) => ({
    send: (event, payload) => { const t = JSON.stringify(payload); push(`from${id}`, () => { server.handle(id, t); route(); }); },
    on: (event, h) => { if (!handlers.has(id)) handlers.set(id, new Map()); handlers.get(id).set(event, h); },
  });
  const step = () => { const busy = [...links.values()].filter((q) => q.length); if (!busy.length) return false; busy[Math.floor(random() * busy.length)].shift()(); return true; };
  return { server, transport, step, random };
}

for (let seed = 1; seed <= 20; seed += 1) {
  test(`remote carets land where the other user's caret is (seed ${seed})`, () => {
    const n = net(seed);
    const stores = [1, 2].map((id) => { n.server.connect(id, 'editor'); const s = createStore(createSyncSlice({ clientId: id, transport: n.transport(id) })); s.getState().connect(); return s; });
    while (n.step());
    const id = stores[0].getState().createFile('a.txt', 'hello world');
    while (n.step());
    const carets = [0, 11];
    for (const s of stores) s.getState().openFile(id);
    // Track each store's own caret through remote edits like Monaco does.
    stores.forEach((s, i) => s.getState().subscribeEdits(({ op }) => { carets[i] = pkg.ops.transformPosition(op, carets[i], 'after'); }));
    for (let k = 0; k < 30; k += 1) {
      const i = Math.floor(n.random() * 2);
      const s = stores[i].getState();
      const text = s.texts[id];
      const insert = n.random() < 0.5 ? 'ab' : '\r\n';
      const before = [...text].slice(0, carets[i]).join('');
      s.localEdit(id, [{ offset: before.length, deleted: 0, text: insert }]);
      carets[i] += [...insert].length;
      stores[i].getState().setCursor(id, { head: carets[i], anchor: carets[i] });
      const steps = Math.floor(n.random() * 4);
      for (let j = 0; j < steps; j += 1) n.step();
    }
    while (n.step());
    const [a, b] = stores.map((s) => s.getState());
    assert.equal(a.texts[id], b.texts[id]);
    assert.deepEqual([a.presence[id]?.['2']?.head, b.presence[id]?.['1']?.head], [carets[1], carets[0]], JSON.stringify(a.texts[id]));
    assert.deepEqual(pkg.panics(), []);
  });
}
