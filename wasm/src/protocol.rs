//! The wire codecs: decode and validate one message (PROTOCOL.md) and give
//! it back re-encoded, the way the client and server read them.

use velocity_sync::protocol::{self, ProtocolLimits};
use wasm_bindgen::prelude::wasm_bindgen;

use crate::error::{BindResult, index};

fn limits(max_message_bytes: Option<f64>) -> BindResult<ProtocolLimits> {
    let mut limits = ProtocolLimits::default();
    if let Some(max) = max_message_bytes {
        limits.max_message_bytes = index("maxMessageBytes", max)?;
    }
    Ok(limits)
}

/// Decodes a message a client sent and returns it re-encoded.
///
/// # Errors
/// `protocol.*`, `wasm.bad_argument`.
#[cfg(feature = "server")]
#[wasm_bindgen(js_name = protocolDecodeClient)]
pub fn protocol_decode_client(text: &str, max_message_bytes: Option<f64>) -> BindResult<String> {
    Ok(protocol::decode_client(text.as_bytes(), &limits(max_message_bytes)?)?.to_json())
}

/// Decodes a message a server sent and returns it re-encoded.
///
/// # Errors
/// `protocol.*`, `wasm.bad_argument`.
#[wasm_bindgen(js_name = protocolDecodeServer)]
pub fn protocol_decode_server(text: &str, max_message_bytes: Option<f64>) -> BindResult<String> {
    Ok(protocol::decode_server(text.as_bytes(), &limits(max_message_bytes)?)?.to_json())
}
