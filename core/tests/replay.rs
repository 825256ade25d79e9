//! `ProjectServer::replay`: a server rebuilt from its last checkpoint plus
//! the logged events reaches the state it had, and keeps dedup state.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should stop at once

use velocity_sync::protocol::{Event, ServerMessage};
use velocity_sync::{
    FilePath, Manifest, MemoryBlobStore, ProjectClient, ProjectServer, Role, ServerConfig, TextOp,
};

/// Delivers every message both ways until quiet; returns the events.
fn pump(server: &mut ProjectServer, client: &mut ProjectClient, events: &mut Vec<Event>) {
    for _ in 0..1000 {
        let mut quiet = true;
        while let Some(message) = client.poll_outbound() {
            quiet = false;
            server.handle(client.id(), message);
        }
        while let Some(out) = server.poll_outbound() {
            quiet = false;
            if let ServerMessage::Event(event) = &*out.message {
                if events.last().is_none_or(|last| last.n < event.n) {
                    events.push(event.clone());
                }
            }
            client.handle((*out.message).clone());
        }
        if quiet {
            return;
        }
    }
    panic!("no quiet after 1000 rounds");
}

#[test]
fn replayed_events_rebuild_the_same_project() {
    let mut server = ProjectServer::new(ServerConfig::default());
    let mut client = ProjectClient::new(7);
    server.connect(7, Role::Editor);
    client.connect();
    let mut events = Vec::new();
    pump(&mut server, &mut client, &mut events);
    let a = client.create(
        FilePath::parse("src/a.ts").unwrap(),
        Some(b"hello".to_vec()),
    );
    let b = client.create(FilePath::parse("b.md").unwrap(), Some(b"bye".to_vec()));
    pump(&mut server, &mut client, &mut events);
    client
        .edit(a, TextOp::from_splice(5, 5, 0, " world").unwrap())
        .unwrap();
    pump(&mut server, &mut client, &mut events);
    assert!(server.checkpoint().is_some());
    pump(&mut server, &mut client, &mut events);
    client
        .edit(a, TextOp::from_splice(11, 0, 0, ">").unwrap())
        .unwrap();
    client.rename(a, FilePath::parse("lib/a.ts").unwrap());
    client.delete(b);
    pump(&mut server, &mut client, &mut events);
    assert!(events.len() >= 6, "{events:?}");

    let mut rebuilt = ProjectServer::with_store(
        Manifest::new(),
        MemoryBlobStore::default(),
        0,
        ServerConfig::default(),
    );
    for event in &events {
        assert!(rebuilt.replay(event).unwrap());
        assert!(
            !rebuilt.replay(event).unwrap(),
            "a replayed event is skipped"
        );
    }
    assert_eq!(rebuilt.event_number(), server.event_number());
    assert_eq!(rebuilt.manifest().id(), server.manifest().id());
    assert_eq!(rebuilt.content(&a).unwrap(), b">hello world");
    assert!(rebuilt.poll_outbound().is_none(), "replay sends nothing");

    // The client's last edit, resent after the restart, is a duplicate.
    let seen = rebuilt.event_number();
    rebuilt.connect(7, Role::Editor);
    let last = events
        .iter()
        .rev()
        .find(|e| matches!(e.change, velocity_sync::protocol::EventChange::Text { .. }))
        .unwrap();
    let velocity_sync::protocol::EventChange::Text { id, rev, op } = &last.change else {
        unreachable!()
    };
    rebuilt.handle(
        7,
        velocity_sync::protocol::ClientMessage::Update(velocity_sync::protocol::UpdateRequest {
            id: *id,
            seq: last.seq.unwrap(),
            base: rev - 1,
            edit: velocity_sync::protocol::Edit::Op(op.clone()),
        }),
    );
    assert_eq!(rebuilt.event_number(), seen);
    assert_eq!(rebuilt.content(&a).unwrap(), b">hello world");
}

#[test]
fn a_gap_in_the_log_is_refused() {
    let mut server = ProjectServer::new(ServerConfig::default());
    let mut client = ProjectClient::new(1);
    server.connect(1, Role::Editor);
    client.connect();
    let mut events = Vec::new();
    client.create(FilePath::parse("a.ts").unwrap(), Some(b"x".to_vec()));
    client.create(FilePath::parse("b.ts").unwrap(), Some(b"y".to_vec()));
    pump(&mut server, &mut client, &mut events);
    let mut rebuilt = ProjectServer::new(ServerConfig::default());
    let error = rebuilt.replay(&events[1]).unwrap_err();
    assert_eq!(error.code(), "sync.replay");
    assert_eq!(
        error.to_string(),
        format!(
            "event {} cannot be replayed: the project is at event 0",
            events[1].n
        )
    );
}
