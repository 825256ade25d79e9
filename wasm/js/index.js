// Browsers and bundlers: `await init()` loads the browser build's `.wasm`
// (no `ProjectServer` or row codecs: those are in `velocity-sync/server`) next to this file
// (or from `input`: a URL, a Response, bytes or a compiled module).
import initWasm from './velocity_sync_wasm.js';
import { __loaded } from './core.js';

export * from './core.js';

let ready;

/** Loads the WebAssembly module once; later calls return the same promise. */
export function init(input) {
  ready ??= initWasm(
    input === undefined
      ? { module_or_path: new URL('./velocity_sync_wasm_bg.wasm', import.meta.url) }
      : { module_or_path: input },
  ).then(() => __loaded('browser'));
  return ready;
}
