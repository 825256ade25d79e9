//! The native half of `scripts/wasm-bench.sh`: replays an editing trace
//! through core's `ProjectServer` as protocol JSON, one `file:update` per
//! keystroke (decode, transform, apply to the rope, ack encoded), exactly as
//! `wasm/bench/replay.mjs` does through the npm package. Prints one JSON line.
//!
//! Also the text engine with splices given as numbers (what
//! `TextDocument.splice` does) and the editor's per-keystroke client calls
//! (what `ProjectClient.spliceUtf16` does), over the first 20,000 keystrokes.
//!
//! `cargo run --release -p velocity-sync-wasm --example replay_native -- [trace] [runs]`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use velocity_sync::ot::{UndoManager, Utf16Change};
use velocity_sync::protocol::{self, ProtocolLimits};
use velocity_sync::{
    FileId, FilePath, ProjectClient, ProjectServer, Role, ServerConfig, TextDocument, TextOp,
};
use velocity_sync_benches as traces;

/// Keystrokes of the editor-side replay (each costs O(text) in the client).
const CLIENT_KEYSTROKES: usize = 20_000;

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "automerge-paper".to_owned());
    let runs: usize = args
        .next()
        .map_or(5, |r| r.parse().expect("runs is a number"));
    let path = traces::traces_dir()
        .join("sequential")
        .join(format!("{name}.json.gz"));
    let trace = traces::load(&path);
    let id = FileId::derive("bench", b"paper");

    // The messages, built before timing (the editor builds them as it types).
    let mut len = trace.start.chars().count();
    let mut ops = Vec::new();
    for txn in &trace.txns {
        for (pos, deleted, inserted) in &txn.patches {
            let op = TextOp::from_splice(len, *pos, *deleted, inserted).expect("patch fits");
            len = op.target_len();
            ops.push(op.to_json());
        }
    }

    let limits = ProtocolLimits::default();
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        let mut server = ProjectServer::new(ServerConfig::default());
        server.connect(1, Role::Editor);
        let handle = |server: &mut ProjectServer, text: &str| {
            let message = protocol::decode_client(text.as_bytes(), &limits).expect("valid message");
            server.handle(1, message);
            while let Some(out) = server.poll_outbound() {
                std::hint::black_box(out.message.to_json());
            }
        };
        handle(
            &mut server,
            r#"{"v":1,"event":"sync:hello","payload":{"client":1}}"#,
        );
        let create = serde_json::json!({"v": 1, "event": "file:create", "payload": {
            "id": id, "path": "paper.txt", "seq": 1, "content": {"text": trace.start}}});
        handle(&mut server, &create.to_string());
        let base = server.manifest().get_by_id(&id).expect("created").revision;
        let messages: Vec<String> = ops
            .iter()
            .enumerate()
            .map(|(i, op)| {
                format!(
                    r#"{{"v":1,"event":"file:update","payload":{{"id":"{id}","seq":{},"base":{},"op":{op}}}}}"#,
                    i + 1,
                    base + i as u64
                )
            })
            .collect();
        let start = Instant::now();
        for message in &messages {
            handle(&mut server, message);
        }
        let ms = start.elapsed().as_secs_f64() * 1e3;
        let content = server.content(&id).expect("file exists");
        assert!(
            content == trace.end.as_bytes(),
            "replay must reach the trace's endContent"
        );
        best = best.min(ms);
    }
    // The text engine alone: each keystroke's op as JSON into TextDocument::submit,
    // the applied op back as JSON (what TextDocument does in the package).
    let mut best_document = f64::INFINITY;
    for _ in 0..runs {
        let mut doc = TextDocument::from_text(&trace.start);
        let start = Instant::now();
        for (i, json) in ops.iter().enumerate() {
            let op = TextOp::from_json(json).expect("valid op");
            let submitted = doc.submit(1, i as u64 + 1, i as u64, op).expect("op fits");
            std::hint::black_box(submitted.op.to_json());
        }
        let ms = start.elapsed().as_secs_f64() * 1e3;
        assert!(
            doc.text() == trace.end,
            "replay must reach the trace's endContent"
        );
        best_document = best_document.min(ms);
    }
    // The text engine with splices as numbers (TextDocument.splice in the
    // package): the op built from (pos, deleted, inserted) on the current
    // length, submitted; the applied op encoded only in the second variant
    // (TextDocument.lastOp, for a server that broadcasts every keystroke).
    let splices: Vec<(usize, usize, &str)> = trace
        .txns
        .iter()
        .flat_map(|txn| txn.patches.iter())
        .map(|(pos, deleted, inserted)| (*pos, *deleted, inserted.as_str()))
        .collect();
    let mut best_splice = [f64::INFINITY; 2];
    for (variant, best) in best_splice.iter_mut().enumerate() {
        for _ in 0..runs {
            let mut doc = TextDocument::from_text(&trace.start);
            let start = Instant::now();
            for (i, &(pos, deleted, inserted)) in splices.iter().enumerate() {
                let op = TextOp::from_splice(doc.len_chars(), pos, deleted, inserted)
                    .expect("patch fits");
                let submitted = doc.submit(1, i as u64 + 1, i as u64, op).expect("op fits");
                std::hint::black_box(submitted.rev);
                if variant == 1 {
                    std::hint::black_box(submitted.op.to_json());
                }
            }
            let ms = start.elapsed().as_secs_f64() * 1e3;
            assert!(
                doc.text() == trace.end,
                "replay must reach the trace's endContent"
            );
            *best = best.min(ms);
        }
    }
    // The editor's side: the core calls the package's ProjectClient.spliceUtf16
    // makes per keystroke (the op from a UTF-16 change on the local text, its
    // inverse for undo, the edit), then the outbound messages encoded. Over
    // the first CLIENT_KEYSTROKES keystrokes (the store in the package keeps
    // the text as a JS string too, and slices it per keystroke).
    let client_keystrokes = splices.len().min(CLIENT_KEYSTROKES);
    let astral = |text: &str| text.chars().any(|c| c.len_utf16() == 2);
    assert!(
        !astral(&trace.start) && !splices.iter().any(|(_, _, text)| astral(text)),
        "the editor-side replay passes character offsets as UTF-16 ones"
    );
    let mut best_client = f64::INFINITY;
    for _ in 0..runs {
        let mut client = ProjectClient::new(1);
        let id = client.create(
            FilePath::parse("paper.txt").expect("path"),
            Some(trace.start.as_bytes().to_vec()),
        );
        let mut undo = UndoManager::new(1000);
        let start = Instant::now();
        for &(pos, deleted, inserted) in &splices[..client_keystrokes] {
            let change = Utf16Change::new(pos, deleted, inserted);
            let edit = client
                .edit_utf16(id, std::slice::from_ref(&change))
                .expect("patch fits");
            undo.record_inverse(edit.inverse);
            std::hint::black_box(&edit.op);
            while let Some(message) = client.poll_outbound() {
                std::hint::black_box(message.to_json());
            }
        }
        best_client = best_client.min(start.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "{{\"trace\":\"{name}\",\"keystrokes\":{},\"best_ms\":{best:.2},\"document_ms\":{best_document:.2},\"splice_ms\":{:.2},\"splice_broadcast_ms\":{:.2},\"client_keystrokes\":{client_keystrokes},\"client_ms\":{best_client:.2},\"runs\":{runs}}}",
        ops.len(),
        best_splice[0],
        best_splice[1]
    );
}
