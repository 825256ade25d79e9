//! TextClient → server messages: decode → encode → decode is stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use velocity_sync::protocol::{ProtocolLimits, decode_client};

fuzz_target!(|data: &[u8]| {
    let limits = ProtocolLimits::default();
    let Ok(message) = decode_client(data, &limits) else {
        return;
    };
    let json = message.to_json();
    let again = decode_client(json.as_bytes(), &limits).expect("own encoding must decode");
    assert_eq!(again, message);
    assert_eq!(again.to_json(), json);
});
