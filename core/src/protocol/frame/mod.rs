//! Binary frames: a message whose contents travel raw instead of escaped
//! in JSON or encoded in base64.
//!
//! A client that says `"binary": true` in its `sync:hello` may receive a
//! `file:bulk-update` (the only message carrying whole contents) as one
//! binary WebSocket frame:
//!
//! ```text
//! "VSB1" | u32 little-endian: JSON length | the JSON envelope | attachments
//! ```
//!
//! In the JSON, each blob and chunk whose content is attached says
//! `"attached": len` instead of `"text"` or `"base64"`: its content is the
//! next `len` bytes of the attachments, in the order the envelope lists
//! them (blobs, then chunks). The attachments must be used up exactly.
//! Every other message still travels as text, and a text message may not
//! say `"attached"`.
//!
//! ```
//! use std::sync::Arc;
//! use velocity_sync::protocol::{BulkUpdate, WireBlob, WireContent};
//! use velocity_sync::protocol::{decode_server_binary, ProtocolLimits, ServerMessage};
//! use velocity_sync::{ContentHash, Manifest};
//!
//! let png: Arc<[u8]> = Arc::from(&b"\x89PNG\r\n\x1a\n"[..]);
//! let update = ServerMessage::BulkUpdate(BulkUpdate {
//!     manifest: Manifest::new().id(),
//!     batch: 0,
//!     of: 1,
//!     files: vec![],
//!     blobs: vec![WireBlob { hash: ContentHash::of(&png), content: WireContent::Bytes(png.clone()) }],
//!     chunks: vec![],
//! });
//! let frame = update.to_binary().expect("it carries a content");
//! assert!(frame.ends_with(&png)); // raw, not base64
//! let ServerMessage::BulkUpdate(back) = decode_server_binary(&frame, &ProtocolLimits::default())? else {
//!     unreachable!()
//! };
//! assert_eq!(back.blobs[0].content, WireContent::Bytes(png));
//! # Ok::<(), velocity_sync::protocol::ProtocolError>(())
//! ```

use std::cell::RefCell;

use super::{BulkUpdate, WireContent};
use super::{ProtocolError, ProtocolLimits, ServerMessage, decode_server_message};
use crate::blob::Blob;

/// The first four bytes of a binary frame (format version 1).
pub const BINARY_MAGIC: [u8; 4] = *b"VSB1";

/// Bytes before the JSON: the magic and the JSON's length.
const HEADER_BYTES: usize = 8;

thread_local! {
    /// The attachments of the message being serialised on this thread, while
    /// [`ServerMessage::to_binary`] runs.
    static ATTACHMENTS: RefCell<Option<Vec<Blob>>> = const { RefCell::new(None) };
}

/// While a binary frame is being serialised, takes `bytes` as its next
/// attachment and returns their length (written as `"attached"`); `None`
/// otherwise (the content goes in the JSON).
pub(crate) fn attach(bytes: &Blob) -> Option<u64> {
    ATTACHMENTS.with(|cell| {
        let mut slot = cell.borrow_mut();
        let list = slot.as_mut()?;
        list.push(Blob::clone(bytes));
        Some(bytes.len() as u64)
    })
}

/// Whether a binary frame is being serialised on this thread (contents go
/// to [`attach`]).
pub(crate) fn attaching() -> bool {
    ATTACHMENTS.with(|cell| cell.borrow().is_some())
}

/// Runs `serialise` with attachments collected, and returns them.
fn collecting<T>(serialise: impl FnOnce() -> T) -> (T, Vec<Blob>) {
    /// Stops collecting however `serialise` ends.
    struct Stop;
    impl Drop for Stop {
        fn drop(&mut self) {
            ATTACHMENTS.with(|cell| cell.borrow_mut().take());
        }
    }
    ATTACHMENTS.with(|cell| *cell.borrow_mut() = Some(Vec::new()));
    let stop = Stop;
    let value = serialise();
    let attachments = ATTACHMENTS
        .with(|cell| cell.borrow_mut().take())
        .unwrap_or_default();
    drop(stop);
    (value, attachments)
}

impl ServerMessage {
    /// The message as a binary frame (see the [module docs](self)) when it
    /// carries contents to attach: a `file:bulk-update` with blobs or
    /// chunks. `None` for every other message, which travels as
    /// [`to_json`](Self::to_json) text, and for contents still
    /// [`WireContent::Attached`] (their bytes are not in the message).
    pub fn to_binary(&self) -> Option<Vec<u8>> {
        let Self::BulkUpdate(update) = self else {
            return None;
        };
        // Nothing to attach, or contents that name attachments of another
        // frame (their bytes are not here).
        if (update.blobs.is_empty() && update.chunks.is_empty()) || names_attachments(update) {
            return None;
        }
        let (json, attachments) = collecting(|| self.to_json());
        let json_len = u32::try_from(json.len()).ok()?;
        let attached: usize = attachments.iter().map(|a| a.len()).sum();
        let mut frame = Vec::with_capacity(HEADER_BYTES + json.len() + attached);
        frame.extend_from_slice(&BINARY_MAGIC);
        frame.extend_from_slice(&json_len.to_le_bytes());
        frame.extend_from_slice(json.as_bytes());
        for bytes in &attachments {
            frame.extend_from_slice(bytes);
        }
        Some(frame)
    }
}

/// Decodes and validates a binary frame a server sent (see the
/// [module docs](self)): the envelope as [`decode_server`] does, then each
/// `"attached"` content resolved to its bytes.
///
/// # Errors
/// [`ProtocolError::BadFrame`] for a frame that is not laid out as
/// documented (magic, lengths, attachments not used up exactly); otherwise
/// as [`decode_server`].
///
/// [`decode_server`]: super::decode_server
pub fn decode_server_binary(
    frame: &[u8],
    limits: &ProtocolLimits,
) -> Result<ServerMessage, ProtocolError> {
    if frame.len() > limits.max_message_bytes {
        return Err(ProtocolError::MessageTooLarge {
            bytes: frame.len(),
            limit: limits.max_message_bytes,
        });
    }
    let bad = |message: String| ProtocolError::BadFrame { message };
    let (magic, rest) = frame
        .split_at_checked(4)
        .ok_or_else(|| bad(format!("{} bytes is shorter than the header", frame.len())))?;
    if magic != BINARY_MAGIC {
        return Err(bad(format!("starts with {magic:02x?}, not \"VSB1\"")));
    }
    let (len, rest) = rest
        .split_at_checked(4)
        .ok_or_else(|| bad(format!("{} bytes is shorter than the header", frame.len())))?;
    let json_len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    let (json, attachments) = rest.split_at_checked(json_len).ok_or_else(|| {
        bad(format!(
            "the JSON is said to be {json_len} bytes; {} follow the header",
            rest.len()
        ))
    })?;
    let mut message = decode_server_message(json, limits, true)?;
    let used = match &mut message {
        ServerMessage::BulkUpdate(update) => resolve(update, attachments)?,
        _ => 0,
    };
    if used != attachments.len() {
        return Err(bad(format!(
            "{} attachment bytes, of which the envelope names {used}",
            attachments.len()
        )));
    }
    Ok(message)
}

/// Replaces each attached content of `update` by its bytes, taken in order
/// from `attachments`; returns how many bytes were taken.
fn resolve(update: &mut BulkUpdate, attachments: &[u8]) -> Result<usize, ProtocolError> {
    let blobs = update.blobs.iter_mut().map(|blob| &mut blob.content);
    let chunks = update.chunks.iter_mut().map(|chunk| &mut chunk.content);
    let mut at = 0usize;
    for content in blobs.chain(chunks) {
        if let WireContent::Attached(len) = *content {
            let end = usize::try_from(len)
                .ok()
                .and_then(|len| at.checked_add(len))
                .filter(|&end| end <= attachments.len())
                .ok_or_else(|| ProtocolError::BadFrame {
                    message: format!(
                        "an attachment of {len} bytes at {at} runs past the {} attached",
                        attachments.len()
                    ),
                })?;
            *content = WireContent::Bytes(Blob::from(&attachments[at..end]));
            at = end;
        }
    }
    Ok(at)
}

/// Whether `update` names an attachment (refused outside a binary frame).
pub(crate) fn names_attachments(update: &BulkUpdate) -> bool {
    let attached = |content: &WireContent| matches!(content, WireContent::Attached(_));
    update.blobs.iter().any(|blob| attached(&blob.content))
        || update.chunks.iter().any(|chunk| attached(&chunk.content))
}

#[cfg(test)]
mod tests;
