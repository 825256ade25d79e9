// Browsers and bundlers that need the server half (`ProjectServer`, row
// codecs): `await init()` loads the full build next to this file (or from
// `input`) instead of the smaller browser build. Everything else is the same
// as the main entry point, and the adapters follow this choice.
import initWasm from './velocity_sync_full.js';
import { __loaded } from './core.js';

export * from './core.js';

let ready;

/** Loads the full WebAssembly module once; later calls return the same promise. */
export function init(input) {
  ready ??= initWasm(
    input === undefined
      ? { module_or_path: new URL('./velocity_sync_full_bg.wasm', import.meta.url) }
      : { module_or_path: input },
  ).then(() => __loaded('full'));
  return ready;
}
