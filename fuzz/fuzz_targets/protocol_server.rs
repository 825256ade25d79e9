//! Server → client messages, as text and as binary frames: decode → encode
//! → decode is stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use velocity_sync::protocol::{ProtocolLimits, decode_server, decode_server_binary};

fuzz_target!(|data: &[u8]| {
    let limits = ProtocolLimits::default();
    if let Ok(message) = decode_server_binary(data, &limits)
        && let Some(frame) = message.to_binary()
    {
        let again = decode_server_binary(&frame, &limits).expect("own frame must decode");
        assert_eq!(again, message);
    }
    let Ok(message) = decode_server(data, &limits) else {
        return;
    };
    let json = message.to_json();
    let again = decode_server(json.as_bytes(), &limits).expect("own encoding must decode");
    assert_eq!(again, message);
    assert_eq!(again.to_json(), json);
});
