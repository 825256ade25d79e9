//! Panics are bugs: with `panic = "abort"` none can be caught, so a hook
//! reports each one to JavaScript (`globalThis.__velocitySyncPanic`, which
//! the package's wrapper records) before the module traps. Tests assert the
//! record stays empty.

use wasm_bindgen::prelude::wasm_bindgen;

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
extern "C" {
    /// The package's recorder (defined by `js/index.js` before loading).
    #[wasm_bindgen(js_namespace = globalThis, js_name = __velocitySyncPanic)]
    fn report_panic(message: &str);
}

/// Installs the hook once, when the module starts.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| report_panic(&info.to_string())));
}

/// Panics on purpose, so the tests can prove the hook reports a panic.
#[wasm_bindgen(js_name = __panicForTests)]
pub fn panic_for_tests() {
    panic!("velocity-sync test panic");
}
