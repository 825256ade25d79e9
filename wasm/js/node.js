// Node: `await init()` reads the full build (with `ProjectServer` and the row
// codecs) next to this file from disk.
import { readFile } from 'node:fs/promises';
import { initSync } from './velocity_sync_full.js';
import { __loaded } from './core.js';

export * from './core.js';

let ready;

/** Loads the WebAssembly module once; later calls return the same promise. */
export function init() {
  ready ??= readFile(new URL('./velocity_sync_full_bg.wasm', import.meta.url)).then((bytes) => {
    initSync({ module: bytes });
    __loaded('full');
  });
  return ready;
}
