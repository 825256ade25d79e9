// Node: `await init()` reads the `.wasm` next to this file from disk.
import { readFile } from 'node:fs/promises';
import { initSync } from './velocity_sync_wasm.js';

export * from './core.js';

let ready;

/** Loads the WebAssembly module once; later calls return the same promise. */
export function init() {
  ready ??= readFile(new URL('./velocity_sync_wasm_bg.wasm', import.meta.url)).then((bytes) => {
    initSync({ module: bytes });
  });
  return ready;
}
