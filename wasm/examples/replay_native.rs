//! The native half of `scripts/wasm-bench.sh`: replays an editing trace
//! through core's `ProjectServer` as protocol JSON, one `file:update` per
//! keystroke (decode, transform, apply to the rope, ack encoded), exactly as
//! `wasm/bench/replay.mjs` does through the npm package. Prints one JSON line.
//!
//! `cargo run --release -p velocity-sync-wasm --example replay_native -- [trace] [runs]`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use velocity_sync::protocol::{self, ProtocolLimits};
use velocity_sync::{Document, FileId, ProjectServer, Role, ServerConfig, TextOp};
use velocity_sync_benches as traces;

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
    // The text engine alone: each keystroke's op as JSON into Document::submit,
    // the applied op back as JSON (what TextDocument does in the package).
    let mut best_document = f64::INFINITY;
    for _ in 0..runs {
        let mut doc = Document::from_text(&trace.start);
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
    println!(
        "{{\"trace\":\"{name}\",\"keystrokes\":{},\"best_ms\":{best:.2},\"document_ms\":{best_document:.2},\"runs\":{runs}}}",
        ops.len()
    );
}
