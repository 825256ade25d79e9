//! TextOp JSON (ot.js arrays): decode → encode → decode is stable, and an
//! accepted op applies to any text of its base length, giving its target
//! length.
#![no_main]

use libfuzzer_sys::fuzz_target;
use velocity_sync::TextOp;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(op) = TextOp::from_json(text) else {
        return;
    };
    let json = op.to_json();
    let again = TextOp::from_json(&json).expect("own JSON must decode");
    assert_eq!(again, op);
    assert_eq!(again.to_json(), json);
    // Keep the base text small enough to build (retains may be huge).
    if op.base_len() <= 1 << 16 {
        let base: String = "aé😀\n".chars().cycle().take(op.base_len()).collect();
        let out = op.apply(&base).expect("an op applies to a text of its base length");
        assert_eq!(out.chars().count(), op.target_len());
        let inverse = op.invert(&base).expect("invert on its base");
        assert_eq!(inverse.apply(&out).expect("inverse applies"), base);
    }
});
