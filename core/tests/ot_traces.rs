//! Contract: every real editing trace, replayed through the server path,
//! reproduces its final text.

mod support;

use velocity_sync::{ContentHash, TextDocument, TextOp};

#[test]
fn every_sequential_trace_replays_through_submit() {
    for (name, trace) in support::sequential() {
        let mut doc = TextDocument::from_text(&trace.start_content);
        for (i, txn) in trace.txns.iter().enumerate() {
            let patches = txn.patches.iter().map(|(p, d, s)| (*p, *d, s.as_str()));
            let op = TextOp::from_splices(doc.len_chars(), patches)
                .unwrap_or_else(|e| panic!("{name}: txn {i}: {e}"));
            let out = doc
                .submit(1, i as u64 + 1, doc.rev(), op)
                .unwrap_or_else(|e| panic!("{name}: txn {i}: {e}"));
            assert_eq!(out.rev, i as u64 + 1);
        }
        assert!(
            doc.text() == trace.end_content,
            "{name}: final text differs"
        );
        assert_eq!(
            doc.content_hash(doc.rev()).unwrap(),
            ContentHash::of(trace.end_content.as_bytes()),
            "{name}"
        );
        // The kept history rebuilds an older revision.
        let back = doc.rev() - 10;
        let mut replay = TextDocument::from_text(&trace.start_content);
        for txn in &trace.txns[..back as usize] {
            let patches = txn.patches.iter().map(|(p, d, s)| (*p, *d, s.as_str()));
            let op = TextOp::from_splices(replay.len_chars(), patches).unwrap();
            replay.apply(&op).unwrap();
        }
        assert_eq!(doc.text_at(back).unwrap(), replay.text(), "{name}");
    }
}

#[test]
fn a_sequential_trace_replays_through_plain_strings() {
    // The same edits through `TextOp::apply` on a `String`, on the smallest
    // trace (each apply copies the text).
    let (name, trace) = support::sequential()
        .into_iter()
        .min_by_key(|(_, t)| t.txns.len())
        .expect("at least one trace");
    let mut text = trace.start_content.clone();
    for txn in &trace.txns {
        let patches = txn.patches.iter().map(|(p, d, s)| (*p, *d, s.as_str()));
        let op = TextOp::from_splices(text.chars().count(), patches).unwrap();
        text = op.apply(&text).unwrap();
    }
    assert!(text == trace.end_content, "{name}: final text differs");
}
