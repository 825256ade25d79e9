// Browsers and bundlers: `await init()` loads the `.wasm` next to this file
// (or from `input`: a URL, a Response, bytes or a compiled module).
import initWasm from './velocity_sync_wasm.js';

export * from './core.js';

let ready;

/** Loads the WebAssembly module once; later calls return the same promise. */
export function init(input) {
  ready ??= initWasm(
    input === undefined
      ? { module_or_path: new URL('./velocity_sync_wasm_bg.wasm', import.meta.url) }
      : { module_or_path: input },
  );
  return ready.then(() => undefined);
}
