//! Contract: the algebraic laws of `TextOp`, on random texts with astral
//! characters and CRLF line endings.

use proptest::prelude::*;
use velocity_sync::ot::{Bias, Component, Side, UndoManager, Utf16Change, Utf16Index};
use velocity_sync::{TextDocument, TextOp};

const ALPHABET: &[char] = &['a', 'b', ' ', '\r', '\n', 'é', '😀', '🎉', '中'];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(ALPHABET), 0..24)
        .prop_map(|v| v.into_iter().collect())
}

/// A recipe for an op: runs of (kind, length, inserted text), fitted to a
/// text length by `build`.
type Recipe = Vec<(u8, usize, String)>;

fn recipe() -> impl Strategy<Value = Recipe> {
    prop::collection::vec((0u8..3, 1usize..5, text()), 0..8)
}

fn build(len: usize, recipe: &Recipe) -> TextOp {
    let mut op = TextOp::new();
    let mut left = len;
    for (kind, n, s) in recipe {
        match kind {
            0 => {
                let n = (*n).min(left);
                op.retain(n);
                left -= n;
            }
            1 => {
                let n = (*n).min(left);
                op.delete(n);
                left -= n;
            }
            _ => {
                op.insert(s);
            }
        }
    }
    op.retain(left);
    op
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn apply_and_compose_agree(t in text(), ra in recipe(), rb in recipe()) {
        let a = build(chars(&t), &ra);
        let mid = a.apply(&t).unwrap();
        let b = build(chars(&mid), &rb);
        let ab = a.compose(&b).unwrap();
        prop_assert_eq!(ab.apply(&t).unwrap(), b.apply(&mid).unwrap());
        prop_assert_eq!(TextOp::compose_all([a, b]).unwrap(), Some(ab));
    }

    #[test]
    fn transform_satisfies_tp1(t in text(), ra in recipe(), rb in recipe(), left in any::<bool>()) {
        let a = build(chars(&t), &ra);
        let b = build(chars(&t), &rb);
        let side = if left { Side::Left } else { Side::Right };
        let (a2, b2) = TextOp::transform(&a, &b, side).unwrap();
        let via_a = b2.apply(&a.apply(&t).unwrap()).unwrap();
        let via_b = a2.apply(&b.apply(&t).unwrap()).unwrap();
        prop_assert_eq!(&via_a, &via_b);
        prop_assert_eq!(a.compose(&b2).unwrap(), b.compose(&a2).unwrap());
        // The other side is the mirror image.
        let other = if left { Side::Right } else { Side::Left };
        let (b3, a3) = TextOp::transform(&b, &a, other).unwrap();
        prop_assert_eq!((a3, b3), (a2, b2));
    }

    #[test]
    fn invert_undoes(t in text(), r in recipe()) {
        let a = build(chars(&t), &r);
        let after = a.apply(&t).unwrap();
        let inv = a.invert(&t).unwrap();
        prop_assert_eq!(inv.apply(&after).unwrap(), t.clone());
        prop_assert_eq!(a.compose(&inv).unwrap().apply(&t).unwrap(), t.clone());
    }

    #[test]
    fn normalisation_is_idempotent(raw in prop::collection::vec((0u8..3, 0usize..4, text()), 0..10)) {
        let components = raw.into_iter().map(|(kind, n, s)| match kind {
            0 => Component::Retain(n),
            1 => Component::Delete(n),
            _ => Component::Insert(s),
        });
        let once = TextOp::from_components(components);
        let twice = TextOp::from_components(once.components().iter().cloned());
        prop_assert_eq!(&once, &twice);
        prop_assert_eq!(once.normalized(), once.clone());
        // No empty runs, no two neighbours of one kind, never delete then insert.
        for pair in once.components().windows(2) {
            let same = std::mem::discriminant(&pair[0]) == std::mem::discriminant(&pair[1]);
            prop_assert!(!same);
            prop_assert!(!matches!(pair, [Component::Delete(_), Component::Insert(_)]));
        }
        for c in once.components() {
            prop_assert!(!matches!(c, Component::Retain(0) | Component::Delete(0)));
            prop_assert!(!matches!(c, Component::Insert(s) if s.is_empty()));
        }
        // JSON round trip.
        prop_assert_eq!(TextOp::from_json(&once.to_json()).unwrap(), once);
    }

    #[test]
    fn utf16_round_trips(t in text(), r in recipe()) {
        let a = build(chars(&t), &r);
        let changes = a.to_utf16_changes(t.as_str()).unwrap();
        prop_assert_eq!(TextOp::from_utf16_changes(t.as_str(), &changes).unwrap(), a.clone());
        // The rope answers like the string does.
        let doc = TextDocument::from_text(&t);
        prop_assert_eq!(doc.len_utf16(), t.encode_utf16().count());
        prop_assert_eq!(a.to_utf16_changes(&doc).unwrap(), changes.clone());
        for units in 0..=doc.len_utf16() + 1 {
            prop_assert_eq!(doc.char_of_utf16(units), t.as_str().char_of_utf16(units));
        }
        // Applying the changes to the UTF-16 form, last first, gives the same text.
        let mut units: Vec<u16> = t.encode_utf16().collect();
        for c in &changes {
            units.splice(c.offset..c.offset + c.deleted, c.text.encode_utf16());
        }
        prop_assert_eq!(String::from_utf16(&units).unwrap(), a.apply(&t).unwrap());
    }

    #[test]
    fn transform_position_stays_in_bounds(t in text(), r in recipe(), pos in 0usize..40) {
        let a = build(chars(&t), &r);
        for bias in [Bias::Before, Bias::After] {
            let p = a.transform_position(pos, bias);
            prop_assert!(p <= a.target_len());
            let q = a.transform_position(pos + 1, bias);
            prop_assert!(p <= q, "not monotonic");
        }
    }

    #[test]
    fn undo_after_concurrent_remote_edits_restores_own_text(
        t in text(),
        (pos, del, ins) in (0usize..30, 0usize..4, text()),
        (rpos, rdel, rins) in (0usize..30, 0usize..4, text()),
    ) {
        let len = chars(&t);
        let pos = pos.min(len);
        let del = del.min(len - pos);
        // The remote edit touches a region apart from the user's.
        let (rpos, rdel) = if rpos % 2 == 0 && pos > 0 {
            let rpos = rpos % pos;
            (rpos, rdel.min(pos - rpos - 1))
        } else {
            let start = (pos + del + 1).min(len);
            let rpos = (start + rpos).min(len);
            (rpos, rdel.min(len - rpos))
        };
        let mine = TextOp::from_splice(len, pos, del, &ins).unwrap();
        let theirs = TextOp::from_splice(len, rpos, rdel, &rins).unwrap();
        let mut undo = UndoManager::new(10);
        undo.record(&mine, &t).unwrap();
        let mut doc = mine.apply(&t).unwrap();
        let (_, theirs2) = TextOp::transform(&mine, &theirs, Side::Left).unwrap();
        undo.remote(&theirs2).unwrap();
        doc = theirs2.apply(&doc).unwrap();
        match undo.undo(&doc).unwrap() {
            Some(op) => doc = op.apply(&doc).unwrap(),
            None => prop_assert!(mine.is_noop()),
        }
        prop_assert_eq!(doc, theirs.apply(&t).unwrap());
    }

    #[test]
    fn nothing_panics_on_wrong_input(t in text(), r in recipe(), extra in 1usize..3, json in ".{0,12}") {
        let a = build(chars(&t) + extra, &r);
        prop_assert_eq!(a.apply(&t).unwrap_err().code(), "ot.length_mismatch");
        prop_assert!(a.invert(&t).is_err());
        prop_assert!(TextOp::transform(&a, &TextOp::identity(chars(&t)), Side::Left).is_err());
        prop_assert!(a.compose(&a).is_err() || a.base_len() == a.target_len());
        let mut doc = TextDocument::from_text(&t);
        prop_assert!(doc.apply(&a).is_err());
        prop_assert!(doc.submit(1, 1, 0, a.clone()).is_err());
        prop_assert_eq!(doc.text(), t.clone());
        let _ = TextOp::from_json(&json);
        let changes = [Utf16Change::new(extra, extra, &json)];
        let _ = TextOp::from_utf16_changes(t.as_str(), &changes);
        let _ = TextOp::from_utf16_changes(&doc, &changes);
    }
}

/// Two branches of 100k single-character edits each, made offline on the
/// same text, merge by composing each side and transforming once; and the
/// server does the same when a client comes back with a composed op based
/// 100k revisions ago.
#[test]
fn long_divergent_branches_merge_in_linear_time() {
    let base: String = "lorem ipsum\r\n".repeat(100);
    let started = std::time::Instant::now();
    let branch = |seed: u64| -> Vec<TextOp> {
        let mut state = seed;
        let mut len = chars(&base);
        (0..100_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let pos = (state >> 8) as usize % (len + 1);
                let op = if state % 3 == 0 && pos < len {
                    TextOp::from_splice(len, pos, 1, "").unwrap()
                } else {
                    TextOp::from_splice(len, pos, 0, if state % 5 == 0 { "😀" } else { "x" })
                        .unwrap()
                };
                len = op.target_len();
                op
            })
            .collect()
    };
    let a_ops = branch(0x9e37_79b9_7f4a_7c15);
    let b_ops = branch(0x2545_f491_4f6c_dd1d);
    let a = TextOp::compose_all(a_ops.clone()).unwrap().unwrap();
    let b = TextOp::compose_all(b_ops.clone()).unwrap().unwrap();
    let (a2, b2) = TextOp::transform(&a, &b, Side::Left).unwrap();
    let after_a = a.apply(&base).unwrap();
    let merged = b2.apply(&after_a).unwrap();
    assert!(
        merged == a2.apply(&b.apply(&base).unwrap()).unwrap(),
        "TP1 fails"
    );

    // The composed branch equals the edits one by one.
    let mut one_by_one = base.clone();
    for op in &a_ops {
        one_by_one = op.apply(&one_by_one).unwrap();
    }
    assert!(after_a == one_by_one, "composed branch differs");

    // Server: branch A arrives op by op, then branch B as one op on revision 0.
    let mut doc = TextDocument::from_text(&base).with_history_limit(200_000);
    for (seq, op) in a_ops.into_iter().enumerate() {
        doc.submit(1, seq as u64, doc.rev(), op).unwrap();
    }
    // The server puts the incoming op's inserts first on ties.
    let (b_at_server, _) = TextOp::transform(&b, &a, Side::Left).unwrap();
    let expected = b_at_server.apply(&after_a).unwrap();
    let out = doc.submit(2, 1, 0, b).unwrap();
    assert_eq!(out.rev, 100_001);
    assert!(doc.text() == expected, "server merge differs");
    // A product of the branch lengths (10^10 steps) would take hours.
    let elapsed = started.elapsed();
    assert!(elapsed.as_secs() < 60, "merging took {elapsed:?}");
}
