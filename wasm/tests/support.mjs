// Shared by the Node tests: builds the package when it is missing or stale
// (scripts/wasm-pkg.sh checks a stamp of its inputs; flock keeps parallel
// test files from building at once), loads it, and offers an in-memory hub.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));

mkdirSync(`${root}target`, { recursive: true });
execFileSync('flock', [`${root}target/.wasm-pkg.lock`, 'bash', 'scripts/wasm-pkg.sh'], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
});

export const pkg = await import('../pkg/node.js');
await pkg.init();
export const { createSyncSlice } = await import('../pkg/zustand.js');
export const { supabaseTransport } = await import('../pkg/supabase.js');
export const { bindMonaco, lineEndings } = await import('../pkg/monaco.js');

/** A seeded PRNG (mulberry32), so a failing run can be replayed. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Asserts `fn` throws a velocity-sync error with `code`. */
export function throwsCode(assert, fn, code) {
  assert.throws(fn, (err) => {
    assert.equal(err.name, 'VelocitySyncError', String(err));
    assert.equal(err.code, code, `${err.message}`);
    assert.ok(err.message.length > 0);
    return true;
  });
}

/**
 * One server and any number of clients over queues the test drains: each
 * step delivers one random message (reordering), and may drop it.
 */
export class Hub {
  constructor({ seed = 1, drop = 0, server = new pkg.ProjectServer() } = {}) {
    this.server = server;
    this.random = rng(seed);
    this.drop = drop;
    this.queue = [];
    this.handlers = new Map();
    this.delivered = 0;
    this.dropped = 0;
  }

  /** The `{send, on}` transport of client `id`. */
  transport(id) {
    return {
      send: (event, payload) => {
        this.queue.push({ to: 'server', from: id, event, text: JSON.stringify(payload) });
      },
      on: (event, handler) => {
        let events = this.handlers.get(id);
        if (!events) this.handlers.set(id, (events = new Map()));
        events.set(event, handler);
      },
    };
  }

  connect(id, role = 'editor') {
    this.server.connect(id, role);
  }

  disconnect(id) {
    this.server.disconnect(id);
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id);
  }

  route() {
    for (let out = this.server.pollOutbound(); out; out = this.server.pollOutbound()) {
      const targets =
        out.to === 'client'
          ? [out.client]
          : [...this.handlers.keys()].filter((c) => out.to === 'all' || c !== out.client);
      const text = JSON.stringify(out.message);
      for (const to of targets) this.queue.push({ to, event: out.message.event, text });
    }
  }

  /** Delivers one message; returns false when nothing is queued. */
  step() {
    this.route();
    if (this.queue.length === 0) return false;
    const at = this.drop > 0 ? Math.floor(this.random() * this.queue.length) : 0;
    const [message] = this.queue.splice(at, 1);
    if (this.drop > 0 && this.random() < this.drop) {
      this.dropped += 1;
      return true;
    }
    this.delivered += 1;
    if (message.to === 'server') {
      this.server.handle(message.from, message.text);
    } else {
      this.handlers.get(message.to)?.get(message.event)?.(JSON.parse(message.text));
    }
    this.route();
    return true;
  }

  /** Delivers until nothing is queued (bounded: a livelock fails). */
  drain(limit = 100000) {
    for (let i = 0; i < limit; i += 1) if (!this.step()) return i;
    throw new Error(`hub did not go quiet within ${limit} messages`);
  }
}
