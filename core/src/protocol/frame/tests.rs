use proptest::prelude::*;

use super::*;
use crate::blob::{BlobStore, MemoryBlobStore};
use crate::entry::FileEntry;
use crate::hash::ContentHash;
use crate::hydrate::{HydrationOptions, Hydrator, plan};
use crate::manifest::Manifest;
use crate::path::FilePath;
use crate::protocol::decode_server;

/// A project with a text file, a binary one, and one large enough to be
/// chunked; its plan cut in small batches.
fn project() -> (Manifest, MemoryBlobStore, Vec<Vec<u8>>) {
    let big: Vec<u8> = (0..150_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let files = vec![
        ("src/a.ts".to_owned(), b"const a = \"\\n\";\n".to_vec()),
        (
            "public/b.png".to_owned(),
            vec![0x89, b'P', b'N', b'G', 0, 1, 2],
        ),
        ("public/video.bin".to_owned(), big),
    ];
    let mut store = MemoryBlobStore::default();
    let mut manifest = Manifest::new();
    for (name, bytes) in &files {
        store.insert(bytes.clone());
        let path = FilePath::parse(name).unwrap();
        manifest
            .insert(FileEntry::from_content(path, bytes))
            .unwrap();
    }
    (manifest, store, files.into_iter().map(|(_, b)| b).collect())
}

fn small_batches() -> HydrationOptions {
    HydrationOptions {
        max_batch_bytes: 32 * 1024,
    }
}

fn frames(manifest: &Manifest, store: &MemoryBlobStore) -> Vec<ServerMessage> {
    let plan = plan(manifest, |_| false, |_| false, &small_batches());
    (0..plan.batches.len())
        .map(|i| ServerMessage::BulkUpdate(plan.materialize(i, store).unwrap()))
        .collect()
}

fn limits() -> ProtocolLimits {
    ProtocolLimits::default()
}

#[test]
fn binary_frames_carry_contents_raw_and_hydrate_like_text() {
    let (manifest, server, contents) = project();
    let messages = frames(&manifest, &server);
    assert!(messages.len() > 3, "chunked: {}", messages.len());
    let plan = plan(&manifest, |_| false, |_| false, &small_batches());
    let mut by_frame = MemoryBlobStore::default();
    let mut by_text = MemoryBlobStore::default();
    let mut frame_hydrator = Hydrator::new(plan.progress_total());
    let mut text_hydrator = Hydrator::new(plan.progress_total());
    let mut raw_total = 0;
    for message in &messages {
        let frame = message.to_binary().expect("every batch carries content");
        let text = message.to_json();
        assert!(frame.starts_with(&BINARY_MAGIC));
        raw_total += frame.len();
        let decoded = decode_server_binary(&frame, &limits()).unwrap();
        let ServerMessage::BulkUpdate(update) = &decoded else {
            panic!("{decoded:?}")
        };
        // Resolved to bytes: nothing left for the hydrator to decode.
        assert!(
            update
                .blobs
                .iter()
                .map(|b| &b.content)
                .chain(update.chunks.iter().map(|c| &c.content))
                .all(|c| matches!(c, WireContent::Bytes(_)))
        );
        frame_hydrator.receive(update, &mut by_frame).unwrap();
        let ServerMessage::BulkUpdate(read) = decode_server(text.as_bytes(), &limits()).unwrap()
        else {
            panic!()
        };
        text_hydrator.receive(&read, &mut by_text).unwrap();
    }
    for bytes in &contents {
        let hash = ContentHash::of(bytes);
        assert_eq!(&by_frame.get(&hash).unwrap()[..], &bytes[..]);
        assert_eq!(&by_text.get(&hash).unwrap()[..], &bytes[..]);
    }
    assert!(frame_hydrator.progress().is_complete());
    // Raw is smaller than base64 would be.
    let content: usize = contents.iter().map(Vec::len).sum();
    assert!(raw_total < content * 4 / 3, "{raw_total} for {content}");
}

#[test]
fn messages_without_contents_have_no_binary_form() {
    let (manifest, server, _) = project();
    let mut without = match &frames(&manifest, &server)[0] {
        ServerMessage::BulkUpdate(update) => update.clone(),
        other => panic!("{other:?}"),
    };
    without.blobs.clear();
    without.chunks.clear();
    assert_eq!(ServerMessage::BulkUpdate(without).to_binary(), None);
    let ack = ServerMessage::Ack(crate::protocol::Ack {
        seq: 1,
        id: None,
        n: Some(2),
        rev: None,
    });
    assert_eq!(ack.to_binary(), None);
    // Contents naming another frame's attachments cannot be re-attached.
    let ServerMessage::BulkUpdate(mut detached) = frames(&manifest, &server)[0].clone() else {
        panic!()
    };
    detached.blobs[0].content = WireContent::Attached(3);
    assert_eq!(ServerMessage::BulkUpdate(detached).to_binary(), None);
    // Serialising as text afterwards attaches nothing.
    let message = &frames(&manifest, &server)[0];
    let _ = message.to_binary();
    assert!(!message.to_json().contains("\"attached\""));
}

/// `frame` with its JSON replaced by `json` (the attachments kept).
fn with_json(frame: &[u8], json: &str) -> Vec<u8> {
    let len = u32::from_le_bytes(frame[4..8].try_into().unwrap()) as usize;
    let mut out = BINARY_MAGIC.to_vec();
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(json.as_bytes());
    out.extend_from_slice(&frame[8 + len..]);
    out
}

#[test]
fn malformed_frames_are_refused_with_their_code() {
    let (manifest, server, _) = project();
    let message = &frames(&manifest, &server)[0];
    let frame = message.to_binary().unwrap();
    let json_len = u32::from_le_bytes(frame[4..8].try_into().unwrap()) as usize;
    let json = std::str::from_utf8(&frame[8..8 + json_len])
        .unwrap()
        .to_owned();
    let code = |bytes: &[u8]| decode_server_binary(bytes, &limits()).unwrap_err().code();

    assert_eq!(code(b""), "protocol.bad_frame");
    assert_eq!(code(b"VSB1\x01"), "protocol.bad_frame");
    let mut magic = frame.clone();
    magic[3] = b'2';
    assert_eq!(code(&magic), "protocol.bad_frame");
    let mut long = frame.clone();
    long[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(code(&long), "protocol.bad_frame");
    // One attachment byte short, one too many.
    assert_eq!(code(&frame[..frame.len() - 1]), "protocol.bad_frame");
    let mut extra = frame.clone();
    extra.push(0);
    let error = decode_server_binary(&extra, &limits()).unwrap_err();
    assert_eq!(error.code(), "protocol.bad_frame");
    assert!(
        error.to_string().contains("of which the envelope names"),
        "{error}"
    );
    // An attachment longer than what is attached.
    let first = json.find("\"attached\":").unwrap() + "\"attached\":".len();
    let digits = json[first..].find(|c: char| !c.is_ascii_digit()).unwrap();
    let huge = format!("{}{}{}", &json[..first], u64::MAX, &json[first + digits..]);
    assert_eq!(code(&with_json(&frame, &huge)), "protocol.bad_frame");
    // Both `text` and `attached`.
    let both = json.replacen("\"attached\":", "\"text\":\"x\",\"attached\":", 1);
    assert_eq!(code(&with_json(&frame, &both)), "protocol.bad_payload");
    // The JSON itself is checked as a text message's would be.
    assert_eq!(code(&with_json(&frame, "{")), "protocol.bad_json");
    // Over the message limit.
    let tight = ProtocolLimits {
        max_message_bytes: frame.len() - 1,
        ..limits()
    };
    assert_eq!(
        decode_server_binary(&frame, &tight).unwrap_err().code(),
        "protocol.message_too_large"
    );
    // `attached` outside a binary frame: refused as text...
    let error = decode_server(json.as_bytes(), &limits()).unwrap_err();
    assert_eq!(error.code(), "protocol.bad_payload");
    assert!(
        error.to_string().contains("outside a binary frame"),
        "{error}"
    );
    // ...and a hydrator handed one unresolved says so.
    let ServerMessage::BulkUpdate(mut update) = message.clone() else {
        panic!()
    };
    update.blobs[0].content = WireContent::Attached(3);
    let plan = plan(&manifest, |_| false, |_| false, &small_batches());
    let error = Hydrator::new(plan.progress_total())
        .receive(&update, &mut MemoryBlobStore::default())
        .unwrap_err();
    assert_eq!(error.code(), "hydrate.detached");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any bytes after a valid header: a message or a typed error, never a
    /// panic, and never more content than the frame holds.
    #[test]
    fn arbitrary_frames_never_panic(
        json_len in 0u32..600,
        tail in proptest::collection::vec(any::<u8>(), 0..700),
    ) {
        let mut frame = BINARY_MAGIC.to_vec();
        frame.extend_from_slice(&json_len.to_le_bytes());
        frame.extend_from_slice(&tail);
        if let Ok(ServerMessage::BulkUpdate(update)) = decode_server_binary(&frame, &limits()) {
            let held: usize = update
                .blobs
                .iter()
                .map(|b| &b.content)
                .chain(update.chunks.iter().map(|c| &c.content))
                .map(|c| match c {
                    WireContent::Bytes(b) => b.len(),
                    _ => 0,
                })
                .sum();
            prop_assert!(held <= tail.len());
        }
    }

    /// Frames of a real batch with one byte changed: decoded or refused.
    #[test]
    fn corrupted_frames_are_decoded_or_refused(at in any::<usize>(), byte in any::<u8>()) {
        let (manifest, server, _) = project();
        let frame = frames(&manifest, &server)[0].to_binary().unwrap();
        let mut bad = frame.clone();
        let at = at % bad.len();
        bad[at] = byte;
        let _ = decode_server_binary(&bad, &limits());
    }
}
