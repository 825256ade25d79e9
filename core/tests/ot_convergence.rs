//! Contract: any number of clients editing at once, with any delivery order
//! the protocol allows (and lost acks answered by a resend), converge on the
//! server's text; and no submission, however wrong, panics or changes the
//! server's text when it fails.

use std::collections::VecDeque;

use proptest::prelude::*;
use velocity_sync::ot::Submission;
use velocity_sync::{TextClient, TextDocument, TextOp};

const ALPHABET: &[char] = &['a', 'b', '\r', '\n', 'é', '😀'];

#[derive(Debug, Clone)]
enum Step {
    /// Client edits: (client, position seed, delete seed, inserted text).
    Edit(usize, usize, usize, String),
    /// The server takes the client's oldest submission in transit.
    Deliver(usize),
    /// The client reads its next message from the server.
    Read(usize),
    /// The client reconnects: its in-flight submission may have been lost
    /// (`true`) and it resends the pending op with the same seq.
    Reconnect(usize, bool),
}

fn step() -> impl Strategy<Value = Step> {
    let text = prop::collection::vec(prop::sample::select(ALPHABET), 0..3)
        .prop_map(|v| v.into_iter().collect::<String>());
    prop_oneof![
        3 => (0usize..3, any::<usize>(), 0usize..3, text).prop_map(|(c, p, d, s)| Step::Edit(c, p, d, s)),
        2 => (0usize..3).prop_map(Step::Deliver),
        2 => (0usize..3).prop_map(Step::Read),
        1 => (0usize..3, any::<bool>()).prop_map(|(c, lost)| Step::Reconnect(c, lost)),
    ]
}

struct Peer {
    client: TextClient,
    text: String,
    inbox: usize,
    outbox: VecDeque<Submission>,
}

/// Server messages in order: (author, rev, op).
type Log = Vec<(u64, u64, TextOp)>;

fn read(peer: &mut Peer, log: &Log) {
    let Some((author, rev, op)) = log.get(peer.inbox) else {
        return;
    };
    peer.inbox += 1;
    if *author == peer.client.id() {
        if let Some(next) = peer.client.ack(*rev).expect("ack fits") {
            peer.outbox.push_back(next);
        }
    } else {
        let local = peer.client.remote(*rev, op).expect("remote op fits");
        peer.text = local.apply(&peer.text).expect("transformed op fits");
    }
}

fn deliver(peer: &mut Peer, server: &mut TextDocument, log: &mut Log) {
    if let Some(s) = peer.outbox.pop_front() {
        let out = server
            .submit(s.client, s.seq, s.base_rev, s.op)
            .expect("server accepts");
        if !out.duplicate {
            log.push((s.client, out.rev, out.op));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn clients_converge_under_any_delivery(start in "[ab\r\n]{0,6}", steps in prop::collection::vec(step(), 0..60)) {
        let mut server = TextDocument::from_text(&start);
        let mut log: Log = Vec::new();
        let mut peers: Vec<Peer> = (0..3)
            .map(|i| Peer { client: TextClient::new(i, 0), text: start.clone(), inbox: 0, outbox: VecDeque::new() })
            .collect();
        for step in steps {
            match step {
                Step::Edit(c, pos, del, ins) => {
                    let peer = &mut peers[c];
                    let len = peer.text.chars().count();
                    let pos = pos % (len + 1);
                    let del = del.min(len - pos);
                    let op = TextOp::from_splice(len, pos, del, &ins).unwrap();
                    peer.text = op.apply(&peer.text).unwrap();
                    if let Some(s) = peer.client.local_edit(op).unwrap() {
                        peer.outbox.push_back(s);
                    }
                }
                Step::Deliver(c) => deliver(&mut peers[c], &mut server, &mut log),
                Step::Read(c) => read(&mut peers[c], &log),
                Step::Reconnect(c, lost) => {
                    let peer = &mut peers[c];
                    if lost {
                        peer.outbox.clear();
                    }
                    if let Some(s) = peer.client.reconnect() {
                        peer.outbox.push_back(s);
                    }
                }
            }
        }
        // Settle: deliver and read everything.
        loop {
            let mut progressed = false;
            for peer in &mut peers {
                while !peer.outbox.is_empty() {
                    deliver(peer, &mut server, &mut log);
                    progressed = true;
                }
                while peer.inbox < log.len() {
                    read(peer, &log);
                    progressed = true;
                }
            }
            if !progressed {
                break;
            }
        }
        for peer in &peers {
            prop_assert_eq!(&peer.text, &server.text());
            prop_assert_eq!(peer.client.rev(), server.rev());
        }
    }

    #[test]
    fn wrong_submissions_never_panic_or_change_the_text(
        start in "[ab😀\r\n]{0,8}",
        subs in prop::collection::vec((0u64..3, 0u64..4, 0u64..6, prop::collection::vec((0u8..3, 0usize..4), 0..5)), 0..30),
    ) {
        let mut doc = TextDocument::from_text(&start).with_history_limit(3);
        for (client, seq, base_rev, runs) in subs {
            let mut op = TextOp::new();
            for (kind, n) in runs {
                match kind {
                    0 => op.retain(n),
                    1 => op.delete(n),
                    _ => op.insert(&"x".repeat(n)),
                };
            }
            let before = (doc.text(), doc.rev());
            match doc.submit(client, seq, base_rev, op) {
                Ok(out) => {
                    if out.duplicate {
                        prop_assert_eq!((doc.text(), doc.rev()), before);
                    } else {
                        prop_assert_eq!(out.rev, before.1 + 1);
                        prop_assert_eq!(doc.text_at(before.1).unwrap(), before.0);
                    }
                }
                Err(e) => {
                    prop_assert!(e.code().starts_with("ot."));
                    prop_assert_eq!((doc.text(), doc.rev()), before);
                }
            }
        }
    }
}
