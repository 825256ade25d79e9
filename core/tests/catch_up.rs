//! The catch-up ladder, rung by rung: replay from the log, a changeset from
//! a kept manifest, a snapshot — and a hydration cut short resumes with only
//! what is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should stop at once

mod harness;

use harness::net::Net;
use velocity_sync::protocol::WireContent;
use velocity_sync::protocol::{Rung, ServerMessage};
use velocity_sync::{FilePath, Role, ServerConfig, TextOp};

fn path(text: &str) -> FilePath {
    FilePath::parse(text).unwrap()
}

/// The rung of the last catch-up client `i` received.
fn last_rung(net: &Net, i: usize) -> &'static str {
    net.received[i]
        .iter()
        .rev()
        .find_map(|m| match m {
            ServerMessage::CatchUp(c) => Some(match c.rung {
                Rung::Events { .. } => "events",
                Rung::Changeset { .. } => "changeset",
                Rung::Snapshot { .. } => "snapshot",
            }),
            _ => None,
        })
        .unwrap_or("none")
}

/// An editor types `count` keystrokes at the end of `id`.
fn type_chars(net: &mut Net, i: usize, id: velocity_sync::FileId, count: usize) {
    for k in 0..count {
        let text = net.clients[i].text(&id).unwrap();
        let len = text.chars().count();
        let ch = char::from(b'a' + (k % 26) as u8).to_string();
        net.clients[i]
            .edit(id, TextOp::from_splice(len, len, 0, &ch).unwrap())
            .unwrap();
        net.settle();
    }
}

fn ladder(config: ServerConfig, missed_edits: usize, expected: &str) {
    let mut net = Net::with_config(&[Role::Editor, Role::Editor, Role::Agent], config);
    let id = net.clients[0].create(path("src/a.ts"), Some(b"start ".to_vec()));
    net.settle();
    net.server.checkpoint();
    net.settle();
    // Editor B goes offline with an unconfirmed edit of its own.
    net.disconnect(1);
    net.clients[1]
        .edit(id, TextOp::from_splice(6, 0, 0, "B:").unwrap())
        .unwrap();
    type_chars(&mut net, 0, id, missed_edits);
    net.clients[0].create(path("src/new.ts"), Some(b"new".to_vec()));
    net.settle();
    net.reconnect(1);
    net.settle();
    assert_eq!(last_rung(&net, 1), expected);
    net.assert_converged();
    let text = String::from_utf8(net.server.content(&id).unwrap()).unwrap();
    assert!(text.starts_with("B:start "), "{text}");
    assert_eq!(text.chars().count(), 8 + missed_edits);
}

#[test]
fn a_short_absence_replays_the_log() {
    ladder(ServerConfig::default(), 5, "events");
}

#[test]
fn a_longer_absence_gets_a_changeset() {
    let config = ServerConfig {
        log_events: 4,
        kept_manifests: 8,
        ..ServerConfig::default()
    };
    ladder(config, 30, "changeset");
}

#[test]
fn a_long_absence_gets_a_snapshot() {
    let config = ServerConfig {
        log_events: 4,
        kept_manifests: 1,
        history_ops: 4,
        ..ServerConfig::default()
    };
    ladder(config, 30, "snapshot");
}

#[test]
fn an_interrupted_hydration_resumes_with_what_is_missing() {
    let mut config = ServerConfig::default();
    config.limits.max_batch_bytes = 8 * 1024;
    let mut net = Net::with_config(&[Role::Editor], config);
    for k in 0..40 {
        let content = format!("// file {k}\n{}", "x".repeat(2_000 + k));
        net.clients[0].create(path(&format!("src/f{k:02}.ts")), Some(content.into_bytes()));
    }
    net.settle();
    let total = net.server.manifest().total_bytes();

    // An agent joins, takes a few batches, and loses its connection.
    let mut agent = velocity_sync::ProjectClient::new(99);
    net.server.connect(99, Role::Agent);
    agent.connect();
    net.clients.push(agent);
    net.inboxes_for_new_client();
    net.send(1);
    net.receive_some(1, 4);
    net.disconnect(1);
    net.reconnect(1);
    net.settle();
    let snapshots: Vec<u64> = net.received[1]
        .iter()
        .filter_map(|m| match m {
            ServerMessage::CatchUp(c) => match c.rung {
                Rung::Snapshot { bytes, .. } => Some(bytes),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(snapshots.len(), 2, "{snapshots:?}");
    assert_eq!(snapshots[0], total);
    // What arrived before the cut is not sent again.
    let first_catch_up = net.received[1]
        .iter()
        .position(|m| matches!(m, ServerMessage::CatchUp(_)))
        .unwrap();
    let second_catch_up = net.received[1]
        .iter()
        .rposition(|m| matches!(m, ServerMessage::CatchUp(_)))
        .unwrap();
    let arrived: u64 = net.received[1][first_catch_up..second_catch_up]
        .iter()
        .filter_map(|m| match m {
            ServerMessage::BulkUpdate(batch) => Some(
                batch
                    .blobs
                    .iter()
                    .map(|b| match &b.content {
                        WireContent::Text(text) => text.len() as u64,
                        WireContent::Bytes(bytes) => bytes.len() as u64,
                        WireContent::Verified(content) => content.bytes().len() as u64,
                        WireContent::Base64(_) | WireContent::Attached(_) => 0,
                    })
                    .sum::<u64>(),
            ),
            _ => None,
        })
        .sum();
    assert!(arrived > 0);
    assert_eq!(snapshots[1], total - arrived);
    net.assert_converged();
}

#[test]
fn a_resumed_participant_catches_up_from_the_log_without_contents() {
    let mut net = Net::new(&[Role::Editor, Role::Agent]);
    let id = net.clients[0].create(path("src/a.ts"), Some(b"start ".to_vec()));
    net.clients[0].create(path("logo.bin"), Some(vec![0, 1, 2, 3]));
    net.settle();
    net.server.checkpoint();
    net.settle();
    // Live edits after the checkpoint: the agent holds text beyond its manifest.
    type_chars(&mut net, 0, id, 3);

    // What an agent writes to its state file (and has on disk), then it stops.
    let old = &mut net.clients[1];
    let manifest = old.manifest().clone();
    let n = old.event_number();
    let client_id = old.id();
    let revisions = old.text_revisions();
    assert_eq!(revisions.len(), 1, "one text edited since the manifest");
    let texts: Vec<_> = revisions
        .iter()
        .map(|(file, rev)| (*file, *rev, old.text(file).unwrap().to_owned()))
        .collect();
    let blobs: Vec<Vec<u8>> = manifest
        .entries()
        .iter()
        .filter_map(|e| old.blob(&e.hash).map(|b| b.to_vec()))
        .collect();
    net.disconnect(1);
    type_chars(&mut net, 0, id, 4);

    // A new process rebuilds the client and reconnects.
    let mut resumed = velocity_sync::ProjectClient::resume(client_id, manifest, n, texts).unwrap();
    for blob in blobs {
        resumed.preload(blob);
    }
    net.clients[1] = resumed;
    net.reconnect(1);
    net.settle();
    assert_eq!(last_rung(&net, 1), "events");
    net.assert_converged();
    assert_eq!(
        net.clients[1].content(&id).unwrap(),
        net.server.content(&id).unwrap()
    );
}

#[test]
fn resume_refuses_a_text_for_a_file_it_does_not_know() {
    let stranger = velocity_sync::FileId::from_u128(5);
    let error = velocity_sync::ProjectClient::resume(
        1,
        velocity_sync::Manifest::new(),
        3,
        vec![(stranger, 1, "x".into())],
    )
    .unwrap_err();
    assert_eq!(error.code(), "client.unknown_file");
}

/// Batches of `file:bulk-update` a fresh agent receives, for one that does
/// not offer binary frames and one that does, from a server whose host
/// sends them or not.
fn batches_for_text_and_binary_agents(host_sends_binary: bool) -> (usize, usize, usize) {
    let config = ServerConfig {
        binary_frames: host_sends_binary,
        ..ServerConfig::default()
    };
    let mut net = Net::with_config(&[Role::Editor], config);
    for k in 0..40 {
        let content = format!("// file {k}\n{}", "x".repeat(50_000 + k));
        net.clients[0].create(path(&format!("src/f{k:02}.ts")), Some(content.into_bytes()));
    }
    net.settle();
    for (id, binary) in [(98, false), (99, true)] {
        let mut agent = velocity_sync::ProjectClient::new(id);
        agent.set_binary_frames(binary);
        net.server.connect(id, Role::Agent);
        agent.connect();
        net.clients.push(agent);
        net.inboxes_for_new_client();
    }
    net.settle();
    net.assert_converged();
    let batches = |i: usize| {
        net.received[i]
            .iter()
            .filter(|m| matches!(m, ServerMessage::BulkUpdate(_)))
            .count()
    };
    let bytes = usize::try_from(net.server.manifest().total_bytes()).unwrap();
    (batches(1), batches(2), bytes)
}

#[test]
fn a_client_that_reads_binary_frames_gets_fewer_larger_batches() {
    let limits = ServerConfig::default().limits;
    let (text, binary, bytes) = batches_for_text_and_binary_agents(true);
    // ~2 MB: at least ten 200 KiB batches as text, two or three of 1 MiB.
    assert!(text >= bytes / limits.max_batch_bytes, "{text}");
    assert!(
        binary <= bytes / limits.max_binary_batch_bytes + 2,
        "{binary}"
    );
    assert!(binary * 3 < text, "{binary} vs {text}");
    // A host that sends JSON only answers the offer as any hello.
    let (text, binary, _) = batches_for_text_and_binary_agents(false);
    assert_eq!(binary, text);
}
